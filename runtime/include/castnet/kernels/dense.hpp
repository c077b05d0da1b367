// Dense-layer kernels called by generated code: forward, input gradient and parameter gradients
// of y = x·wᵀ + bias with PyTorch's weight layout w[Out][In]. Every size is a template parameter;
// nothing touches the heap and any pointer may be unaligned. They are gemm.hpp's kernels: the batch
// forward a dot GEMM, a single sample's forward (the generated forward()) the latency-minded gemv,
// both backward passes axpy GEMMs.
#pragma once

#include <cstddef>

#include "castnet/kernels/gemm.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace kernels {
namespace detail {

// db[o] = Σ_b dy[b][o], vectorised across o; the tail overlaps like axpy_tile's.
template <class T, std::size_t B, std::size_t Out>
CASTNET_FLATTEN inline void column_sums(const T* dy, T* db) noexcept {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t width = Out < L ? Out : L;
  const auto sum_at = [&](std::size_t o) {
    vec<T> acc(T(0));
    for (std::size_t b = 0; b < B; ++b) acc += load_n<T, width>(dy + b * Out + o);
    store_n<T, width>(db + o, acc);
  };
  std::size_t o = 0;
  for (; o + L <= Out; o += L) sum_at(o);
  if constexpr (Out < L) {
    sum_at(0);
  } else if constexpr (Out % L != 0) {
    sum_at(Out - L);
  }
}

}  // namespace detail

// y[b*Out + o] = bias[o] + sum_i x[b*In + i] * w[o*In + i]      (b < B)
template <class T, std::size_t B, std::size_t In, std::size_t Out>
void dense_forward(const T* x, const T* w, const T* bias, T* y) noexcept {
  if constexpr (B == 1) {
    detail::gemv<T, In, Out>(x, w, bias, y);
  } else {
    detail::dot_gemm<T, B, Out, In, detail::Epilogue::bias>(x, w, bias, y);
  }
}

// dx[b*In + i] = sum_o dy[b*Out + o] * w[o*In + i]              (overwrites dx)
template <class T, std::size_t B, std::size_t In, std::size_t Out>
void dense_backward_input(const T* dy, const T* w, T* dx) noexcept {
  // m = b (a = dy, row stride Out), k = o, bm = w.
  detail::axpy_gemm<T, B, In, Out, Out, 1>(dy, w, dx);
}

// dw[o*In + i] = sum_b dy[b*Out + o] * x[b*In + i];  db[o] = sum_b dy[b*Out + o]   (overwrites both)
template <class T, std::size_t B, std::size_t In, std::size_t Out>
void dense_backward_params(const T* x, const T* dy, T* dw, T* db) noexcept {
  // m = o (a = dyᵀ: consecutive o are adjacent, consecutive b are Out apart), k = b, bm = x.
  detail::axpy_gemm<T, Out, In, B, 1, Out>(dy, x, dw);
  detail::column_sums<T, B, Out>(dy, db);
}

}  // namespace kernels
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
