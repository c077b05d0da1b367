// Element-wise plumbing for graph models: the sum of two tensors (an `add` node, and the gradient
// arriving at a tensor used by several consumers), copies (a layer that passes its input on: into
// y at the end of forward(), and its gradient back), and copies of per-sample vectors into and out
// of a strided batch (a `concat` node writes each input's rows at its offset in the output's rows;
// its backward pass reads them back). Sizes are template parameters; nothing touches the heap.
#pragma once

#include <cstddef>
#include <cstring>

#include "castnet/kernels/activation.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {

// out[i] = a[i] + b[i] for i < N; out may be a or b.
template <class T, std::size_t N>
void add(const T* a, const T* b, T* out) noexcept {
  using V = simd::vec<T>;
  activation_detail::map<T, N>([](V u, V v) { return u + v; }, out, a, b);
}

// dst[i] += src[i] for i < N.
template <class T, std::size_t N>
void accumulate(T* dst, const T* src) noexcept {
  using V = simd::vec<T>;
  activation_detail::map<T, N>([](V u, V v) { return u + v; }, dst, dst, src);
}

// dst[i] = src[i] for i < N.
template <class T, std::size_t N>
void copy(const T* src, T* dst) noexcept {
  std::memmove(dst, src, N * sizeof(T));
}

// dst[r*Stride + Offset + i] = src[r*N + i] for r < Rows, i < N: src's rows into columns
// [Offset, Offset + N) of dst's rows. src and dst do not overlap.
template <class T, std::size_t Rows, std::size_t N, std::size_t Stride, std::size_t Offset>
void copy_into_rows(const T* src, T* dst) noexcept {
  static_assert(Offset + N <= Stride, "copy_into_rows: the columns do not fit in a row");
  for (std::size_t r = 0; r < Rows; ++r) std::memcpy(dst + r * Stride + Offset, src + r * N, N * sizeof(T));
}

// dst[r*N + i] = src[r*Stride + Offset + i] for r < Rows, i < N: columns [Offset, Offset + N) of
// src's rows, packed. src and dst do not overlap.
template <class T, std::size_t Rows, std::size_t N, std::size_t Stride, std::size_t Offset>
void copy_from_rows(const T* src, T* dst) noexcept {
  static_assert(Offset + N <= Stride, "copy_from_rows: the columns do not fit in a row");
  for (std::size_t r = 0; r < Rows; ++r) std::memcpy(dst + r * N, src + r * Stride + Offset, N * sizeof(T));
}

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
