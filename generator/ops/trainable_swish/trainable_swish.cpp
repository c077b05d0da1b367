// trainable_swish: f(s) = sigmoid(a s + b) (c s + d) with its own (a, b, c, d) per channel of an
// image or per feature, initialised to (1, 0, 1, 0), which is SiLU. The course's trainable Swish;
// the gated activations of language models are variants of it. PyTorch has no module for it: the
// twin (tests/e2e/torch_twin.py) writes the formula.
//   forward   out = g l,  g = sigmoid(a x + b),  l = c x + d
//   backward  dx = dout (g (1 - g) a l + g c)
//             da = sum dout g (1 - g) l x,  db = sum dout g (1 - g) l,  dc = sum dout g x,
//             dd = sum dout g  (over the batch and the channel's positions)
#include "emit/code_writer.hpp"
#include "ops/common/shared.hpp"
#include "ops/op_def.hpp"

namespace castnet::ops {
namespace {

// (channels, positions per channel) of the input.
std::array<std::size_t, 2> channels(const ir::Layer& l) {
  const ir::Shape& in = l.in_shapes.front();
  return in.size() == 3 ? std::array<std::size_t, 2>{in[0], in[1] * in[2]} : std::array<std::size_t, 2>{in[0], 1};
}

class TrainableSwish final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer&) const override { a.allow({}, "a trainable_swish layer"); }
  void write(const ir::Layer&, spec::KeyWriter&) const override {}

  // It starts as SiLU, so the layer before it is initialised as for SiLU (He normal).
  ir::Activation standalone_activation(const ir::Layer&) const override { return ir::Activation::silu; }

  ir::Shape out_shape(const ir::Layer& l, const LayerError&) const override { return l.in_shapes.front(); }

  void count(ir::Layer& l, ir::Activation) const override {
    const std::size_t c = channels(l)[0];
    l.params = {param_tensor(l, "a", {c}, "(channels)", ir::Init::ones, 1, 1),
                param_tensor(l, "b", {c}, "(channels)", ir::Init::zeros, 1, 1),
                param_tensor(l, "c", {c}, "(channels)", ir::Init::ones, 1, 1),
                param_tensor(l, "d", {c}, "(channels)", ir::Init::zeros, 1, 1)};
    l.flops = 0;  // activations are not counted
  }

  BackwardReads backward_reads(const ir::Layer&) const override { return {true, false, false}; }
  std::string type_label(const ir::Layer&) const override { return "trainable_swish"; }

  std::string describe(const ir::Layer& l) const override {
    return "trainable_swish " + ir::shape_text(l.out_shape) + ", " + std::to_string(channels(l)[0]) + " x (a, b, c, d)";
  }

  // Per-feature parameters: small, and kept float by --quantize.
  QuantizeRule quantize_rule(const ir::Layer&) const override { return QuantizeRule::keep_float; }
  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"trainable_swish.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h;
    h.num("rows", s.rows).num("channels", channels(l)[0]).num("positions", channels(l)[1]).id("layer", l.name);
    h.code("x", s.x()).code("out", s.out);
    return gen::render("ops/trainable_swish/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.num("channels", channels(l)[0]).num("positions", channels(l)[1]).id("layer", l.name).code("x", s.x());
    h.code("dout", s.dout);
    gen::Holes in = h;
    in.code("dx", s.dxs[0]);
    return {gen::render("ops/trainable_swish/backward.tmpl", h),
            {gen::render("ops/trainable_swish/backward_input.tmpl", in)}};
  }
};

}  // namespace

const OpDef& trainable_swish_op() {
  static const TrainableSwish op;
  return op;
}

}  // namespace castnet::ops
