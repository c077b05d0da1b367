// First-order optimizers over any generated model, following torch.optim's single-tensor CPU code
// paths in formula and operation order, so that a torch.nn twin trained on the same batches ends
// with the same weights to float rounding. `lr` is the learning rate of this step (the schedule,
// schedule.hpp, is applied by the caller); g is the gradient, t the 1-based step count.
//
//   sgd       torch.optim.SGD:        p <- p - lr * g
//   momentum  form torch (torch.optim.SGD, dampening 0):
//                                     v <- g on the first step, then v <- v * mu + g;  p <- p - lr * v
//             form ema (exponential moving average, v0 = 0):
//                                     v <- v * b + (1 - b) * g;                        p <- p - lr * v
//             form classic (velocity carries the step, v0 = 0):
//                                     v <- v * m - lr * g;                             p <- p + v
//   nesterov  torch.optim.SGD(nesterov=True): v as form torch;              p <- p - lr * (g + mu * v)
//   rmsprop   torch.optim.RMSprop (centered=False, momentum=0, v0 = 0):
//                                     v <- v * alpha + ((1 - alpha) * g) * g
//                                     p <- p - (lr * g) / (sqrt(v) + eps)
//   adam      torch.optim.Adam (amsgrad=False, weight_decay=0, m0 = v0 = 0):
//                                     m <- lerp(m, g, 1 - b1)      (torch >= 2.1: exp_avg.lerp_)
//                                     v <- v * b2 + ((1 - b2) * g) * g
//                                     step_size = lr / (1 - b1^t)
//                                     denom = sqrt(v) / sqrt(1 - b2^t) + eps
//                                     p <- p - (step_size * m) / denom
//             where lerp(m, g, w) = m + w * (g - m) for w < 0.5, else g - (g - m) * (1 - w), as
//             ATen computes it; mathematically m = b1 * m + (1 - b1) * g.
//   adamw     torch.optim.AdamW:      p <- p * (1 - lr * weight_decay), then the adam update.
//
// (mu, b and m above are all `config.momentum`.) Scalars are combined in double, as torch does in
// Python (1 - b1^t, lr / (1 - b1^t), 1 - lr * wd, ...), and rounded to the model's real type where
// torch hands them to a tensor operation, as torch does with a float tensor's scalar arguments.
// The loops are plain element-wise loops over each tensor, which the compiler vectorises; where
// it contracts a * b + c into one FMA (GCC's default for C++ on FMA targets) a value may differ
// from torch's by an ulp, within DESIGN.md's "to float rounding". No step allocates.
//
// Checkpoints: state() names the Params-shaped buffers (none for sgd; "velocity" for momentum and
// nesterov; "rmsprop_v" for rmsprop; "adam_m", "adam_v" for adam and adamw) and steps() is the
// number of steps taken. Writing those and restoring them into a fresh Optimizer of the same
// config (fill the buffers, then set_steps) continues bit-identically.
//
// L-BFGS is a different algorithm (full batch, a line search): see lbfgs.hpp.
#pragma once

#include <castnet/train/config.hpp>
#include <castnet/error.hpp>
#include <castnet/kernels/update.hpp>
#include <castnet/model.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace castnet {

// OptimizerConfig (config.hpp):
//   kind, lr (lr_0), momentum (momentum, nesterov), form (momentum only), beta1, beta2, eps
//   (adam, adamw; eps also rmsprop), alpha (rmsprop), weight_decay (adamw), history (lbfgs).

// "sgd", "momentum", ...: the spelling of specs and command lines (config.hpp's EnumNames).
inline const char* to_string(OptimizerConfig::Kind k) { return name_of(k).data(); }
// "torch", "ema", "classic".
inline const char* to_string(OptimizerConfig::MomentumForm f) { return name_of(f).data(); }

template <GeneratedModel M>
class Optimizer {
 public:
  using real = typename M::real;
  using Params = typename M::Params;
  using Grads = typename M::Grads;
  using Kind = OptimizerConfig::Kind;
  using Form = OptimizerConfig::MomentumForm;

  explicit Optimizer(const OptimizerConfig& config) : config_(config) {
    switch (config_.kind) {
      case Kind::sgd: break;
      case Kind::momentum:
      case Kind::nesterov: first_ = zeroed(); break;
      case Kind::rmsprop: first_ = zeroed(); break;
      case Kind::adam:
      case Kind::adamw:
        first_ = zeroed();
        second_ = zeroed();
        break;
      case Kind::lbfgs:
        throw Error("error: lbfgs is not a first-order optimizer; use castnet::Lbfgs (lbfgs.hpp)");
    }
  }

  // One update of `p` from `g` (the gradients of the last train_step) with learning rate `lr`.
  void step(Params& p, const Grads& g, double lr) {
    update(p, g, lr, 0, 1);
    finish_step();
  }

  // Part `part` of `parts` of step()'s update: the values [size * part / parts, size * (part + 1) /
  // parts) of every tensor, so that threads can share one step (the update is element-wise).
  // Once every part is done, finish_step() counts the step.
  void update(Params& p, const Grads& g, double lr, std::size_t part, std::size_t parts) {
    const auto pt = M::tensors(p);
    const auto gt = M::tensors(g);
    for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
      const std::size_t size = M::kTensors[i].size, begin = size * part / parts, n = size * (part + 1) / parts - begin;
      real* pi = pt[i] + begin;
      const real* gi = gt[i] + begin;
      real* a = first_ ? M::tensors(*first_)[i] + begin : nullptr;
      real* b = second_ ? M::tensors(*second_)[i] + begin : nullptr;
      switch (config_.kind) {
        case Kind::sgd: sgd(pi, gi, n, lr); break;
        case Kind::momentum: momentum(pi, gi, a, n, lr); break;
        case Kind::nesterov: nesterov(pi, gi, a, n, lr); break;
        case Kind::rmsprop: rmsprop(pi, gi, a, n, lr); break;
        case Kind::adam: adam(pi, gi, a, b, n, lr, steps_ + 1); break;
        case Kind::adamw: {
          const real decay = static_cast<real>(1.0 - lr * config_.weight_decay);
          for (std::size_t j = 0; j < n; ++j) pi[j] = pi[j] * decay;
          adam(pi, gi, a, b, n, lr, steps_ + 1);
          break;
        }
        case Kind::lbfgs: break;  // rejected by the constructor
      }
    }
  }
  void finish_step() { ++steps_; }

  // Whether a model's train_step_update can apply this optimizer's update as it makes the
  // gradients (castnet/kernels/update.hpp has the same rules); then fused(lr) is the next step's
  // update, velocity() its velocity (null for sgd), and finish_step() counts the step.
  bool fusable() const noexcept {
    return config_.kind == Kind::sgd || config_.kind == Kind::nesterov ||
           (config_.kind == Kind::momentum && config_.form == Form::torch);
  }
  Update<real> fused(double lr) const noexcept {
    const UpdateRule rule = config_.kind == Kind::sgd        ? UpdateRule::sgd
                            : config_.kind == Kind::nesterov ? UpdateRule::nesterov
                                                             : UpdateRule::momentum;
    return {rule, static_cast<real>(lr), static_cast<real>(config_.momentum), steps_ == 0};
  }
  Params* velocity() noexcept { return first_.get(); }

  std::vector<std::pair<std::string, Params*>> state() {
    switch (config_.kind) {
      case Kind::momentum:
      case Kind::nesterov: return {{"velocity", first_.get()}};
      case Kind::rmsprop: return {{"rmsprop_v", first_.get()}};
      case Kind::adam:
      case Kind::adamw: return {{"adam_m", first_.get()}, {"adam_v", second_.get()}};
      case Kind::sgd:
      case Kind::lbfgs: break;
    }
    return {};
  }
  std::uint64_t steps() const { return steps_; }
  void set_steps(std::uint64_t steps) { steps_ = steps; }
  const OptimizerConfig& config() const { return config_; }

 private:
  static std::unique_ptr<Params> zeroed() {
    auto p = std::make_unique<Params>();
    const auto t = M::tensors(*p);
    for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
      for (std::size_t j = 0; j < M::kTensors[i].size; ++j) t[i][j] = real{0};
    }
    return p;
  }

  static void sgd(real* p, const real* g, std::size_t n, double lr_d) {
    const real lr = static_cast<real>(lr_d);
    for (std::size_t j = 0; j < n; ++j) p[j] -= lr * g[j];
  }

  // torch's momentum buffer: v = g on the first step, then v = v * mu + g.
  void torch_velocity(const real* g, real* v, std::size_t n) const {
    const real mu = static_cast<real>(config_.momentum);
    if (steps_ == 0) {
      for (std::size_t j = 0; j < n; ++j) v[j] = g[j];
    } else {
      for (std::size_t j = 0; j < n; ++j) v[j] = v[j] * mu + g[j];
    }
  }

  void momentum(real* p, const real* g, real* v, std::size_t n, double lr_d) const {
    const real lr = static_cast<real>(lr_d);
    switch (config_.form) {
      case Form::torch: {
        // One pass over p, v and g (torch_velocity, then p -= lr * v, value by value).
        const real mu = static_cast<real>(config_.momentum);
        if (steps_ == 0) {
          for (std::size_t j = 0; j < n; ++j) {
            v[j] = g[j];
            p[j] -= lr * v[j];
          }
        } else {
          for (std::size_t j = 0; j < n; ++j) {
            v[j] = v[j] * mu + g[j];
            p[j] -= lr * v[j];
          }
        }
        break;
      }
      case Form::ema: {
        const real b = static_cast<real>(config_.momentum);
        const real one_minus_b = static_cast<real>(1.0 - config_.momentum);
        for (std::size_t j = 0; j < n; ++j) v[j] = v[j] * b + one_minus_b * g[j];
        for (std::size_t j = 0; j < n; ++j) p[j] -= lr * v[j];
        break;
      }
      case Form::classic: {
        const real m = static_cast<real>(config_.momentum);
        for (std::size_t j = 0; j < n; ++j) v[j] = v[j] * m - lr * g[j];
        for (std::size_t j = 0; j < n; ++j) p[j] += v[j];
        break;
      }
    }
  }

  void nesterov(real* p, const real* g, real* v, std::size_t n, double lr_d) const {
    const real lr = static_cast<real>(lr_d);
    const real mu = static_cast<real>(config_.momentum);
    torch_velocity(g, v, n);
    for (std::size_t j = 0; j < n; ++j) p[j] -= lr * (g[j] + mu * v[j]);
  }

  void rmsprop(real* p, const real* g, real* v, std::size_t n, double lr_d) const {
    const real lr = static_cast<real>(lr_d);
    const real alpha = static_cast<real>(config_.alpha);
    const real one_minus_alpha = static_cast<real>(1.0 - config_.alpha);
    const real eps = static_cast<real>(config_.eps);
    for (std::size_t j = 0; j < n; ++j) {
      v[j] = v[j] * alpha + one_minus_alpha * g[j] * g[j];
      p[j] -= lr * g[j] / (std::sqrt(v[j]) + eps);
    }
  }

  void adam(real* p, const real* g, real* m, real* v, std::size_t n, double lr,
            std::uint64_t t) const {
    const double td = static_cast<double>(t);
    const double w_d = 1.0 - config_.beta1;  // exp_avg.lerp_(grad, 1 - beta1)
    const real w = static_cast<real>(w_d);
    const real one_minus_w = static_cast<real>(1.0 - w_d);
    const real b2 = static_cast<real>(config_.beta2);
    const real one_minus_b2 = static_cast<real>(1.0 - config_.beta2);
    const double bias_correction1 = 1.0 - std::pow(config_.beta1, td);
    const double bias_correction2 = 1.0 - std::pow(config_.beta2, td);
    const real step_size = static_cast<real>(lr / bias_correction1);
    const real bias_correction2_sqrt = static_cast<real>(std::sqrt(bias_correction2));
    const real eps = static_cast<real>(config_.eps);
    if (w_d < 0.5) {
      for (std::size_t j = 0; j < n; ++j) m[j] = m[j] + w * (g[j] - m[j]);
    } else {
      for (std::size_t j = 0; j < n; ++j) m[j] = g[j] - (g[j] - m[j]) * one_minus_w;
    }
    for (std::size_t j = 0; j < n; ++j) {
      v[j] = v[j] * b2 + one_minus_b2 * g[j] * g[j];
      const real denom = std::sqrt(v[j]) / bias_correction2_sqrt + eps;
      p[j] -= step_size * m[j] / denom;
    }
  }

  OptimizerConfig config_;
  std::unique_ptr<Params> first_;   // velocity, rmsprop's v or adam's m
  std::unique_ptr<Params> second_;  // adam's v
  std::uint64_t steps_ = 0;
};

}  // namespace castnet
