// The xsimd backend of castnet::simd (the default; what training uses): vec<T> is xsimd 8.1's batch of
// the build's default architecture, and the vocabulary's free functions are xsimd's, except that
// float math is castnet's own (math.hpp) and horizontal sums are simd_reduce.hpp's, both shared with
// the vector-extension backend so the two give the same bits, and fma and fnma, which are
// simd_x86.hpp's on x86 like the other backend's. simd.hpp includes <xsimd/xsimd.hpp> before this
// header.
#pragma once

#include <cstdint>

#include "castnet/kernels/simd_base.hpp"
#include "castnet/kernels/simd_x86.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

template <class T>
using vec = xsimd::batch<T>;

// The batch of the single-sample (latency-bound) kernels: 256-bit where the build has AVX-512. Zen 4
// executes a 512-bit operation as two 256-bit halves, so wider vectors buy no arithmetic, while
// reducing dot products costs one more shuffle level per doubling of the lanes and rows shorter
// than a vector need packing: a 32x32 matrix-vector product measured ~25% faster at 256 bits.
// Elsewhere it is the default batch.
#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
template <class T>
using narrow_vec = xsimd::batch<T, xsimd::fma3<xsimd::avx2>>;
#else
template <class T>
using narrow_vec = vec<T>;
#endif
// Half of narrow_vec where that is a whole SSE register (see simd.hpp's row_vec), else narrow_vec.
// (xsimd 8.1 has no fma3<sse4_2> batch; fma below fuses on any register where the build has FMA.)
#if defined(__AVX__)
template <class T>
using half_narrow_vec = xsimd::batch<T, xsimd::sse4_2>;
#else
template <class T>
using half_narrow_vec = narrow_vec<T>;
#endif

// x·y + z, rounded once where the target has FMA. On x86 through simd_x86.hpp: xsimd 8.1's AVX-512
// fma is an unfused x·y + z.
template <class T, class A>
inline xsimd::batch<T, A> fma(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y,
                              const xsimd::batch<T, A>& z) noexcept {
#if CASTNET_SIMD_X86_FMA
  if constexpr (x86::has_fma<sizeof(typename xsimd::batch<T, A>::register_type)>) return x86::fused<false>(x, y, z);
#endif
  return xsimd::fma(x, y, z);
}
// -x·y + z, rounded as fma is.
template <class T, class A>
inline xsimd::batch<T, A> fnma(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y,
                               const xsimd::batch<T, A>& z) noexcept {
#if CASTNET_SIMD_X86_FMA
  if constexpr (x86::has_fma<sizeof(typename xsimd::batch<T, A>::register_type)>) return x86::fused<true>(x, y, z);
#endif
  return xsimd::fnma(x, y, z);
}
template <class T, class A>
inline xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& m, const xsimd::batch<T, A>& a,
                                 const xsimd::batch<T, A>& b) noexcept {
  return xsimd::select(m, a, b);
}
// b where either is NaN (minps).
template <class T, class A>
inline xsimd::batch<T, A> min(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
  return xsimd::min(a, b);
}
// b where either is NaN (maxps).
template <class T, class A>
inline xsimd::batch<T, A> max(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
  return xsimd::max(a, b);
}
template <class T, class A>
inline xsimd::batch<T, A> abs(const xsimd::batch<T, A>& x) noexcept {
  return xsimd::abs(x);
}
// |x| with the sign of y.
template <class T, class A>
inline xsimd::batch<T, A> copysign(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y) noexcept {
  return xsimd::copysign(x, y);
}

// ---- primitives of math.hpp's float functions -------------------------------------------------

// 2^n for t = 1.5·2^23 + n, n in [-126, 127] (math.hpp's kRound): the exponent field n + 127 from
// t's low bits, in unsigned arithmetic (the bits above shift out).
template <class A>
inline xsimd::batch<float, A> pow2_biased(const xsimd::batch<float, A>& t) noexcept {
  const auto bits = xsimd::bitwise_cast<xsimd::batch<std::uint32_t, A>>(t);
  return xsimd::bitwise_cast<xsimd::batch<float, A>>((bits + 127u) << 23);
}

// x = m·2^e with m in [0.5, 1), for positive normal x: returns m, sets e.
template <class A>
inline xsimd::batch<float, A> frexp(const xsimd::batch<float, A>& x, xsimd::batch<float, A>& e) noexcept {
  const auto b = xsimd::bitwise_cast<xsimd::batch<std::int32_t, A>>(x);
  e = xsimd::to_float((b >> 23) - 126);
  return xsimd::bitwise_cast<xsimd::batch<float, A>>((b & 0x007FFFFF) | 0x3F000000);
}

// ---- double math: xsimd's ------------------------------------------------------------------------

template <fn F, class A>
inline xsimd::batch<double, A> double_math(const xsimd::batch<double, A>& x) noexcept {
  if constexpr (F == fn::exp) return xsimd::exp(x);
  if constexpr (F == fn::expm1) return xsimd::expm1(x);
  if constexpr (F == fn::log1p) return xsimd::log1p(x);
  if constexpr (F == fn::erfc) return xsimd::erfc(x);
  if constexpr (F == fn::tanh) return xsimd::tanh(x);
}

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
