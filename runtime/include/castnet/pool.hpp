// 2-D pooling kernels for generated code, with PyTorch's conventions: one sample is [C][H][W], the
// window is KH × KW, it moves by (SH, SW), there is no padding and a partial last window is dropped
// (floor). The geometry is a Conv2dShape with f == c and ph == pw == 0.
//   max:     y[c][oy][ox] = max over the window at (oy·SH, ox·SW); the gradient goes to the first
//            maximum in row-major window order (strict > while scanning), as PyTorch's CPU kernel.
//   average: y = Σ window / (KH·KW); the gradient spreads dy / (KH·KW) over the window.
// Backward kernels overwrite dx; where windows overlap (stride < window) their gradients add up.
// Pooling is a small share of a ConvNet's time (one compare or add per input value and window),
// so these are plain loops over compile-time bounds, left to the compiler.
#pragma once

#include <cstddef>
#include <cstring>

#include "castnet/conv.hpp"

namespace castnet::kernels {
namespace pool_detail {

template <Conv2dShape S>
inline constexpr bool valid_shape = S.f == S.c && S.ph == 0 && S.pw == 0 && S.c > 0 && S.kh > 0 && S.kw > 0 &&
                                    S.sh > 0 && S.sw > 0 && S.kh <= S.h && S.kw <= S.w;

// Offset of the window's first maximum from its top-left corner `win` (row stride S.w). Which
// value wins is data-dependent and unpredictable, and GCC turns a ?: on it into a branch that
// mispredicts about once a window, so the offset is selected with a mask instead.
template <class T, Conv2dShape S>
inline std::size_t argmax(const T* win) noexcept {
  std::size_t best = 0;
  T m = win[0];
  for (std::size_t ky = 0; ky < S.kh; ++ky) {
    for (std::size_t kx = 0; kx < S.kw; ++kx) {
      const T v = win[ky * S.w + kx];
      const std::size_t take = std::size_t{0} - static_cast<std::size_t>(v > m);  // all ones or 0
      best ^= (best ^ (ky * S.w + kx)) & take;
      m = v > m ? v : m;
    }
  }
  return best;
}

// Calls f(window offset in the input, output index) for every output of every channel and sample.
// With a `zero` array (the backward kernels' dx), each input plane of it is zeroed just before its
// windows are visited: one pass over dx, the plane still in L1 when its gradients are added.
template <class T, std::size_t B, Conv2dShape S, class F>
inline void for_each_window(F&& f, T* zero = nullptr) noexcept {
  constexpr std::size_t OH = S.oh(), OW = S.ow();
  for (std::size_t plane = 0; plane < B * S.c; ++plane) {
    if (zero != nullptr) std::memset(zero + plane * S.h * S.w, 0, S.h * S.w * sizeof(T));
    for (std::size_t oy = 0; oy < OH; ++oy) {
      for (std::size_t ox = 0; ox < OW; ++ox) {
        f(plane * S.h * S.w + oy * S.sh * S.w + ox * S.sw, (plane * OH + oy) * OW + ox);
      }
    }
  }
}

}  // namespace pool_detail

// y = max over each window (x: B × S.in_size(), y: B × S.out_size()).
template <class T, std::size_t B, Conv2dShape S>
void maxpool2d_forward(const T* x, T* y) noexcept {
  static_assert(pool_detail::valid_shape<S>, "maxpool2d: needs f == c, no padding, a window inside the input");
  pool_detail::for_each_window<T, B, S>([&](std::size_t in, std::size_t out) {
    const T* win = x + in;
    T m = win[0];
    for (std::size_t ky = 0; ky < S.kh; ++ky) {
      for (std::size_t kx = 0; kx < S.kw; ++kx) {
        const T v = win[ky * S.w + kx];
        m = v > m ? v : m;
      }
    }
    y[out] = m;
  });
}

// dx[first arg-max of each window] += dy (dx overwritten first); x is the forward input.
template <class T, std::size_t B, Conv2dShape S>
void maxpool2d_backward(const T* x, const T* dy, T* dx) noexcept {
  static_assert(pool_detail::valid_shape<S>, "maxpool2d: needs f == c, no padding, a window inside the input");
  pool_detail::for_each_window<T, B, S>(
      [&](std::size_t in, std::size_t out) {
        T& target = dx[in + pool_detail::argmax<T, S>(x + in)];
        if constexpr (S.sh >= S.kh && S.sw >= S.kw) {
          target = dy[out];  // disjoint windows: a store, no read-modify-write
        } else {
          target += dy[out];
        }
      },
      dx);
}

// y = mean of each window.
template <class T, std::size_t B, Conv2dShape S>
void avgpool2d_forward(const T* x, T* y) noexcept {
  static_assert(pool_detail::valid_shape<S>, "avgpool2d: needs f == c, no padding, a window inside the input");
  constexpr T count = static_cast<T>(S.kh * S.kw);
  pool_detail::for_each_window<T, B, S>([&](std::size_t in, std::size_t out) {
    const T* win = x + in;
    T sum = T(0);
    for (std::size_t ky = 0; ky < S.kh; ++ky) {
      for (std::size_t kx = 0; kx < S.kw; ++kx) sum += win[ky * S.w + kx];
    }
    y[out] = sum / count;
  });
}

// dx[window] += dy / (KH·KW) for every window (dx overwritten first).
template <class T, std::size_t B, Conv2dShape S>
void avgpool2d_backward(const T* dy, T* dx) noexcept {
  static_assert(pool_detail::valid_shape<S>, "avgpool2d: needs f == c, no padding, a window inside the input");
  constexpr T count = static_cast<T>(S.kh * S.kw);
  pool_detail::for_each_window<T, B, S>(
      [&](std::size_t in, std::size_t out) {
        T* win = dx + in;
        const T g = dy[out] / count;
        for (std::size_t ky = 0; ky < S.kh; ++ky) {
          for (std::size_t kx = 0; kx < S.kw; ++kx) win[ky * S.w + kx] += g;
        }
      },
      dx);
}

}  // namespace castnet::kernels
