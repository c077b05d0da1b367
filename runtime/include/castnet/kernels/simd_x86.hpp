// What the vector backends share on x86 (simd.hpp includes <immintrin.h> first): the register type
// of each vector size, and the fused multiply-adds. xsimd 8.1 has no fma for AVX-512 (its generic
// x·y + z is fused only where the compiler contracts it: GCC does, after inlining, unless it has
// first merged x·y with an equal product elsewhere; Clang does not), so both backends call the
// intrinsics here wherever the target has them, and are fused in the same places.
#pragma once

#include <cstddef>

#include "castnet/kernels/simd_base.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__FMA__) || defined(__AVX512F__))
#define CASTNET_SIMD_X86_FMA 1
#else
#define CASTNET_SIMD_X86_FMA 0
#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {
namespace x86 {

#if defined(__SSE2__)
// The x86 register type of T's vectors of Bytes bytes, where the build has that width.
template <class T, std::size_t Bytes>
struct register_of {};
template <>
struct register_of<float, 16> {
  using type = __m128;
};
template <>
struct register_of<double, 16> {
  using type = __m128d;
};
#if defined(__AVX__)
template <>
struct register_of<float, 32> {
  using type = __m256;
};
template <>
struct register_of<double, 32> {
  using type = __m256d;
};
#endif
#if defined(__AVX512F__)
template <>
struct register_of<float, 64> {
  using type = __m512;
};
template <>
struct register_of<double, 64> {
  using type = __m512d;
};
#endif
#endif

// Whether fused() below takes vectors of Bytes bytes: that width has FMA instructions in this build.
template <std::size_t Bytes>
inline constexpr bool has_fma =
#if defined(__FMA__)
    Bytes == 16 || Bytes == 32 ||
#endif
#if defined(__AVX512F__)
    Bytes == 64 ||
#endif
    false;

#if defined(__FMA__)
inline __m128 fmadd(__m128 a, __m128 b, __m128 c) noexcept { return _mm_fmadd_ps(a, b, c); }
inline __m128d fmadd(__m128d a, __m128d b, __m128d c) noexcept { return _mm_fmadd_pd(a, b, c); }
inline __m256 fmadd(__m256 a, __m256 b, __m256 c) noexcept { return _mm256_fmadd_ps(a, b, c); }
inline __m256d fmadd(__m256d a, __m256d b, __m256d c) noexcept { return _mm256_fmadd_pd(a, b, c); }
inline __m128 fnmadd(__m128 a, __m128 b, __m128 c) noexcept { return _mm_fnmadd_ps(a, b, c); }
inline __m128d fnmadd(__m128d a, __m128d b, __m128d c) noexcept { return _mm_fnmadd_pd(a, b, c); }
inline __m256 fnmadd(__m256 a, __m256 b, __m256 c) noexcept { return _mm256_fnmadd_ps(a, b, c); }
inline __m256d fnmadd(__m256d a, __m256d b, __m256d c) noexcept { return _mm256_fnmadd_pd(a, b, c); }
#endif
#if defined(__AVX512F__)
inline __m512 fmadd(__m512 a, __m512 b, __m512 c) noexcept { return _mm512_fmadd_ps(a, b, c); }
inline __m512d fmadd(__m512d a, __m512d b, __m512d c) noexcept { return _mm512_fmadd_pd(a, b, c); }
inline __m512 fnmadd(__m512 a, __m512 b, __m512 c) noexcept { return _mm512_fnmadd_ps(a, b, c); }
inline __m512d fnmadd(__m512d a, __m512d b, __m512d c) noexcept { return _mm512_fnmadd_pd(a, b, c); }
#endif

#if CASTNET_SIMD_X86_FMA
// x·y + z (Negate: -x·y + z), rounded once, for a vector V of either backend whose width has_fma.
template <bool Negate, class V>
inline V fused(const V& x, const V& y, const V& z) noexcept {
  using R = typename V::register_type;
  using X = typename register_of<typename V::value_type, sizeof(R)>::type;
  const X a = X(R(x)), b = X(R(y)), c = X(R(z));
  if constexpr (Negate) {
    return V(R(fnmadd(a, b, c)));
  } else {
    return V(R(fmadd(a, b, c)));
  }
}
#endif

// The first N lanes of a vector of Bytes bytes of T, read or written by masked moves, the other
// lanes zero (read) or untouched (written). Staging a partial vector through a stack array instead
// costs a failed store-to-load forward at every layer of a one-sample pass whose width is not a
// multiple of the vector: 8-12-12-1 took 84 ns against 56 for 8-16-16-1 (Intel Xeon, AVX-512).
// AVX-512 has masked moves at every width (VL for 16 and 32 bytes); AVX, for 16 and 32 bytes.
template <class T, std::size_t Bytes>
inline constexpr bool has_masked_moves =
#if defined(__AVX512F__) && defined(__AVX512VL__)
    Bytes == 16 || Bytes == 32 || Bytes == 64 ||
#elif defined(__AVX512F__)
    Bytes == 64 ||
#endif
#if defined(__AVX__)
    Bytes == 16 || Bytes == 32 ||
#endif
    false;

#if defined(__AVX__) && !defined(__AVX512VL__)
// The lanes of a vmaskmov mask: element j of (kMaskLanes + 8 - n) is set for j < n.
alignas(32) inline constexpr int kMaskLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i mask256(std::size_t n) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskLanes + 8 - n));
}
inline __m128i mask128(std::size_t n) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMaskLanes + 8 - n));
}
#endif

template <std::size_t N, class V>
inline V load_first([[maybe_unused]] const typename V::value_type* p) noexcept {
  using T = typename V::value_type;
  using R = typename V::register_type;
  constexpr std::size_t bytes = sizeof(R);
  static_assert(has_masked_moves<T, bytes>);
#if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    if constexpr (sizeof(T) == 4) return V(R(_mm512_maskz_loadu_ps(__mmask16((1u << N) - 1), p)));
    else return V(R(_mm512_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  }
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) return V(R(_mm256_maskz_loadu_ps(__mmask8((1u << N) - 1), p)));
    else return V(R(_mm256_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) return V(R(_mm_maskz_loadu_ps(__mmask8((1u << N) - 1), p)));
    else return V(R(_mm_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  }
#elif defined(__AVX__)
  constexpr std::size_t words = N * sizeof(T) / 4;  // the mask's set 4-byte lanes
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) return V(R(_mm256_maskload_ps(p, mask256(words))));
    else return V(R(_mm256_maskload_pd(p, mask256(words))));
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) return V(R(_mm_maskload_ps(p, mask128(words))));
    else return V(R(_mm_maskload_pd(p, mask128(words))));
  }
#endif
}

template <std::size_t N, class V>
inline void store_first([[maybe_unused]] typename V::value_type* p, [[maybe_unused]] const V& v) noexcept {
  using T = typename V::value_type;
  using R = typename V::register_type;
  using X = typename register_of<T, sizeof(R)>::type;
  constexpr std::size_t bytes = sizeof(R);
  static_assert(has_masked_moves<T, bytes>);
  [[maybe_unused]] const X x = X(R(v));
#if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    if constexpr (sizeof(T) == 4) _mm512_mask_storeu_ps(p, __mmask16((1u << N) - 1), x);
    else _mm512_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  }
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_mask_storeu_ps(p, __mmask8((1u << N) - 1), x);
    else _mm256_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_mask_storeu_ps(p, __mmask8((1u << N) - 1), x);
    else _mm_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  }
#elif defined(__AVX__)
  constexpr std::size_t words = N * sizeof(T) / 4;
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_maskstore_ps(p, mask256(words), x);
    else _mm256_maskstore_pd(p, mask256(words), x);
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_maskstore_ps(p, mask128(words), x);
    else _mm_maskstore_pd(p, mask128(words), x);
  }
#endif
}

}  // namespace x86
}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
