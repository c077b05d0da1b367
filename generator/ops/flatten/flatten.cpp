// flatten: an image [C, H, W] read as C*H*W features in the same (row-major) order, as
// torch.nn.Flatten does. No code runs forward: the output is the input's buffer under a new
// shape. Backward copies the gradient into the input's gradient buffer.
#include "emit/code_writer.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"

namespace castnet::ops {
namespace {

class Flatten final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer&) const override { a.allow({}, "a flatten layer"); }
  void write(const ir::Layer&, spec::KeyWriter&) const override {}

  ir::Shape out_shape(const ir::Layer& l, const LayerError&) const override { return {ir::elements(l.in_shapes.front())}; }

  void count(ir::Layer& l, ir::Activation) const override {
    l.params.clear();
    l.flops = 0;
  }

  bool aliases_input(const ir::Layer&) const override { return true; }
  BackwardReads backward_reads(const ir::Layer&) const override { return {false, false, false}; }
  std::string type_label(const ir::Layer&) const override { return "flatten"; }

  std::string describe(const ir::Layer& l) const override {
    return "flatten " + ir::shape_text(l.in_shapes.front()) + " -> " + ir::shape_text(l.out_shape) + ", the same values";
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"merge.hpp"}; }

  std::string forward(const ir::Layer&, const ForwardSite&) const override { return ""; }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.code("rows", "kBatch").num("n", l.out_features).code("from", s.dout).code("to", s.dxs[0]);
    return {"", {gen::render("graph/copy.tmpl", h)}};
  }
};

}  // namespace

const OpDef& flatten_op() {
  static const Flatten op;
  return op;
}

}  // namespace castnet::ops
