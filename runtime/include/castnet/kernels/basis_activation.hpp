// basis_activation: a trainable activation out = Σ_k coef[c][k]·ψ_k(x) over Count fixed basis
// functions of kind K (basis.hpp: rbf or cubic bspline on a uniform grid over [lo, hi], each
// extended linearly past the ends), one coefficient row per channel: x is Rows × C × S, S values
// per channel (the pixels of a [C, H, W] sample, or 1 for a flat [C] vector), coef is C × Count.
//   out        = Σ_j coef[c][k0 + j]·ψ_k0+j(x)
//   dx         = dout·Σ_j coef[c][k0 + j]·ψ'_k0+j(x)
//   dcoef[c][k] = Σ dout·ψ_k(x)  over rows and the channel's positions
// Scalar loops: each value selects its own basis functions (a B-spline's four), which the vector
// vocabulary cannot gather.
#pragma once

#include <cmath>
#include <cstddef>

#include "castnet/kernels/basis.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {

// out may be x.
template <class T, basis::Kind K, std::size_t Rows, std::size_t C, std::size_t S, std::size_t Count>
void basis_activation_forward(const T* x, const T* coef, T lo, T hi, T* out) noexcept {
  constexpr std::size_t W = basis::width(K, Count);
  const T inv_h = basis::inverse_step(K, Count, lo, hi);
  T value[W], slope[W];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t ch = 0; ch < C; ++ch) {
      const T* row = coef + ch * Count;
      for (std::size_t s = 0; s < S; ++s) {
        const std::size_t at = (r * C + ch) * S + s;
        const std::size_t k0 = basis::eval<K>(Count, x[at], lo, inv_h, value, slope);
        T acc = T(0);
        for (std::size_t j = 0; j < W; ++j) acc = std::fma(row[k0 + j], value[j], acc);  // fused: see basis.hpp
        out[at] = acc;
      }
    }
}

// dcoef (overwritten).
template <class T, basis::Kind K, std::size_t Rows, std::size_t C, std::size_t S, std::size_t Count>
void basis_activation_backward_params(const T* x, const T* dout, T lo, T hi, T* dcoef) noexcept {
  constexpr std::size_t W = basis::width(K, Count);
  const T inv_h = basis::inverse_step(K, Count, lo, hi);
  T value[W], slope[W];
  for (std::size_t i = 0; i < C * Count; ++i) dcoef[i] = T(0);
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t ch = 0; ch < C; ++ch) {
      T* row = dcoef + ch * Count;
      for (std::size_t s = 0; s < S; ++s) {
        const std::size_t at = (r * C + ch) * S + s;
        const std::size_t k0 = basis::eval<K>(Count, x[at], lo, inv_h, value, slope);
        for (std::size_t j = 0; j < W; ++j) row[k0 + j] = std::fma(dout[at], value[j], row[k0 + j]);
      }
    }
}

// dx; dx may be dout.
template <class T, basis::Kind K, std::size_t Rows, std::size_t C, std::size_t S, std::size_t Count>
void basis_activation_backward_input(const T* x, const T* coef, const T* dout, T lo, T hi, T* dx) noexcept {
  constexpr std::size_t W = basis::width(K, Count);
  const T inv_h = basis::inverse_step(K, Count, lo, hi);
  T value[W], slope[W];
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t ch = 0; ch < C; ++ch) {
      const T* row = coef + ch * Count;
      for (std::size_t s = 0; s < S; ++s) {
        const std::size_t at = (r * C + ch) * S + s;
        const std::size_t k0 = basis::eval<K>(Count, x[at], lo, inv_h, value, slope);
        T acc = T(0);
        for (std::size_t j = 0; j < W; ++j) acc = std::fma(row[k0 + j], slope[j], acc);
        dx[at] = dout[at] * acc;
      }
    }
}

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
