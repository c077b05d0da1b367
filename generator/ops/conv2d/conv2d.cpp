// conv2d: a 2-d convolution over an image [C, H, W] (torch.nn.Conv2d), weight [F, C, KH, KW] as
// PyTorch stores it, bias [F], zero padding, stride, and an optional fused activation a = f(y).
//   forward   y[f][oy][ox] = bias[f] + sum_{c,ky,kx} w[f][c][ky][kx] x[c][oy*SH - PH + ky][ox*SW - PW + kx]
//   backward  dz = da * f'(z); dW and db sum over the batch and the output positions; dx scatters
//             dz back through the same windows
// Every size is a template argument of castnet::kernels' conv kernels (im2col + the register-blocked
// GEMM engine, or a direct convolution where the channels fill whole vectors), so a conv layer is
// one call in the source whatever its size; a tiny one is straight-line code instead, one line per
// output with its in-bounds taps. A ReLU runs inside the kernels (fused_relu).
#include "emit/code_writer.hpp"
#include "ir/limits.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"
#include "ops/common/straight_line.hpp"

namespace castnet::ops {
namespace {

// Straight-line when a line holds at most 9 products (a 3x3 kernel over one channel) and the
// layer at most 32 outputs per sample; kernel calls beyond.
constexpr std::size_t kUnrollMaxTaps = 9;
constexpr std::size_t kUnrollMaxOutputs = 32;

std::size_t out_size(std::size_t in, std::size_t pad, std::size_t k, std::size_t stride) {
  return (in + 2 * pad - k) / stride + 1;
}

// The straight-line form: output (f, oy, ox) reads weight [f][c][ky][kx] times the input at
// (c, oy*SH - PH + ky, ox*SW - PW + kx), for every such position outside the padding.
std::vector<LinearOutput> linear_map(const ir::Layer& l) {
  const ir::Shape& in = l.in_shapes.front();
  const std::size_t c_in = in[0], h = in[1], w = in[2], oh = l.out_shape[1], ow = l.out_shape[2];
  std::vector<LinearOutput> outputs;
  for (std::size_t f = 0; f < l.filters; ++f)
    for (std::size_t oy = 0; oy < oh; ++oy)
      for (std::size_t ox = 0; ox < ow; ++ox) {
        LinearOutput o{f, {}};
        for (std::size_t c = 0; c < c_in; ++c)
          for (std::size_t ky = 0; ky < l.kernel[0]; ++ky)
            for (std::size_t kx = 0; kx < l.kernel[1]; ++kx) {
              const std::size_t y = oy * l.stride[0] + ky, x = ox * l.stride[1] + kx;  // in the padded input
              if (y < l.padding[0] || y - l.padding[0] >= h || x < l.padding[1] || x - l.padding[1] >= w) continue;
              o.taps.push_back({((f * c_in + c) * l.kernel[0] + ky) * l.kernel[1] + kx,
                                (c * h + y - l.padding[0]) * w + x - l.padding[1]});
            }
        outputs.push_back(std::move(o));
      }
  return outputs;
}

class Conv2d final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"filters", "kernel", "stride", "padding", "activation", "alpha", "beta"}, "a conv2d layer");
    const auto max = static_cast<std::int64_t>(a.limits().window);
    l.filters = a.integer("filters", 1, static_cast<std::int64_t>(a.limits().units), {}, "units");
    l.kernel = a.pair("kernel", 1, max, {}, "window");
    l.stride = a.pair("stride", 1, max, 1, "window");
    if (a.is_string("padding")) {
      const std::string p = *a.string("padding");
      if (p == "valid") {
        l.padding = {0, 0};
      } else if (p == "same") {
        // torch's padding="same": the output keeps the input's size, which needs stride 1, and an
        // odd kernel for the padding to be the same on both sides.
        if (l.stride != std::array<std::size_t, 2>{1, 1}) a.fail("padding", "padding = \"same\" needs stride 1, got " + pair_text(l.stride));
        if (l.kernel[0] % 2 == 0 || l.kernel[1] % 2 == 0)
          a.fail("padding", "padding = \"same\" needs an odd kernel, got " + pair_text(l.kernel));
        l.padding = {l.kernel[0] / 2, l.kernel[1] / 2};
      } else {
        a.fail("padding", "padding must be a number, [height, width], \"same\" or \"valid\", got \"" + p + "\"");
      }
    } else {
      l.padding = a.pair("padding", 0, max, 0, "window");
    }
    l.activation = read_fused_activation(a);
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override {
    keys.integer("filters", l.filters);
    keys.pair("kernel", l.kernel);
    keys.pair("stride", l.stride);
    keys.pair("padding", l.padding);
    write_fused_activation(l.activation, keys);
  }

  bool fuses_activation() const override { return true; }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    require_image(l, fail, "conv2d");
    const ir::Shape& in = l.in_shapes.front();
    const std::uint64_t patch_limit = fail.g.limits.patch;
    if (ir::sat_mul(ir::sat_mul(in[0], l.kernel[0]), l.kernel[1]) > patch_limit)
      fail("input channels x kernel height x kernel width must be at most " + std::to_string(patch_limit) + " (limit 'patch'), got " +
           std::to_string(in[0]) + " x " + pair_text(l.kernel));
    const std::size_t ph = in[1] + 2 * l.padding[0], pw = in[2] + 2 * l.padding[1];
    if (l.kernel[0] > ph || l.kernel[1] > pw)
      fail("the kernel " + pair_text(l.kernel) + " is larger than its padded input " + std::to_string(ph) + "x" +
           std::to_string(pw) + " (input " + ir::shape_text(in) + ", padding " + pair_text(l.padding) + ")");
    return {l.filters, out_size(in[1], l.padding[0], l.kernel[0], l.stride[0]),
            out_size(in[2], l.padding[1], l.kernel[1], l.stride[1])};
  }

  void count(ir::Layer& l, ir::Activation after) const override {
    const std::size_t c = l.in_shapes.front()[0], f = l.filters, kh = l.kernel[0], kw = l.kernel[1];
    const std::size_t patch = c * kh * kw, positions = l.out_shape[1] * l.out_shape[2];
    l.params = {param_tensor(l, "weight", {f, c, kh, kw}, "(out, in, kh, kw)", weight_init(after), patch, f * kh * kw),
                param_tensor(l, "bias", {f}, "(out)", ir::Init::zeros, patch, f * kh * kw)};
    l.flops = ir::sat_mul(ir::sat_mul(2ull * patch + 1, f), positions);
  }

  bool unrolled(const ir::Layer& l) const override {
    return l.in_shapes.front()[0] * l.kernel[0] * l.kernel[1] <= kUnrollMaxTaps && l.out_features <= kUnrollMaxOutputs;
  }
  bool keeps_pre(const ir::Layer& l) const override { return keeps_pre_activation(l); }
  bool needs_dz(const ir::Layer& l) const override { return has_activation(l) && !fused_relu(l); }
  // One sample's im2col, [C*KH*KW] x [OH*OW]: Conv2dShape::scratch; with a fused ReLU also one
  // sample's dz, [F] x [OH*OW]: Conv2dShape::relu_scratch.
  std::size_t scratch_values(const ir::Layer& l) const override {
    if (unrolled(l)) return 0;
    const std::size_t positions = l.out_shape[1] * l.out_shape[2];
    const std::size_t im2col = l.in_shapes.front()[0] * l.kernel[0] * l.kernel[1] * positions;
    return fused_relu(l) ? im2col + l.filters * positions : im2col;
  }
  BackwardReads backward_reads(const ir::Layer& l) const override {
    return {true, keeps_pre_activation(l), has_activation(l)};
  }

  std::string type_label(const ir::Layer& l) const override {
    return has_activation(l) ? std::string("conv2d+") + ir::to_string(l.activation.kind) : "conv2d";
  }

  std::string describe(const ir::Layer& l) const override {
    std::string d = "conv2d " + ir::shape_text(l.in_shapes.front()) + " -> " + ir::shape_text(l.out_shape) + ", kernel " +
                    pair_text(l.kernel) + ", stride " + pair_text(l.stride) + ", padding " + pair_text(l.padding);
    if (has_activation(l)) d += std::string(", ") + ir::to_string(l.activation.kind);
    return l.unrolled ? d + ", straight-line" : d;
  }

  std::vector<std::string> kernel_headers(const ir::Layer& l) const override {
    return with_activation(l, l.unrolled ? std::vector<std::string>{} : std::vector<std::string>{"conv2d.hpp"});
  }

  // Straight-line layers are small: too few weights to be worth quantizing.
  QuantizeRule quantize_rule(const ir::Layer& l) const override {
    return l.unrolled ? QuantizeRule::keep_float : QuantizeRule::weight;
  }
  std::vector<std::string> quantized_kernel_headers(const ir::Layer& l) const override {
    return with_activation(l, {"quantized.hpp"});
  }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    const std::string activation = has_activation(l) ? activation_forward_code(l, s.rows, s.pre, s.out) : "";
    if (l.unrolled) return straight_line_forward(l, linear_map(l), s.rows, s.x(), s.pre, activation);
    const bool fused = fused_relu(l);
    gen::Holes h;
    h.num("rows", s.rows).code("shape", conv_shape_arg(l)).id("layer", l.name).code("x", s.x()).code("z", s.pre);
    h.code("scratch", s.scratch).code("act", fused ? "relu" : "identity");
    h.code("activation", fused ? "" : activation);
    switch (s.weights) {
      case WeightFormat::f32: break;
      case WeightFormat::int8: return gen::render("ops/conv2d/forward_int8.tmpl", h);
      case WeightFormat::bf16: return gen::render("ops/conv2d/forward_bf16.tmpl", h);
      case WeightFormat::int8_calibrated: return gen::render("ops/conv2d/forward_int8_calibrated.tmpl", h);
    }
    return gen::render("ops/conv2d/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    const std::string dz = has_activation(l) ? s.dz : s.dout;
    const std::string activation = has_activation(l) ? activation_backward_code(l, s.pre, s.out, s.dout, dz) : "";
    if (l.unrolled) return straight_line_backward(l, linear_map(l), s.x(), dz, activation, s.dxs[0]);
    // The kernels take dz, or with a fused ReLU the output and dout.
    const bool fused = fused_relu(l);
    const std::string grad = fused ? s.out + ", " + s.dout : dz;
    gen::Holes h;
    h.id("kernel", fused ? "conv2d_relu_backward_params" : "conv2d_backward_params").code("shape", conv_shape_arg(l));
    h.code("x", s.x()).code("grad", grad).id("layer", l.name).code("scratch", s.scratch);
    h.code("activation", fused ? "" : activation);
    gen::Holes in;
    in.id("kernel", fused ? "conv2d_relu_backward_input" : "conv2d_backward_input").code("shape", conv_shape_arg(l));
    in.code("grad", grad).id("layer", l.name).code("dx", s.dxs[0]).code("scratch", s.scratch);
    return {gen::render("ops/conv2d/backward.tmpl", h), {gen::render("ops/conv2d/backward_input.tmpl", in)}};
  }

 private:
  // A ReLU the kernels apply themselves: the forward kernel as it stores its output, the backward
  // kernels working out dz from that output (the ReLU ran in place: pre is out) one sample at a
  // time, so there is no separate pass and no dz buffer. Straight-line layers keep the activation code.
  bool fused_relu(const ir::Layer& l) const { return l.activation.kind == ir::Activation::relu && !unrolled(l); }
};

}  // namespace

const OpDef& conv2d_op() {
  static const Conv2d op;
  return op;
}

}  // namespace castnet::ops
