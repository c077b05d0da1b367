// Full-batch L-BFGS over any generated model, for small data sets. One step() is one iteration:
//
//   1. f, g = evaluate(p): the loss and gradient at the current parameters (always the first call
//      of an iteration, so its loss is the loss before the step). If max |g| <= 1e-7 the point is
//      stationary (torch's tolerance_grad) and nothing moves.
//   2. Direction d: on the very first iteration steepest descent d = -g with initial step
//      t = min(1, 1 / |g|_1) * lr (as torch.optim.LBFGS). Afterwards the two-loop recursion over
//      the stored pairs (s_i, y_i), oldest i = 0, rho_i = 1 / (y_i . s_i), in torch's order:
//        q = -g;  for i newest..oldest: a_i = rho_i (s_i . q);  q -= a_i y_i
//        r = H q  with H = (s . y) / (y . y) of the newest pair (1 without pairs)
//        for i oldest..newest: b_i = rho_i (y_i . r);  r += (a_i - b_i) s_i;   d = r
//      and t = lr. If d is not a descent direction (g . d >= 0), d = -g.
//   3. Backtracking Armijo line search: accept the first t (halving, at most 20 tries) with
//      f(p + t d) <= f + c1 t (g . d), c1 = 1e-4. Then s = t d and y = g(p + t d) - g are stored
//      when y . s > 1e-10 (the oldest pair is dropped beyond `history`), and p moves. If no
//      t is accepted p stays and the history is cleared (the next iteration is steepest descent
//      with t = lr).
// Dot products and norms are accumulated in double; a_i, b_i, H, t are rounded to the model's
// real type before they touch a tensor. An iteration costs 1 + (line-search tries) evaluations.
//
// Checkpoints: state() always lists the same 2 * history buffers, "lbfgs_s0".."lbfgs_s<m-1>" and
// "lbfgs_y0".."lbfgs_y<m-1>", at fixed addresses for the optimizer's lifetime (they may be taken
// once). Slot k holds the k-th oldest pair (pairs are shifted down when the history is full, a
// copy of history Params per iteration, small beside a full-batch evaluation); slots beyond the
// stored pairs are all zeros: their y . s = 0 is below the 1e-10 every stored pair passes, so the
// number of stored pairs is recovered from the buffers themselves. steps() is the number of
// iterations taken. Nothing else carries over between iterations (f and g are evaluated afresh),
// so restoring the buffers into a fresh Lbfgs of the same config and then calling set_steps()
// (which recounts the pairs) continues bit-identically.
#pragma once

#include <castnet/error.hpp>
#include <castnet/model.hpp>
#include <castnet/train/optimizer.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace castnet {

template <GeneratedModel M>
class Lbfgs {
 public:
  using real = typename M::real;
  using Params = typename M::Params;
  using Grads = typename M::Grads;

  static constexpr double kArmijo = 1e-4;        // c1
  static constexpr int kLineSearchTries = 20;
  static constexpr double kCurvature = 1e-10;    // a pair is stored when y . s exceeds this
  static constexpr double kToleranceGrad = 1e-7; // max |g| at or below: stationary

  explicit Lbfgs(const OptimizerConfig& config) : config_(config) {
    if (config_.kind != OptimizerConfig::Kind::lbfgs) {
      throw Error(std::string("error: castnet::Lbfgs needs an lbfgs config, not ") +
                  to_string(config_.kind));
    }
    if (config_.history == 0) throw Error("error: lbfgs: history must be at least 1");
    const std::size_t m = config_.history;
    for (std::size_t k = 0; k < m; ++k) {
      s_.push_back(zeroed<Params>());
      y_.push_back(zeroed<Params>());
    }
    spare_s_ = zeroed<Params>();
    spare_y_ = zeroed<Params>();
    ys_.assign(m, 0.0);
    alpha_.assign(m, 0.0);
    d_ = zeroed<Params>();
    trial_ = zeroed<Params>();
    g_ = zeroed<Grads>();
    g_trial_ = zeroed<Grads>();
  }

  // One iteration; `evaluate(params, grads) -> double` computes the full-batch loss at params and
  // overwrites grads with its gradient. Returns the loss at the (new) parameters.
  template <class F>
  double step(Params& p, F&& evaluate) {
    const double f = static_cast<double>(evaluate(static_cast<const Params&>(p), *g_));
    const auto pt = M::tensors(p);
    const auto g = M::tensors(static_cast<const Grads&>(*g_));
    const auto d = M::tensors(*d_);

    double max_abs = 0, l1 = 0;
    each([&](std::size_t i, std::size_t j) {
      const double a = std::abs(static_cast<double>(g[i][j]));
      max_abs = std::max(max_abs, a);
      l1 += a;
    });
    if (!(max_abs > kToleranceGrad)) {
      ++steps_;
      return f;
    }

    double t = config_.lr;
    if (steps_ == 0) {
      each([&](std::size_t i, std::size_t j) { d[i][j] = -g[i][j]; });
      t = std::min(1.0, 1.0 / l1) * config_.lr;
    } else {
      two_loop();
    }
    double gtd = dot(g, d);
    if (!(gtd < 0)) {
      each([&](std::size_t i, std::size_t j) { d[i][j] = -g[i][j]; });
      gtd = dot(g, d);
    }

    const auto trial = M::tensors(*trial_);
    bool accepted = false;
    double f_trial = f;
    for (int k = 0; k < kLineSearchTries; ++k) {
      const real tr = static_cast<real>(t);
      each([&](std::size_t i, std::size_t j) { trial[i][j] = pt[i][j] + tr * d[i][j]; });
      f_trial = static_cast<double>(evaluate(static_cast<const Params&>(*trial_), *g_trial_));
      if (f_trial <= f + kArmijo * t * gtd) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }

    ++steps_;
    if (!accepted) {
      clear_history();
      return f;
    }
    const auto s = M::tensors(*spare_s_);
    const auto y = M::tensors(*spare_y_);
    const auto gn = M::tensors(static_cast<const Grads&>(*g_trial_));
    const real tr = static_cast<real>(t);
    each([&](std::size_t i, std::size_t j) {
      s[i][j] = tr * d[i][j];
      y[i][j] = gn[i][j] - g[i][j];
      pt[i][j] = trial[i][j];
    });
    push_pair();
    return f_trial;
  }

  std::vector<std::pair<std::string, Params*>> state() {
    std::vector<std::pair<std::string, Params*>> out;
    for (std::size_t k = 0; k < s_.size(); ++k) out.emplace_back("lbfgs_s" + std::to_string(k), s_[k].get());
    for (std::size_t k = 0; k < y_.size(); ++k) out.emplace_back("lbfgs_y" + std::to_string(k), y_[k].get());
    return out;
  }
  std::uint64_t steps() const { return steps_; }
  // After filling the state() buffers: sets the iteration count and recounts the stored pairs.
  void set_steps(std::uint64_t steps) {
    steps_ = steps;
    count_ = 0;
    for (std::size_t k = 0; k < s_.size(); ++k) {
      const double ys = pair_dot(*y_[k], *s_[k]);
      if (!(ys > kCurvature)) break;
      ys_[k] = ys;
      count_ = k + 1;
    }
  }
  std::size_t pairs() const { return count_; }  // stored (s, y) pairs, at most history
  const OptimizerConfig& config() const { return config_; }

 private:
  template <class T>
  static std::unique_ptr<T> zeroed() {
    auto x = std::make_unique<T>();
    const auto t = M::tensors(*x);
    for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
      for (std::size_t j = 0; j < M::kTensors[i].size; ++j) t[i][j] = real{0};
    }
    return x;
  }

  template <class F>
  static void each(F&& f) {
    for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
      for (std::size_t j = 0; j < M::kTensors[i].size; ++j) f(i, j);
    }
  }

  template <class A, class B>
  static double dot(const A& a, const B& b) {
    double sum = 0;
    each([&](std::size_t i, std::size_t j) {
      sum += static_cast<double>(a[i][j]) * static_cast<double>(b[i][j]);
    });
    return sum;
  }

  // d = -H g by the two-loop recursion (torch.optim.LBFGS's order).
  void two_loop() {
    const auto g = M::tensors(static_cast<const Grads&>(*g_));
    const auto d = M::tensors(*d_);
    each([&](std::size_t i, std::size_t j) { d[i][j] = -g[i][j]; });
    for (std::size_t k = count_; k-- > 0;) {
      const auto s = M::tensors(static_cast<const Params&>(*s_[k]));
      const auto y = M::tensors(static_cast<const Params&>(*y_[k]));
      alpha_[k] = dot(s, d) / ys_[k];
      const real a = static_cast<real>(alpha_[k]);
      each([&](std::size_t i, std::size_t j) { d[i][j] -= a * y[i][j]; });
    }
    if (count_ > 0) {
      const auto y = M::tensors(static_cast<const Params&>(*y_[count_ - 1]));
      const real h = static_cast<real>(ys_[count_ - 1] / dot(y, y));
      each([&](std::size_t i, std::size_t j) { d[i][j] *= h; });
    }
    for (std::size_t k = 0; k < count_; ++k) {
      const auto s = M::tensors(static_cast<const Params&>(*s_[k]));
      const auto y = M::tensors(static_cast<const Params&>(*y_[k]));
      const double beta = dot(y, d) / ys_[k];
      const real c = static_cast<real>(alpha_[k] - beta);
      each([&](std::size_t i, std::size_t j) { d[i][j] += c * s[i][j]; });
    }
  }

  // y . s of a pair: the same computation when a pair is stored and when a restore recounts.
  static double pair_dot(const Params& y, const Params& s) {
    return dot(M::tensors(y), M::tensors(s));
  }

  static void copy(const Params& from, Params& to) {
    const auto a = M::tensors(from);
    const auto b = M::tensors(to);
    each([&](std::size_t i, std::size_t j) { b[i][j] = a[i][j]; });
  }

  // Stores the candidate (spare) pair as the newest when its curvature y . s is positive enough.
  // The slots keep their addresses: when the history is full the pairs are shifted down.
  void push_pair() {
    const double ys = pair_dot(*spare_y_, *spare_s_);
    if (!(ys > kCurvature)) return;
    const std::size_t m = s_.size();
    if (count_ == m) {
      for (std::size_t k = 0; k + 1 < m; ++k) {
        copy(*s_[k + 1], *s_[k]);
        copy(*y_[k + 1], *y_[k]);
        ys_[k] = ys_[k + 1];
      }
      --count_;
    }
    copy(*spare_s_, *s_[count_]);
    copy(*spare_y_, *y_[count_]);
    ys_[count_] = ys;
    ++count_;
  }

  void clear_history() {
    for (std::size_t k = 0; k < count_; ++k) {
      const auto s = M::tensors(*s_[k]);
      const auto y = M::tensors(*y_[k]);
      each([&](std::size_t i, std::size_t j) { s[i][j] = y[i][j] = real{0}; });
      ys_[k] = 0;
    }
    count_ = 0;
  }

  OptimizerConfig config_;
  std::vector<std::unique_ptr<Params>> s_, y_;  // slot k = k-th oldest pair
  std::unique_ptr<Params> spare_s_, spare_y_;   // the candidate pair of this iteration (not state)
  std::vector<double> ys_;                      // y_k . s_k of the stored pairs
  std::vector<double> alpha_;                   // two-loop scratch
  std::unique_ptr<Params> d_, trial_;           // direction, trial point p + t d
  std::unique_ptr<Grads> g_, g_trial_;          // gradient at p, at the trial point
  std::size_t count_ = 0;
  std::uint64_t steps_ = 0;
};

}  // namespace castnet
