// Gradient-side regularisation over any generated model:
//   add_l2          the L2 penalty lambda/2 * sum ||W||^2 over the weight tensors (rank >= 2 in
//                   M::kTensors; biases and other rank-1 tensors are not penalised). Adds its
//                   gradient lambda * W to the gradients (g <- g + lambda * W) and returns the
//                   penalty, for the caller to add to the loss. A torch twin adds
//                   lambda / 2 * sum(w.pow(2).sum() for the same tensors) to its loss.
//   clip_grad_norm  torch.nn.utils.clip_grad_norm_ (norm_type 2): the global L2 norm over every
//                   gradient tensor; coef = max_norm / (norm + 1e-6) and, when coef < 1 (that is,
//                   the norm exceeds max_norm less 1e-6), every gradient is multiplied by coef.
//                   Returns the norm before clipping.
// Sums of squares are accumulated in double; lambda and coef are rounded to the model's real type
// before they touch a tensor.
#pragma once

#include <castnet/model.hpp>

#include <cmath>
#include <cstddef>

namespace castnet {

template <GeneratedModel M>
double add_l2(const typename M::Params& params, typename M::Grads& grads, double lambda) {
  using real = typename M::real;
  const auto p = M::tensors(params);
  const auto g = M::tensors(grads);
  const real lam = static_cast<real>(lambda);
  double sum = 0;
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    if (M::kTensors[i].rank < 2) continue;
    const std::size_t n = M::kTensors[i].size;
    const real* pi = p[i];
    real* gi = g[i];
    for (std::size_t j = 0; j < n; ++j) {
      const double w = static_cast<double>(pi[j]);
      sum += w * w;
      gi[j] += lam * pi[j];
    }
  }
  return lambda / 2.0 * sum;
}

template <GeneratedModel M>
double clip_grad_norm(typename M::Grads& grads, double max_norm) {
  using real = typename M::real;
  const auto g = M::tensors(grads);
  double sum = 0;
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    const real* gi = g[i];
    for (std::size_t j = 0; j < M::kTensors[i].size; ++j) {
      const double x = static_cast<double>(gi[j]);
      sum += x * x;
    }
  }
  const double norm = std::sqrt(sum);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const real c = static_cast<real>(coef);
    for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
      real* gi = g[i];
      for (std::size_t j = 0; j < M::kTensors[i].size; ++j) gi[j] *= c;
    }
  }
  return norm;
}

}  // namespace castnet
