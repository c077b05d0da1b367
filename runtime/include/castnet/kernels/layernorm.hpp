// Layer normalisation over each row's N values (torch.nn.LayerNorm(N, eps), elementwise affine):
//   mean = Σx / N,  var = Σ(x - mean)² / N,  r = 1 / sqrt(var + eps),  x̂ = (x - mean)·r,
//   out  = x̂·w + b.
// Backward, with g = dout·w:
//   dw = Σ_rows dout·x̂,  db = Σ_rows dout,  dx = r·(g - mean(g) - x̂·mean(g·x̂)).
// The backward pass recomputes mean and r from x: no statistics are kept between the passes.
// Sums run over whole vectors, then the row's tail one value at a time.
#pragma once

#include <cmath>
#include <cstddef>

#include "castnet/kernels/activation.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace kernels {
namespace layernorm_detail {

// Σ_k f(in[k]...) for k < N. f takes vectors and single values alike (its padding need not be 0).
template <class T, std::size_t N, class F, class... In>
inline T sum_of(F f, const In*... in) noexcept {
  using V = simd::vec<T>;
  constexpr std::size_t L = V::size, full = N / L * L;
  T s = T(0);
  if constexpr (full != 0) {
    V acc(T(0));
    for (std::size_t k = 0; k < full; k += L) acc += f(V::load_unaligned(in + k)...);
    s = simd::hadd(acc);
  }
  for (std::size_t k = full; k < N; ++k) s += f(in[k]...);
  return s;
}

template <class T>
struct Stats {
  T mean, r;  // the row's mean and 1 / sqrt(var + eps)
};

template <class T, std::size_t N>
inline Stats<T> stats(const T* x, T eps) noexcept {
  const T mean = sum_of<T, N>([](auto v) { return v; }, x) / T(N);
  const T var = sum_of<T, N>(
                    [&](auto v) {
                      const auto d = v - mean;
                      return d * d;
                    },
                    x) /
                T(N);
  return {mean, T(1) / std::sqrt(var + eps)};
}

}  // namespace layernorm_detail

// out may be x.
template <class T, std::size_t Rows, std::size_t N>
void layernorm_forward(const T* x, const T* w, const T* b, T eps, T* out) noexcept {
  using V = simd::vec<T>;
  for (std::size_t r = 0; r < Rows; ++r) {
    const auto s = layernorm_detail::stats<T, N>(x + r * N, eps);
    activation_detail::map<T, N>([&](V xv, V wv, V bv) { return simd::fma((xv - V(s.mean)) * V(s.r), wv, bv); },
                                 out + r * N, x + r * N, w, b);
  }
}

// dw = Σ_rows dout·x̂, db = Σ_rows dout (both overwritten).
template <class T, std::size_t Rows, std::size_t N>
void layernorm_backward_params(const T* x, const T* dout, T eps, T* dw, T* db) noexcept {
  using V = simd::vec<T>;
  for (std::size_t k = 0; k < N; ++k) dw[k] = db[k] = T(0);
  for (std::size_t r = 0; r < Rows; ++r) {
    const auto s = layernorm_detail::stats<T, N>(x + r * N, eps);
    activation_detail::map<T, N>([&](V acc, V xv, V dv) { return simd::fma(dv, (xv - V(s.mean)) * V(s.r), acc); }, dw,
                                 dw, x + r * N, dout + r * N);
    activation_detail::map<T, N>([](V acc, V dv) { return acc + dv; }, db, db, dout + r * N);
  }
}

// dx = r·(dout·w - mean(dout·w) - x̂·mean(dout·w·x̂)); dx may be dout.
template <class T, std::size_t Rows, std::size_t N>
void layernorm_backward_input(const T* x, const T* w, const T* dout, T eps, T* dx) noexcept {
  using V = simd::vec<T>;
  for (std::size_t r = 0; r < Rows; ++r) {
    const T* xr = x + r * N;
    const T* dr = dout + r * N;
    const auto s = layernorm_detail::stats<T, N>(xr, eps);
    const T mg = layernorm_detail::sum_of<T, N>([](auto dv, auto wv) { return dv * wv; }, dr, w) / T(N);
    const T mgx = layernorm_detail::sum_of<T, N>(
                      [&](auto dv, auto wv, auto xv) { return dv * wv * ((xv - s.mean) * s.r); }, dr, w, xr) /
                  T(N);
    activation_detail::map<T, N>(
        [&](V xv, V dv, V wv) { return V(s.r) * (dv * wv - V(mg) - (xv - V(s.mean)) * V(s.r) * V(mgx)); },
        dx + r * N, xr, dr, w);
  }
}

}  // namespace kernels
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
