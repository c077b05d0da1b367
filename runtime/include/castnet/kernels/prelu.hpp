// PReLU (torch.nn.PReLU(num_parameters=C)) with one learned slope per channel: x is Rows × C × S,
// S values per channel (the pixels of a [C, H, W] sample, or 1 for a flat [C] vector), and
//   out = x > 0 ? x : w[c]·x,
//   dx  = x > 0 ? dout : w[c]·dout,
//   dw[c] = Σ over rows and positions with x <= 0 of dout·x.
// With S == 1 the channels are contiguous and the slopes are loaded as a vector alongside x;
// otherwise each channel's S values are contiguous and share one broadcast slope.
#pragma once

#include <cstddef>

#include "castnet/kernels/activation.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace prelu_detail {

// Σ_i f(a[i], b[i]) for i < N as a vector of partial sums; padding lanes load as 0, and f(0, 0)
// must be 0.
template <class T, std::size_t N, class F>
inline simd::vec<T> sum_map(F f, const T* a, const T* b) noexcept {
  using V = simd::vec<T>;
  constexpr std::size_t L = simd::lanes<T>;
  constexpr std::size_t full = N / L * L;
  V acc(T(0));
  for (std::size_t i = 0; i < full; i += L) acc += f(V::load_unaligned(a + i), V::load_unaligned(b + i));
  if constexpr (N != full) acc += f(simd::load_n<T, N - full>(a + full), simd::load_n<T, N - full>(b + full));
  return acc;
}

}  // namespace prelu_detail

// out = x > 0 ? x : w[c]·x; out may be x.
template <class T, std::size_t Rows, std::size_t C, std::size_t S>
void prelu_forward(const T* x, const T* w, T* out) noexcept {
  using V = simd::vec<T>;
  const auto f = [](V xv, V wv) { return simd::select(xv > V(T(0)), xv, wv * xv); };
  for (std::size_t r = 0; r < Rows; ++r) {
    if constexpr (S == 1) {
      activation_detail::map<T, C>(f, out + r * C, x + r * C, w);
    } else {
      for (std::size_t c = 0; c < C; ++c) {
        const V wv(w[c]);
        const std::size_t at = (r * C + c) * S;
        activation_detail::map<T, S>([&](V xv) { return f(xv, wv); }, out + at, x + at);
      }
    }
  }
}

// dw[c] = Σ_{r, s: x <= 0} dout·x  (overwrites dw).
template <class T, std::size_t Rows, std::size_t C, std::size_t S>
void prelu_backward_params(const T* x, const T* dout, T* dw) noexcept {
  using V = simd::vec<T>;
  const auto term = [](V xv, V dv) { return simd::select(xv > V(T(0)), V(T(0)), dv * xv); };
  if constexpr (S == 1) {
    for (std::size_t c = 0; c < C; ++c) dw[c] = T(0);
    for (std::size_t r = 0; r < Rows; ++r) {
      activation_detail::map<T, C>([&](V acc, V xv, V dv) { return acc + term(xv, dv); }, dw, dw, x + r * C,
                                   dout + r * C);
    }
  } else {
    for (std::size_t c = 0; c < C; ++c) {
      V acc(T(0));
      for (std::size_t r = 0; r < Rows; ++r) {
        const std::size_t at = (r * C + c) * S;
        acc += prelu_detail::sum_map<T, S>(term, x + at, dout + at);
      }
      dw[c] = simd::hadd(acc);
    }
  }
}

// dx = x > 0 ? dout : w[c]·dout; dx may be dout.
template <class T, std::size_t Rows, std::size_t C, std::size_t S>
void prelu_backward_input(const T* x, const T* w, const T* dout, T* dx) noexcept {
  using V = simd::vec<T>;
  const auto f = [](V xv, V dv, V wv) { return simd::select(xv > V(T(0)), dv, wv * dv); };
  for (std::size_t r = 0; r < Rows; ++r) {
    if constexpr (S == 1) {
      activation_detail::map<T, C>(f, dx + r * C, x + r * C, dout + r * C, w);
    } else {
      for (std::size_t c = 0; c < C; ++c) {
        const V wv(w[c]);
        const std::size_t at = (r * C + c) * S;
        activation_detail::map<T, S>([&](V xv, V dv) { return f(xv, dv, wv); }, dx + at, x + at, dout + at);
      }
    }
  }
}

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
