// castnet's vector math: simd::exp, expm1, log1p, erfc and tanh of a vector of any backend (vec<T>,
// narrow_vec<T>). The float versions are written here once, over the simd vocabulary, so that every
// backend computes them with the same operations: the xsimd and the vector-extension kernels agree
// bit for bit, and an exported header computes what training computed. Each is a Cephes-style
// range reduction and polynomial, branch-free, with the special values (±inf, NaN, underflow)
// selected at the end. The largest errors, in ulps of the exact result (the double-precision C
// library), over every float of each range, measured with FMA (AVX-512) and without (SSE2):
//   exp    [-86.98, 89]           1.18 ulp, 1.21 without FMA; below, results under 1.7e-38 flush to 0
//   expm1  [-20, 89]              1.44 ulp, 1.57 without FMA
//   log1p  (-1, FLT_MAX]          1.44 ulp
//   erfc   [-11, 10]              4.7 ulp, 7.0 without FMA (results from 2^-126 on; below, 0)
//   tanh   [-10, 10]              3.6e-7 relative, 5.7 ulp
// tests/unit/math_test.cpp checks every 97th float of those ranges against these bounds.
// No product feeds a sum except through simd::fma or fnma (or is exact: the doublings that end exp
// and expm1), so the results do not depend on whether the compiler contracts a·b + c into an FMA
// (-ffp-contract; GCC does across statements, Clang within one).
// The double versions are each backend's (simd::double_math): xsimd's, or the C library's.
#pragma once

#include <limits>
#include <type_traits>

#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {
namespace math_detail {

// 1.5·2^23: a float this large has no fraction bits, so adding it rounds to an integer (ties to
// even) for magnitudes below 2^22. The sum t = kRound + n holds n in its low mantissa bits, which
// simd::pow2_biased(t) turns into 2^n without a conversion (and without undefined behaviour when t
// is NaN); t - kRound is n, exactly.
constexpr float kRound = 12582912.0f;

// e^r - 1 for |r| <= ln2/2: r + r²·P(r), Cephes expf's polynomial (below 1 ulp).
template <class V>
inline V expm1_poly(const V& r) noexcept {
  V p = simd::fma(V(1.9875691500e-4f), r, V(1.3981999507e-3f));
  p = simd::fma(p, r, V(8.3334519073e-3f));
  p = simd::fma(p, r, V(4.1665795894e-2f));
  p = simd::fma(p, r, V(1.6666665459e-1f));
  p = simd::fma(p, r, V(5.0000001201e-1f));
  return simd::fma(p, r * r, r);
}

// x = n·ln2 + r, n an integer and |r| <= ln2/2: returns r, sets t = kRound + n. ln2 is split in
// two: n·0.693359375 is exact for |n| < 2^15, and the rest is small.
template <class V>
inline V reduce_ln2(const V& x, V& t) noexcept {
  t = simd::fma(x, V(1.44269504088896341f), V(kRound));
  const V n = t - V(kRound);
  return simd::fnma(n, V(-2.12194440e-4f), simd::fnma(n, V(0.693359375f), x));
}

// x clamped to [lo, hi], NaN kept (min and max return their second operand on NaN).
template <class V>
inline V clamp(const V& x, float lo, float hi) noexcept {
  return simd::min(V(hi), simd::max(V(lo), x));
}

// 2^n·e^r for t = kRound + n, an integer n in [-126, 128], and |r| <= ln2/2, computed as
// 2·(s + s·(e^r - 1)) with s = 2^(n-1): rounded once (the 2· is exact) and s <= 2^127 even where
// the result overflows. s is 0 for n = -126: results below 1.8e-38 (e^-86.99) flush to 0, as they
// do in xsimd's exp; subnormal floats would only slow down the arithmetic that reads them.
template <class V>
inline V exp_scaled(const V& t, const V& r) noexcept {
  const V s = simd::pow2_biased(t - V(1.0f));
  return V(2.0f) * simd::fma(s, expm1_poly(r), s);
}

// e^x = 2^n·e^r. Clamping x to [-87.5, 89] keeps n in [-126, 128] and changes no result: below, e^x
// flushes to 0 (see exp_scaled), above, it overflows.
template <class V>
inline V exp_float(const V& x) noexcept {
  V t;
  const V r = reduce_ln2(clamp(x, -87.5f, 89.0f), t);
  return exp_scaled(t, r);
}

// e^x - 1 = 2^n·(p + 1) - 1 with p = e^r - 1, computed as 2·(t·p + (t - 1/2)), t = 2^(n-1): rounded
// once (the 2· is exact), exact when n = 0 (t - 1/2 = 0), and t <= 2^127 even where the result
// overflows. Below -18, e^x - 1 rounds to -1, so x is clamped to [-18, 89].
template <class V>
inline V expm1_float(const V& x) noexcept {
  V t;
  const V p = expm1_poly(reduce_ln2(clamp(x, -18.0f, 89.0f), t));
  const V s = simd::pow2_biased(t - V(1.0f));
  return V(2.0f) * simd::fma(s, p, s - V(0.5f));
}

// log1p(x) = log u + (x - (u - 1))/u with u = 1 + x rounded (the second term is the correction of
// that rounding to first order), log u from u = m·2^e as Cephes logf computes it: m in [√½, √2),
// log m = f - f²/2 + f³·P(f) with f = m - 1, and e·ln2 in two parts.
template <class V>
inline V log1p_float(const V& x) noexcept {
  const V one(1.0f);
  const V u = one + x;
  V e;
  const V m = simd::frexp(u, e);  // m in [0.5, 1)
  const auto low = m < V(0.70710678118654752f);
  e = simd::select(low, e - one, e);
  const V f = simd::select(low, m + m, m) - one;
  const V z = f * f;
  V y = simd::fma(V(7.0376836292e-2f), f, V(-1.1514610310e-1f));
  y = simd::fma(y, f, V(1.1676998740e-1f));
  y = simd::fma(y, f, V(-1.2420140846e-1f));
  y = simd::fma(y, f, V(1.4249322787e-1f));
  y = simd::fma(y, f, V(-1.6668057665e-1f));
  y = simd::fma(y, f, V(2.0000714765e-1f));
  y = simd::fma(y, f, V(-2.4999993993e-1f));
  y = simd::fma(y, f, V(3.3333331174e-1f));
  y = simd::fma(e, V(-2.12194440e-4f), y * f * z);
  y = simd::fnma(V(0.5f), z, y);
  const V log_u = simd::fma(e, V(0.693359375f), f + y);
  const V r = log_u + (x - (u - one)) / u;
  // +inf and NaN pass through; -1 gives -inf, below -1 NaN.
  constexpr float inf = std::numeric_limits<float>::infinity();
  const V finite = simd::select(u < V(inf), r, u);
  return simd::select(x > V(-1.0f), finite, simd::select(x == V(-1.0f), V(-inf), V(std::numeric_limits<float>::quiet_NaN())));
}

// Cephes erfcf: below |x| = 1, 1 - erf(x) with erf(x) = x·T(x²); from there e^(-x²)/|x| times a
// polynomial in 1/x², P below |x| = 2, R above, and 2 minus that for negative x. 1 - erf(x) cancels
// towards x = 1 (erfc(1) = 0.157), so T's leading term, the largest, is applied apart from the
// rest and its coefficient in two parts: each product is then rounded once, on its own scale.
// e^(-x²) would carry the rounding error of x², relatively x² times larger, so x² is split as
// Cephes' expx2 does: x = m + f with m a multiple of 1/128, x² = m² + f·(2m + f), where m² is exact
// (m·128 < 2^11) and the rest small; e^(-m² - f·(2m + f)) is then reduced with m² exact. |x| is
// capped at 9.34, where e^(-x²) has flushed to 0 (exp_scaled) and erfc is a subnormal 8e-40, so
// that the exponent stays within exp_scaled's range.
template <class V>
inline V erfc_float(const V& x) noexcept {
  const V one(1.0f);
  const V x2 = x * x;
  V t = simd::fma(V(7.853861353153693e-5f), x2, V(-8.010193625184903e-4f));
  t = simd::fma(t, x2, V(5.188327685732524e-3f));
  t = simd::fma(t, x2, V(-2.685381193529856e-2f));
  t = simd::fma(t, x2, V(1.128358514861418e-1f));
  t = simd::fma(t, x2, V(-3.761262582423300e-1f));
  // 1 - x·(1.128379165726710 + x²·t), the constant as 1.1283791065216064 + 5.9205103042359042e-8.
  const V near = simd::fnma(x * x2, t, simd::fnma(x, V(5.9205103042359042e-8f), simd::fnma(x, V(1.1283791065216064f), one)));

  const V a = simd::min(V(9.34f), simd::abs(x));  // NaN kept
  const V m = (simd::fma(a, V(128.0f), V(kRound)) - V(kRound)) * V(0.0078125f);
  const V f = a - m, g = m + m + f, m2 = m * m;  // x² = m² + f·g
  const V biased = simd::fma(simd::fma(f, g, m2), V(-1.44269504088896341f), V(kRound));  // kRound + n
  const V n = biased - V(kRound);
  const V ex = exp_scaled(biased, simd::fnma(f, g, simd::fnma(n, V(-2.12194440e-4f), simd::fnma(n, V(0.693359375f), m2 * V(-1.0f)))));
  const V q = one / a;
  const V y = q * q;
  V p = simd::fma(V(2.326819970068386e-2f), y, V(-1.387039388740657e-1f));
  p = simd::fma(p, y, V(3.687424674597105e-1f));
  p = simd::fma(p, y, V(-5.824733027278666e-1f));
  p = simd::fma(p, y, V(6.210004621745983e-1f));
  p = simd::fma(p, y, V(-4.944515323274145e-1f));
  p = simd::fma(p, y, V(3.404879937665872e-1f));
  p = simd::fma(p, y, V(-2.741127028184656e-1f));
  p = simd::fma(p, y, V(5.638259427386472e-1f));
  V r = simd::fma(V(-1.047766399936249e1f), y, V(1.297719955372516e1f));
  r = simd::fma(r, y, V(-7.495518717768503f));
  r = simd::fma(r, y, V(2.921019019210786f));
  r = simd::fma(r, y, V(-1.015265279202700f));
  r = simd::fma(r, y, V(4.218463358204948e-1f));
  r = simd::fma(r, y, V(-2.820767439740514e-1f));
  r = simd::fma(r, y, V(5.641895067754075e-1f));
  const V eq = ex * q, pr = simd::select(a < V(2.0f), p, r);
  const V far = simd::select(x < V(0.0f), simd::fnma(eq, pr, V(2.0f)), eq * pr);
  return simd::select(a < one, near, far);
}

// tanh: Eigen 3.4's rational approximation x·P(x²)/Q(x²), P of degree 6 and Q of degree 3, on
// |x| <= 7.9988 (max relative error 3.6e-7 on a dense scan of the floats). Cheaper than an exp and a
// division: it took ~25% off an 8-32-32-1 tanh MLP's single-sample latency against xsimd::tanh.
// Estrin's scheme for P and starting x/Q as soon as Q is known shorten the dependency chain a single
// sample waits on. The clamped approximation ends at 1 - 1.8e-7, so |x| >= 9, where tanh rounds to
// ±1, is set exactly. A NaN stays NaN.
template <class V>
inline V tanh_float(const V& z) noexcept {
  const V x = clamp(z, -7.99881172180175781f, 7.99881172180175781f);
  const V t = x * x, t2 = t * t, t4 = t2 * t2;
  const V p_lo = simd::fma(simd::fma(V(5.12229709037114e-08f), t, V(1.48572235717979e-05f)), t2,
                     simd::fma(V(6.37261928875436e-04f), t, V(4.89352455891786e-03f)));
  const V p_hi = simd::fma(V(-2.76076847742355e-16f), t2, simd::fma(V(2.00018790482477e-13f), t, V(-8.60467152213735e-11f)));
  const V p = simd::fma(p_hi, t4, p_lo);
  const V q = simd::fma(simd::fma(V(1.19825839466702e-06f), t, V(1.18534705686654e-04f)), t2,
                  simd::fma(V(2.26843463243900e-03f), t, V(4.89352518554385e-03f)));
  return simd::select(simd::abs(z) >= V(9.0f), simd::copysign(V(1.0f), z), p * (x / q));
}

template <class V>
inline constexpr bool is_float = std::is_same_v<typename V::value_type, float>;

}  // namespace math_detail

// e^x
template <class V>
inline V exp(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::exp_float(x);
  } else {
    return double_math<fn::exp>(x);
  }
}

// e^x - 1, accurate near 0
template <class V>
inline V expm1(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::expm1_float(x);
  } else {
    return double_math<fn::expm1>(x);
  }
}

// log(1 + x), accurate near 0
template <class V>
inline V log1p(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::log1p_float(x);
  } else {
    return double_math<fn::log1p>(x);
  }
}

// 1 - erf(x), accurate where erf(x) is near 1
template <class V>
inline V erfc(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::erfc_float(x);
  } else {
    return double_math<fn::erfc>(x);
  }
}

template <class V>
inline V tanh(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::tanh_float(x);
  } else {
    return double_math<fn::tanh>(x);
  }
}

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
