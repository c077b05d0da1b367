// layernorm: each sample's features normalised to mean 0 and variance 1 (the biased variance, plus
// eps), then scaled and shifted per feature (torch.nn.LayerNorm(N, eps), elementwise affine),
// weight initialised to 1 and bias to 0 as torch does. Over the features of a vector; sequences
// (normalising each frame) come with them.
//   forward   out = x̂ w + b,  x̂ = (x - mean) / sqrt(var + eps)
//   backward  dw = sum dout x̂,  db = sum dout (over the batch);
//             dx = (dout w - mean(dout w) - x̂ mean(dout w x̂)) / sqrt(var + eps)
#include "emit/code_writer.hpp"
#include "ops/common/shared.hpp"
#include "ops/op_def.hpp"

namespace castnet::ops {
namespace {

class Layernorm final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"eps"}, "a layernorm layer");
    l.settings = {{"eps", a.real("eps", 0.0, 1.0, true, 1e-5)}};
  }
  void write(const ir::Layer& l, spec::KeyWriter& keys) const override { keys.real("eps", l.setting("eps")); }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    require_flat(l, fail, "layernorm");
    return l.in_shapes.front();
  }

  void count(ir::Layer& l, ir::Activation) const override {
    const std::size_t n = l.in_shapes.front()[0];
    l.params = {param_tensor(l, "weight", {n}, "(features)", ir::Init::ones, 1, 1),
                param_tensor(l, "bias", {n}, "(features)", ir::Init::zeros, 1, 1)};
    l.flops = 8 * n;  // mean, variance, normalise, scale and shift
  }

  BackwardReads backward_reads(const ir::Layer&) const override { return {true, false, false}; }
  std::string type_label(const ir::Layer&) const override { return "layernorm"; }

  std::string describe(const ir::Layer& l) const override {
    return "layernorm " + ir::shape_text(l.out_shape) + ", eps " + gen::format_real(l.setting("eps"));
  }

  // Per-feature parameters: small, and kept float by --quantize.
  QuantizeRule quantize_rule(const ir::Layer&) const override { return QuantizeRule::keep_float; }
  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"layernorm.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h;
    h.num("rows", s.rows).num("n", l.out_features).id("layer", l.name).code("x", s.x()).code("out", s.out);
    h.real("eps", l.setting("eps"));
    return gen::render("ops/layernorm/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.num("n", l.out_features).id("layer", l.name).code("x", s.x()).code("dout", s.dout).real("eps", l.setting("eps"));
    gen::Holes in = h;
    in.code("dx", s.dxs[0]);
    return {gen::render("ops/layernorm/backward.tmpl", h), {gen::render("ops/layernorm/backward_input.tmpl", in)}};
  }
};

}  // namespace

const OpDef& layernorm_op() {
  static const Layernorm op;
  return op;
}

}  // namespace castnet::ops
