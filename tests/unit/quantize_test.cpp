// Quantized weights (generator/emit/quantize.hpp) and their kernels (castnet/kernels/quantized.hpp):
// the int8 and bf16 roundings against their error bounds, and each instruction set's path of the
// kernels' dot products against the scalar path and an exact (double) sum, within the bound of a
// float sum's rounding; with calibrated activations, the inputs' rounding and saturation, each
// path's integer sums against an exact sum (equal, at the saturation edges and odd lengths too),
// and the calibrated kernels against their definition, bit for bit.
#include <catch2/catch.hpp>

#include <castnet/kernels/quantized.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <stdexcept>
#include <vector>

#include "emit/quantize.hpp"

namespace {

using castnet::gen::bf16_to_float;
using castnet::gen::float_to_bf16;
using castnet::gen::quantize_int8;
namespace quant = castnet::kernels::quant;

std::vector<float> uniform(std::size_t n, float bound, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-bound, bound);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// A float sum of n products is within n·u·Σ|products| of the exact sum (u = 2^-24; Higham's
// γ_n, to first order), whatever the order: two such sums are within twice that of each other.
double float_sum_bound(std::size_t n, double abs_sum) { return static_cast<double>(n) * FLT_EPSILON / 2 * abs_sum; }

}  // namespace

TEST_CASE("quantize: int8 rows round to the nearest step of their own scale", "[quantize]") {
  std::mt19937 rng(7);
  const std::size_t rows = 5, cols = 37;
  std::vector<float> w = uniform(rows * cols, 2.0f, rng);
  for (std::size_t i = 0; i < cols; ++i) w[3 * cols + i] = 0.0f;  // an all-zero row
  w[1 * cols + 4] = -3.5f;                                          // a row whose largest value is negative
  const auto r = quantize_int8(w, rows);
  REQUIRE(r.q.size() == w.size());
  REQUIRE(r.scale.size() == rows);
  for (std::size_t o = 0; o < rows; ++o) {
    float m = 0;
    for (std::size_t i = 0; i < cols; ++i) m = std::max(m, std::fabs(w[o * cols + i]));
    CHECK(r.scale[o] == m / 127.0f);
    int extreme = 0;
    for (std::size_t i = 0; i < cols; ++i) {
      const int q = r.q[o * cols + i];
      CHECK(q >= -127);
      CHECK(q <= 127);
      extreme = std::max(extreme, std::abs(q));
      // Round to nearest: within half a step (and the step's float rounding) of the weight.
      const double back = static_cast<double>(r.scale[o]) * q;
      CHECK(std::fabs(back - w[o * cols + i]) <= r.scale[o] * (0.5 + 1e-5));
    }
    // The largest magnitude takes the full range; a zero row stays zero.
    CHECK(extreme == (m > 0 ? 127 : 0));
  }
  CHECK(r.q[1 * cols + 4] == -127);
}

TEST_CASE("quantize: bf16 rounds to nearest, ties to even, within 2^-8 relative", "[quantize]") {
  std::mt19937 rng(11);
  for (float v : uniform(1000, 100.0f, rng)) {
    const float back = bf16_to_float(float_to_bf16(v));
    CHECK(std::fabs(back - v) <= std::ldexp(std::fabs(v), -8));
    CHECK(bf16_to_float(float_to_bf16(back)) == back);  // bf16 values are fixed points
  }
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the even one (1) wins; 1 + 3·2^-8 lies halfway
  // between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  CHECK(bf16_to_float(float_to_bf16(1.0f + std::ldexp(1.0f, -8))) == 1.0f);
  CHECK(bf16_to_float(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8))) == 1.0f + std::ldexp(1.0f, -6));
  CHECK(bf16_to_float(float_to_bf16(-2.0f)) == -2.0f);
  CHECK_THROWS_AS(float_to_bf16(FLT_MAX), std::range_error);
  // The kernels' conversion is the generator's.
  for (std::uint32_t h : {0x0000u, 0x3f80u, 0xbf80u, 0x4049u, 0x0001u, 0x7f7fu})
    CHECK(quant::bf16_to_float(static_cast<std::uint16_t>(h)) == bf16_to_float(static_cast<std::uint16_t>(h)));
}

TEST_CASE("quantize: unknown modes are refused", "[quantize]") {
  CHECK(castnet::gen::parse_quantize("int8") == castnet::ops::WeightFormat::int8);
  CHECK(castnet::gen::parse_quantize("bf16") == castnet::ops::WeightFormat::bf16);
  CHECK_THROWS_WITH(castnet::gen::parse_quantize("int4"), "--quantize 'int4': unknown mode; give int8 or bf16");
}

namespace {

// Each path's row sums for `In` inputs and R rows against the exact sum (in double) and the scalar
// path, both within the float sums' bound.
template <class Path, class W, std::size_t In, std::size_t R>
void check_path(const std::vector<float>& x, const std::vector<W>& w) {
  float got[R], scalar[R];
  Path::template sums<W, In, R>(x.data(), w.data(), got);
  quant::ScalarPath::template sums<W, In, R>(x.data(), w.data(), scalar);
  for (std::size_t r = 0; r < R; ++r) {
    double exact = 0, abs_sum = 0;
    for (std::size_t i = 0; i < In; ++i) {
      const double p = static_cast<double>(x[i]) * quant::widen(w[r * In + i]);
      exact += p;
      abs_sum += std::fabs(p);
    }
    INFO(Path::name << " In " << In << " R " << R << " row " << r);
    CHECK(std::fabs(got[r] - exact) <= float_sum_bound(In, abs_sum));
    CHECK(std::fabs(got[r] - scalar[r]) <= 2 * float_sum_bound(In, abs_sum));
  }
}

template <class Path, std::size_t In>
void check_sizes(std::mt19937& rng) {
  const std::vector<float> x = uniform(In, 3.0f, rng);
  std::uniform_int_distribution<int> q(-127, 127);
  std::vector<std::int8_t> w8(4 * In);
  for (auto& v : w8) v = static_cast<std::int8_t>(q(rng));
  std::vector<std::uint16_t> w16(4 * In);
  for (auto& v : w16) v = float_to_bf16(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng));
  check_path<Path, std::int8_t, In, 1>(x, w8);
  check_path<Path, std::int8_t, In, 3>(x, w8);
  check_path<Path, std::int8_t, In, 4>(x, w8);
  check_path<Path, std::uint16_t, In, 1>(x, w16);
  check_path<Path, std::uint16_t, In, 4>(x, w16);
}

// In: shorter than a vector, whole vectors of 8 and 16, a tail after them, and MNIST's 784.
template <class Path>
void check_all_sizes() {
  std::mt19937 rng(3);
  check_sizes<Path, 1>(rng);
  check_sizes<Path, 7>(rng);
  check_sizes<Path, 8>(rng);
  check_sizes<Path, 16>(rng);
  check_sizes<Path, 33>(rng);
  check_sizes<Path, 784>(rng);
}

}  // namespace

TEST_CASE("quantize: each instruction set's dot products agree with the scalar path and the exact sums", "[quantize]") {
  check_all_sizes<quant::ScalarPath>();
#if defined(__AVX2__) && defined(__FMA__)
  check_all_sizes<quant::Avx2Path>();
#else
  WARN("this build has no AVX2 and FMA: the AVX2 path is not compiled");
#endif
#if defined(__AVX512F__)
  check_all_sizes<quant::Avx512Path>();
#else
  WARN("this build has no AVX-512: the AVX-512 path is not compiled");
#endif
}

TEST_CASE("quantize: the int8 and bf16 dense and conv2d kernels compute the dequantized layer", "[quantize]") {
  std::mt19937 rng(5);
  SECTION("dense, 2 samples, 37 -> 6") {
    constexpr std::size_t B = 2, In = 37, Out = 6;
    const auto x = uniform(B * In, 2.0f, rng), w = uniform(Out * In, 0.5f, rng), bias = uniform(Out, 0.5f, rng);
    const auto q = quantize_int8(w, Out);
    std::vector<std::uint16_t> h(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) h[i] = float_to_bf16(w[i]);
    float y8[B * Out], y16[B * Out];
    castnet::kernels::dense_forward_int8<B, In, Out>(x.data(), q.q.data(), q.scale.data(), bias.data(), y8);
    castnet::kernels::dense_forward_bf16<B, In, Out>(x.data(), h.data(), bias.data(), y16);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t o = 0; o < Out; ++o) {
        double e8 = bias[o], e16 = bias[o], abs8 = std::fabs(bias[o]), abs16 = std::fabs(bias[o]);
        for (std::size_t i = 0; i < In; ++i) {
          const double p8 = static_cast<double>(x[b * In + i]) * q.scale[o] * q.q[o * In + i];
          const double p16 = static_cast<double>(x[b * In + i]) * bf16_to_float(h[o * In + i]);
          e8 += p8, e16 += p16, abs8 += std::fabs(p8), abs16 += std::fabs(p16);
        }
        // One more rounding each: the scale's product and the bias's sum.
        CHECK(std::fabs(y8[b * Out + o] - e8) <= float_sum_bound(In + 2, abs8));
        CHECK(std::fabs(y16[b * Out + o] - e16) <= float_sum_bound(In + 1, abs16));
      }
  }
  SECTION("conv2d, 2 samples, 3x5x6 -> 4 filters, kernel 3x2, stride 2x1, padding 1x1, relu") {
    using S = castnet::Conv2dShape<3, 5, 6, 4, 3, 2, 2, 1, 1, 1>;
    constexpr std::size_t B = 2;
    const auto x = uniform(B * S::in_size, 2.0f, rng), w = uniform(S::f * S::patch, 0.5f, rng), bias = uniform(S::f, 0.5f, rng);
    const auto q = quantize_int8(w, S::f);
    std::vector<float> y(B * S::out_size), scratch(S::scratch);
    castnet::kernels::conv2d_forward_int8<B, S, castnet::Act::relu>(x.data(), q.q.data(), q.scale.data(), bias.data(), y.data(),
                                                                     scratch.data());
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t f = 0; f < S::f; ++f)
        for (std::size_t oy = 0; oy < S::oh; ++oy)
          for (std::size_t ox = 0; ox < S::ow; ++ox) {
            double e = bias[f], abs = std::fabs(bias[f]);
            for (std::size_t c = 0; c < S::c; ++c)
              for (std::size_t ky = 0; ky < S::kh; ++ky)
                for (std::size_t kx = 0; kx < S::kw; ++kx) {
                  const long iy = static_cast<long>(oy * S::sh + ky) - static_cast<long>(S::ph);
                  const long ix = static_cast<long>(ox * S::sw + kx) - static_cast<long>(S::pw);
                  if (iy < 0 || ix < 0 || iy >= static_cast<long>(S::h) || ix >= static_cast<long>(S::w)) continue;
                  const std::size_t k = (c * S::kh + ky) * S::kw + kx;
                  const double p = static_cast<double>(x[b * S::in_size + (c * S::h + static_cast<std::size_t>(iy)) * S::w +
                                                         static_cast<std::size_t>(ix)]) *
                                   q.scale[f] * q.q[f * S::patch + k];
                  e += p, abs += std::fabs(p);
                }
            const float got = y[b * S::out_size + (f * S::oh + oy) * S::ow + ox];
            CHECK(std::fabs(got - std::max(e, 0.0)) <= float_sum_bound(S::patch + 2, abs));
          }
  }
}

// ---- Calibrated activations: int8 inputs, integer dot products ----

TEST_CASE("quantize: inputs round half to even and saturate at ±127", "[quantize]") {
  const float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 126.6f, 127.4f, 300.0f, -1e30f, 1e30f, std::nanf("")};
  const int want[] = {0, 2, 2, 0, -2, 127, 127, 127, -127, 127, -127};
  std::int8_t q[std::size(x)];
  quant::quantize_input(x, 1.0f, std::size(x), q);
  for (std::size_t i = 0; i < std::size(x); ++i) {
    INFO("x " << x[i]);
    CHECK(q[i] == want[i]);
  }
  // The product x · inv is the one rounding before the integer's: 0.3 · 10 is 3.0000001 in float.
  const float third = 0.3f;
  quant::quantize_input(&third, 10.0f, 1, q);
  CHECK(q[0] == 3);
}

namespace {

// Σ x·w in 64-bit integers: no overflow, no order.
std::int64_t exact_dot(const std::int8_t* x, const std::int8_t* w, std::size_t n) {
  std::int64_t s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<std::int64_t>(x[i]) * w[i];
  return s;
}

// Each path's sums against the exact ones, for R rows of `in` values; the scalar path too.
template <class Path, std::size_t R>
void check_int_path(const std::vector<std::int8_t>& x, const std::vector<std::int8_t>& w, std::size_t in) {
  const std::vector<std::int8_t> ones(in, 1);
  std::vector<std::int32_t> wsum(R);
  for (std::size_t r = 0; r < R; ++r) wsum[r] = static_cast<std::int32_t>(exact_dot(ones.data(), w.data() + r * in, in));
  std::int32_t got[R];
  Path::template sums<R>(x.data(), w.data(), wsum.data(), in, got);
  for (std::size_t r = 0; r < R; ++r) {
    INFO(Path::name << " in " << in << " R " << R << " row " << r);
    CHECK(got[r] == exact_dot(x.data(), w.data() + r * in, in));
  }
}

template <class Path>
void check_int_sizes() {
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> q(-127, 127);
  // Shorter than any vector, around the AVX2 (32) and VNNI (64) widths, MNIST's 784 and a conv
  // patch of 32·3·3.
  for (std::size_t in : {1u, 5u, 31u, 32u, 33u, 63u, 64u, 65u, 100u, 288u, 784u}) {
    std::vector<std::int8_t> x(in), w(4 * in);
    for (auto& v : x) v = static_cast<std::int8_t>(q(rng));
    for (auto& v : w) v = static_cast<std::int8_t>(q(rng));
    check_int_path<Path, 1>(x, w, in);
    check_int_path<Path, 3>(x, w, in);
    check_int_path<Path, 4>(x, w, in);
    // The extremes: every product ±127², where vpmaddubsw's int16 pairs (2·127² = 32258) and
    // vpdpbusd's biased inputs (x + 128 = 1 or 255) are at their largest.
    for (int sx : {-127, 127})
      for (int sw : {-127, 127}) {
        std::fill(x.begin(), x.end(), static_cast<std::int8_t>(sx));
        std::fill(w.begin(), w.end(), static_cast<std::int8_t>(sw));
        check_int_path<Path, 4>(x, w, in);
      }
    // Alternating signs and zeros: vpsignb's three cases.
    for (std::size_t i = 0; i < in; ++i) x[i] = static_cast<std::int8_t>(i % 3 == 0 ? 0 : i % 3 == 1 ? -127 : 127);
    check_int_path<Path, 3>(x, w, in);
  }
  // The longest input whose sum the kernels allow: Σ reaches 133000·127² = 2,145,157,000 < 2^31.
  const std::size_t in = quant::kMaxIntInputs;
  check_int_path<Path, 1>(std::vector<std::int8_t>(in, -127), std::vector<std::int8_t>(in, -127), in);
  check_int_path<Path, 1>(std::vector<std::int8_t>(in, 127), std::vector<std::int8_t>(in, -127), in);
}

}  // namespace

TEST_CASE("quantize: each instruction set's integer dot products are exact", "[quantize]") {
  check_int_sizes<quant::ScalarIntPath>();
#if defined(__AVX2__)
  check_int_sizes<quant::Avx2IntPath>();
#else
  WARN("this build has no AVX2: the AVX2 integer path is not compiled");
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
  check_int_sizes<quant::VnniIntPath>();
#else
  WARN("this build has no AVX-512 VNNI: the VNNI path is not compiled");
#endif
}

TEST_CASE("quantize: calibrated tables hold the weight sums and the combined scales", "[quantize]") {
  std::mt19937 rng(17);
  const std::size_t rows = 3, cols = 10;
  const std::vector<float> w = uniform(rows * cols, 1.0f, rng);
  const auto c = castnet::gen::calibrated_layer(w, rows, 4.0f);
  const auto q = quantize_int8(w, rows);
  CHECK(c.w.q == q.q);
  CHECK(c.input_scale == 4.0f / 127.0f);
  CHECK(c.input_inv == 1.0f / (4.0f / 127.0f));
  for (std::size_t o = 0; o < rows; ++o) {
    CHECK(c.wsum[o] == exact_dot(std::vector<std::int8_t>(cols, 1).data(), q.q.data() + o * cols, cols));
    CHECK(c.out_scale[o] == c.input_scale * q.scale[o]);
  }
  // An input that was always zero: any scale quantizes it to 0; 1 keeps the tables finite.
  const auto zero = castnet::gen::calibrated_layer(w, rows, 0.0f);
  CHECK(zero.input_scale == 1.0f);
  CHECK(zero.input_inv == 1.0f);
}

TEST_CASE("quantize: the calibrated dense and conv2d kernels compute the quantized layer exactly", "[quantize]") {
  std::mt19937 rng(19);
  // The definition: q = clamp(round-half-even(x · inv), ±127), an exact sum, one fused multiply-add.
  const auto quantized = [](float x, float inv) {
    const float v = std::nearbyint(std::clamp(x * inv, -127.0f, 127.0f));
    return static_cast<std::int64_t>(v);
  };
  SECTION("dense, 3 samples, 70 -> 9, inputs beyond the range saturate") {
    constexpr std::size_t B = 3, In = 70, Out = 9;
    const auto x = uniform(B * In, 3.0f, rng), w = uniform(Out * In, 0.5f, rng), bias = uniform(Out, 0.5f, rng);
    const auto c = castnet::gen::calibrated_layer(w, Out, 2.0f);  // |x| up to 3: a third saturates
    float y[B * Out];
    castnet::kernels::dense_forward_int8_calibrated<B, In, Out>(x.data(), c.input_inv, c.w.q.data(), c.wsum.data(),
                                                                 c.out_scale.data(), bias.data(), y);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t o = 0; o < Out; ++o) {
        std::int64_t acc = 0;
        for (std::size_t i = 0; i < In; ++i) acc += quantized(x[b * In + i], c.input_inv) * c.w.q[o * In + i];
        CHECK(y[b * Out + o] == std::fma(static_cast<float>(acc), c.out_scale[o], bias[o]));
      }
  }
  SECTION("conv2d, 2 samples, 3x5x6 -> 4 filters, kernel 3x2, stride 2x1, padding 1x1, relu") {
    using S = castnet::Conv2dShape<3, 5, 6, 4, 3, 2, 2, 1, 1, 1>;
    constexpr std::size_t B = 2;
    const auto x = uniform(B * S::in_size, 2.0f, rng), w = uniform(S::f * S::patch, 0.5f, rng), bias = uniform(S::f, 0.5f, rng);
    const auto c = castnet::gen::calibrated_layer(w, S::f, 1.5f);
    std::vector<float> y(B * S::out_size), scratch(S::scratch);
    castnet::kernels::conv2d_forward_int8_calibrated<B, S, castnet::Act::relu>(x.data(), c.input_inv, c.w.q.data(), c.wsum.data(),
                                                                               c.out_scale.data(), bias.data(), y.data(),
                                                                               scratch.data());
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t f = 0; f < S::f; ++f)
        for (std::size_t oy = 0; oy < S::oh; ++oy)
          for (std::size_t ox = 0; ox < S::ow; ++ox) {
            std::int64_t acc = 0;
            for (std::size_t ch = 0; ch < S::c; ++ch)
              for (std::size_t ky = 0; ky < S::kh; ++ky)
                for (std::size_t kx = 0; kx < S::kw; ++kx) {
                  const long iy = static_cast<long>(oy * S::sh + ky) - static_cast<long>(S::ph);
                  const long ix = static_cast<long>(ox * S::sw + kx) - static_cast<long>(S::pw);
                  if (iy < 0 || ix < 0 || iy >= static_cast<long>(S::h) || ix >= static_cast<long>(S::w)) continue;
                  const float v = x[b * S::in_size + (ch * S::h + static_cast<std::size_t>(iy)) * S::w + static_cast<std::size_t>(ix)];
                  acc += quantized(v, c.input_inv) * c.w.q[f * S::patch + (ch * S::kh + ky) * S::kw + kx];
                }
            const float want = std::max(std::fma(static_cast<float>(acc), c.out_scale[f], bias[f]), 0.0f);
            CHECK(y[b * S::out_size + (f * S::oh + oy) * S::ow + ox] == want);
          }
  }
}
