// kan: a Kolmogorov-Arnold layer in efficient-kan's form, on Rows samples of In values:
//   y[o] = Σ_i base[o][i]·silu(x[i]) + Σ_i Σ_k spline[o][i][k]·B_k(x[i])
// with B_k Grid cubic B-splines on a uniform grid over [lo, hi] (basis.hpp, each extended linearly
// past the ends). As efficient-kan does, each row's inputs are expanded into silu(x) (In values)
// and the basis values B(x) (In·Grid values, at most 4 of each Grid non-zero), and both sums are
// GEMMs against the weights, which are the dense layer's layout ([Out][In] and [Out][In·Grid]):
//   y        = silu(x)·baseᵀ + B(x)·splineᵀ
//   dbase    = dyᵀ·silu(x),  dspline = dyᵀ·B(x)
//   dx[i]    = (dy·base)[i]·silu'(x[i]) + Σ_k (dy·spline)[i][k]·B_k'(x[i])
// `scratch` holds Rows·In·(1 + Grid) values: the expansion, or in the input pass its gradients.
#pragma once

#include <cmath>
#include <cstddef>

#include "castnet/kernels/basis.hpp"
#include "castnet/kernels/gemm.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace kan_detail {

template <class T>
inline T sigmoid(T v) noexcept {
  return T(1) / (T(1) + std::exp(-v));
}

// sx = silu(x) (Rows × In) and bx = B(x) (Rows × In·Grid, zeros but the four of each input).
template <class T, std::size_t Rows, std::size_t In, std::size_t Grid>
inline void expand(const T* x, T lo, T hi, T* sx, T* bx) noexcept {
  const T inv_h = basis::inverse_step(basis::Kind::bspline, Grid, lo, hi);
  T value[4], slope[4];
  for (std::size_t i = 0; i < Rows * In * Grid; ++i) bx[i] = T(0);
  for (std::size_t r = 0; r < Rows * In; ++r) {
    sx[r] = x[r] * sigmoid(x[r]);
    const std::size_t k0 = basis::eval<basis::Kind::bspline>(Grid, x[r], lo, inv_h, value, slope);
    for (std::size_t j = 0; j < 4; ++j) bx[r * Grid + k0 + j] = value[j];
  }
}

}  // namespace kan_detail

// y (Rows × Out, overwritten); y must not be x.
template <class T, std::size_t Rows, std::size_t In, std::size_t Out, std::size_t Grid>
void kan_forward(const T* x, const T* base, const T* spline, T lo, T hi, T* scratch, T* y) noexcept {
  T* sx = scratch;
  T* bx = scratch + Rows * In;
  kan_detail::expand<T, Rows, In, Grid>(x, lo, hi, sx, bx);
  using kernels::detail::Epilogue;
  kernels::detail::dot_gemm<T, Rows, Out, In, Epilogue::overwrite>(sx, base, nullptr, y);
  kernels::detail::dot_gemm<T, Rows, Out, In * Grid, Epilogue::accumulate>(bx, spline, nullptr, y);
}

// dbase, dspline (overwritten).
template <class T, std::size_t Rows, std::size_t In, std::size_t Out, std::size_t Grid>
void kan_backward_params(const T* x, const T* dy, T lo, T hi, T* scratch, T* dbase, T* dspline) noexcept {
  T* sx = scratch;
  T* bx = scratch + Rows * In;
  kan_detail::expand<T, Rows, In, Grid>(x, lo, hi, sx, bx);
  // m = o (a = dyᵀ), k = the row, bm = the expansion: dense_backward_params' form.
  kernels::detail::axpy_gemm<T, Out, In, Rows, 1, Out>(dy, sx, dbase);
  kernels::detail::axpy_gemm<T, Out, In * Grid, Rows, 1, Out>(dy, bx, dspline);
}

// dx (overwritten); dx must not be dy.
template <class T, std::size_t Rows, std::size_t In, std::size_t Out, std::size_t Grid>
void kan_backward_input(const T* x, const T* base, const T* spline, const T* dy, T lo, T hi, T* scratch,
                        T* dx) noexcept {
  T* dsx = scratch;
  T* dbx = scratch + Rows * In;
  // m = the row (a = dy), k = o: dense_backward_input's form.
  kernels::detail::axpy_gemm<T, Rows, In, Out, Out, 1>(dy, base, dsx);
  kernels::detail::axpy_gemm<T, Rows, In * Grid, Out, Out, 1>(dy, spline, dbx);
  const T inv_h = basis::inverse_step(basis::Kind::bspline, Grid, lo, hi);
  T value[4], slope[4];
  for (std::size_t r = 0; r < Rows * In; ++r) {
    const T s = kan_detail::sigmoid(x[r]);
    const std::size_t k0 = basis::eval<basis::Kind::bspline>(Grid, x[r], lo, inv_h, value, slope);
    // silu'(x) = s (1 + x (1 - s)); every a*b + c fused explicitly (see basis.hpp)
    T d = dsx[r] * s * std::fma(x[r], T(1) - s, T(1));
    for (std::size_t j = 0; j < 4; ++j) d = std::fma(dbx[r * Grid + k0 + j], slope[j], d);
    dx[r] = d;
  }
}

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
