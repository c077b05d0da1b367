// dense: y = x W^T + b, W of shape (units, in) as PyTorch stores it, with an optional fused
// activation a = f(y).
//   forward   z[b,o] = bias[o] + sum_i x[b,i] W[o,i];  a = f(z)
//   backward  dz = da * f'(z);  dW[o,i] = sum_b dz[b,o] x[b,i];  db[o] = sum_b dz[b,o];
//             dx[b,i] = sum_o dz[b,o] W[o,i]
// Small layers are straight-line code (one line per output, every index a constant); larger ones
// call castnet::kernels' register-blocked kernels, whose sizes are template arguments.
#include <vector>

#include "emit/code_writer.hpp"
#include "ir/limits.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"
#include "ops/common/straight_line.hpp"

namespace castnet::ops {
namespace {

// Straight-line when at most 8 products make a line (readable) and 64 weights make the layer
// (code size); kernels beyond.
constexpr std::size_t kUnrollMaxInputs = 8;
constexpr std::size_t kUnrollMaxWeights = 64;

// The straight-line form: output o reads every input.
std::vector<LinearOutput> linear_map(const ir::Layer& l) {
  std::vector<LinearOutput> outputs(l.out_features);
  for (std::size_t o = 0; o < l.out_features; ++o) {
    outputs[o].bias = o;
    for (std::size_t i = 0; i < l.in_features; ++i) outputs[o].taps.push_back({o * l.in_features + i, i});
  }
  return outputs;
}

class Dense final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"units", "activation", "alpha", "beta"}, "a dense layer");
    l.units = a.integer("units", 1, static_cast<std::int64_t>(a.limits().units), {}, "units");
    l.activation = read_fused_activation(a);
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override {
    keys.integer("units", l.units);
    write_fused_activation(l.activation, keys);
  }

  bool fuses_activation() const override { return true; }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    require_flat(l, fail, "dense");
    return {l.units};
  }

  void count(ir::Layer& l, ir::Activation after) const override {
    const ir::Init init = weight_init(after);
    l.params = {param_tensor(l, "weight", {l.out_features, l.in_features}, "(out, in)", init, l.in_features, l.out_features),
                param_tensor(l, "bias", {l.out_features}, "(out)", ir::Init::zeros, l.in_features, l.out_features)};
    // a multiply-add counts 2, the bias add 1 per output; activations are not counted.
    l.flops = 2ull * l.in_features * l.out_features + l.out_features;
  }

  bool unrolled(const ir::Layer& l) const override {
    return l.in_features <= kUnrollMaxInputs && l.in_features * l.out_features <= kUnrollMaxWeights;
  }

  bool keeps_pre(const ir::Layer& l) const override { return keeps_pre_activation(l); }
  bool needs_dz(const ir::Layer& l) const override { return has_activation(l); }
  BackwardReads backward_reads(const ir::Layer& l) const override {
    return {true, keeps_pre_activation(l), has_activation(l)};
  }

  std::string type_label(const ir::Layer& l) const override {
    return has_activation(l) ? std::string("dense+") + ir::to_string(l.activation.kind) : "dense";
  }

  std::string describe(const ir::Layer& l) const override {
    std::string d = "dense " + std::to_string(l.in_features) + " -> " + std::to_string(l.out_features);
    if (has_activation(l)) d += std::string(", ") + ir::to_string(l.activation.kind);
    return l.unrolled ? d + ", straight-line" : d;
  }

  std::vector<std::string> kernel_headers(const ir::Layer& l) const override {
    return with_activation(l, l.unrolled ? std::vector<std::string>{} : std::vector<std::string>{"dense.hpp"});
  }

  // Straight-line layers hold at most kUnrollMaxWeights weights: too few to be worth quantizing.
  QuantizeRule quantize_rule(const ir::Layer& l) const override {
    return l.unrolled ? QuantizeRule::keep_float : QuantizeRule::weight;
  }
  std::vector<std::string> quantized_kernel_headers(const ir::Layer& l) const override {
    return with_activation(l, {"quantized.hpp"});
  }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    const std::string activation = has_activation(l) ? activation_forward_code(l, s.rows, s.pre, s.out) : "";
    if (l.unrolled) return straight_line_forward(l, linear_map(l), s.rows, s.x(), s.pre, activation);
    gen::Holes h;
    h.num("rows", s.rows).num("in", l.in_features).num("out", l.out_features).code("x", s.x()).code("z", s.pre);
    h.code("activation", activation).id("layer", l.name);
    switch (s.weights) {
      case WeightFormat::f32: break;
      case WeightFormat::int8: return gen::render("ops/dense/forward_int8.tmpl", h);
      case WeightFormat::bf16: return gen::render("ops/dense/forward_bf16.tmpl", h);
      case WeightFormat::int8_calibrated: return gen::render("ops/dense/forward_int8_calibrated.tmpl", h);
    }
    return gen::render("ops/dense/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    const std::string dz = has_activation(l) ? s.dz : s.dout;
    const std::string activation = has_activation(l) ? activation_backward_code(l, s.pre, s.out, s.dout, dz) : "";
    if (l.unrolled) return straight_line_backward(l, linear_map(l), s.x(), dz, activation, s.dxs[0]);
    gen::Holes h;
    h.num("in", l.in_features).num("out", l.out_features).id("layer", l.name).code("x", s.x()).code("dz", dz);
    h.code("activation", activation);
    gen::Holes in;
    in.num("in", l.in_features).num("out", l.out_features).code("dz", dz).code("dx", s.dxs[0]).id("layer", l.name);
    // With an update, the weight gradient's GEMM puts each finished vector into the weights
    // (kernels/update.hpp).
    gen::Holes u;
    u.num("in", l.in_features).num("out", l.out_features).id("layer", l.name).code("x", s.x()).code("dz", dz);
    return {gen::render("ops/dense/backward.tmpl", h), {gen::render("ops/dense/backward_input.tmpl", in)}, activation,
            gen::render("ops/dense/backward_update.tmpl", u)};
  }
};

}  // namespace

const OpDef& dense_op() {
  static const Dense op;
  return op;
}

}  // namespace castnet::ops
