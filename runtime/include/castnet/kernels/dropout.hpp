// Inverted dropout, as generated code calls it: in training each value is zeroed with probability
// `rate` and the survivors are scaled by 1 / (1 - rate), so inference is the identity. The mask
// (0 or the scale, per value) stays in the workspace for the backward pass, dx = dout * mask.
// Which values are dropped is castnet::rng::dropout_keep's counter-based hash of the step key, the
// layer's index and the value's index in the (batch, features) buffer. A data-parallel shard passes
// `first`, the index its buffer starts at in the whole batch's, to draw the whole batch's masks.
#pragma once

#include <castnet/rng.hpp>

#include <cstddef>
#include <cstdint>

#include "castnet/kernels/simd_base.hpp"

// In the instruction set's namespace, as every kernel (simd_base.hpp).
namespace castnet {
inline namespace CASTNET_SIMD_ISA {

template <class T, std::size_t N>
void dropout_forward(const T* x, T* out, T* mask, double rate, std::uint64_t key,
                     std::uint64_t layer, std::uint64_t first = 0) noexcept {
  const std::uint64_t base = rng::dropout_base(key, layer);
  const std::uint32_t threshold = rng::dropout_threshold(rate);
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  for (std::size_t i = 0; i < N; ++i) {
    mask[i] = rng::dropout_keep(base, first + i, threshold) ? scale : T(0);
    out[i] = x[i] * mask[i];
  }
}

template <class T, std::size_t N>
void dropout_backward(const T* dout, const T* mask, T* dx) noexcept {
  for (std::size_t i = 0; i < N; ++i) dx[i] = dout[i] * mask[i];
}

// Inference: the identity, into the layer's own buffer, with a mask of ones so that a backward
// pass after forward_batch differentiates what forward_batch computed.
template <class T, std::size_t N>
void dropout_identity(const T* x, T* out, T* mask) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    out[i] = x[i];
    mask[i] = T(1);
  }
}

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
