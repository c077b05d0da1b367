// Data-parallel training steps: the trainer's engine for every run, on one thread or many, in one
// process or in each rank of an MPI job (collective.hpp).
//
// A global batch of B rows (the spec's batch) is split among W = threads x ranks workers. The model
// M is planned for one worker's shard: M::kBatch >= ceil(B / W) (the CLI generates it so; with W = 1
// it is the spec's model). Worker w = rank * threads + thread takes the rows [w * M::kBatch,
// (w + 1) * M::kBatch) of the global batch, fewer (or none) at its end. Each worker runs train_step
// on its rows with the step's dropout key and the index of its first row, so it draws the masks one
// train_step over the whole batch would. The gradient of the mean loss over the global batch's n
// rows is the sum over workers of (n_w / n) g_w: added in worker order within a process (the
// threads split the tensors, so the result does not depend on timing), then over the ranks by one
// Collective::sum of the flat gradient buffer, the loss and the accuracy counts riding along. Every
// rank then applies the same element-wise update, shared among its threads. All of this equals one
// train_step over the whole batch to float rounding, and is deterministic for a given split.
//
// Every rank reads the whole data set and draws the same shuffled order from the seed; each gathers
// only its own rows.
#pragma once

#include <castnet/train/collective.hpp>
#include <castnet/data/dataset.hpp>
#include <castnet/error.hpp>
#include <castnet/train/loss_outputs.hpp>
#include <castnet/train/model_view.hpp>
#include <castnet/model.hpp>
#include <castnet/train/optimizer.hpp>
#include <castnet/rng.hpp>
#include <castnet/train/worker_pool.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace castnet {

// Gaussian noise added to the inputs of a step (denoising autoencoders): standard deviation sigma,
// drawn from stream (seed, kNoiseStream + step) in the order of the global batch's values.
struct InputNoise {
  double sigma = 0;
  std::uint64_t seed = 0, step = 0;
};

template <GeneratedModel M>
class DataParallelStep {
 public:
  using real = typename M::real;
  using Params = typename M::Params;
  using Grads = typename M::Grads;

  // Over the global batch.
  struct Totals {
    double loss = 0;  // the mean loss over its rows
    std::size_t correct = 0, scored = 0;
  };

  // group: null for one process. Throws castnet::Error when W workers of M::kBatch rows cannot hold
  // the global batch.
  DataParallelStep(std::size_t global_batch, std::size_t threads, Collective* group)
      : global_batch_(global_batch),
        ranks_(group ? group->size() : 1),
        rank_(group ? group->rank() : 0),
        group_(ranks_ > 1 ? group : nullptr),
        pool_(threads),
        reduced_(std::make_unique<Reduced>()) {
    const std::size_t workers = ranks_ * pool_.size();
    if (M::kBatch * workers < global_batch_)
      throw Error("error: " + std::to_string(workers) + " workers (" + std::to_string(pool_.size()) + " threads x " +
                  std::to_string(ranks_) + " processes) of " + std::to_string(M::kBatch) +
                  " rows cannot hold the batch of " + std::to_string(global_batch_) +
                  ": this runner was built for fewer workers");
    workers_.resize(pool_.size());
    active_.reserve(pool_.size());
    weights_.reserve(pool_.size());
    for (std::size_t k = 0; k < workers_.size(); ++k) {
      workers_[k].ws = std::make_unique<typename M::Workspace>();
      workers_[k].batch = std::make_unique<Batch<M>>();
      if (k > 0) workers_[k].grads = std::make_unique<Grads>();  // worker 0 writes into the sum
    }
  }

  std::size_t global_batch() const noexcept { return global_batch_; }

  // The loss over `rows` of `data` (at most the global batch; this order is the batch's) and its
  // gradient into grads(). Outputs of each worker's train_step stay in its workspace.
  Totals compute(const Params& p, const Dataset<real>& data, std::span<const std::size_t> rows, std::uint64_t key,
                 const InputNoise& noise = {}) {
    const std::size_t n = rows.size(), threads = pool_.size();
    for (std::size_t k = 0; k < threads; ++k) {
      Worker& w = workers_[k];
      w.first = std::min(n, (rank_ * threads + k) * M::kBatch);
      w.n = std::min(M::kBatch, n - w.first);
      w.batch->gather(data, rows.subspan(w.first, w.n));
    }
    if (noise.sigma > 0) add_noise(noise, n);
    active_.clear();
    weights_.clear();
    for (std::size_t k = 0; k < threads; ++k)
      if (workers_[k].n > 0) {
        active_.push_back(k);
        weights_.push_back(static_cast<real>(static_cast<double>(workers_[k].n) / static_cast<double>(n)));
      }
    pool_.run([&](std::size_t k) {
      Worker& w = workers_[k];
      if (w.n > 0) {
        w.loss = M::train_step(p, *w.ws, w.batch->x.data(), w.batch->t.data(), grads_of(k), w.n, key, w.first);
        if (has_accuracy(M::kLoss))
          w.correct = count_correct(M::kLoss, M::outputs(*w.ws), w.batch->t.data(), w.n, M::kOutputs);
      }
      pool_.sync();  // every worker's gradient is ready
      reduce_part(k);
    });
    Totals totals;
    for (const Worker& w : workers_) {
      if (w.n == 0) continue;
      totals.loss += static_cast<double>(w.loss) * static_cast<double>(w.n) / static_cast<double>(n);
      totals.correct += w.correct;
      totals.scored += has_accuracy(M::kLoss) ? scored_per_batch(M::kLoss, w.n, M::kOutputs) : 0;
    }
    if (group_) {
      real* const t = reduced_->totals;
      t[0] = static_cast<real>(totals.loss);
      t[1] = static_cast<real>(totals.correct);
      t[2] = static_cast<real>(totals.scored);
      const std::span<real> g = storage_of<M>(reduced_->grads);
      group_->sum(g.data(), g.size());
      group_->sum(t, 3);
      totals.loss = static_cast<double>(t[0]);
      totals.correct = static_cast<std::size_t>(t[1]);
      totals.scored = static_cast<std::size_t>(t[2]);
    }
    return totals;
  }

  // The gradient of the last compute() (not of a compute_update()).
  Grads& grads() noexcept { return reduced_->grads; }

  // Whether compute_update() can stand for compute() and update(): M has train_step_update, and
  // one worker takes the whole batch.
  bool can_fuse() const noexcept { return updates_in_step<M>() && pool_.size() == 1 && ranks_ == 1; }

  // compute(), then update(optimizer, p, lr), in one train_step_update (one worker, an optimizer
  // that is fusable(), nothing between the gradient and the update): each layer's parameters take
  // their update as their gradients are made, without a pass over a stored gradient. A loss that
  // is not finite leaves p and the optimizer as they were.
  Totals compute_update(Params& p, const Dataset<real>& data, std::span<const std::size_t> rows, std::uint64_t key,
                        const InputNoise& noise, Optimizer<M>& optimizer, double lr) {
    Worker& w = workers_[0];
    w.first = 0;
    w.n = rows.size();
    w.batch->gather(data, rows);
    if (noise.sigma > 0) add_noise(noise, w.n);
    real loss = std::numeric_limits<real>::quiet_NaN();
    if constexpr (UpdatesInStep<M>)
      loss = M::train_step_update(p, *w.ws, w.batch->x.data(), w.batch->t.data(), reduced_->grads,
                                  optimizer.velocity(), optimizer.fused(lr), w.n, key, 0);
    if (std::isfinite(loss)) optimizer.finish_step();
    Totals totals;
    totals.loss = static_cast<double>(loss);
    if (has_accuracy(M::kLoss)) {
      totals.correct = count_correct(M::kLoss, M::outputs(*w.ws), w.batch->t.data(), w.n, M::kOutputs);
      totals.scored = scored_per_batch(M::kLoss, w.n, M::kOutputs);
    }
    return totals;
  }

  // optimizer.step(p, grads(), lr), shared among the threads.
  void update(Optimizer<M>& optimizer, Params& p, double lr) {
    pool_.run([&](std::size_t k) { optimizer.update(p, grads(), lr, k, pool_.size()); });
    optimizer.finish_step();
  }

 private:
  struct Worker {
    std::unique_ptr<typename M::Workspace> ws;
    std::unique_ptr<Batch<M>> batch;
    std::unique_ptr<Grads> grads;
    std::size_t first = 0, n = 0;  // its rows of the global batch
    real loss = 0;
    std::size_t correct = 0;
  };
  // What is summed over the ranks: the gradient (as one array, padding included), and the totals.
  struct Reduced {
    Grads grads{};
    real totals[3] = {};
  };

  Grads& grads_of(std::size_t k) { return k == 0 ? reduced_->grads : *workers_[k].grads; }

  // Thread k's part of every tensor: grads() = sum over this process's workers of (n_w / n) g_w.
  void reduce_part(std::size_t k) {
    const std::size_t threads = pool_.size();
    if (threads == 1 && ranks_ == 1) return;  // one worker: its gradient already is the mean
    const auto sum = M::tensors(reduced_->grads);
    for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
      const std::size_t size = M::kTensors[i].size, begin = size * k / threads, end = size * (k + 1) / threads;
      real* const out = sum[i];
      if (active_.empty()) {
        std::fill(out + begin, out + end, real(0));
        continue;
      }
      // Worker 0's gradient is `out` itself when it has rows: each value is read before it is written.
      const real* const first = M::tensors(static_cast<const Grads&>(grads_of(active_[0])))[i];
      for (std::size_t j = begin; j < end; ++j) out[j] = weights_[0] * first[j];
      for (std::size_t a = 1; a < active_.size(); ++a) {
        const real* const g = M::tensors(static_cast<const Grads&>(grads_of(active_[a])))[i];
        const real w = weights_[a];
        for (std::size_t j = begin; j < end; ++j) out[j] += w * g[j];
      }
    }
  }

  // The noise of the global batch's values in order: the draws for other ranks' rows are skipped.
  void add_noise(const InputNoise& noise, std::size_t n) {
    rng::Xoshiro256ss draw(noise.seed, rng::kNoiseStream + noise.step);
    const std::size_t threads = pool_.size();
    for (std::size_t w = 0; w < ranks_ * threads; ++w) {
      const std::size_t first = std::min(n, w * M::kBatch), values = std::min(M::kBatch, n - first) * M::kInputs;
      const bool mine = w / threads == rank_;
      if (!mine && w / threads > rank_) break;
      real* x = mine ? workers_[w % threads].batch->x.data() : nullptr;
      for (std::size_t i = 0; i < values; ++i) {
        const auto v = static_cast<real>(noise.sigma * draw.normal());
        if (mine) x[i] += v;
      }
    }
  }

  const std::size_t global_batch_, ranks_, rank_;
  Collective* const group_;  // null unless there are several ranks
  WorkerPool pool_;
  std::vector<Worker> workers_;
  std::vector<std::size_t> active_;  // this step's workers with rows, in order
  std::vector<real> weights_;        // and their weights n_w / n
  std::unique_ptr<Reduced> reduced_;
};

// FNV-1a over the bytes of every tensor: equal weights give equal hashes on every machine.
template <GeneratedModel M>
std::uint64_t params_hash(const typename M::Params& params) {
  std::uint64_t h = 0xcbf29ce484222325u;
  const auto t = M::tensors(params);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(t[i]);
    for (std::size_t j = 0; j < M::kTensors[i].size * sizeof(typename M::real); ++j) {
      h ^= bytes[j];
      h *= 0x100000001b3u;
    }
  }
  return h;
}

// Throws castnet::Error naming the ranks whose weights differ from rank 0's after `epoch`.
template <GeneratedModel M>
void check_replicas(Collective& group, const typename M::Params& params, std::size_t epoch) {
  const std::vector<std::uint64_t> hashes = group.gather(params_hash<M>(params));
  std::string differ;
  for (std::size_t r = 1; r < hashes.size(); ++r)
    if (hashes[r] != hashes[0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  if (!differ.empty())
    throw Error("error: after epoch " + std::to_string(epoch) + " the weights of rank(s) " + differ +
                " differ from rank 0's (a hash of every tensor): the ranks no longer train one model; "
                "stopping. Were they all started with the same spec, data and --init?");
}

}  // namespace castnet
