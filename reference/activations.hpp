// The activations, usable fused into a layer (dense, conv2d) or standing as their own layer: the
// interpreter applies a layer's activation after its kind's forward pass and the derivative
// before its backward pass. activations.cpp writes each one's forward beside its backward.
#pragma once

#include <cmath>
#include <cstddef>

#include "ir/graph.hpp"

namespace castnet::interp {

// 1 / (1 + e^-z), split by sign so that exp never overflows.
template <class T>
T sigmoid(T z) {
  if (z >= T(0)) return T(1) / (T(1) + std::exp(-z));
  const T e = std::exp(z);
  return e / (T(1) + e);
}

// a = act(z) for one sample of m features. act.alpha is the activation's parameter as the passes
// filled it (leaky_relu slope, elu alpha, softplus beta).
template <class T>
void activate(const ir::ActivationSpec& act, const T* z, std::size_t m, T* a);

// dz = dLoss/dz from da = dLoss/da for one sample, given the forward's z and a = act(z).
template <class T>
void activate_backward(const ir::ActivationSpec& act, const T* z, const T* a, const T* da, std::size_t m, T* dz);

}  // namespace castnet::interp
