// maxpool2d and avgpool2d over an image [C, H, W] (torch.nn.MaxPool2d / AvgPool2d, no padding,
// floor): a window of `size` moved by `stride` (default: the size) over each channel.
//   max  y = max over the window; backward routes dy to the arg-max, ties to the first maximum in
//        row-major window order (PyTorch's CPU rule); overlapping windows add up
//   avg  y = mean over the window; backward spreads dy / (KH * KW) over it
// No parameters; the backward pass of max pooling re-finds the arg-max in its input.
#include "emit/code_writer.hpp"
#include "ir/limits.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"

namespace castnet::ops {
namespace {

class Pool2d final : public OpDef {
 public:
  explicit Pool2d(bool max) : max_(max) {}

  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"size", "stride"}, max_ ? "a maxpool2d layer" : "an avgpool2d layer");
    const auto max = static_cast<std::int64_t>(a.limits().window);
    l.kernel = a.pair("size", 1, max, {}, "window");
    l.stride = a.has("stride") ? a.pair("stride", 1, max, {}, "window") : l.kernel;
    l.padding = {0, 0};
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override {
    keys.pair("size", l.kernel);
    keys.pair("stride", l.stride);
  }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    require_image(l, fail, name());
    const ir::Shape& in = l.in_shapes.front();
    if (l.kernel[0] > in[1] || l.kernel[1] > in[2])
      fail("the window " + pair_text(l.kernel) + " is larger than its input " + ir::shape_text(in));
    return {in[0], (in[1] - l.kernel[0]) / l.stride[0] + 1, (in[2] - l.kernel[1]) / l.stride[1] + 1};
  }

  void count(ir::Layer& l, ir::Activation) const override {
    l.params.clear();
    l.flops = 0;  // comparisons and additions are not counted
  }

  BackwardReads backward_reads(const ir::Layer&) const override { return {max_, false, false}; }
  std::string type_label(const ir::Layer&) const override { return name(); }

  std::string describe(const ir::Layer& l) const override {
    return std::string(name()) + " " + ir::shape_text(l.in_shapes.front()) + " -> " + ir::shape_text(l.out_shape) + ", size " +
           pair_text(l.kernel) + ", stride " + pair_text(l.stride);
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"pool2d.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h;
    h.code("kind", name()).num("rows", s.rows).code("shape", conv_shape_arg(l)).code("x", s.x()).code("out", s.out);
    return gen::render("ops/pool2d/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.code("shape", conv_shape_arg(l)).code("dout", s.dout).code("dx", s.dxs[0]);
    if (max_) h.code("x", s.x());
    return {"", {gen::render(max_ ? "ops/pool2d/maxpool2d_backward.tmpl" : "ops/pool2d/avgpool2d_backward.tmpl", h)}};
  }

 private:
  const char* name() const { return max_ ? "maxpool2d" : "avgpool2d"; }

  bool max_;
};

}  // namespace

const OpDef& maxpool2d_op() {
  static const Pool2d op(true);
  return op;
}

const OpDef& avgpool2d_op() {
  static const Pool2d op(false);
  return op;
}

}  // namespace castnet::ops
