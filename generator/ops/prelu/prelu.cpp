// prelu: a leaky ReLU whose slope is trained, one per channel of an image or one per feature
// (torch.nn.PReLU(num_parameters=C)), initialised to 0.25 as torch does.
//   forward   out = x > 0 ? x : w[c] x
//   backward  dx = x > 0 ? dout : w[c] dout;  dw[c] = sum of dout x over the batch and the positions
//             of channel c where x <= 0
#include "emit/code_writer.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"

namespace castnet::ops {
namespace {

// (channels, positions per channel) of the input.
std::array<std::size_t, 2> channels(const ir::Layer& l) {
  const ir::Shape& in = l.in_shapes.front();
  return in.size() == 3 ? std::array<std::size_t, 2>{in[0], in[1] * in[2]} : std::array<std::size_t, 2>{in[0], 1};
}

class Prelu final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer&) const override { a.allow({}, "a prelu layer"); }
  void write(const ir::Layer&, spec::KeyWriter&) const override {}

  ir::Shape out_shape(const ir::Layer& l, const LayerError&) const override { return l.in_shapes.front(); }

  void count(ir::Layer& l, ir::Activation) const override {
    const std::size_t c = channels(l)[0];
    l.params = {param_tensor(l, "weight", {c}, "(channels)", ir::Init::prelu_slope, 1, 1)};
    l.flops = 0;  // activations are not counted
  }

  BackwardReads backward_reads(const ir::Layer&) const override { return {true, false, false}; }
  std::string type_label(const ir::Layer&) const override { return "prelu"; }

  std::string describe(const ir::Layer& l) const override {
    return "prelu " + ir::shape_text(l.out_shape) + ", " + std::to_string(channels(l)[0]) + " slopes";
  }

  // Per-feature parameters: small, and kept float by --quantize.
  QuantizeRule quantize_rule(const ir::Layer&) const override { return QuantizeRule::keep_float; }
  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"prelu.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h;
    h.num("rows", s.rows).num("channels", channels(l)[0]).num("positions", channels(l)[1]).id("layer", l.name);
    h.code("x", s.x()).code("out", s.out);
    return gen::render("ops/prelu/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.num("channels", channels(l)[0]).num("positions", channels(l)[1]).id("layer", l.name).code("x", s.x());
    h.code("dout", s.dout);
    gen::Holes in = h;
    in.code("dx", s.dxs[0]);
    return {gen::render("ops/prelu/backward.tmpl", h), {gen::render("ops/prelu/backward_input.tmpl", in)}};
  }
};

}  // namespace

const OpDef& prelu_op() {
  static const Prelu op;
  return op;
}

}  // namespace castnet::ops
