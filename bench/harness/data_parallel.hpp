// A data-parallel SGD step over two threads for the suite's "generated 2T" row: each thread runs the
// generated train_step of a model planned for half the batch (castnet bench generates that shard)
// on its half of the rows, then each thread updates half of every tensor from the mean of the two
// gradients. The result equals one step over the whole batch, to float rounding.
#pragma once

#include <atomic>
#include <barrier>
#include <cstddef>
#include <memory>
#include <thread>

#include <castnet/model.hpp>

namespace castnet::bench {

template <GeneratedModel S>
class TwoThreadStep {
 public:
  using real = typename S::real;
  static constexpr std::size_t kBatch = 2 * S::kBatch;

  explicit TwoThreadStep(typename S::Params& params) : params_(params) {
    worker_ = std::thread([this] {
      for (;;) {
        sync_.arrive_and_wait();  // a step starts (or stop_)
        if (stop_.load(std::memory_order_relaxed)) return;
        shard(1);
      }
    });
  }
  ~TwoThreadStep() {
    stop_.store(true, std::memory_order_relaxed);
    sync_.arrive_and_wait();
    worker_.join();
  }
  TwoThreadStep(const TwoThreadStep&) = delete;
  TwoThreadStep& operator=(const TwoThreadStep&) = delete;

  // x (kBatch, kInputs), target (kBatch, kTargets): returns the mean loss over the whole batch.
  real step(const real* x, const real* target, real lr) {
    x_ = x;
    target_ = target;
    lr_ = lr;
    sync_.arrive_and_wait();
    shard(0);
    return (loss_[0] + loss_[1]) / 2;
  }

 private:
  void shard(int k) {
    const auto s = static_cast<std::size_t>(k);
    loss_[k] = S::train_step(params_, *ws_[k], x_ + s * S::kBatch * S::kInputs, target_ + s * S::kBatch * S::kTargets,
                             *grads_[k]);
    sync_.arrive_and_wait();  // both gradients are ready
    const auto p = S::tensors(params_);
    const auto g0 = S::tensors(static_cast<const typename S::Grads&>(*grads_[0]));
    const auto g1 = S::tensors(static_cast<const typename S::Grads&>(*grads_[1]));
    const real scale = lr_ / 2;
    for (std::size_t t = 0; t < S::kTensors.size(); ++t) {
      const std::size_t n = S::kTensors[t].size, begin = k ? n / 2 : 0, end = k ? n : n / 2;
      real* __restrict pt = p[t];
      const real* __restrict a = g0[t];
      const real* __restrict b = g1[t];
      for (std::size_t i = begin; i < end; ++i) pt[i] -= scale * (a[i] + b[i]);
    }
    sync_.arrive_and_wait();  // the update is complete
  }

  typename S::Params& params_;
  std::unique_ptr<typename S::Workspace> ws_[2] = {std::make_unique<typename S::Workspace>(),
                                                   std::make_unique<typename S::Workspace>()};
  std::unique_ptr<typename S::Grads> grads_[2] = {std::make_unique<typename S::Grads>(),
                                                  std::make_unique<typename S::Grads>()};
  const real* x_ = nullptr;
  const real* target_ = nullptr;
  real lr_ = 0;
  real loss_[2] = {};
  std::barrier<> sync_{2};
  std::atomic<bool> stop_{false};
  std::thread worker_;  // last: starts once everything above exists
};

}  // namespace castnet::bench
