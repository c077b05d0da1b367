// 2-D pooling kernels for generated code, with PyTorch's conventions: one sample is [C][H][W], the
// window is KH × KW, it moves by (SH, SW), there is no padding and a partial last window is dropped
// (floor). The geometry is a Conv2dShape with F == C and PH == PW == 0.
//   max:     y[c][oy][ox] = max over the window at (oy·SH, ox·SW); the gradient goes to the first
//            maximum in row-major window order (strict > while scanning), as PyTorch's CPU kernel.
//   average: y = Σ window / (KH·KW); the gradient spreads dy / (KH·KW) over the window.
// Backward kernels overwrite dx; where windows overlap (stride < window) their gradients add up.
// Pooling is a small share of a ConvNet's work (one compare or add per input value and window), so
// these are mostly plain loops over compile-time bounds, left to the compiler. The exception is max
// pooling over 2x2 windows with stride 2, the common case: with AVX-512 (float) it handles 16
// windows per vector, which makes the backward pass ~2x faster (the forward ~1.5x); that matters
// because each reads a whole activation per step (and the backward pass writes one).
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "castnet/kernels/conv2d.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace kernels {
namespace pool_detail {

template <class S>
inline constexpr bool valid_shape = S::f == S::c && S::ph == 0 && S::pw == 0 && S::c > 0 && S::kh > 0 && S::kw > 0 &&
                                    S::sh > 0 && S::sw > 0 && S::kh <= S::h && S::kw <= S::w;

// Offset of the window's first maximum from its top-left corner `win` (row stride S::w). Which
// value wins is data-dependent and unpredictable, and GCC turns a ?: on it into a branch that
// mispredicts about once a window, so the offset is selected with a mask instead.
template <class T, class S>
inline std::size_t argmax(const T* win) noexcept {
  std::size_t best = 0;
  T m = win[0];
  for (std::size_t ky = 0; ky < S::kh; ++ky) {
    for (std::size_t kx = 0; kx < S::kw; ++kx) {
      const T v = win[ky * S::w + kx];
      const std::size_t take = std::size_t{0} - static_cast<std::size_t>(v > m);  // all ones or 0
      best ^= (best ^ (ky * S::w + kx)) & take;
      m = v > m ? v : m;
    }
  }
  return best;
}

// Calls f(window offset in the input, output index) for every output of every channel and sample.
// With a `zero` array (the backward kernels' dx), each input plane of it is zeroed just before its
// windows are visited: one pass over dx, the plane still in L1 when its gradients are added.
template <class T, std::size_t B, class S, class F>
inline void for_each_window(F&& f, T* zero = nullptr) noexcept {
  constexpr std::size_t OH = S::oh, OW = S::ow;
  for (std::size_t plane = 0; plane < B * S::c; ++plane) {
    if (zero != nullptr) std::memset(zero + plane * S::h * S::w, 0, S::h * S::w * sizeof(T));
    for (std::size_t oy = 0; oy < OH; ++oy) {
      for (std::size_t ox = 0; ox < OW; ++ox) {
        f(plane * S::h * S::w + oy * S::sh * S::w + ox * S::sw, (plane * OH + oy) * OW + ox);
      }
    }
  }
}

#if defined(__AVX512F__)
template <class T, class S>
inline constexpr bool vector_2x2 =
    std::is_same_v<T, float> && simd::lanes<T> == 16 && S::kh == 2 && S::kw == 2 && S::sh == 2 && S::sw == 2;

// Calls step(in, out, n) for each run of n <= 16 windows along an output row: `in` indexes the
// top-left input of the run's first window, `out` its output.
template <std::size_t B, class S, class Step>
inline void for_each_run_2x2(Step&& step) noexcept {
  constexpr std::size_t OH = S::oh, OW = S::ow, full = OW / 16 * 16;
  for (std::size_t plane = 0; plane < B * S::c; ++plane) {
    for (std::size_t oy = 0; oy < OH; ++oy) {
      const std::size_t in = (plane * S::h + 2 * oy) * S::w, out = (plane * OH + oy) * OW;
      for (std::size_t ox = 0; ox < full; ox += 16) step(in + 2 * ox, out + ox, 16);
      if constexpr (OW != full) step(in + 2 * full, out + full, OW - full);
    }
  }
}

// A run of n windows: their lanes, and those of their 2n input columns in two vectors of 16.
struct Run2x2 {
  __mmask16 windows, low, high;
  explicit Run2x2(std::size_t n) noexcept
      : windows(static_cast<__mmask16>((1u << n) - 1)),
        low(static_cast<__mmask16>(n >= 8 ? 0xFFFFu : (1u << 2 * n) - 1)),
        high(static_cast<__mmask16>(n > 8 ? (1u << (2 * n - 16)) - 1 : 0u)) {}
};

// The windows' values in row-major order (a b / c d) and, as PyTorch scans them with a strict >,
// which one is the first maximum: b beat a, c beat both, d beat all three.
struct Scan2x2 {
  __m512 max;
  __mmask16 b, c, d;
};
inline Scan2x2 scan_2x2(const float* top, std::size_t w, const Run2x2& run) noexcept {
  // Window i covers columns 2i and 2i + 1 of the 32 loaded: even and odd lanes of the pair.
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const float* bottom = top + w;
  const __m512 t0 = _mm512_maskz_loadu_ps(run.low, top), t1 = _mm512_maskz_loadu_ps(run.high, top + 16);
  const __m512 b0 = _mm512_maskz_loadu_ps(run.low, bottom), b1 = _mm512_maskz_loadu_ps(run.high, bottom + 16);
  Scan2x2 s;
  s.max = _mm512_permutex2var_ps(t0, even, t1);
  const __m512 b = _mm512_permutex2var_ps(t0, odd, t1);
  s.b = _mm512_cmp_ps_mask(b, s.max, _CMP_GT_OQ);
  s.max = _mm512_mask_mov_ps(s.max, s.b, b);
  const __m512 c = _mm512_permutex2var_ps(b0, even, b1);
  s.c = _mm512_cmp_ps_mask(c, s.max, _CMP_GT_OQ);
  s.max = _mm512_mask_mov_ps(s.max, s.c, c);
  const __m512 d = _mm512_permutex2var_ps(b0, odd, b1);
  s.d = _mm512_cmp_ps_mask(d, s.max, _CMP_GT_OQ);
  s.max = _mm512_mask_mov_ps(s.max, s.d, d);
  return s;
}

// Stores the 2n columns of the row whose windows' left values are `left` and right values `right`.
inline void store_pairs(float* row, __m512 left, __m512 right, const Run2x2& run) noexcept {
  const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  _mm512_mask_storeu_ps(row, run.low, _mm512_permutex2var_ps(left, first, right));
  _mm512_mask_storeu_ps(row + 16, run.high, _mm512_permutex2var_ps(left, second, right));
}
#endif

}  // namespace pool_detail

// y = max over each window (x: B × S::in_size, y: B × S::out_size).
template <class T, std::size_t B, class S>
void maxpool2d_forward(const T* x, T* y) noexcept {
  static_assert(pool_detail::valid_shape<S>, "maxpool2d: needs f == c, no padding, a window inside the input");
#if defined(__AVX512F__)
  if constexpr (pool_detail::vector_2x2<T, S>) {
    pool_detail::for_each_run_2x2<B, S>([&](std::size_t in, std::size_t out, std::size_t n) {
      const pool_detail::Run2x2 run(n);
      _mm512_mask_storeu_ps(y + out, run.windows, pool_detail::scan_2x2(x + in, S::w, run).max);
    });
    return;
  }
#endif
  pool_detail::for_each_window<T, B, S>([&](std::size_t in, std::size_t out) {
    const T* win = x + in;
    T m = win[0];
    for (std::size_t ky = 0; ky < S::kh; ++ky) {
      for (std::size_t kx = 0; kx < S::kw; ++kx) {
        const T v = win[ky * S::w + kx];
        m = v > m ? v : m;
      }
    }
    y[out] = m;
  });
}

// dx[first arg-max of each window] += dy (dx overwritten first); x is the forward input.
template <class T, std::size_t B, class S>
void maxpool2d_backward(const T* x, const T* dy, T* dx) noexcept {
  static_assert(pool_detail::valid_shape<S>, "maxpool2d: needs f == c, no padding, a window inside the input");
#if defined(__AVX512F__)
  if constexpr (pool_detail::vector_2x2<T, S>) {
    // The runs write every input of every window, so only an odd height or width (a last row or
    // column outside all windows) needs dx zeroed first.
    if constexpr (S::h % 2 != 0 || S::w % 2 != 0) std::memset(dx, 0, B * S::in_size * sizeof(T));
    pool_detail::for_each_run_2x2<B, S>([&](std::size_t in, std::size_t out, std::size_t n) {
      const pool_detail::Run2x2 run(n);
      const pool_detail::Scan2x2 s = pool_detail::scan_2x2(x + in, S::w, run);
      const __m512 g = _mm512_maskz_loadu_ps(run.windows, dy + out);
      const __mmask16 d = s.d, c = s.c & ~d, b = s.b & ~(s.c | d), a = static_cast<__mmask16>(~(s.b | s.c | d));
      pool_detail::store_pairs(dx + in, _mm512_maskz_mov_ps(a, g), _mm512_maskz_mov_ps(b, g), run);
      pool_detail::store_pairs(dx + in + S::w, _mm512_maskz_mov_ps(c, g), _mm512_maskz_mov_ps(d, g), run);
    });
    return;
  }
#endif
  pool_detail::for_each_window<T, B, S>(
      [&](std::size_t in, std::size_t out) {
        T& target = dx[in + pool_detail::argmax<T, S>(x + in)];
        if constexpr (S::sh >= S::kh && S::sw >= S::kw) {
          target = dy[out];  // disjoint windows: a store, no read-modify-write
        } else {
          target += dy[out];
        }
      },
      dx);
}

// y = mean of each window.
template <class T, std::size_t B, class S>
void avgpool2d_forward(const T* x, T* y) noexcept {
  static_assert(pool_detail::valid_shape<S>, "avgpool2d: needs f == c, no padding, a window inside the input");
  constexpr T count = static_cast<T>(S::kh * S::kw);
  pool_detail::for_each_window<T, B, S>([&](std::size_t in, std::size_t out) {
    const T* win = x + in;
    T sum = T(0);
    for (std::size_t ky = 0; ky < S::kh; ++ky) {
      for (std::size_t kx = 0; kx < S::kw; ++kx) sum += win[ky * S::w + kx];
    }
    y[out] = sum / count;
  });
}

// dx[window] += dy / (KH·KW) for every window (dx overwritten first).
template <class T, std::size_t B, class S>
void avgpool2d_backward(const T* dy, T* dx) noexcept {
  static_assert(pool_detail::valid_shape<S>, "avgpool2d: needs f == c, no padding, a window inside the input");
  constexpr T count = static_cast<T>(S::kh * S::kw);
  pool_detail::for_each_window<T, B, S>(
      [&](std::size_t in, std::size_t out) {
        T* win = dx + in;
        const T g = dy[out] / count;
        for (std::size_t ky = 0; ky < S::kh; ++ky) {
          for (std::size_t kx = 0; kx < S::kw; ++kx) win[ky * S::w + kx] += g;
        }
      },
      dx);
}

}  // namespace kernels
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
