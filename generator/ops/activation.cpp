// An activation as a layer of its own: a = f(z) elementwise (softmax: over the layer's
// features), no parameters; backward dz = da * f'(z). The math of each activation lives in the
// runtime (castnet/activations.hpp) and, independently, in the interpreter.
#include "ops/op_def.hpp"
#include "ops/shared.hpp"

namespace castnet::ops {
namespace {

class Activation final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"alpha", "beta"}, "an activation layer", {"inputs"});
    l.activation = read_activation_params(a, l.activation.kind);
  }

  std::size_t out_features(const ir::Layer& l) const override { return l.in_features; }

  void count(ir::Layer& l, ir::Activation) const override {
    l.params.clear();
    l.flops = 0;  // activations are not counted
  }

  bool unrolled(const ir::Layer&) const override { return false; }
  bool keeps_pre(const ir::Layer&) const override { return false; }  // its input is the pre-activation
  std::string type_label(const ir::Layer& l) const override { return ir::to_string(l.activation.kind); }

  std::string describe(const ir::Layer& l) const override {
    return std::string(ir::to_string(l.activation.kind)) + " " + std::to_string(l.out_features);
  }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    return activation_forward_code(l, s.rows, s.x, s.out);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    const std::string dz = s.first ? "dx" : s.scratch(s.dout, "");
    std::string code = activation_backward_code(l, s.x, s.out, s.dout, dz);
    return {s.first ? if_dx(std::move(code)) : code, dz};
  }
};

}  // namespace

const OpDef& activation_op() {
  static const Activation op;
  return op;
}

}  // namespace castnet::ops
