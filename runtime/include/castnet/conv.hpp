// 2-D convolution kernels for generated code, with PyTorch's conventions: one sample is [C][H][W]
// (row-major, channels outermost), the weight is w[F][C][KH][KW], the padding is zeros, and
//   y[f][oy][ox] = bias[f] + Σ_{c,ky,kx} w[f][c][ky][kx] · x[c][oy·SH - PH + ky][ox·SW - PW + kx].
// Each sample is lowered to matrix products (im2col, Caffe's layout): col[k][p] holds the input
// value that weight column k = (c, ky, kx) meets at output pixel p = (oy, ox), 0 in the padding.
// Then, per sample, with P = OH·OW output pixels and patch = C·KH·KW,
//   forward          y[F][P]      = w[F][patch] · col[patch][P] + bias        (axpy GEMM)
//   params gradient  dw[F][patch] += dy[F][P] · col[patch][P]ᵀ                (dot GEMM)
//   input gradient   dcol         = w[F][patch]ᵀ · dy[F][P], then col2im scatters dcol into dx.
// A 1x1, stride-1, unpadded convolution already is a matrix product (col is x itself), so it
// skips im2col. Every size is a template parameter (the shape is a structural NTTP); nothing
// touches the heap; any pointer may be unaligned.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "castnet/kernels.hpp"
#include "castnet/simd_helpers.hpp"

namespace castnet {

// The geometry of one conv2d (or pooling: f == c, no weights) layer; usable as a template argument.
struct Conv2dShape {
  std::size_t c, h, w;    // input channels, height, width
  std::size_t f;          // output channels (filters)
  std::size_t kh, kw;     // kernel (window) size
  std::size_t sh, sw;     // stride
  std::size_t ph, pw;     // zero padding on each side

  constexpr std::size_t oh() const noexcept { return (h + 2 * ph - kh) / sh + 1; }
  constexpr std::size_t ow() const noexcept { return (w + 2 * pw - kw) / sw + 1; }
  constexpr std::size_t in_size() const noexcept { return c * h * w; }
  constexpr std::size_t out_size() const noexcept { return f * oh() * ow(); }
  constexpr std::size_t patch() const noexcept { return c * kh * kw; }
  // The scratch every conv kernel is given: one sample's im2col matrix (patch × OH·OW).
  // (The kernels below accumulate dW in place and use only the im2col part.)
  constexpr std::size_t scratch() const noexcept { return patch() * oh() * ow(); }
};

namespace kernels {
namespace conv_detail {

using simd::lanes;
using simd::load_n;
using simd::store_n;
using simd::vec;

template <Conv2dShape S>
inline constexpr bool valid_shape = S.c > 0 && S.h > 0 && S.w > 0 && S.f > 0 && S.kh > 0 && S.kw > 0 &&
                                    S.sh > 0 && S.sw > 0 && S.kh <= S.h + 2 * S.ph && S.kw <= S.w + 2 * S.pw;

// A 1x1 stride-1 unpadded convolution: col is the input itself.
template <Conv2dShape S>
inline constexpr bool pointwise = S.kh == 1 && S.kw == 1 && S.sh == 1 && S.sw == 1 && S.ph == 0 && S.pw == 0;

// The outputs o in [begin, end) whose input position o·stride - pad + k lies inside [0, n).
struct Span {
  std::size_t begin, end;
};
constexpr Span inside(std::size_t k, std::size_t stride, std::size_t pad, std::size_t n, std::size_t outs) noexcept {
  const std::size_t lo = pad > k ? (pad - k + stride - 1) / stride : 0;
  std::size_t hi = n + pad > k ? (n + pad - k + stride - 1) / stride : 0;
  hi = hi < outs ? hi : outs;
  return {lo < hi ? lo : hi, hi};
}

// Calls visit(k, c, ky, kx, rows) for every weight column k = (c, ky, kx), where rows are the
// output rows whose input row lies inside the image. kx arrives as a std::integral_constant, so the
// column span and every row length derived from it are compile-time constants: the row copies and
// sums below get fixed trip counts (no runtime tails) whatever the optimisation level.
template <Conv2dShape S, class Visit>
inline void for_each_tap(Visit&& visit) noexcept {
  for (std::size_t c = 0; c < S.c; ++c) {
    for (std::size_t ky = 0; ky < S.kh; ++ky) {
      const Span rows = inside(ky, S.sh, S.ph, S.h, S.oh());
      [&]<std::size_t... KX>(std::index_sequence<KX...>) {
        (visit((c * S.kh + ky) * S.kw + KX, c, ky, std::integral_constant<std::size_t, KX>{}, rows), ...);
      }(std::make_index_sequence<S.kw>{});
    }
  }
}

// dst[i] += src[i] for i < n; the arrays do not overlap.
template <class T>
inline void add_into(const T* __restrict src, T* __restrict dst, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

// col[k][oy·OW + ox] = x[c][oy·SH - PH + ky][ox·SW - PW + kx] (0 in the padding) for one sample.
template <class T, Conv2dShape S>
inline void im2col(const T* __restrict x, T* __restrict col) noexcept {
  constexpr std::size_t OH = S.oh(), OW = S.ow(), P = OH * OW;
  for_each_tap<S>([&](std::size_t k, std::size_t c, std::size_t ky, auto kx_c, Span rows) {
    constexpr std::size_t kx = decltype(kx_c)::value;
    constexpr Span cols = inside(kx, S.sw, S.pw, S.w, OW);
    T* dst = col + k * P;
    const T* plane = x + c * S.h * S.w;
    std::memset(dst, 0, rows.begin * OW * sizeof(T));
    if constexpr (S.sh == 1 && S.sw == 1 && OW == S.w && cols.begin == 0 && cols.end == OW) {
      // Whole input rows, consecutive in both arrays (this tap has kx == PW): one copy.
      std::memcpy(dst + rows.begin * OW, plane + (rows.begin + ky - S.ph) * S.w,
                  (rows.end - rows.begin) * OW * sizeof(T));
    } else {
      for (std::size_t oy = rows.begin; oy < rows.end; ++oy) {
        T* d = dst + oy * OW;
        const T* src = plane + (oy * S.sh + ky - S.ph) * S.w;  // src[ox·SW + kx - PW] = x[c][iy][ix]
        std::memset(d, 0, cols.begin * sizeof(T));
        if constexpr (S.sw == 1) {
          std::memcpy(d + cols.begin, src + (cols.begin + kx - S.pw), (cols.end - cols.begin) * sizeof(T));
        } else {
          for (std::size_t ox = cols.begin; ox < cols.end; ++ox) d[ox] = src[ox * S.sw + kx - S.pw];
        }
        std::memset(d + cols.end, 0, (OW - cols.end) * sizeof(T));
      }
    }
    std::memset(dst + rows.end * OW, 0, (OH - rows.end) * OW * sizeof(T));
  });
}

// x[c][iy][ix] = Σ of the col entries that im2col copies from there (overwrites x): im2col's adjoint.
template <class T, Conv2dShape S>
inline void col2im(const T* __restrict col, T* __restrict x) noexcept {
  constexpr std::size_t OW = S.ow(), P = S.oh() * OW;
  std::memset(x, 0, S.in_size() * sizeof(T));
  for_each_tap<S>([&](std::size_t k, std::size_t c, std::size_t ky, auto kx_c, Span rows) {
    constexpr std::size_t kx = decltype(kx_c)::value;
    constexpr Span cols = inside(kx, S.sw, S.pw, S.w, OW);
    const T* src = col + k * P;
    T* plane = x + c * S.h * S.w;
    if constexpr (S.sh == 1 && S.sw == 1 && OW == S.w && cols.begin == 0 && cols.end == OW) {
      add_into(src + rows.begin * OW, plane + (rows.begin + ky - S.ph) * S.w, (rows.end - rows.begin) * OW);
    } else {
      for (std::size_t oy = rows.begin; oy < rows.end; ++oy) {
        const T* s = src + oy * OW;
        T* dst = plane + (oy * S.sh + ky - S.ph) * S.w;
        if constexpr (S.sw == 1) {
          add_into(s + cols.begin, dst + (cols.begin + kx - S.pw), cols.end - cols.begin);
        } else {
          for (std::size_t ox = cols.begin; ox < cols.end; ++ox) dst[ox * S.sw + kx - S.pw] += s[ox];
        }
      }
    }
  });
}

// y[f][p] += bias[f] for one sample, vectorised along p. The last vector of a row overlaps the one
// before it (when P > lanes), so only its fresh lanes get the bias.
template <class T, std::size_t F, std::size_t P>
CASTNET_FLATTEN inline void add_channel_bias(const T* bias, T* y) noexcept {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t full = P / L * L;
  for (std::size_t f = 0; f < F; ++f) {
    T* row = y + f * P;
    const vec<T> b(bias[f]);
    for (std::size_t p = 0; p < full; p += L) (vec<T>::load_unaligned(row + p) + b).store_unaligned(row + p);
    if constexpr (P < L) {
      store_n<T, P>(row, load_n<T, P>(row) + b);
    } else if constexpr (P != full) {
      const auto fresh = kernels::detail::last_lanes<T, P - full>();
      T* last = row + P - L;
      (vec<T>::load_unaligned(last) + xsimd::select(fresh, b, vec<T>(T(0)))).store_unaligned(last);
    }
  }
}

// Σ_p row[p] as a vector of partial sums (one hadd away from the total).
template <class T, std::size_t N>
inline vec<T> partial_sums(const T* row) noexcept {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t full = N / L * L;
  vec<T> acc(T(0));
  for (std::size_t p = 0; p < full; p += L) acc += vec<T>::load_unaligned(row + p);
  if constexpr (N != full) acc += load_n<T, N - full>(row + full);
  return acc;
}

// sums[i] = Σ of the lanes of v[i], for lanes<T> vectors at once. A transpose-and-add network
// costs about 3 instructions per vector, a horizontal add about 7. Each accumulator of the dot
// GEMM below takes only K / lanes FMAs (13 for a 14x14 image), so the reductions are a sizeable
// share of its work: reducing one at a time made the params gradient ~25% slower.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's _mm512_shuffle_* fill their don't-care operand with _mm512_undefined_ps(): see the
// note in simd_helpers.hpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class T>
inline void transpose_sums(const vec<T>* v, T* sums) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && lanes<T> == 16) {
    // xsimd 8.1's AVX-512 haddp for float returns some sums in the wrong lanes (those of v[2..5]
    // and v[10..13] swap in pairs), hence this network. Each level adds pairs of vectors after
    // shuffling them, halving the lanes each input occupies.
    __m512 a[16], b[8], c[4], d[2];
    for (int i = 0; i < 16; ++i) a[i] = v[i];
    // b[i]: 128-bit blocks 0-1 hold v[2i]'s two half sums, blocks 2-3 v[2i+1]'s.
    for (int i = 0; i < 8; ++i) {
      b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                           _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
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
    _mm512_storeu_ps(sums, _mm512_permutexvar_ps(order, e));
    return;
  }
#endif
  xsimd::haddp(v).store_unaligned(sums);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// ---- dot GEMM: c[m][n] (+)= Σ_k a[m·K + k] · bm[n·K + k] ----------------------------------
// Both operands run along k contiguously (dy and col both along the output pixels), so a tile of
// NM × NN accumulators sums lane-wise and is reduced once at the end, like dense_forward's
// dot_tile; but the tile is added to c (Acc) or overwrites it, with no bias.
template <class T, std::size_t K, std::size_t N, std::size_t NM, std::size_t NN, bool Acc>
CASTNET_FLATTEN inline void dot_tile(const T* a, const T* bm, T* c) noexcept {
  using kernels::detail::in_register;
  using kernels::detail::unroll;
  constexpr std::size_t L = lanes<T>;
  vec<T> acc[NM * NN];
  unroll<NM * NN>([&](std::size_t i) { acc[i] = vec<T>(T(0)); });

  const auto step = [&](std::size_t k, auto load_a, auto load_b) {
    vec<T> av[NM];
    unroll<NM>([&](std::size_t m) { av[m] = in_register(load_a(a + m * K + k)); });
    unroll<NN>([&](std::size_t n) {
      const vec<T> bv = in_register(load_b(bm + n * K + k));
      unroll<NM>([&](std::size_t m) { acc[m * NN + n] = xsimd::fma(av[m], bv, acc[m * NN + n]); });
    });
  };
  constexpr auto load_full = [](const T* p) { return vec<T>::load_unaligned(p); };

  constexpr std::size_t full = K / L * L;
  for (std::size_t k = 0; k < full; k += L) step(k, load_full, load_full);
  if constexpr (K < L) {
    constexpr auto load_short = [](const T* p) { return load_n<T, K>(p); };
    step(0, load_short, load_short);
  } else if constexpr (K != full) {
    // The tail vector ends at K, overlapping the last full one; a's stale lanes are zeroed.
    const auto fresh = kernels::detail::last_lanes<T, K - full>();
    const auto load_fresh = [&](const T* p) {
      return xsimd::select(fresh, vec<T>::load_unaligned(p), vec<T>(T(0)));
    };
    step(K - L, load_fresh, load_full);
  }

  const auto put = [&](std::size_t i, T sum) {
    T& dst = c[i / NN * N + i % NN];
    if constexpr (Acc) {
      dst += sum;
    } else {
      dst = sum;
    }
  };
  if constexpr (NM * NN % L == 0) {
    unroll<NM * NN / L>([&](std::size_t g) {
      T sums[L];
      transpose_sums<T>(acc + g * L, sums);
      unroll<L>([&](std::size_t l) { put(g * L + l, sums[l]); });
    });
  } else {
    unroll<NM * NN>([&](std::size_t i) { put(i, xsimd::hadd(acc[i])); });
  }
}

// NN columns of c (rows of bm), all M rows of a; bm's NN rows stay in L1 while a streams.
template <class T, std::size_t M, std::size_t N, std::size_t K, std::size_t NM, std::size_t NN, bool Acc>
inline void dot_columns(const T* a, const T* bm, T* c) noexcept {
  std::size_t m = 0;
  for (; m + NM <= M; m += NM) dot_tile<T, K, N, NM, NN, Acc>(a + m * K, bm, c + m * N);
  if constexpr (M % NM != 0) dot_tile<T, K, N, M % NM, NN, Acc>(a + m * K, bm, c + m * N);
}

template <class T, std::size_t M, std::size_t N, std::size_t K, bool Acc>
inline void dot_gemm(const T* a, const T* bm, T* c) noexcept {
  constexpr std::size_t NM = kernels::detail::wide_register_file ? 4 : 2;
  constexpr std::size_t NN = 4;
  std::size_t n = 0;
  for (; n + NN <= N; n += NN) dot_columns<T, M, N, K, NM, NN, Acc>(a, bm + n * K, c + n);
  if constexpr (N % NN != 0) dot_columns<T, M, N, K, NM, N % NN, Acc>(a, bm + n * K, c + n);
}

}  // namespace conv_detail

// y[b] = conv(x[b], w) + bias for each of the B samples (x: B × S.in_size(), y: B × S.out_size()).
template <class T, std::size_t B, Conv2dShape S>
void conv2d_forward(const T* x, const T* w, const T* bias, T* y, [[maybe_unused]] T* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  constexpr std::size_t P = S.oh() * S.ow(), patch = S.patch();
  for (std::size_t b = 0; b < B; ++b) {
    const T* xb = x + b * S.in_size();
    T* yb = y + b * S.out_size();
    const T* col = xb;
    if constexpr (!conv_detail::pointwise<S>) {
      conv_detail::im2col<T, S>(xb, scratch);
      col = scratch;
    }
    // m = f (a = w, rows patch apart), k = patch index, bm = col.
    kernels::detail::axpy_gemm<T, S.f, P, patch, patch, 1>(w, col, yb);
    conv_detail::add_channel_bias<T, S.f, P>(bias, yb);
  }
}

// dw = Σ_b dy[b] · col(x[b])ᵀ, db[f] = Σ_{b,p} dy[b][f][p]  (overwrites both).
template <class T, std::size_t B, Conv2dShape S>
void conv2d_backward_params(const T* x, const T* dy, T* dw, T* db, [[maybe_unused]] T* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  constexpr std::size_t P = S.oh() * S.ow(), patch = S.patch();
  for (std::size_t b = 0; b < B; ++b) {
    const T* xb = x + b * S.in_size();
    const T* dyb = dy + b * S.out_size();
    const T* col = xb;
    if constexpr (!conv_detail::pointwise<S>) {
      conv_detail::im2col<T, S>(xb, scratch);
      col = scratch;
    }
    // The first sample overwrites dw, the others add to it.
    if (b == 0) {
      conv_detail::dot_gemm<T, S.f, patch, P, false>(dyb, col, dw);
    } else {
      conv_detail::dot_gemm<T, S.f, patch, P, true>(dyb, col, dw);
    }
  }
  for (std::size_t f = 0; f < S.f; ++f) {
    simd::vec<T> acc(T(0));
    for (std::size_t b = 0; b < B; ++b) acc += conv_detail::partial_sums<T, P>(dy + b * S.out_size() + f * P);
    db[f] = xsimd::hadd(acc);
  }
}

// dx[b] = the gradient of Σ dy[b]·y[b] with respect to x[b]  (overwrites dx).
template <class T, std::size_t B, Conv2dShape S>
void conv2d_backward_input(const T* dy, const T* w, T* dx, [[maybe_unused]] T* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  constexpr std::size_t P = S.oh() * S.ow(), patch = S.patch();
  for (std::size_t b = 0; b < B; ++b) {
    const T* dyb = dy + b * S.out_size();
    T* dxb = dx + b * S.in_size();
    // dcol[k][p] = Σ_f w[f][k] dy[f][p]: m = k (a = wᵀ: adjacent k are adjacent), k = f, bm = dy.
    if constexpr (conv_detail::pointwise<S>) {
      kernels::detail::axpy_gemm<T, patch, P, S.f, 1, patch>(w, dyb, dxb);
    } else {
      kernels::detail::axpy_gemm<T, patch, P, S.f, 1, patch>(w, dyb, scratch);
      conv_detail::col2im<T, S>(scratch, dxb);
    }
  }
}

}  // namespace kernels
}  // namespace castnet
