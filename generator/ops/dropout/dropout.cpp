// dropout: inverted dropout (torch.nn.Dropout). In train_step each value is zeroed with
// probability `rate` and the others scaled by 1 / (1 - rate); forward() and forward_batch() are
// the identity. The mask (0 or the scale per value) is kept in the workspace for backward.
//   forward   out = x * mask          backward  dx = dout * mask
// The mask comes from castnet::rng's counter-based hash of train_step's key and the layer's index.
#include "emit/code_writer.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"

namespace castnet::ops {
namespace {

class Dropout final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"rate"}, "a dropout layer");
    l.rate = a.real("rate", 0.0, 1.0, false, 0.5);  // torch.nn.Dropout's default p
    if (l.rate >= 1.0) a.fail("rate", "rate must be below 1 (the probability of dropping a value)");
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override { keys.real("rate", l.rate); }

  ir::Shape out_shape(const ir::Layer& l, const LayerError&) const override { return l.in_shapes.front(); }

  void count(ir::Layer& l, ir::Activation) const override {
    l.params.clear();
    l.flops = 0;
  }

  bool identity_at_inference(const ir::Layer&) const override { return true; }
  BackwardReads backward_reads(const ir::Layer&) const override { return {false, false, false}; }  // the mask
  std::vector<ExtraBuffer> extra_buffers(const ir::Layer&) const override {
    return {{"_mask", "dropout mask of the last train_step: 0 or 1 / (1 - rate)"}};
  }
  std::string type_label(const ir::Layer&) const override { return "dropout"; }

  std::string describe(const ir::Layer& l) const override {
    return "dropout " + ir::shape_text(l.out_shape) + ", rate " + gen::format_real(l.rate);
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"dropout.hpp", "merge.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h;
    h.num("rows", s.rows).num("n", l.out_features).code("x", s.x()).code("out", s.out).code("mask", s.extras.at(0));
    h.real("rate", l.rate).num("index", s.index);
    return gen::render("ops/dropout/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.num("n", l.out_features).code("dout", s.dout).code("mask", s.extras.at(0)).code("dx", s.dxs[0]);
    return {"", {gen::render("ops/dropout/backward.tmpl", h)}};
  }
};

}  // namespace

const OpDef& dropout_op() {
  static const Dropout op;
  return op;
}

}  // namespace castnet::ops
