// An activation as a layer of its own: a = f(z) elementwise (softmax: over all the features of a
// sample), no parameters; backward dz = da * f'(z). The math of each activation lives in the
// runtime (castnet/kernels/activation.hpp) and, independently, in the interpreter.
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"

namespace castnet::ops {
namespace {

class Activation final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"alpha", "beta"}, "an activation layer");
    l.activation = read_activation_params(a, l.activation.kind);
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override { write_activation_params(l.activation, keys); }
  std::string spec_type(const ir::Layer& l) const override { return ir::to_string(l.activation.kind); }
  ir::Activation standalone_activation(const ir::Layer& l) const override { return l.activation.kind; }
  bool changes_nothing(const ir::Layer& l) const override { return l.activation.kind == ir::Activation::identity; }

  ir::Shape out_shape(const ir::Layer& l, const LayerError&) const override { return l.in_shapes.front(); }

  void count(ir::Layer& l, ir::Activation) const override {
    l.params.clear();
    l.flops = 0;  // activations are not counted
  }

  // The input is the pre-activation.
  BackwardReads backward_reads(const ir::Layer&) const override { return {true, false, true}; }
  std::string type_label(const ir::Layer& l) const override { return ir::to_string(l.activation.kind); }

  std::string describe(const ir::Layer& l) const override {
    return std::string(ir::to_string(l.activation.kind)) + " " + ir::shape_text(l.out_shape);
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"activation.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    return activation_forward_code(l, s.rows, s.x(), s.out);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    return {"", {activation_backward_code(l, s.x(), s.out, s.dout, s.dxs[0])}};
  }
};

}  // namespace

const OpDef& activation_op() {
  static const Activation op;
  return op;
}

}  // namespace castnet::ops
