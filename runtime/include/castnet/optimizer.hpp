// Optimizers over any generated model, following torch.optim.SGD exactly (weight decay 0,
// dampening 0, not Nesterov), so that a torch.nn twin trained on the same batches ends with the
// same weights:
//   sgd       p <- p - lr * g
//   momentum  v <- g on the first step, then v <- mu * v + g;  p <- p - lr * v
// lr and mu are rounded to the model's real type first, as torch does with a float tensor's
// scalar arguments. The loops are plain element-wise loops over each tensor, which the compiler
// vectorises; where it contracts a * b + c into one FMA (GCC's default for C++ on FMA targets)
// a value may differ from torch's by an ulp, within DESIGN.md's "to float rounding".
#pragma once

#include <castnet/model.hpp>

#include <cstddef>
#include <memory>

namespace castnet {

struct OptimizerConfig {
  enum class Kind { sgd, momentum };
  Kind kind = Kind::sgd;
  double lr = 1e-3;       // torch.optim.SGD's default
  double momentum = 0.0;  // mu; used by Kind::momentum only
};

template <GeneratedModel M>
class Optimizer {
 public:
  using real = typename M::real;

  explicit Optimizer(OptimizerConfig config) : config_(config) {
    if (config_.kind == OptimizerConfig::Kind::momentum) {
      velocity_ = std::make_unique<typename M::Params>();
    }
  }

  // One update of `params` from `grads` (the gradients of the last train_step).
  void step(typename M::Params& params, const typename M::Grads& grads) {
    const real lr = static_cast<real>(config_.lr);
    const real mu = static_cast<real>(config_.momentum);
    const auto p = M::tensors(params);
    const auto g = M::tensors(grads);
    const auto v = velocity_ ? M::tensors(*velocity_) : decltype(p){};
    for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
      const std::size_t size = M::kTensors[i].size;
      real* pi = p[i];
      const real* gi = g[i];
      switch (config_.kind) {
        case OptimizerConfig::Kind::sgd:
          for (std::size_t j = 0; j < size; ++j) pi[j] -= lr * gi[j];
          break;
        case OptimizerConfig::Kind::momentum: {
          real* vi = v[i];
          if (first_step_) {
            for (std::size_t j = 0; j < size; ++j) vi[j] = gi[j];
          } else {
            for (std::size_t j = 0; j < size; ++j) vi[j] = vi[j] * mu + gi[j];
          }
          for (std::size_t j = 0; j < size; ++j) pi[j] -= lr * vi[j];
          break;
        }
      }
    }
    first_step_ = false;
  }

 private:
  OptimizerConfig config_;
  std::unique_ptr<typename M::Params> velocity_;  // Params-shaped; allocated for momentum only
  bool first_step_ = true;
};

}  // namespace castnet
