// What a network's outputs mean to its user, one sample at a time: `castnet predict` prints these
// and an exported header's predict() returns them, from one definition. Under mse the outputs are
// the prediction; the cross-entropies take logits (as PyTorch's losses do), so binary
// cross-entropy's probabilities are their sigmoids and softmax cross-entropy's their softmax. In
// double, shifted by the maximum or split by sign so that exp never overflows.
#pragma once

#include <cmath>
#include <cstddef>

#include "castnet/kernels/simd_base.hpp"

// In the instruction set's namespace (simd_base.hpp): an export compiled twice, for two
// instruction sets, must not share these.
namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace outputs {

// σ(z) from e^-|z| ∈ (0, 1], so neither sign of z can overflow.
inline double stable_sigmoid(double z) noexcept {
  const double e = std::exp(-std::abs(z));
  return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

template <class T>
void identity(const T* y, std::size_t n, T* out) noexcept {
  for (std::size_t k = 0; k < n; ++k) out[k] = y[k];
}

template <class T>
void sigmoid(const T* y, std::size_t n, T* out) noexcept {
  for (std::size_t k = 0; k < n; ++k) out[k] = static_cast<T>(stable_sigmoid(static_cast<double>(y[k])));
}

template <class T>
void softmax(const T* y, std::size_t n, T* out) noexcept {
  T top = y[0];
  for (std::size_t k = 1; k < n; ++k) top = y[k] > top ? y[k] : top;
  // One exp per value (it is most of a small network's predict_batch): kept in out, rounded to T,
  // while the sum adds it unrounded; then each is scaled by 1 / sum rounded to T. No value goes
  // from T to double and back: GCC 12's vectorizer (-O2 and up) was seen to drop that round trip
  // when n is a compile-time constant, and predict (n known at run time) and an export (n a
  // constant) must give the same bits.
  double sum = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const double e = std::exp(static_cast<double>(y[k]) - static_cast<double>(top));
    sum += e;
    out[k] = static_cast<T>(e);
  }
  const T scale = static_cast<T>(1.0 / sum);
  for (std::size_t k = 0; k < n; ++k) out[k] *= scale;
}

}  // namespace outputs
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
