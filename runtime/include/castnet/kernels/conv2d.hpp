// 2-D convolution kernels for generated code, with PyTorch's conventions: one sample is [C][H][W]
// (row-major, channels outermost), the weight is w[F][C][KH][KW], the padding is zeros, and
//   y[f][oy][ox] = bias[f] + Σ_{c,ky,kx} w[f][c][ky][kx] · x[c][oy·SH - PH + ky][ox·SW - PW + kx].
// Two lowerings, chosen per kernel at compile time:
// - im2col (Caffe's layout): col[k][p] holds the input value that weight column k = (c, ky, kx)
//   meets at output pixel p = (oy, ox), 0 in the padding. Then, per sample, with P = OH·OW output
//   pixels and patch = C·KH·KW,
//     forward          y[F][P]      = w[F][patch] · col[patch][P] + bias        (axpy GEMM)
//     params gradient  dw[F][patch] += dy[F][P] · col[patch][P]ᵀ                (dot GEMM)
//     input gradient   dcol         = w[F][patch]ᵀ · dy[F][P], then col2im scatters dcol into dx.
//   A 1x1, stride-1, unpadded convolution already is a matrix product (col is x itself), so it
//   skips im2col.
// - direct convolution, where the channels fill whole vectors (see "direct convolution" below):
//   no col matrix, the padded input is read in place with the channels along the vector lanes.
// The forward kernel can apply a ReLU as it stores; the backward kernels of such a layer work out
// dz from its output themselves (conv2d_relu_backward_*). Every size is a template parameter (the
// shape is a Conv2dShape type); nothing touches the heap; any pointer may be unaligned.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "castnet/kernels/activation.hpp"
#include "castnet/kernels/gemm.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {

// The geometry of one conv2d (or pooling: F == C, no weights) layer, as the kernels' template
// argument: input channels, height and width, output channels (filters), kernel (window) size,
// stride, and zero padding on each side.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t KH, std::size_t KW,
          std::size_t SH, std::size_t SW, std::size_t PH, std::size_t PW>
struct Conv2dShape {
  static constexpr std::size_t c = C, h = H, w = W, f = F, kh = KH, kw = KW, sh = SH, sw = SW, ph = PH, pw = PW;
  // Output height and width, floor division (as PyTorch); the formulas need KH <= H + 2·PH (and
  // the kernels check it: valid_shape).
  static constexpr std::size_t oh = (H + 2 * PH - KH) / SH + 1, ow = (W + 2 * PW - KW) / SW + 1;
  static constexpr std::size_t in_size = C * H * W, out_size = F * oh * ow, patch = C * KH * KW;
  // The scratch every conv kernel is given: one sample's im2col matrix (patch × OH·OW); the direct
  // kernels run only where their buffers fit in it. The backward kernels of a layer with a fused
  // ReLU also keep one sample's dz after it: relu_scratch.
  static constexpr std::size_t scratch = patch * oh * ow, relu_scratch = scratch + out_size;
};

}  // namespace castnet

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace kernels {
namespace conv_detail {

using simd::lanes;
using simd::load_n;
using simd::store_n;
using simd::vec;

template <class S>
inline constexpr bool valid_shape = S::c > 0 && S::h > 0 && S::w > 0 && S::f > 0 && S::kh > 0 && S::kw > 0 &&
                                    S::sh > 0 && S::sw > 0 && S::kh <= S::h + 2 * S::ph && S::kw <= S::w + 2 * S::pw;

// A 1x1 stride-1 unpadded convolution: col is the input itself.
template <class S>
inline constexpr bool pointwise = S::kh == 1 && S::kw == 1 && S::sh == 1 && S::sw == 1 && S::ph == 0 && S::pw == 0;

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
template <class S, class Visit>
inline void for_each_tap(Visit&& visit) noexcept {
  for (std::size_t c = 0; c < S::c; ++c) {
    for (std::size_t ky = 0; ky < S::kh; ++ky) {
      const Span rows = inside(ky, S::sh, S::ph, S::h, S::oh);
      kernels::detail::unroll<S::kw>([&](auto kx) { visit((c * S::kh + ky) * S::kw + kx, c, ky, kx, rows); });
    }
  }
}

// dst[i] += src[i] for i < n; the arrays do not overlap.
template <class T>
inline void add_into(const T* __restrict src, T* __restrict dst, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

// col[k][oy·OW + ox] = x[c][oy·SH - PH + ky][ox·SW - PW + kx] (0 in the padding) for one sample.
template <class T, class S>
inline void im2col(const T* __restrict x, T* __restrict col) noexcept {
  constexpr std::size_t OH = S::oh, OW = S::ow, P = OH * OW;
  for_each_tap<S>([&](std::size_t k, std::size_t c, std::size_t ky, auto kx_c, Span rows) {
    constexpr std::size_t kx = decltype(kx_c)::value;
    constexpr Span cols = inside(kx, S::sw, S::pw, S::w, OW);
    T* dst = col + k * P;
    const T* plane = x + c * S::h * S::w;
    std::memset(dst, 0, rows.begin * OW * sizeof(T));
    if constexpr (S::sh == 1 && S::sw == 1 && OW == S::w && cols.begin == 0 && cols.end == OW) {
      // Whole input rows, consecutive in both arrays (this tap has kx == PW): one copy.
      std::memcpy(dst + rows.begin * OW, plane + (rows.begin + ky - S::ph) * S::w,
                  (rows.end - rows.begin) * OW * sizeof(T));
    } else {
      for (std::size_t oy = rows.begin; oy < rows.end; ++oy) {
        T* d = dst + oy * OW;
        const T* src = plane + (oy * S::sh + ky - S::ph) * S::w;  // src[ox·SW + kx - PW] = x[c][iy][ix]
        std::memset(d, 0, cols.begin * sizeof(T));
        if constexpr (S::sw == 1) {
          std::memcpy(d + cols.begin, src + (cols.begin + kx - S::pw), (cols.end - cols.begin) * sizeof(T));
        } else {
          for (std::size_t ox = cols.begin; ox < cols.end; ++ox) d[ox] = src[ox * S::sw + kx - S::pw];
        }
        std::memset(d + cols.end, 0, (OW - cols.end) * sizeof(T));
      }
    }
    std::memset(dst + rows.end * OW, 0, (OH - rows.end) * OW * sizeof(T));
  });
}

// x[c][iy][ix] = Σ of the col entries that im2col copies from there (overwrites x): im2col's adjoint.
template <class T, class S>
inline void col2im(const T* __restrict col, T* __restrict x) noexcept {
  constexpr std::size_t OW = S::ow, P = S::oh * OW;
  std::memset(x, 0, S::in_size * sizeof(T));
  for_each_tap<S>([&](std::size_t k, std::size_t c, std::size_t ky, auto kx_c, Span rows) {
    constexpr std::size_t kx = decltype(kx_c)::value;
    constexpr Span cols = inside(kx, S::sw, S::pw, S::w, OW);
    const T* src = col + k * P;
    T* plane = x + c * S::h * S::w;
    if constexpr (S::sh == 1 && S::sw == 1 && OW == S::w && cols.begin == 0 && cols.end == OW) {
      add_into(src + rows.begin * OW, plane + (rows.begin + ky - S::ph) * S::w, (rows.end - rows.begin) * OW);
    } else {
      for (std::size_t oy = rows.begin; oy < rows.end; ++oy) {
        const T* s = src + oy * OW;
        T* dst = plane + (oy * S::sh + ky - S::ph) * S::w;
        if constexpr (S::sw == 1) {
          add_into(s + cols.begin, dst + (cols.begin + kx - S::pw), cols.end - cols.begin);
        } else {
          for (std::size_t ox = cols.begin; ox < cols.end; ++ox) dst[ox * S::sw + kx - S::pw] += s[ox];
        }
      }
    }
  });
}

// The activation a kernel applies to its output as it stores it: none, or ReLU (which saves the
// separate pass over the output that would follow).
template <Act A, class T>
inline vec<T> activate(const vec<T>& v) noexcept {
  static_assert(A == Act::identity || A == Act::relu, "conv2d: only ReLU is fused into the kernels");
  if constexpr (A == Act::relu) {
    return simd::max(v, vec<T>(T(0)));  // as activation_forward<Act::relu>
  } else {
    return v;
  }
}

// y[f][p] = A(y[f][p] + bias[f]) for one sample, vectorised along p. The last vector of a row
// overlaps the one before it (when P > lanes), so only its fresh lanes get the bias (A is ReLU or
// nothing: applying it twice changes nothing).
template <class T, std::size_t F, std::size_t P, Act A>
CASTNET_FLATTEN inline void add_channel_bias(const T* bias, T* y) noexcept {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t full = P / L * L;
  for (std::size_t f = 0; f < F; ++f) {
    T* row = y + f * P;
    const vec<T> b(bias[f]);
    for (std::size_t p = 0; p < full; p += L) activate<A>(vec<T>::load_unaligned(row + p) + b).store_unaligned(row + p);
    if constexpr (P < L) {
      store_n<T, P>(row, activate<A>(load_n<T, P>(row) + b));
    } else if constexpr (P != full) {
      const auto fresh = kernels::detail::last_lanes<T, P - full>();
      T* last = row + P - L;
      activate<A>(vec<T>::load_unaligned(last) + simd::select(fresh, b, vec<T>(T(0)))).store_unaligned(last);
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

// ---- direct convolution: channels in vector lanes -----------------------------------------
// im2col copies each input value KH·KW times, and its GEMM rounds every row of P output pixels up
// to whole vectors. The direct kernels read the (padded) input in place instead: with channels
// along the lanes, a register tile holds MT output pixels × NV vectors of channels, each weight
// vector feeds MT FMAs and each input value is one broadcast. Results come out pixel-major
// ([P][channels]); an L × L register transpose per block turns them into planes, P·F moves against
// im2col's P·patch copies. On conv2 of the MNIST nets (32 -> 64 channels, 3x3 over 14x14, batch
// 64) the three kernels run at 86-94% of the FMA peak this way, against 70-81% through im2col.

// The same convolution over an input that already holds its zero padding.
template <class S>
using prepadded = Conv2dShape<S::c, S::h + 2 * S::ph, S::w + 2 * S::pw, S::f, S::kh, S::kw, S::sh, S::sw, 0, 0>;

// The input gradient of a stride-1 convolution is itself one: dx[c][iy][ix] = Σ_{f,ky,kx}
// w[f][c][KH-1-ky][KW-1-kx] · dyp[f][iy+ky][ix+kx], with dy padded by KH-1-PH rows and KW-1-PW
// columns (dyp) and the kernel flipped, its channels swapped.
template <class S>
using transposed = Conv2dShape<S::f, S::oh + 2 * (S::kh - 1 - S::ph), S::ow + 2 * (S::kw - 1 - S::pw), S::c, S::kh,
                               S::kw, 1, 1, 0, 0>;

// Where the direct kernels run: whole vectors of channels (F for the forward pass, whose lanes
// hold output channels; C for the gradients), at least a vector of pixels per image (the
// transposes), and buffers that fit in the scratch, one sample's im2col matrix (they do but for
// small images with many filters). The forward pass also wants patch >= F: its transposes move
// P·F values where im2col copies P·patch. Everything else goes through im2col.
template <class T, class S>
inline constexpr bool use_direct_forward = !pointwise<S> && S::f % lanes<T> == 0 && S::patch >= S::f &&
                                           S::oh * S::ow >= lanes<T> &&
                                           S::patch * S::f + prepadded<S>::in_size + S::out_size <= S::scratch;
template <class T, class S>
inline constexpr bool use_direct_params = !pointwise<S> && S::c % lanes<T> == 0 && S::h * S::w >= lanes<T> &&
                                          S::f * S::patch + prepadded<S>::in_size <= S::scratch;
template <class T, class S>
inline constexpr bool use_direct_input = !pointwise<S> && S::c % lanes<T> == 0 && S::h * S::w >= lanes<T> && S::sh == 1 &&
                                         S::sw == 1 && S::ph < S::kh && S::pw < S::kw &&
                                         S::f * S::patch + transposed<S>::in_size + S::in_size <= S::scratch;

// Calls store(k, v) with v = column k of the lanes × lanes block whose row m is load(m).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's _mm512_shuffle_*: see simd::lane_sums.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class T, class Load, class Store>
CASTNET_FLATTEN inline void transpose_block(Load&& load, Store&& store) noexcept {
  using kernels::detail::unroll;
  constexpr std::size_t L = lanes<T>;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && L == 16) {
    __m512 r[16], t[16];
    unroll<16>([&](std::size_t m) { r[m] = load(m); });
    // In each 128-bit block q: t[2i] = rows 2i, 2i+1 of columns 4q, 4q+1 interleaved;
    // t[2i+1] the same of columns 4q+2, 4q+3.
    unroll<8>([&](std::size_t i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    });
    // Block q of r[4i + j]: column 4q + j of rows 4i..4i+3.
    unroll<4>([&](std::size_t i) {
      r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    });
    // Blocks of t[8i + j]: column j of rows 8i..8i+3, column 8 + j of the same rows, then both
    // columns of rows 8i+4..8i+7; t[8i + 4 + j] the same of columns 4 + j and 12 + j.
    unroll<2>([&](std::size_t i) {
      unroll<4>([&](std::size_t j) {
        t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], _MM_SHUFFLE(2, 0, 2, 0));
        t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], _MM_SHUFFLE(3, 1, 3, 1));
      });
    });
    // Column k < 8: blocks 0 and 2 of t[k], then of t[8 + k]; column k + 8: their blocks 1 and 3.
    unroll<8>([&](std::size_t k) {
      store(k, vec<T>(_mm512_shuffle_f32x4(t[k], t[8 + k], _MM_SHUFFLE(2, 0, 2, 0))));
      store(k + 8, vec<T>(_mm512_shuffle_f32x4(t[k], t[8 + k], _MM_SHUFFLE(3, 1, 3, 1))));
    });
    return;
  }
#endif
  T rows[L][L];
  for (std::size_t m = 0; m < L; ++m) load(m).store_unaligned(rows[m]);
  for (std::size_t k = 0; k < L; ++k) {
    T column[L];
    for (std::size_t m = 0; m < L; ++m) column[m] = rows[m][k];
    store(k, vec<T>::load_unaligned(column));
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// planes[n][p] = A(pixels[p][n]) for one image of P >= lanes pixels and N channels (a multiple of
// lanes).
template <class T, std::size_t P, std::size_t N, Act A>
inline void to_planes(const T* pixels, T* planes) noexcept {
  constexpr std::size_t L = lanes<T>;
  const auto block = [&](std::size_t p) {
    for (std::size_t n = 0; n < N; n += L) {
      transpose_block<T>([&](std::size_t m) { return vec<T>::load_unaligned(pixels + (p + m) * N + n); },
                         [&](std::size_t k, const vec<T>& v) { activate<A>(v).store_unaligned(planes + (n + k) * P + p); });
    }
  };
  std::size_t p = 0;
  for (; p + L <= P; p += L) block(p);
  if constexpr (P % L != 0) block(P - L);  // overlaps the block before: the same values again
}

// xq[(y + PH)·Wp + x + PW][c] = x[c][y][x] for one image: pixel-major, inside a border that the
// caller zeroes once.
template <class T, class S>
inline void to_padded_pixels(const T* x, T* xq) noexcept {
  constexpr std::size_t L = lanes<T>, P = S::h * S::w, Wp = prepadded<S>::w;
  const auto block = [&](std::size_t p) {
    for (std::size_t c = 0; c < S::c; c += L) {
      transpose_block<T>([&](std::size_t m) { return vec<T>::load_unaligned(x + (c + m) * P + p); },
                         [&](std::size_t k, const vec<T>& v) {
                           const std::size_t q = p + k;
                           v.store_unaligned(xq + ((q / S::w + S::ph) * Wp + q % S::w + S::pw) * S::c + c);
                         });
    }
  };
  std::size_t p = 0;
  for (; p + L <= P; p += L) block(p);
  if constexpr (P % L != 0) block(P - L);
}

// dst[c][y + PH][x + PW] = src[c][y][x] for one image of C planes H × W, inside a border that the
// caller zeroes once.
template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t PH, std::size_t PW>
inline void pad_planes(const T* src, T* dst) noexcept {
  constexpr std::size_t Hp = H + 2 * PH, Wp = W + 2 * PW;
  for (std::size_t c = 0; c < C; ++c) {
    for (std::size_t y = 0; y < H; ++y) std::memcpy(dst + (c * Hp + y + PH) * Wp + PW, src + (c * H + y) * W, W * sizeof(T));
  }
}

// Hides where p points from the optimiser (see params_tile).
template <class T>
inline const T* opaque(const T* p) noexcept {
#if defined(__GNUC__)
  __asm__("" : "+r"(p));
#endif
  return p;
}

// out[m·N + n] = init[n] + Σ_{c,ky,kx} corner[m][c·H·W + ky·W + kx] · wt[((c·KH + ky)·KW + kx)·N + n]
// for a tile of MT output pixels × NV vectors of n (N = D::f, H and W D's input size), where
// corner[m] points at the top-left input of pixel m's window in channel 0; init may be null (zeros).
template <class T, std::size_t MT, std::size_t NV, class D>
CASTNET_FLATTEN inline void direct_tile(const T* const* corner, const T* wt, const T* init, T* out) noexcept {
  using kernels::detail::in_register;
  using kernels::detail::unroll;
  constexpr std::size_t L = lanes<T>, N = D::f, taps = D::kh * D::kw;
  vec<T> acc[MT][NV];
  unroll<NV>([&](std::size_t v) {
    const vec<T> start = init != nullptr ? vec<T>::load_unaligned(init + v * L) : vec<T>(T(0));
    unroll<MT>([&](std::size_t m) { acc[m][v] = start; });
  });
  const T* in[MT];
  unroll<MT>([&](std::size_t m) { in[m] = corner[m]; });
  for (std::size_t c = 0; c < D::c; ++c) {
    unroll<taps>([&](std::size_t t) {
      vec<T> wv[NV];
      unroll<NV>([&](std::size_t v) { wv[v] = in_register(vec<T>::load_unaligned(wt + t * N + v * L)); });
      unroll<MT>([&](std::size_t m) {
        const vec<T> a(in[m][t / D::kw * D::w + t % D::kw]);
        unroll<NV>([&](std::size_t v) { acc[m][v] = simd::fma(a, wv[v], acc[m][v]); });
      });
    });
    wt += taps * N;
    unroll<MT>([&](std::size_t m) { in[m] += D::h * D::w; });
  }
  unroll<MT>([&](std::size_t m) {
    unroll<NV>([&](std::size_t v) { acc[m][v].store_unaligned(out + m * N + v * L); });
  });
}

// Tile of MT pixels × NV vectors, up to 24 accumulators (12 with 16 registers) beside the NV
// weights and a broadcast; at most 12 pixels keeps their window pointers in registers.
constexpr std::size_t pixels_per_tile(std::size_t nv) noexcept {
  const std::size_t mt = (kernels::detail::wide_register_file ? 24 : 12) / nv;
  return mt < 12 ? mt : 12;
}

// Every output pixel of D against NV vectors of n (wt, init and out point at the first).
template <class T, class D, std::size_t NV>
inline void direct_columns(const T* in, const T* wt, const T* init, T* out) noexcept {
  constexpr std::size_t OW = D::ow, P = D::oh * OW, MT = pixels_per_tile(NV);
  const auto tile = [&](auto m_tile, std::size_t p) {
    constexpr std::size_t M = decltype(m_tile)::value;
    const T* corner[M];
    for (std::size_t m = 0; m < M; ++m) corner[m] = in + (p + m) / OW * D::sh * D::w + (p + m) % OW * D::sw;
    direct_tile<T, M, NV, D>(corner, wt, init, out + p * D::f);
  };
  std::size_t p = 0;
  for (; p + MT <= P; p += MT) tile(std::integral_constant<std::size_t, MT>{}, p);
  if constexpr (P % MT != 0) tile(std::integral_constant<std::size_t, P % MT>{}, p);
}

// out[p][n] = init[n] + the convolution D of one image (`in` already holds any padding), pixel-major:
// p = oy·OW + ox, with the weights packed wt[(c·KH + ky)·KW + kx][n]; init may be null.
template <class T, class D>
inline void direct_conv(const T* in, const T* wt, const T* init, T* out) noexcept {
  constexpr std::size_t L = lanes<T>, vectors = D::f / L, widest = kernels::detail::wide_register_file ? 4 : 2;
  constexpr std::size_t NV = vectors < widest ? vectors : widest;
  const auto at = [&](std::size_t n) { return init != nullptr ? init + n : nullptr; };
  std::size_t n = 0;
  for (; n + NV * L <= D::f; n += NV * L) direct_columns<T, D, NV>(in, wt + n, at(n), out + n);
  if constexpr (vectors % NV != 0) direct_columns<T, D, vectors % NV>(in, wt + n, at(n), out + n);
}

template <class T, std::size_t B, class S, Act A>
inline void direct_forward(const T* x, const T* w, const T* bias, T* y, T* scratch) noexcept {
  using D = prepadded<S>;
  constexpr std::size_t patch = S::patch;
  T* wt = scratch;               // wt[k][f] = w[f][k]
  T* xp = wt + patch * S::f;      // one image with its padding
  T* pixels = xp + D::in_size;  // its output, pixel-major
  for (std::size_t f = 0; f < S::f; ++f) {
    for (std::size_t k = 0; k < patch; ++k) wt[k * S::f + f] = w[f * patch + k];
  }
  std::memset(xp, 0, D::in_size * sizeof(T));
  for (std::size_t b = 0; b < B; ++b) {
    pad_planes<T, S::c, S::h, S::w, S::ph, S::pw>(x + b * S::in_size, xp);
    direct_conv<T, D>(xp, wt, bias, pixels);
    to_planes<T, S::oh * S::ow, S::f, A>(pixels, y + b * S::out_size);
  }
}

// The params gradient with the taps outside the channels, dwt[f][t][c] (+)= Σ_p dy[f][p] · (input
// at tap t of pixel p's window)[c], for MT filters (dy rows P apart, dwt rows patch apart) and the
// NV vectors j = J0, J0 + 1, ... of a dwt row, vector j covering tap j / (C/L), channels
// j % (C/L) · L on. xq is one image, padded and pixel-major.
template <class T, std::size_t MT, std::size_t NV, std::size_t J0, class S>
CASTNET_FLATTEN inline void params_tile(const T* dy, const T* xq, T* dwt, bool first) noexcept {
  using kernels::detail::in_register;
  using kernels::detail::unroll;
  constexpr std::size_t L = lanes<T>, OW = S::ow, P = S::oh * OW, Wp = prepadded<S>::w, patch = S::patch;
  constexpr auto offset = [](std::size_t j) {
    const std::size_t t = j / (S::c / L);
    return (t / S::kw * Wp + t % S::kw) * S::c + j % (S::c / L) * L;
  };
  vec<T> acc[MT][NV];
  unroll<MT>([&](std::size_t m) {
    unroll<NV>([&](std::size_t v) {
      acc[m][v] = first ? vec<T>(T(0)) : vec<T>::load_unaligned(dwt + m * patch + (J0 + v) * L);
    });
  });
  for (std::size_t oy = 0; oy < S::oh; ++oy) {
    for (std::size_t ox = 0; ox < OW; ++ox) {
      // The next pixel's taps are this one's shifted by one; seeing that, GCC's predictive
      // commoning carries loaded vectors across iterations and spills the tile (~15% slower).
      const T* window = opaque(xq + (oy * S::sh * Wp + ox * S::sw) * S::c);
      vec<T> xv[NV];
      unroll<NV>([&](std::size_t v) { xv[v] = in_register(vec<T>::load_unaligned(window + offset(J0 + v))); });
      unroll<MT>([&](std::size_t m) {
        const vec<T> g(dy[m * P + oy * OW + ox]);
        unroll<NV>([&](std::size_t v) { acc[m][v] = simd::fma(g, xv[v], acc[m][v]); });
      });
    }
  }
  unroll<MT>([&](std::size_t m) {
    unroll<NV>([&](std::size_t v) { acc[m][v].store_unaligned(dwt + m * patch + (J0 + v) * L); });
  });
}

// MT filters' rows of dwt over all patch / L vectors, NV at a time: up to 24 accumulators (12 with
// 16 registers) beside the NV input vectors and a broadcast.
template <class T, std::size_t MT, class S>
inline void params_rows(const T* dy, const T* xq, T* dwt, bool first) noexcept {
  constexpr std::size_t J = S::patch / lanes<T>, widest = kernels::detail::wide_register_file ? 6 : 3;
  constexpr std::size_t NV = J < widest ? J : widest;
  kernels::detail::unroll<J / NV>(
      [&](auto i) { params_tile<T, MT, NV, decltype(i)::value * NV, S>(dy, xq, dwt, first); });
  if constexpr (J % NV != 0) params_tile<T, MT, J % NV, J / NV * NV, S>(dy, xq, dwt, first);
}

// One sample's share of the params gradient, dwt[f][t][c] (+)= Σ_p dz[f][p] · x's window at p
// (the taps outside the channels); xq: scratch for the sample, padded and pixel-major.
template <class T, class S>
inline void direct_params_sample(const T* x, const T* dz, T* xq, T* dwt, bool first) noexcept {
  constexpr std::size_t P = S::oh * S::ow, patch = S::patch;
  constexpr std::size_t MT = 4;  // filters per tile: see params_rows
  to_padded_pixels<T, S>(x, xq);
  std::size_t f = 0;
  for (; f + MT <= S::f; f += MT) params_rows<T, MT, S>(dz + f * P, xq, dwt + f * patch, first);
  if constexpr (S::f % MT != 0) params_rows<T, S::f % MT, S>(dz + f * P, xq, dwt + f * patch, first);
}

// dw and db from dz, the gradient at the pre-activation, which dz_of(b) returns one sample at a
// time: it may compute it (a fused ReLU), and each sample is still in cache when the GEMM and the
// bias sums read it.
template <class T, std::size_t B, class S, class DzOf>
inline void backward_params(const T* x, DzOf&& dz_of, T* dw, T* db, T* scratch) noexcept {
  constexpr std::size_t P = S::oh * S::ow, patch = S::patch;
  constexpr bool direct = use_direct_params<T, S>;
  // Direct: dwt, dw with the taps outside the channels, and xq, one image padded and pixel-major.
  T* const dwt = scratch;
  T* const xq = direct ? dwt + S::f * patch : nullptr;
  if constexpr (direct) std::memset(xq, 0, prepadded<S>::in_size * sizeof(T));
  for (std::size_t b = 0; b < B; ++b) {
    const T* xb = x + b * S::in_size;
    const T* dzb = dz_of(b);
    // The first sample overwrites dw and db, the others add to them.
    if constexpr (direct) {
      direct_params_sample<T, S>(xb, dzb, xq, dwt, b == 0);
    } else {
      const T* col = xb;
      if constexpr (!pointwise<S>) {
        im2col<T, S>(xb, scratch);
        col = scratch;
      }
      using kernels::detail::Epilogue;
      if (b == 0) {
        kernels::detail::dot_gemm<T, S::f, patch, P, Epilogue::overwrite>(dzb, col, nullptr, dw);
      } else {
        kernels::detail::dot_gemm<T, S::f, patch, P, Epilogue::accumulate>(dzb, col, nullptr, dw);
      }
    }
    for (std::size_t f = 0; f < S::f; ++f) {
      const T sum = simd::hadd(partial_sums<T, P>(dzb + f * P));
      db[f] = b == 0 ? sum : db[f] + sum;
    }
  }
  if constexpr (direct) {
    constexpr std::size_t taps = S::kh * S::kw;
    for (std::size_t f = 0; f < S::f; ++f) {
      for (std::size_t c = 0; c < S::c; ++c) {
        for (std::size_t t = 0; t < taps; ++t) dw[(f * S::c + c) * taps + t] = dwt[(f * taps + t) * S::c + c];
      }
    }
  }
}

// dz[i] = dy[i] where y[i] > 0, else 0, for N values: ReLU's backward pass (as activation_backward
// computes it from the output).
template <class T, std::size_t N>
inline void relu_backward(const T* y, const T* dy, T* dz) noexcept {
  constexpr std::size_t L = lanes<T>, full = N / L * L;
  const auto mask = [](const vec<T>& yv, const vec<T>& g) { return simd::select(yv > vec<T>(T(0)), g, vec<T>(T(0))); };
  for (std::size_t i = 0; i < full; i += L) {
    mask(vec<T>::load_unaligned(y + i), vec<T>::load_unaligned(dy + i)).store_unaligned(dz + i);
  }
  if constexpr (N != full) store_n<T, N - full>(dz + full, mask(load_n<T, N - full>(y + full), load_n<T, N - full>(dy + full)));
}

// dx from dz, the gradient at the pre-activation, which dz_of(b) returns one sample at a time.
template <class T, std::size_t B, class S, class DzOf>
inline void backward_input(DzOf&& dz_of, const T* w, T* dx, T* scratch) noexcept {
  constexpr std::size_t P = S::oh * S::ow, patch = S::patch;
  if constexpr (use_direct_input<T, S>) {
    using D = transposed<S>;
    constexpr std::size_t taps = S::kh * S::kw;
    T* wf = scratch;                // wf[f·taps + taps-1-t][c] = w[f][c][t]: flipped, c and f swapped
    T* dzp = wf + S::f * patch;      // one image's dz with its padding
    T* pixels = dzp + D::in_size;  // its dx, pixel-major
    for (std::size_t f = 0; f < S::f; ++f) {
      for (std::size_t c = 0; c < S::c; ++c) {
        for (std::size_t t = 0; t < taps; ++t) wf[(f * taps + taps - 1 - t) * S::c + c] = w[(f * S::c + c) * taps + t];
      }
    }
    std::memset(dzp, 0, D::in_size * sizeof(T));
    for (std::size_t b = 0; b < B; ++b) {
      pad_planes<T, S::f, S::oh, S::ow, S::kh - 1 - S::ph, S::kw - 1 - S::pw>(dz_of(b), dzp);
      direct_conv<T, D>(dzp, wf, nullptr, pixels);
      to_planes<T, S::h * S::w, S::c, Act::identity>(pixels, dx + b * S::in_size);
    }
  } else {
    for (std::size_t b = 0; b < B; ++b) {
      const T* dzb = dz_of(b);
      T* dxb = dx + b * S::in_size;
      // dcol[k][p] = Σ_f w[f][k] dz[f][p]: m = k (a = wᵀ: adjacent k are adjacent), k = f, bm = dz.
      if constexpr (pointwise<S>) {
        kernels::detail::axpy_gemm<T, patch, P, S::f, 1, patch>(w, dzb, dxb);
      } else {
        kernels::detail::axpy_gemm<T, patch, P, S::f, 1, patch>(w, dzb, scratch);
        col2im<T, S>(scratch, dxb);
      }
    }
  }
}

// A dz_of for the kernels with a fused ReLU: one sample's dz = dy where y > 0, else 0, in the
// scratch after what the kernels use (see Conv2dShape::relu_scratch).
template <class T, class S>
inline auto relu_dz(const T* y, const T* dy, T* scratch) noexcept {
  return [=](std::size_t b) {
    T* dz = scratch + S::scratch;
    relu_backward<T, S::out_size>(y + b * S::out_size, dy + b * S::out_size, dz);
    return static_cast<const T*>(dz);
  };
}

}  // namespace conv_detail

// y[b] = A(conv(x[b], w) + bias) for each of the B samples (x: B × S::in_size, y: B × S::out_size),
// A: Act::identity or Act::relu.
template <class T, std::size_t B, class S, Act A = Act::identity>
void conv2d_forward(const T* x, const T* w, const T* bias, T* y, [[maybe_unused]] T* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  if constexpr (conv_detail::use_direct_forward<T, S>) {
    conv_detail::direct_forward<T, B, S, A>(x, w, bias, y, scratch);
  } else {
    constexpr std::size_t P = S::oh * S::ow, patch = S::patch;
    for (std::size_t b = 0; b < B; ++b) {
      const T* xb = x + b * S::in_size;
      T* yb = y + b * S::out_size;
      const T* col = xb;
      if constexpr (!conv_detail::pointwise<S>) {
        conv_detail::im2col<T, S>(xb, scratch);
        col = scratch;
      }
      // m = f (a = w, rows patch apart), k = patch index, bm = col.
      kernels::detail::axpy_gemm<T, S::f, P, patch, patch, 1>(w, col, yb);
      conv_detail::add_channel_bias<T, S::f, P, A>(bias, yb);
    }
  }
}

// dw = Σ_b dz[b] · col(x[b])ᵀ, db[f] = Σ_{b,p} dz[b][f][p]  (overwrites both), dz = dLoss/d(conv output).
template <class T, std::size_t B, class S>
void conv2d_backward_params(const T* x, const T* dz, T* dw, T* db, T* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  conv_detail::backward_params<T, B, S>(x, [&](std::size_t b) { return dz + b * S::out_size; }, dw, db, scratch);
}

// dx[b] = the gradient of Σ dz[b]·conv(x[b]) with respect to x[b]  (overwrites dx).
template <class T, std::size_t B, class S>
void conv2d_backward_input(const T* dz, const T* w, T* dx, T* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  conv_detail::backward_input<T, B, S>([&](std::size_t b) { return dz + b * S::out_size; }, w, dx, scratch);
}

// The two for a layer whose forward kernel applied a ReLU, y = relu(conv(x) + bias), given y and
// dy = dLoss/dy: each works out dz = dy where y > 0 (else 0) one sample at a time, in its scratch
// (S::relu_scratch values), so no dz array is written or read back.
template <class T, std::size_t B, class S>
void conv2d_relu_backward_params(const T* x, const T* y, const T* dy, T* dw, T* db, T* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  conv_detail::backward_params<T, B, S>(x, conv_detail::relu_dz<T, S>(y, dy, scratch), dw, db, scratch);
}

template <class T, std::size_t B, class S>
void conv2d_relu_backward_input(const T* y, const T* dy, const T* w, T* dx, T* scratch) noexcept {
  static_assert(conv_detail::valid_shape<S>, "conv2d: invalid shape");
  conv_detail::backward_input<T, B, S>(conv_detail::relu_dz<T, S>(y, dy, scratch), w, dx, scratch);
}

}  // namespace kernels
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
