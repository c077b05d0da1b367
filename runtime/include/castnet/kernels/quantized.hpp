// The forward kernels of an exported header with quantized weights (`castnet export --quantize`):
// dense and conv2d whose weights are stored as int8 with a float scale per output channel
// (w[o][i] ≈ scale[o] · q[o][i]) or as bf16 (the upper 16 bits of the float). Activations stay
// float (weight-only): each weight is widened to float as it is loaded and meets the input in an
// FMA, and an int8 row's scale multiplies its sum once, so
//   y[o] = bias[o] + scale[o] · Σ_i x[i]·q[o][i]   (int8),   y[o] = bias[o] + Σ_i x[i]·w[o][i]   (bf16).
// What this buys at batch 1 is bandwidth: a quarter (int8) or half (bf16) of the float weights'
// bytes. Three paths, chosen at compile time from the unit's instruction set, all exposed so that
// tests can hold each to the scalar one:
//   Avx512Path  16 lanes: vpmovsxbd / vpmovzxwd + shift, vcvtdq2ps, vfmadd   (__AVX512F__)
//   Avx2Path     8 lanes: the same at 256 bits                               (__AVX2__ and __FMA__)
//   ScalarPath   plain C++, eight partial sums per row                       (otherwise, and under
//                                                                             CASTNET_SIMD_SCALAR)
// The vector paths sum in another order than the scalar one: they agree to float rounding, not
// bit for bit. Every size is a template parameter; nothing touches the heap; any pointer may be
// unaligned.
//
// With calibrated activations (`--quantize int8 --calibrate DATA`, the second half of this file)
// the layer's input is quantized too, per call, with a static scale s_x measured on data, and the
// dot products are integer:
//   qx[i] = clamp(round-half-even(x[i] · inv_sx), -127, 127)
//   y[o]  = act(fma(float(Σ_i qx[i]·q[o][i]), m[o], bias[o])),   m[o] = s_x · s_w[o] (one float)
// The sum is exact in int32 on every path (|Σ| ≤ In·127² < 2^31), and the quantization and the
// rescale are the same IEEE operations everywhere, so every path gives the same outputs bit for
// bit, and castnet's own evaluation of the header (cli/calibrate.cpp) computes what it computes.
//   VnniIntPath  64 bytes: vpdpbusd on x + 128 (unsigned) and q, minus 128·Σ_i q[o][i]
//                (__AVX512VNNI__ and __AVX512BW__)
//   Avx2IntPath  32 bytes: vpsignb moves x's sign onto q, vpmaddubsw |x|·(±q) in pairs (at most
//                2·127·127 = 32258: int16 never saturates), vpmaddwd widens   (__AVX2__)
//   ScalarIntPath  plain C++
// Here the input length is an argument (the inlined callers pass constants), so that castnet's
// evaluation runs the same code over the shapes it reads at run time.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "castnet/kernels/activation.hpp"
#include "castnet/kernels/conv2d.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace kernels {
namespace quant {

// bf16 -> float: the bf16 bits are the float's upper half, so the conversion is exact.
inline float bf16_to_float(std::uint16_t h) noexcept {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// A weight widened to float, one at a time.
inline float widen(std::int8_t q) noexcept { return static_cast<float>(q); }
inline float widen(std::uint16_t h) noexcept { return bf16_to_float(h); }

// Each path: sums<W, In, R>(x, w, sums) puts Σ_i x[i]·widen(w[r·In + i]) into sums[r] for R rows.
// Eight partial sums per row, of every eighth product, added up at the end: eight independent
// chains instead of one (a single float sum waits on each add: SSE4.2's W2 took 126 µs against
// 10 µs for the float export), which compilers also turn into vectors without -ffast-math.
struct ScalarPath {
  static constexpr const char* name = "scalar";
  template <class W, std::size_t In, std::size_t R>
  static void sums(const float* x, const W* w, float* out) noexcept {
    constexpr std::size_t P = 8, full = In / P * P;
    for (std::size_t r = 0; r < R; ++r) {
      float part[P] = {};
      for (std::size_t i = 0; i < full; i += P)
        for (std::size_t l = 0; l < P; ++l) part[l] += x[i + l] * widen(w[r * In + i + l]);
      float s = 0.0f;
      for (std::size_t l = 0; l < P; ++l) s += part[l];
      for (std::size_t i = full; i < In; ++i) s += x[i] * widen(w[r * In + i]);
      out[r] = s;
    }
  }
};

// The vector paths: R rows share each load of x, and the tail past the last whole vector is
// summed one at a time. Ops is the instruction set's vector type and operations.
template <class Ops>
struct VectorPath {
  static constexpr const char* name = Ops::name;
  template <class W, std::size_t In, std::size_t R>
  static void sums(const float* x, const W* w, float* out) noexcept {
    constexpr std::size_t L = Ops::lanes, full = In / L * L;
    typename Ops::V acc[R];
    for (std::size_t r = 0; r < R; ++r) acc[r] = Ops::zero();
    for (std::size_t i = 0; i < full; i += L) {
      const typename Ops::V xv = Ops::loadu(x + i);
      for (std::size_t r = 0; r < R; ++r) acc[r] = Ops::fmadd(xv, Ops::load(w + r * In + i), acc[r]);
    }
    for (std::size_t r = 0; r < R; ++r) {
      float s = Ops::hsum(acc[r]);
      for (std::size_t i = full; i < In; ++i) s += x[i] * widen(w[r * In + i]);
      out[r] = s;
    }
  }
};

#if (defined(__x86_64__) || defined(__i386__)) && defined(__AVX2__) && defined(__FMA__)
struct Avx2Ops {
  using V = __m256;
  static constexpr std::size_t lanes = 8;
  static constexpr const char* name = "avx2";
  static V zero() noexcept { return _mm256_setzero_ps(); }
  static V loadu(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static V fmadd(V a, V b, V c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  static V load(const std::int8_t* p) noexcept {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static V load(const std::uint16_t* p) noexcept {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float hsum(V v) noexcept {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
using Avx2Path = VectorPath<Avx2Ops>;
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__AVX512F__)
struct Avx512Ops {
  using V = __m512;
  static constexpr std::size_t lanes = 16;
  static constexpr const char* name = "avx512";
  static V zero() noexcept { return _mm512_setzero_ps(); }
  static V loadu(const float* p) noexcept { return _mm512_loadu_ps(p); }
  static V fmadd(V a, V b, V c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  static V load(const std::int8_t* p) noexcept {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static V load(const std::uint16_t* p) noexcept {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
  static float hsum(V v) noexcept { return _mm512_reduce_add_ps(v); }
};
using Avx512Path = VectorPath<Avx512Ops>;
#endif

// The widest path the unit's instruction set has.
#if defined(CASTNET_SIMD_SCALAR)
using BestPath = ScalarPath;
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__AVX512F__)
using BestPath = Avx512Path;
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__AVX2__) && defined(__FMA__)
using BestPath = Avx2Path;
#else
using BestPath = ScalarPath;
#endif

// Rows per block: x is loaded once for this many rows (four accumulators and their loads fit the
// 16 registers of AVX2 with room to spare).
inline constexpr std::size_t kRowBlock = 4;

// y[o·YS] = act(bias[o] + scale[o] · Σ_i x[i]·widen(w[o·In + i])) for o < Out; scale is null for bf16.
template <class W, std::size_t In, std::size_t Out, std::size_t YS, Act A, class Path = BestPath>
inline void rows(const float* x, const W* w, const float* scale, const float* bias, float* y) noexcept {
  const auto put = [&](std::size_t o, float sum) {
    float v = bias[o] + (scale != nullptr ? scale[o] * sum : sum);
    if constexpr (A == Act::relu) v = v > 0.0f ? v : 0.0f;
    y[o * YS] = v;
  };
  float s[kRowBlock];
  std::size_t o = 0;
  for (; o + kRowBlock <= Out; o += kRowBlock) {
    Path::template sums<W, In, kRowBlock>(x, w + o * In, s);
    for (std::size_t r = 0; r < kRowBlock; ++r) put(o + r, s[r]);
  }
  if constexpr (Out % kRowBlock != 0) {
    Path::template sums<W, In, Out % kRowBlock>(x, w + o * In, s);
    for (std::size_t r = 0; r < Out % kRowBlock; ++r) put(o + r, s[r]);
  }
}

}  // namespace quant

// Dense, B samples: y[b·Out + o] = bias[o] + scale[o] · Σ_i x[b·In + i]·q[o·In + i].
template <std::size_t B, std::size_t In, std::size_t Out>
void dense_forward_int8(const float* x, const std::int8_t* q, const float* scale, const float* bias, float* y) noexcept {
  for (std::size_t b = 0; b < B; ++b) quant::rows<std::int8_t, In, Out, 1, Act::identity>(x + b * In, q, scale, bias, y + b * Out);
}

// Dense, B samples, bf16 weights: y[b·Out + o] = bias[o] + Σ_i x[b·In + i]·w[o·In + i].
template <std::size_t B, std::size_t In, std::size_t Out>
void dense_forward_bf16(const float* x, const std::uint16_t* w, const float* bias, float* y) noexcept {
  for (std::size_t b = 0; b < B; ++b) quant::rows<std::uint16_t, In, Out, 1, Act::identity>(x + b * In, w, nullptr, bias, y + b * Out);
}

namespace quant {

// colT[p][k] = x[c][oy·SH - PH + ky][ox·SW - PW + kx] (0 in the padding), k = (c, ky, kx): one
// sample's im2col transposed, so that each output pixel's patch is contiguous like a dense input.
// S: a Conv2dShape, or any object with its members (castnet's calibrated evaluation passes sizes
// read at run time).
template <class S>
inline void patches(const S& s, const float* x, float* colT) noexcept {
  for (std::size_t oy = 0; oy < s.oh; ++oy)
    for (std::size_t ox = 0; ox < s.ow; ++ox) {
      float* row = colT + (oy * s.ow + ox) * s.patch;
      for (std::size_t c = 0; c < s.c; ++c)
        for (std::size_t ky = 0; ky < s.kh; ++ky)
          for (std::size_t kx = 0; kx < s.kw; ++kx) {
            // Unsigned wrap-around makes a position in the top or left padding huge: out of range.
            const std::size_t iy = oy * s.sh + ky - s.ph, ix = ox * s.sw + kx - s.pw;
            row[(c * s.kh + ky) * s.kw + kx] = iy < s.h && ix < s.w ? x[(c * s.h + iy) * s.w + ix] : 0.0f;
          }
    }
}

// conv2d over B samples as a dense layer over each output pixel's patch (scratch: S::scratch values).
template <class W, std::size_t B, class S, Act A>
inline void conv2d(const float* x, const W* w, const float* scale, const float* bias, float* y, float* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  constexpr std::size_t P = S::oh * S::ow;
  for (std::size_t b = 0; b < B; ++b) {
    patches(S{}, x + b * S::in_size, scratch);
    for (std::size_t p = 0; p < P; ++p)
      rows<W, S::patch, S::f, P, A>(scratch + p * S::patch, w, scale, bias, y + b * S::out_size + p);
  }
}

}  // namespace quant

// conv2d, B samples, int8 weights q[F][C·KH·KW] with scale[F]; A: a ReLU applied as it stores.
template <std::size_t B, class S, Act A>
void conv2d_forward_int8(const float* x, const std::int8_t* q, const float* scale, const float* bias, float* y,
                         float* scratch) noexcept {
  quant::conv2d<std::int8_t, B, S, A>(x, q, scale, bias, y, scratch);
}

// conv2d, B samples, bf16 weights.
template <std::size_t B, class S, Act A>
void conv2d_forward_bf16(const float* x, const std::uint16_t* w, const float* bias, float* y, float* scratch) noexcept {
  quant::conv2d<std::uint16_t, B, S, A>(x, w, nullptr, bias, y, scratch);
}

namespace quant {

// The longest input whose exact integer sum fits in int32: In·127² < 2^31.
inline constexpr std::size_t kMaxIntInputs = 133000;

// q[i] = clamp(round-half-even(x[i] · inv), -127, 127), the values past the calibrated range
// saturating. The comparisons are written so that a NaN reads as -127 (defined, like the rest).
inline void quantize_input(const float* x, float inv, std::size_t n, std::int8_t* q) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    float v = x[i] * inv;
    v = v > -127.0f ? v : -127.0f;
    v = v < 127.0f ? v : 127.0f;
    q[i] = static_cast<std::int8_t>(std::nearbyint(v));
  }
}

// The float output of an integer sum: one fused multiply-add, rounded once, the same on every
// instruction set (std::fma is exact where the CPU has no FMA, only slower).
inline float rescale(std::int32_t sum, float m, float bias) noexcept { return std::fma(static_cast<float>(sum), m, bias); }

// Each path: sums<R>(x, w, wsum, in, out) puts the exact Σ_i x[i]·w[r·in + i] into out[r] for R
// rows; wsum[r] = Σ_i w[r·in + i] (only the VNNI path reads it).
struct ScalarIntPath {
  static constexpr const char* name = "scalar";
  template <std::size_t R>
  static void sums(const std::int8_t* x, const std::int8_t* w, const std::int32_t*, std::size_t in, std::int32_t* out) noexcept {
    for (std::size_t r = 0; r < R; ++r) {
      std::int32_t s = 0;
      for (std::size_t i = 0; i < in; ++i) s += static_cast<std::int32_t>(x[i]) * static_cast<std::int32_t>(w[r * in + i]);
      out[r] = s;
    }
  }
};

#if (defined(__x86_64__) || defined(__i386__)) && defined(__AVX2__)
struct Avx2IntPath {
  static constexpr const char* name = "avx2";
  template <std::size_t R>
  static void sums(const std::int8_t* x, const std::int8_t* w, const std::int32_t*, std::size_t in, std::int32_t* out) noexcept {
    const std::size_t full = in / 32 * 32;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[R];
    for (std::size_t r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
    for (std::size_t i = 0; i < full; i += 32) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
      const __m256i ax = _mm256_sign_epi8(xv, xv);  // |x| ≤ 127, as unsigned bytes
      for (std::size_t r = 0; r < R; ++r) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + r * in + i));
        const __m256i pairs = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(pairs, ones));
      }
    }
    for (std::size_t r = 0; r < R; ++r) {
      __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc[r]), _mm256_extracti128_si256(acc[r], 1));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
      std::int32_t t = _mm_cvtsi128_si32(s);
      for (std::size_t i = full; i < in; ++i) t += static_cast<std::int32_t>(x[i]) * static_cast<std::int32_t>(w[r * in + i]);
      out[r] = t;
    }
  }
};
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
struct VnniIntPath {
  static constexpr const char* name = "avx512vnni";
  template <std::size_t R>
  static void sums(const std::int8_t* x, const std::int8_t* w, const std::int32_t* wsum, std::size_t in,
                   std::int32_t* out) noexcept {
    // vpdpbusd multiplies unsigned by signed bytes: x + 128 (x with its top bit flipped) is
    // unsigned, and 128·Σ q comes off at the end. The tail is a masked load: past the end x + 128
    // meets q = 0.
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512i acc[R];
    for (std::size_t r = 0; r < R; ++r) acc[r] = _mm512_setzero_si512();
    for (std::size_t i = 0; i < in; i += 64) {
      const __mmask64 m = in - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (in - i)) - 1;
      const __m512i u = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), flip);
      for (std::size_t r = 0; r < R; ++r) acc[r] = _mm512_dpbusd_epi32(acc[r], u, _mm512_maskz_loadu_epi8(m, w + r * in + i));
    }
    // In wrapping arithmetic: the biased sum may pass 2^31 on the way; the result does not. The
    // lanes are added with the add intrinsics, which wrap (GCC 12's _mm512_reduce_add_epi32 adds
    // them as signed ints, which UBSan rightly reports when they overflow).
    for (std::size_t r = 0; r < R; ++r) {
      const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(acc[r]), _mm512_extracti64x4_epi64(acc[r], 1));
      __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
      out[r] = static_cast<std::int32_t>(static_cast<std::uint32_t>(_mm_cvtsi128_si32(s)) -
                                         128u * static_cast<std::uint32_t>(wsum[r]));
    }
  }
};
#endif

#if defined(CASTNET_SIMD_SCALAR)
using BestIntPath = ScalarIntPath;
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
using BestIntPath = VnniIntPath;
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__AVX2__)
using BestIntPath = Avx2IntPath;
#else
using BestIntPath = ScalarIntPath;
#endif

// y[o·ys] = act(rescale(Σ_i qx[i]·q[o·in + i], m[o], bias[o])) for o < out, kRowBlock rows per
// load of qx.
template <Act A, class Path = BestIntPath>
inline void int_rows(const std::int8_t* qx, std::size_t in, std::size_t out, std::size_t ys, const std::int8_t* q,
                     const std::int32_t* wsum, const float* m, const float* bias, float* y) noexcept {
  const auto put = [&](std::size_t o, std::int32_t sum) {
    const float v = rescale(sum, m[o], bias[o]);
    y[o * ys] = A == Act::relu && !(v > 0.0f) ? 0.0f : v;
  };
  std::int32_t s[kRowBlock];
  const std::size_t blocked = out / kRowBlock * kRowBlock;
  for (std::size_t o = 0; o < blocked; o += kRowBlock) {
    Path::template sums<kRowBlock>(qx, q + o * in, wsum + o, in, s);
    for (std::size_t r = 0; r < kRowBlock; ++r) put(o + r, s[r]);
  }
  for (std::size_t o = blocked; o < out; ++o) {
    Path::template sums<1>(qx, q + o * in, wsum + o, in, s);
    put(o, s[0]);
  }
}

}  // namespace quant

// Dense over B samples with calibrated activations: y[b·Out + o] = rescale(Σ_i qx[i]·q[o·In + i],
// m[o], bias[o]), qx the sample quantized with inv = 1/s_x.
template <std::size_t B, std::size_t In, std::size_t Out>
void dense_forward_int8_calibrated(const float* x, float inv, const std::int8_t* q, const std::int32_t* wsum, const float* m,
                                   const float* bias, float* y) noexcept {
  static_assert(In <= quant::kMaxIntInputs, "int8 dot products: In·127² must fit in int32");
  std::int8_t qx[In];
  for (std::size_t b = 0; b < B; ++b) {
    quant::quantize_input(x + b * In, inv, In, qx);
    quant::int_rows<Act::identity>(qx, In, Out, 1, q, wsum, m, bias, y + b * Out);
  }
}

// conv2d over B samples with calibrated activations: each output pixel's patch (im2col in the
// scratch, S::scratch values) is quantized and meets the filters as a dense input; A: a ReLU
// applied as it stores.
template <std::size_t B, class S, Act A>
void conv2d_forward_int8_calibrated(const float* x, float inv, const std::int8_t* q, const std::int32_t* wsum, const float* m,
                                    const float* bias, float* y, float* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  static_assert(S::patch <= quant::kMaxIntInputs, "int8 dot products: C·KH·KW·127² must fit in int32");
  constexpr std::size_t P = S::oh * S::ow;
  std::int8_t row[S::patch];
  for (std::size_t b = 0; b < B; ++b) {
    quant::patches(S{}, x + b * S::in_size, scratch);
    for (std::size_t p = 0; p < P; ++p) {
      quant::quantize_input(scratch + p * S::patch, inv, S::patch, row);
      quant::int_rows<A>(row, S::patch, S::f, P, q, wsum, m, bias, y + b * S::out_size + p);
    }
  }
}

}  // namespace kernels
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
