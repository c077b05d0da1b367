// castnet's float vector math (castnet/kernels/math.hpp) against the double-precision C library:
// every 97th float of each function's range (tens of millions of arguments, both signs, every
// binade), the largest error in ulps of the exact result within the bounds math.hpp states, with a
// little room for the instruction set the build has (without FMA some are a little larger); and the
// special values: infinities, NaN, the flush of tiny results to 0, overflow.
#include <castnet/kernels/math.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace {

namespace simd = castnet::simd;
using V = simd::vec<float>;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The spacing of floats at the exact result `want` (2^-149 below FLT_MIN).
double ulp_at(double want) {
  const double a = std::abs(want);
  if (a < std::ldexp(1.0, -126)) return std::ldexp(1.0, -149);
  int e = 0;
  std::frexp(a, &e);  // a = m·2^e, m in [0.5, 1)
  return std::ldexp(1.0, e - 24);
}

float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// Every 97th float of [lo, hi] (by bit pattern, from 0 outwards in each sign), and lo and hi.
std::vector<float> arguments(float lo, float hi) {
  std::vector<float> x = {lo, hi};
  for (const float sign : {-1.0f, 1.0f}) {
    const float end = sign < 0 ? -lo : hi;
    if (end < 0) continue;
    std::uint32_t last;
    std::memcpy(&last, &end, sizeof last);
    for (std::uint32_t b = 0; b <= last; b += 97) {
      const float v = sign * from_bits(b);
      if (v >= lo && v <= hi) x.push_back(v);
    }
  }
  while (x.size() % V::size != 0) x.push_back(hi);
  return x;
}

template <class F>
std::vector<float> apply(F f, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); i += V::size) f(V::load_unaligned(x.data() + i)).store_unaligned(y.data() + i);
  return y;
}

// The largest error in ulps over the arguments, ignoring exact results below `floor`; an infinite
// result counts as exact where the exact one rounds to infinity.
template <class F, class Ref>
void check_ulps(const char* name, F f, Ref ref, float lo, float hi, double bound, double floor = 0) {
  const auto x = arguments(lo, hi);
  const auto y = apply(f, x);
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = ref(static_cast<double>(x[i]));
    if (std::abs(want) < floor) continue;
    double err;
    if (std::isinf(static_cast<float>(want)) || std::isinf(y[i])) {
      err = static_cast<float>(want) == y[i] ? 0 : std::numeric_limits<double>::infinity();
    } else {
      err = std::abs(static_cast<double>(y[i]) - want) / ulp_at(want);
      if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
    }
    if (err > worst) {
      worst = err;
      at = i;
    }
  }
  INFO(name << " on " << x.size() << " floats of [" << lo << ", " << hi << "]: largest error " << worst
            << " ulp at x = " << x[at] << " (got " << y[at] << ", want " << ref(static_cast<double>(x[at])) << ")");
  CHECK(worst <= bound);
}

template <class F>
float one(F f, float x) {
  float in[V::size], out[V::size];
  for (float& v : in) v = x;
  f(V::load_unaligned(in)).store_unaligned(out);
  return out[0];
}

const auto exp_f = [](const V& v) { return simd::exp(v); };
const auto expm1_f = [](const V& v) { return simd::expm1(v); };
const auto log1p_f = [](const V& v) { return simd::log1p(v); };
const auto erfc_f = [](const V& v) { return simd::erfc(v); };
const auto tanh_f = [](const V& v) { return simd::tanh(v); };

}  // namespace

TEST_CASE("math: exp, expm1, log1p and erfc within their stated errors", "[math]") {
  check_ulps("exp", exp_f, [](double x) { return std::exp(x); }, -86.98f, 89.0f, 1.25);
  check_ulps("expm1", expm1_f, [](double x) { return std::expm1(x); }, -20.0f, 89.0f, 1.7);
  check_ulps("log1p", log1p_f, [](double x) { return std::log1p(x); }, std::nextafter(-1.0f, 0.0f),
             std::numeric_limits<float>::max(), 1.5);
  check_ulps("erfc", erfc_f, [](double x) { return std::erfc(x); }, -11.0f, 10.0f, 7.5, std::ldexp(1.0, -126));
}

TEST_CASE("math: tanh within 3.6e-7 relative", "[math]") {
  const auto x = arguments(-10.0f, 10.0f);
  const auto y = apply(tanh_f, x);
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] == 0) continue;
    const double want = std::tanh(static_cast<double>(x[i]));
    worst = std::max(worst, std::abs(static_cast<double>(y[i]) - want) / std::abs(want));
  }
  CHECK(worst <= 3.6e-7);
}

TEST_CASE("math: special values", "[math]") {
  CHECK(one(exp_f, -kInf) == 0.0f);
  CHECK(one(exp_f, -1e4f) == 0.0f);
  CHECK(one(exp_f, -104.0f) == 0.0f);
  CHECK(one(exp_f, -87.0f) == 0.0f);  // 1.6e-38: flushed
  CHECK(one(exp_f, -86.9f) == Approx(std::exp(double(-86.9f))).epsilon(2e-7));
  CHECK(one(exp_f, 0.0f) == 1.0f);
  CHECK(one(exp_f, 88.72f) == Approx(std::exp(double(88.72f))).epsilon(2e-7));  // just below FLT_MAX
  CHECK(one(exp_f, 88.73f) == kInf);
  CHECK(one(exp_f, kInf) == kInf);
  CHECK(std::isnan(one(exp_f, kNaN)));

  CHECK(one(expm1_f, -kInf) == -1.0f);
  CHECK(one(expm1_f, -30.0f) == -1.0f);
  CHECK(one(expm1_f, 0.0f) == 0.0f);
  CHECK(one(expm1_f, 1e-30f) == 1e-30f);
  CHECK(one(expm1_f, 88.72f) == Approx(std::expm1(double(88.72f))).epsilon(2e-7));
  CHECK(one(expm1_f, kInf) == kInf);
  CHECK(std::isnan(one(expm1_f, kNaN)));

  CHECK(one(log1p_f, -1.0f) == -kInf);
  CHECK(std::isnan(one(log1p_f, -2.0f)));
  CHECK(std::isnan(one(log1p_f, -kInf)));
  CHECK(one(log1p_f, 0.0f) == 0.0f);
  CHECK(one(log1p_f, 1e-30f) == 1e-30f);
  CHECK(one(log1p_f, kInf) == kInf);
  CHECK(std::isnan(one(log1p_f, kNaN)));

  CHECK(one(erfc_f, -kInf) == 2.0f);
  CHECK(one(erfc_f, -20.0f) == 2.0f);
  CHECK(one(erfc_f, 0.0f) == 1.0f);
  CHECK(one(erfc_f, 9.4f) == 0.0f);
  CHECK(one(erfc_f, -9.4f) == 2.0f);
  CHECK(one(erfc_f, kInf) == 0.0f);
  CHECK(std::isnan(one(erfc_f, kNaN)));
}
