// Horizontal sums, one implementation for every backend: hadd(v), the sum of v's lanes, and
// lane_sums(v), the vector whose lane i is hadd(v[i]). Both vector backends reach them, so the xsimd
// and the vector-extension kernels add in the same order and agree bit for bit. Each works on the
// backend's register_type: the x86 intrinsics of the register's width where there are (a vector
// extension type converts to __m128/__m256/__m512 as xsimd's batches do), a plain loop otherwise.
// Both orders are fixed:
// - hadd adds the upper half of the lanes to the lower half, then again, down to one lane: the
//   intrinsics do exactly what the loop does.
// - lane_sums is a transpose-and-add network: each level adds two vectors after moving their halves
//   (then quarters, ...) side by side, halving the lanes each input occupies; about 3 instructions
//   per vector, where an hadd of each takes about 7. The loop (no intrinsics for that width) is
//   hadd per vector.
// (xsimd 8.1's own haddp is not used: on AVX-512 it puts the sums of v[2..5] and v[10..13] in
// swapped lanes.)
#pragma once

#include <cstddef>
#include <type_traits>

#include "castnet/kernels/simd_base.hpp"
#include "castnet/kernels/simd_x86.hpp"

// GCC 12's _mm512_shuffle_* and _mm512_extract* fill their don't-care operand with
// _mm512_undefined_*(), which self-initialises a variable; once inlined, -Wuninitialized and
// -Wmaybe-uninitialized report it (GCC bug 105593). See simd.hpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {
namespace reduce_detail {

// Whether the intrinsics below handle registers of T of Bytes bytes.
template <class T, std::size_t Bytes>
inline constexpr bool x86_register =
#if defined(__SSE2__)
    (std::is_same_v<T, float> || std::is_same_v<T, double>) &&
    (Bytes == 16
#if defined(__AVX__)
     || Bytes == 32
#endif
#if defined(__AVX512F__)
     || Bytes == 64
#endif
    );
#else
    false;
#endif

// The halving loop: what hadd computes, in that order.
template <class V>
inline typename V::value_type hadd_loop(const V& v) noexcept {
  using T = typename V::value_type;
  T a[V::size];
  v.store_unaligned(a);
  for (std::size_t w = V::size / 2; w >= 1; w /= 2) {
    for (std::size_t i = 0; i < w; ++i) a[i] += a[i + w];
  }
  return a[0];
}

#if defined(__SSE2__)
inline float hadd_x86(__m128 r) noexcept {
  const __m128 s = _mm_add_ps(r, _mm_movehl_ps(r, r));  // lanes 0, 1: a0 + a2, a1 + a3
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, _MM_SHUFFLE(1, 1, 1, 1))));
}
inline double hadd_x86(__m128d r) noexcept { return _mm_cvtsd_f64(_mm_add_sd(r, _mm_unpackhi_pd(r, r))); }
#endif
#if defined(__AVX__)
inline float hadd_x86(__m256 r) noexcept {
  return hadd_x86(_mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1)));
}
inline double hadd_x86(__m256d r) noexcept {
  return hadd_x86(_mm_add_pd(_mm256_castpd256_pd128(r), _mm256_extractf128_pd(r, 1)));
}
#endif
#if defined(__AVX512F__)
inline float hadd_x86(__m512 r) noexcept {
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r), 1));
  return hadd_x86(_mm256_add_ps(_mm512_castps512_ps256(r), hi));
}
inline double hadd_x86(__m512d r) noexcept {
  return hadd_x86(_mm256_add_pd(_mm512_castpd512_pd256(r), _mm512_extractf64x4_pd(r, 1)));
}
#endif

}  // namespace reduce_detail

// The sum of v's lanes.
template <class V>
inline typename V::value_type hadd(const V& v) noexcept {
#if defined(__SSE2__)
  using T = typename V::value_type;
  using R = typename V::register_type;
  if constexpr (reduce_detail::x86_register<T, sizeof(R)>) {
    using X = typename x86::register_of<T, sizeof(R)>::type;
    return reduce_detail::hadd_x86(X(R(v)));
  } else {
    return reduce_detail::hadd_loop(v);
  }
#else
  return reduce_detail::hadd_loop(v);
#endif
}

// Lane i of the result is the sum of the lanes of v[i], for V::size vectors v.
template <class V>
inline V lane_sums(const V* v) noexcept {
  using T = typename V::value_type;
  constexpr std::size_t L = V::size;
#if defined(__SSE2__)
  using R = typename V::register_type;
  if constexpr (reduce_detail::x86_register<T, sizeof(R)>) {
    using X = typename x86::register_of<T, sizeof(R)>::type;
    X r[L];
    for (std::size_t i = 0; i < L; ++i) r[i] = X(R(v[i]));
    constexpr bool single = std::is_same_v<T, float>;
    if constexpr (false) {
#if defined(__AVX512F__)
    } else if constexpr (sizeof(R) == 64 && single) {
      // b[i]: 128-bit blocks 0-1 hold v[2i]'s two half sums, blocks 2-3 v[2i+1]'s.
      __m512 b[8], c[4], d[2];
      for (int i = 0; i < 8; ++i) {
        b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
      }
      // c[j]: block q holds v[4j + q] summed down to 4 lanes.
      for (int j = 0; j < 4; ++j) {
        c[j] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
      }
      // d[m]: block q holds v[8m + q] in lanes 0-1 and v[8m + 4 + q] in lanes 2-3, 2 lanes each.
      for (int m = 0; m < 2; ++m) {
        d[m] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * m], c[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(c[2 * m], c[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)));
      }
      // Lane 4q + r: the sum of v[4r + q]; one permutation puts lane i at v[i].
      const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(3, 1, 3, 1)));
      const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      return V(R(_mm512_permutexvar_ps(order, e)));
    } else if constexpr (sizeof(R) == 64) {
      // b[i]: 128-bit blocks 0-1 hold v[2i]'s two half sums, blocks 2-3 v[2i+1]'s.
      __m512d b[4], c[2];
      for (int i = 0; i < 4; ++i) {
        b[i] = _mm512_add_pd(_mm512_shuffle_f64x2(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f64x2(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
      }
      // c[j]: block q holds v[4j + q] summed down to 2 lanes.
      for (int j = 0; j < 2; ++j) {
        c[j] = _mm512_add_pd(_mm512_shuffle_f64x2(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f64x2(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
      }
      // Lane 2q: the sum of v[q], lane 2q + 1 that of v[4 + q]; one permutation puts lane i at v[i].
      const __m512d e = _mm512_add_pd(_mm512_unpacklo_pd(c[0], c[1]), _mm512_unpackhi_pd(c[0], c[1]));
      return V(R(_mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), e)));
#endif
#if defined(__AVX__)
    } else if constexpr (sizeof(R) == 32 && single) {
      // b[i]: lanes 0-3 hold v[i]'s two halves added, lanes 4-7 v[i + 4]'s (a blend keeps one half
      // in place, so only the other half crosses lanes). With v[i] beside v[i + 4] first, the sums
      // end in lane order: no final permutation.
      __m256 b[4], c[2];
      for (int i = 0; i < 4; ++i) {
        b[i] = _mm256_add_ps(_mm256_blend_ps(r[i], r[i + 4], 0xF0), _mm256_permute2f128_ps(r[i], r[i + 4], 0x21));
      }
      // c[j]: lanes 0-1 hold v[2j] summed to 2 lanes, 2-3 v[2j + 1], 4-5 v[2j + 4], 6-7 v[2j + 5].
      for (int j = 0; j < 2; ++j) {
        c[j] = _mm256_add_ps(_mm256_blend_ps(b[2 * j], b[2 * j + 1], 0xCC),
                             _mm256_shuffle_ps(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(1, 0, 3, 2)));
      }
      return V(R(_mm256_add_ps(_mm256_shuffle_ps(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                               _mm256_shuffle_ps(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)))));
    } else if constexpr (sizeof(R) == 32) {
      // b[i]: lanes 0-1 hold v[i]'s two halves added, lanes 2-3 v[i + 2]'s.
      __m256d b[2];
      for (int i = 0; i < 2; ++i) {
        b[i] = _mm256_add_pd(_mm256_blend_pd(r[i], r[i + 2], 0xC), _mm256_permute2f128_pd(r[i], r[i + 2], 0x21));
      }
      return V(R(_mm256_add_pd(_mm256_unpacklo_pd(b[0], b[1]), _mm256_unpackhi_pd(b[0], b[1]))));
#endif
    } else if constexpr (single) {
      // s: lanes hold v[0] and v[1] summed to 2 lanes, interleaved; t the same of v[2] and v[3].
      const __m128 s = _mm_add_ps(_mm_unpacklo_ps(r[0], r[1]), _mm_unpackhi_ps(r[0], r[1]));
      const __m128 t = _mm_add_ps(_mm_unpacklo_ps(r[2], r[3]), _mm_unpackhi_ps(r[2], r[3]));
      return V(R(_mm_add_ps(_mm_movelh_ps(s, t), _mm_movehl_ps(t, s))));
    } else {
      return V(R(_mm_add_pd(_mm_unpacklo_pd(r[0], r[1]), _mm_unpackhi_pd(r[0], r[1]))));
    }
  } else
#endif
  {
    T sums[L];
    for (std::size_t i = 0; i < L; ++i) sums[i] = simd::hadd(v[i]);
    return V::load_unaligned(sums);
  }
}

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
