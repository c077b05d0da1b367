// Training losses for generated code, matching PyTorch's MSELoss, BCEWithLogitsLoss and
// CrossEntropyLoss (all with mean reduction), each returning the loss and optionally writing the
// gradient with respect to the network output. A batch is a fixed [B, N] buffer of which only the
// first n rows hold samples (the last batch of an epoch may be short), so padding rows get a zero
// gradient and never reach the weights. The output layer is small next to the dense layers, so
// these are plain scalar loops evaluated in double: the loss sums and the exp/log terms keep full
// precision whatever T is, and only the gradients are rounded back to T.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "castnet/kernels/outputs.hpp"
#include "castnet/kernels/simd_base.hpp"

// In the instruction set's namespace, as every kernel (simd_base.hpp): compiled for another
// instruction set, the same instantiation is other code.
namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace losses {
namespace detail {

// Rows at or past n get a zero gradient. n > B is a caller bug; clamping keeps every access
// inside the [B, N] buffers.
template <class T, std::size_t B, std::size_t N>
inline std::size_t finish_padding(T* dy, std::size_t n) noexcept {
  n = std::min(n, B);
  if (dy != nullptr) std::fill(dy + n * N, dy + B * N, T(0));
  return n;
}

// log(1 + e^-|z|), the softplus tail that every logistic loss needs, without overflow.
inline double log1p_exp_neg_abs(double z) noexcept { return std::log1p(std::exp(-std::abs(z))); }

using outputs::stable_sigmoid;

// The class a target value names. Targets hold integers stored as T; rounding absorbs any
// representation error. Out-of-range or NaN targets break the caller's precondition: they are
// clamped into [0, N) so the loss stays a finite (if meaningless) number instead of reading out of
// bounds.
template <class T, std::size_t N>
inline std::size_t class_index(T target) noexcept {
  if (!(target > T(0))) return 0;  // also catches NaN
  if (target >= T(N - 1)) return N - 1;
  return static_cast<std::size_t>(target + T(0.5));
}

}  // namespace detail

// Each: returns the mean loss over the first n rows (n <= B) of a [B, N] output; if dy != nullptr,
// writes dLoss/dy for rows < n and zeros for rows n..B-1. n == 0 gives 0 and an all-zero dy.

// mse: mean over n*N elements of (y - t)^2 (torch MSELoss).  target [B, N].
// dL/dy = 2(y - t)/(nN).
template <class T, std::size_t B, std::size_t N>
T mse(const T* y, const T* target, T* dy, std::size_t n) noexcept {
  n = detail::finish_padding<T, B, N>(dy, n);
  if (n == 0) return T(0);
  const double scale = 1.0 / static_cast<double>(n * N);
  double sum = 0;
  for (std::size_t k = 0; k < n * N; ++k) {
    const double d = static_cast<double>(y[k]) - static_cast<double>(target[k]);
    sum += d * d;
    if (dy != nullptr) dy[k] = static_cast<T>(2.0 * d * scale);
  }
  return static_cast<T>(sum * scale);
}

// binary_cross_entropy on logits, mean over n*N elements (torch BCEWithLogitsLoss):
// max(z,0) - z*t + log1p(exp(-|z|)). target [B, N] in [0,1].
// dL/dz = (σ(z) - t)/(nN).
template <class T, std::size_t B, std::size_t N>
T binary_cross_entropy(const T* logits, const T* target, T* dy, std::size_t n) noexcept {
  n = detail::finish_padding<T, B, N>(dy, n);
  if (n == 0) return T(0);
  const double scale = 1.0 / static_cast<double>(n * N);
  double sum = 0;
  for (std::size_t k = 0; k < n * N; ++k) {
    const double z = logits[k];
    const double t = target[k];
    sum += std::max(z, 0.0) - z * t + detail::log1p_exp_neg_abs(z);
    if (dy != nullptr) dy[k] = static_cast<T>((detail::stable_sigmoid(z) - t) * scale);
  }
  return static_cast<T>(sum * scale);
}

// softmax_cross_entropy on logits, mean over n rows (torch CrossEntropyLoss); target [B] holds the
// class index as T (an index outside [0, N) is clamped into it; the caller must not rely on that).
// Per row, with m = max z: loss = m + log Σ e^(z - m) - z[t], where every exponent is ≤ 0.
// dL/dz = (softmax(z) - onehot(t))/n.
template <class T, std::size_t B, std::size_t N>
T softmax_cross_entropy(const T* logits, const T* target, T* dy, std::size_t n) noexcept {
  n = detail::finish_padding<T, B, N>(dy, n);
  if (n == 0) return T(0);
  const double scale = 1.0 / static_cast<double>(n);
  double sum = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const T* z = logits + r * N;
    const double m = *std::max_element(z, z + N);
    double norm = 0;
    for (std::size_t j = 0; j < N; ++j) norm += std::exp(z[j] - m);
    const std::size_t c = detail::class_index<T, N>(target[r]);
    sum += m + std::log(norm) - z[c];
    if (dy != nullptr) {
      for (std::size_t j = 0; j < N; ++j) {
        const double p = std::exp(z[j] - m) / norm;
        dy[r * N + j] = static_cast<T>((p - (j == c ? 1.0 : 0.0)) * scale);
      }
    }
  }
  return static_cast<T>(sum * scale);
}

}  // namespace losses
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
