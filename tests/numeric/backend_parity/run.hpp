// Every kernel of castnet/kernels/ on fixed random inputs, for backend_parity_test.cpp: dense forward
// (one sample, the gemv path, and batches) and both backward kernels; conv2d forward, with and
// without the fused ReLU, and both backward kernels of each, on a shape that takes the direct
// kernels, one that goes through im2col and a pointwise one; max and average pooling (2x2 stride 2,
// AVX-512's vector path, and overlapping 3x3 windows); every activation forward (one sample and a
// batch) and backward, softmax included; glu, prelu and trainable_swish (per feature and per
// channel), basis_activation (rbf and bspline), kan, add, accumulate
// and the concat copies; and the math functions on a sweep of their arguments. The inputs come from
// a seeded std::mt19937, the same in every translation unit. Everything here has internal linkage:
// each translation unit that includes it builds its own, for its backend.
#pragma once

#include <castnet/kernels/conv2d.hpp>
#include <castnet/kernels/dense.hpp>
#include <castnet/kernels/basis_activation.hpp>
#include <castnet/kernels/glu.hpp>
#include <castnet/kernels/kan.hpp>
#include <castnet/kernels/math.hpp>
#include <castnet/kernels/merge.hpp>
#include <castnet/kernels/pool2d.hpp>
#include <castnet/kernels/prelu.hpp>
#include <castnet/kernels/trainable_swish.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "numeric/backend_parity/backend_parity.hpp"

namespace {

using castnet::Act;
using castnet::Conv2dShape;
namespace kernels = castnet::kernels;

template <class T>
class Runner {
 public:
  std::vector<Output<T>> outputs;

  // n values uniform in [-scale, scale]
  std::vector<T> random(std::size_t n, double scale = 1.0) {
    std::uniform_real_distribution<double> dist(-scale, scale);
    std::vector<T> v(n);
    for (auto& e : v) e = static_cast<T>(dist(rng_));
    return v;
  }

  void keep(const std::string& name, std::vector<T> values, bool library_math = false) {
    outputs.push_back({name, std::move(values), library_math});
  }

  template <std::size_t B, std::size_t In, std::size_t Out>
  void dense() {
    const std::string shape = " b=" + std::to_string(B) + " " + std::to_string(In) + "x" + std::to_string(Out);
    const auto x = random(B * In), w = random(Out * In), bias = random(Out), dy = random(B * Out);
    std::vector<T> y(B * Out), dx(B * In), dw(Out * In), db(Out);
    kernels::dense_forward<T, B, In, Out>(x.data(), w.data(), bias.data(), y.data());
    keep("dense_forward" + shape, y);
    if constexpr (B > 1) {
      kernels::dense_backward_input<T, B, In, Out>(dy.data(), w.data(), dx.data());
      kernels::dense_backward_params<T, B, In, Out>(x.data(), dy.data(), dw.data(), db.data());
      keep("dense_backward_input" + shape, dx);
      keep("dense_backward_params dw" + shape, dw);
      keep("dense_backward_params db" + shape, db);
    }
  }

  template <std::size_t B, class S>
  void conv(const std::string& name) {
    const auto x = random(B * S::in_size), w = random(S::f * S::patch), bias = random(S::f);
    const auto dy = random(B * S::out_size);
    std::vector<T> y(B * S::out_size), y_relu(B * S::out_size), dx(B * S::in_size), dw(S::f * S::patch), db(S::f);
    std::vector<T> scratch(S::relu_scratch);
    kernels::conv2d_forward<T, B, S>(x.data(), w.data(), bias.data(), y.data(), scratch.data());
    keep("conv2d_forward " + name, y);
    kernels::conv2d_forward<T, B, S, Act::relu>(x.data(), w.data(), bias.data(), y_relu.data(), scratch.data());
    keep("conv2d_forward relu " + name, y_relu);
    kernels::conv2d_backward_params<T, B, S>(x.data(), dy.data(), dw.data(), db.data(), scratch.data());
    keep("conv2d_backward_params dw " + name, dw);
    keep("conv2d_backward_params db " + name, db);
    kernels::conv2d_backward_input<T, B, S>(dy.data(), w.data(), dx.data(), scratch.data());
    keep("conv2d_backward_input " + name, dx);
    kernels::conv2d_relu_backward_params<T, B, S>(x.data(), y_relu.data(), dy.data(), dw.data(), db.data(),
                                                  scratch.data());
    keep("conv2d_relu_backward_params dw " + name, dw);
    keep("conv2d_relu_backward_params db " + name, db);
    kernels::conv2d_relu_backward_input<T, B, S>(y_relu.data(), dy.data(), w.data(), dx.data(), scratch.data());
    keep("conv2d_relu_backward_input " + name, dx);
  }

  template <std::size_t B, class S>
  void pool(const std::string& name) {
    auto x = random(B * S::in_size);
    for (std::size_t i = 0; i < x.size(); i += 7) x[i] = x[i + 1 < x.size() ? i + 1 : i];  // some ties
    const auto dy = random(B * S::out_size);
    std::vector<T> y(B * S::out_size), dx(B * S::in_size);
    kernels::maxpool2d_forward<T, B, S>(x.data(), y.data());
    keep("maxpool2d_forward " + name, y);
    kernels::maxpool2d_backward<T, B, S>(x.data(), dy.data(), dx.data());
    keep("maxpool2d_backward " + name, dx);
    kernels::avgpool2d_forward<T, B, S>(x.data(), y.data());
    keep("avgpool2d_forward " + name, y);
    kernels::avgpool2d_backward<T, B, S>(dy.data(), dx.data());
    keep("avgpool2d_backward " + name, dx);
  }

  // Pre-activations over [-8, 8], with zeros, the softplus threshold and values far out.
  std::vector<T> activation_inputs(std::size_t n) {
    auto z = random(n, 8.0);
    const T specials[] = {T(0), T(-0.0), T(10.1), T(-30), T(30), T(-100), T(100), T(1e-7)};
    for (std::size_t i = 0; i < sizeof specials / sizeof specials[0] && 3 * i < n; ++i) z[3 * i] = specials[i];
    return z;
  }

  template <Act A>
  void activation(const char* name, T alpha) {
    constexpr std::size_t rows = 3, cols = 13;
    // The transcendental activations' double results come from each backend's own double math.
    constexpr bool library_math =
        std::is_same_v<T, double> && A != Act::identity && A != Act::relu && A != Act::leaky_relu;
    const auto z = activation_inputs(rows * cols), da = random(rows * cols);
    std::vector<T> a(rows * cols), one(cols), dz(rows * cols);
    castnet::activation_forward<A, T, 1, cols>(z.data(), one.data(), alpha);
    keep(std::string("activation_forward one sample ") + name, one, library_math);
    castnet::activation_forward<A, T, rows, cols>(z.data(), a.data(), alpha);
    keep(std::string("activation_forward ") + name, a, library_math);
    castnet::activation_backward<A, T, rows, cols>(z.data(), a.data(), da.data(), dz.data(), alpha);
    keep(std::string("activation_backward ") + name, dz, library_math);
  }

  void layers() {
    constexpr std::size_t rows = 3, units = 11, channels = 5, positions = 7;
    const bool library_math = std::is_same_v<T, double>;  // σ's exp, the bases' exp
    const auto z = random(rows * 2 * units, 4.0), dout = random(rows * units);
    std::vector<T> out(rows * units), dz(rows * 2 * units);
    castnet::glu_forward<T, rows, units>(z.data(), out.data());
    keep("glu_forward", out, library_math);
    castnet::glu_backward<T, rows, units>(z.data(), dout.data(), dz.data());
    keep("glu_backward", dz, library_math);

    const auto x = random(rows * channels * positions), w = random(channels), dy = random(rows * channels * positions);
    std::vector<T> y(x.size()), dx(x.size()), dw(channels);
    castnet::prelu_forward<T, rows, channels, positions>(x.data(), w.data(), y.data());
    keep("prelu_forward per channel", y);
    castnet::prelu_backward_params<T, rows, channels, positions>(x.data(), dy.data(), dw.data());
    keep("prelu_backward_params per channel", dw);
    castnet::prelu_backward_input<T, rows, channels, positions>(x.data(), w.data(), dy.data(), dx.data());
    keep("prelu_backward_input per channel", dx);
    constexpr std::size_t features = channels * positions;
    const auto wf = random(features);
    std::vector<T> dwf(features);
    castnet::prelu_forward<T, rows, features, 1>(x.data(), wf.data(), y.data());
    keep("prelu_forward per feature", y);
    castnet::prelu_backward_params<T, rows, features, 1>(x.data(), dy.data(), dwf.data());
    keep("prelu_backward_params per feature", dwf);
    castnet::prelu_backward_input<T, rows, features, 1>(x.data(), wf.data(), dy.data(), dx.data());
    keep("prelu_backward_input per feature", dx);

    // trainable_swish: four parameters per channel or per feature, around SiLU's (1, 0, 1, 0)
    const auto swish = [&](auto c_tag, auto s_tag, const std::string& where) {
      constexpr std::size_t C = decltype(c_tag)::value, S = decltype(s_tag)::value;
      const auto a = random(C), b = random(C), c = random(C), d = random(C);
      std::vector<T> da(C), db(C), dc(C), dd(C);
      castnet::trainable_swish_forward<T, rows, C, S>(x.data(), a.data(), b.data(), c.data(), d.data(), y.data());
      keep("trainable_swish_forward " + where, y, library_math);
      castnet::trainable_swish_backward_params<T, rows, C, S>(x.data(), a.data(), b.data(), c.data(), d.data(), dy.data(),
                                                               da.data(), db.data(), dc.data(), dd.data());
      for (const auto* g : {&da, &db, &dc, &dd}) keep("trainable_swish_backward_params " + where, *g, library_math);
      castnet::trainable_swish_backward_input<T, rows, C, S>(x.data(), a.data(), b.data(), c.data(), d.data(), dy.data(),
                                                              dx.data());
      keep("trainable_swish_backward_input " + where, dx, library_math);
    };
    swish(std::integral_constant<std::size_t, channels>{}, std::integral_constant<std::size_t, positions>{}, "per channel");
    swish(std::integral_constant<std::size_t, features>{}, std::integral_constant<std::size_t, 1>{}, "per feature");

    // basis_activation over [-0.6, 0.8], narrower than x: both linear extensions are reached
    constexpr std::size_t count = 7;
    const auto coef = random(channels * count);
    std::vector<T> dcoef(channels * count);
    const auto basis_case = [&](auto kind_tag, const std::string& kind) {
      constexpr castnet::basis::Kind K = decltype(kind_tag)::value;
      castnet::basis_activation_forward<T, K, rows, channels, positions, count>(x.data(), coef.data(), T(-0.6), T(0.8), y.data());
      keep("basis_activation_forward " + kind, y, library_math);
      castnet::basis_activation_backward_params<T, K, rows, channels, positions, count>(x.data(), dy.data(), T(-0.6), T(0.8),
                                                                                         dcoef.data());
      keep("basis_activation_backward_params " + kind, dcoef, library_math);
      castnet::basis_activation_backward_input<T, K, rows, channels, positions, count>(x.data(), coef.data(), dy.data(),
                                                                                        T(-0.6), T(0.8), dx.data());
      keep("basis_activation_backward_input " + kind, dx, library_math);
    };
    basis_case(std::integral_constant<castnet::basis::Kind, castnet::basis::Kind::rbf>{}, "rbf");
    basis_case(std::integral_constant<castnet::basis::Kind, castnet::basis::Kind::bspline>{}, "bspline");

    // kan: 5 rows of 7 inputs to 6 outputs, 6 B-splines over [-0.7, 0.7]
    {
      constexpr std::size_t kr = 5, in = 7, out = 6, grid = 6;
      const auto kx = random(kr * in), base = random(out * in), spline = random(out * in * grid), kdy = random(kr * out);
      std::vector<T> ky(kr * out), kdx(kr * in), dbase(out * in), dspline(out * in * grid), scratch(kr * in * (1 + grid));
      castnet::kan_forward<T, kr, in, out, grid>(kx.data(), base.data(), spline.data(), T(-0.7), T(0.7), scratch.data(), ky.data());
      keep("kan_forward", ky, library_math);
      castnet::kan_backward_params<T, kr, in, out, grid>(kx.data(), kdy.data(), T(-0.7), T(0.7), scratch.data(), dbase.data(),
                                                         dspline.data());
      keep("kan_backward_params base", dbase, library_math);
      keep("kan_backward_params spline", dspline, library_math);
      castnet::kan_backward_input<T, kr, in, out, grid>(kx.data(), base.data(), spline.data(), kdy.data(), T(-0.7), T(0.7),
                                                        scratch.data(), kdx.data());
      keep("kan_backward_input", kdx, library_math);
    }

    std::vector<T> sum(x.size());
    castnet::add<T, rows * features>(x.data(), dy.data(), sum.data());
    keep("add", sum);
    castnet::accumulate<T, rows * features>(sum.data(), x.data());
    keep("accumulate", sum);
    std::vector<T> wide(rows * (features + 4), T(0)), packed(x.size());
    castnet::copy_into_rows<T, rows, features, features + 4, 3>(x.data(), wide.data());
    keep("copy_into_rows", wide);
    castnet::copy_from_rows<T, rows, features, features + 4, 3>(wide.data(), packed.data());
    keep("copy_from_rows", packed);
  }

  // simd::exp, expm1, log1p, erfc and tanh over a sweep of each one's argument range, past its ends.
  void math() {
    using V = castnet::simd::vec<T>;
    constexpr std::size_t n = 4096 / V::size * V::size;
    const auto sweep = [&](const char* name, double lo, double hi, auto f) {
      std::vector<T> x(n), y(n);
      for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<T>(lo + (hi - lo) * static_cast<double>(i) / (n - 1));
      for (std::size_t i = 0; i < n; i += V::size) f(V::load_unaligned(x.data() + i)).store_unaligned(y.data() + i);
      keep(std::string("simd::") + name, y, std::is_same_v<T, double>);
    };
    sweep("exp", -110, 95, [](const V& v) { return castnet::simd::exp(v); });
    sweep("expm1", -25, 95, [](const V& v) { return castnet::simd::expm1(v); });
    sweep("log1p", -1, 1e6, [](const V& v) { return castnet::simd::log1p(v); });
    sweep("log1p near 0", -0.01, 0.01, [](const V& v) { return castnet::simd::log1p(v); });
    sweep("erfc", -12, 12, [](const V& v) { return castnet::simd::erfc(v); });
    sweep("tanh", -12, 12, [](const V& v) { return castnet::simd::tanh(v); });
  }

 private:
  std::mt19937 rng_{20240601};
};

template <class T>
std::vector<Output<T>> run_kernels() {
  Runner<T> r;
  r.template dense<1, 37, 19>();
  r.template dense<1, 64, 32>();
  r.template dense<13, 37, 19>();
  r.template dense<64, 64, 33>();
  //                                            c   h   w   f kh kw sh sw ph pw
  r.template conv<2, Conv2dShape<16, 8, 8, 16, 3, 3, 1, 1, 0, 0>>("direct 16x8x8 3x3");
  r.template conv<2, Conv2dShape<3, 7, 9, 17, 5, 5, 1, 1, 2, 2>>("im2col 3x7x9 5x5 pad 2");
  r.template conv<2, Conv2dShape<4, 9, 7, 5, 3, 3, 2, 2, 1, 1>>("im2col 4x9x7 3x3 stride 2");
  r.template conv<2, Conv2dShape<3, 6, 5, 17, 1, 1, 1, 1, 0, 0>>("pointwise 3x6x5");
  r.template pool<2, Conv2dShape<3, 6, 37, 3, 2, 2, 2, 2, 0, 0>>("2x2 stride 2");
  r.template pool<2, Conv2dShape<2, 9, 8, 2, 3, 3, 2, 2, 0, 0>>("3x3 stride 2");
  r.template activation<Act::identity>("identity", T(0));
  r.template activation<Act::relu>("relu", T(0));
  r.template activation<Act::leaky_relu>("leaky_relu", T(0.01));
  r.template activation<Act::elu>("elu", T(0.7));
  r.template activation<Act::gelu>("gelu", T(0));
  r.template activation<Act::silu>("silu", T(0));
  r.template activation<Act::tanh>("tanh", T(0));
  r.template activation<Act::sigmoid>("sigmoid", T(0));
  r.template activation<Act::softplus>("softplus", T(2));
  r.template activation<Act::softmax>("softmax", T(0));
  r.layers();
  r.math();
  return std::move(r.outputs);
}

}  // namespace
