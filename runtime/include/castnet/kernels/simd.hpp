// Small xsimd helpers shared by the header-only kernels (kernels.hpp, activations.hpp): the batch
// type of the build's default architecture, the 256-bit batch of the single-sample kernels, partial
// loads/stores for arrays shorter than a vector and lane_sums, a transpose-and-add reduction. This
// header is also where xsimd is included, see below.
//
// With CASTNET_SIMD_SCALAR defined before the first castnet include, vec<T> is a one-lane type
// (simd_scalar.hpp) and every kernel runs as plain scalar C++ (what a model generated with
// `--arch scalar` asks for).
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

// GCC 12.0-12.2's AVX-512 intrinsics fill don't-care operands with _mm512_undefined_*(), which
// self-initialises a variable (`__m512 __Y = __Y;`); once inlined, -Wuninitialized and
// -Wmaybe-uninitialized report it (GCC bug 105593) and -Werror builds with -march=native fail on
// almost any xsimd call. A diagnostic pragma is honoured when any function on the inlining chain
// lies inside it, so silencing the two warnings around the xsimd include covers every use of xsimd
// in the translation unit, without hiding warnings in code that does not go through xsimd. That
// requires this to be the first inclusion of xsimd: include castnet headers before xsimd.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <xsimd/xsimd.hpp>
#pragma GCC diagnostic pop
#else
#include <xsimd/xsimd.hpp>
#endif

// Everything whose meaning depends on the vector width lives in an inline namespace named after the
// instruction set the translation unit is compiled for (xsimd's default architecture, or scalar).
// The kernels are inline templates: two translation units built for different instruction sets (a
// scalar model beside an AVX-512 one, or models generated with different --arch) would otherwise
// define the same instantiation twice, differently, and the linker would keep one of them. Units
// of one instruction set built with different extra flags (-march=native beside -mavx512f ...)
// still share names; their kernels are the same code at the same width.
#if defined(CASTNET_SIMD_SCALAR)
#define CASTNET_SIMD_ISA isa_scalar
#elif defined(__AVX512BW__)
#define CASTNET_SIMD_ISA isa_avx512bw
#elif defined(__AVX512DQ__)
#define CASTNET_SIMD_ISA isa_avx512dq
#elif defined(__AVX512F__)
#define CASTNET_SIMD_ISA isa_avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define CASTNET_SIMD_ISA isa_fma3_avx2
#elif defined(__AVX2__)
#define CASTNET_SIMD_ISA isa_avx2
#elif defined(__AVX__)
#define CASTNET_SIMD_ISA isa_avx
#elif defined(__SSE4_2__)
#define CASTNET_SIMD_ISA isa_sse4_2
#elif defined(__SSE4_1__)
#define CASTNET_SIMD_ISA isa_sse4_1
#elif defined(__SSE2__)
#define CASTNET_SIMD_ISA isa_sse2
#elif defined(__aarch64__)
#define CASTNET_SIMD_ISA isa_neon64
#elif defined(__ARM_NEON)
#define CASTNET_SIMD_ISA isa_neon
#else
#define CASTNET_SIMD_ISA isa_other
#endif

#if defined(CASTNET_SIMD_SCALAR)
#include "castnet/kernels/simd_scalar.hpp"
#endif

namespace castnet::inline CASTNET_SIMD_ISA::simd {

#if defined(CASTNET_SIMD_SCALAR)
template <class T>
using vec = one_lane<T>;
#else
template <class T>
using vec = xsimd::batch<T>;
#endif

template <class T>
inline constexpr std::size_t lanes = vec<T>::size;

// The batch of the single-sample (latency-bound) kernels: 256-bit where the build has AVX-512. Zen 4
// executes a 512-bit operation as two 256-bit halves, so wider vectors buy no arithmetic, while
// reducing dot products costs one more shuffle level per doubling of the lanes and rows shorter
// than a vector need packing: a 32x32 matrix-vector product measured ~25% faster at 256 bits.
// Elsewhere it is the default batch.
#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__) && !defined(CASTNET_SIMD_SCALAR)
template <class T>
using narrow_vec = xsimd::batch<T, xsimd::fma3<xsimd::avx2>>;
#else
template <class T>
using narrow_vec = vec<T>;
#endif

// Loads N <= V::size values; the lanes past N read as zero. A full-width load could run past the
// end of the array and fault, so the partial case goes through a stack buffer.
template <class T, std::size_t N, class V = vec<T>>
inline V load_n(const T* p) noexcept {
  if constexpr (N == V::size) {
    return V::load_unaligned(p);
  } else {
    T buf[V::size] = {};
    std::memcpy(buf, p, N * sizeof(T));
    return V::load_unaligned(buf);
  }
}

// Stores the first N <= V::size values of v.
template <class T, std::size_t N, class V>
inline void store_n(T* p, const V& v) noexcept {
  if constexpr (N == V::size) {
    v.store_unaligned(p);
  } else {
    T buf[V::size];
    v.store_unaligned(buf);
    std::memcpy(p, buf, N * sizeof(T));
  }
}

// Lane i of the result is the sum of the lanes of v[i], for V::size vectors v. A transpose-and-add
// network: each level adds two vectors after moving their halves (then quarters, ...) side by side,
// halving the lanes each input occupies; about 3 instructions per vector, where a horizontal add
// of each takes about 7. 256-bit vectors (the AVX branch) need no final permutation: pairing v[i]
// with v[i + size/2] first leaves the sums in lane order. 512-bit float has its own network, as
// xsimd 8.1's AVX-512 haddp puts some sums in the wrong lanes (those of v[2..5] and v[10..13] swap
// in pairs); other widths use xsimd's haddp.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's _mm512_shuffle_* fill their don't-care operand with _mm512_undefined_ps(): see above.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class V>
inline V lane_sums(const V* v) noexcept {
  using T [[maybe_unused]] = typename V::value_type;  // only the AVX branches need it
#if defined(__AVX512F__)
  if constexpr (sizeof(typename V::register_type) == 64 && std::is_same_v<T, float>) {
    // b[i]: 128-bit blocks 0-1 hold v[2i]'s two half sums, blocks 2-3 v[2i+1]'s.
    __m512 b[8], c[4], d[2];
    for (int i = 0; i < 8; ++i) {
      b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                           _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
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
    return _mm512_permutexvar_ps(order, e);
  }
#endif
#if defined(__AVX__)
  if constexpr (sizeof(typename V::register_type) == 64) {
    return xsimd::haddp(v);  // double: correct in xsimd 8.1; float was handled above
  } else if constexpr (sizeof(typename V::register_type) == 32 && std::is_same_v<T, float>) {
    // b[i]: lanes 0-3 hold v[i]'s two halves added, lanes 4-7 v[i + 4]'s (a blend keeps one half
    // in place, so only the other half crosses lanes).
    __m256 b[4];
    for (int i = 0; i < 4; ++i) {
      b[i] = _mm256_add_ps(_mm256_blend_ps(v[i], v[i + 4], 0xF0), _mm256_permute2f128_ps(v[i], v[i + 4], 0x21));
    }
    // c[j]: lanes 0-1 hold v[2j] summed to 2 lanes, 2-3 v[2j + 1], 4-5 v[2j + 4], 6-7 v[2j + 5].
    __m256 c[2];
    for (int j = 0; j < 2; ++j) {
      c[j] = _mm256_add_ps(_mm256_blend_ps(b[2 * j], b[2 * j + 1], 0xCC),
                           _mm256_shuffle_ps(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(1, 0, 3, 2)));
    }
    return _mm256_add_ps(_mm256_shuffle_ps(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm256_shuffle_ps(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)));
  } else if constexpr (sizeof(typename V::register_type) == 32 && std::is_same_v<T, double>) {
    // b[i]: lanes 0-1 hold v[i]'s two halves added, lanes 2-3 v[i + 2]'s.
    __m256d b[2];
    for (int i = 0; i < 2; ++i) {
      b[i] = _mm256_add_pd(_mm256_blend_pd(v[i], v[i + 2], 0xC), _mm256_permute2f128_pd(v[i], v[i + 2], 0x21));
    }
    return _mm256_add_pd(_mm256_unpacklo_pd(b[0], b[1]), _mm256_unpackhi_pd(b[0], b[1]));
  } else {
    return xsimd::haddp(v);
  }
#else
  return xsimd::haddp(v);
#endif
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#if defined(CASTNET_SIMD_SCALAR)
// One lane: the sum of v[0]'s only lane is v[0].
template <class T>
inline one_lane<T> lane_sums(const one_lane<T>* v) noexcept {
  return v[0];
}
#endif

}  // namespace castnet::inline CASTNET_SIMD_ISA::simd
