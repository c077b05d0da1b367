// The epoch loop. Each epoch visits every sample once, in an order reshuffled per epoch by a
// seeded Fisher-Yates (stream kShuffleStream + epoch, always starting from file order, so an
// epoch's order depends only on the seed, the epoch and the row count), in batches of kBatch; the
// last batch may be partial and is trained with n < kBatch rather than dropped.
// The weights and metrics.csv are written atomically after an epoch once `save_every` seconds
// have passed since the last save, and always after the last epoch: every epoch of a real data
// set, but not every one of a toy problem whose epochs take microseconds, where two fsynced
// writes (~30 ms) would dominate the run. A NaN or infinite batch loss (or non-finite weights
// when saving) stops training with a castnet::Error that says where it happened and which saved
// weights are the last good ones; the files already written are left as they were.
#pragma once

#include <castnet/dataset.hpp>
#include <castnet/error.hpp>
#include <castnet/io/atomic_file.hpp>
#include <castnet/loss_outputs.hpp>
#include <castnet/metrics.hpp>
#include <castnet/model.hpp>
#include <castnet/optimizer.hpp>
#include <castnet/rng.hpp>
#include <castnet/weights.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numeric>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace castnet {

struct TrainOptions {
  std::size_t epochs = 1;
  OptimizerConfig optimizer;
  std::uint64_t seed = 0;  // drives the shuffles (initialisation is the caller's)
  bool shuffle = true;     // false keeps file order
  std::filesystem::path out_dir;  // receives weights.safetensors and metrics.csv
  double save_every = 1.0;        // seconds between saves; 0 saves after every epoch
};

// What train() writes into its output directory.
inline std::filesystem::path weights_file(const std::filesystem::path& out_dir) { return out_dir / "weights.safetensors"; }
inline std::filesystem::path metrics_file(const std::filesystem::path& out_dir) { return out_dir / "metrics.csv"; }

// Fisher-Yates over `order` with stream `epoch` of `seed`.
inline void shuffle_rows(std::vector<std::size_t>& order, std::uint64_t seed, std::size_t epoch) {
  rng::Xoshiro256ss draw(seed, rng::kShuffleStream + epoch);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[draw.below(i)]);
}

namespace detail {

inline std::string last_good_weights(const std::filesystem::path& weights, std::size_t epoch) {
  if (epoch == 0) return "no weights were written";
  return "last good weights: " + weights.string() + " (epoch " + std::to_string(epoch) + ")";
}

template <GeneratedModel M>
bool all_finite(typename M::Params& params) {
  const auto pointers = M::tensors(params);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    for (std::size_t j = 0; j < M::kTensors[i].size; ++j) {
      if (!std::isfinite(pointers[i][j])) return false;
    }
  }
  return true;
}

}  // namespace detail

// Trains `params` (already initialised or loaded) on `data`, printing one progress line per epoch.
template <GeneratedModel M>
void train(typename M::Params& params, const Dataset<typename M::real>& data,
           const TrainOptions& options, std::ostream& progress) {
  using clock = std::chrono::steady_clock;
  const auto workspace = std::make_unique<typename M::Workspace>();
  const auto grads = std::make_unique<typename M::Grads>();
  const auto batch = std::make_unique<Batch<M>>();
  Optimizer<M> optimizer(options.optimizer);
  const std::filesystem::path weights_path = weights_file(options.out_dir);
  const std::filesystem::path metrics_path = metrics_file(options.out_dir);
  MetricsLog metrics;
  std::vector<std::size_t> order(data.rows);
  std::size_t saved_epoch = 0;
  auto last_save = clock::now();

  for (std::size_t epoch = 1; epoch <= options.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options.shuffle) shuffle_rows(order, options.seed, epoch);
    double loss_sum = 0;  // sum over batches of mean loss * rows: the epoch's sample-weighted mean
    std::size_t correct = 0, scored = 0;
    const auto start = clock::now();
    for (std::size_t first = 0, b = 1; first < data.rows; first += M::kBatch, ++b) {
      const std::size_t n = std::min<std::size_t>(M::kBatch, data.rows - first);
      batch->gather(data, std::span(order).subspan(first, n));
      const auto loss = M::train_step(params, *workspace, batch->x.data(), batch->t.data(),
                                      *grads, n);
      if constexpr (has_accuracy(M::kLoss)) {
        // The outputs train_step computed, before this batch's update (as the loss is).
        correct += count_correct(M::kLoss, M::outputs(*workspace), batch->t.data(), n, M::kOutputs);
        scored += scored_per_batch(M::kLoss, n, M::kOutputs);
      }
      if (!std::isfinite(loss)) {
        throw Error("error: loss is " + std::string(std::isnan(loss) ? "nan" : "inf") +
                    " at epoch " + std::to_string(epoch) + " batch " + std::to_string(b) + "; " +
                    detail::last_good_weights(weights_path, saved_epoch));
      }
      optimizer.step(params, *grads);
      loss_sum += static_cast<double>(loss) * static_cast<double>(n);
    }
    const auto end = clock::now();
    const double seconds = std::chrono::duration<double>(end - start).count();
    EpochStats stats;
    stats.epoch = epoch;
    stats.loss = loss_sum / static_cast<double>(data.rows);
    if (scored > 0) stats.accuracy = static_cast<double>(correct) / static_cast<double>(scored);
    stats.seconds = seconds;
    stats.samples_per_s = static_cast<double>(data.rows) / seconds;
    metrics.append(stats);
    progress << progress_line(stats, options.epochs) << std::endl;  // flushed: a live progress bar

    if (epoch == options.epochs ||
        std::chrono::duration<double>(end - last_save).count() >= options.save_every) {
      // The last step of an epoch can overflow the weights without any loss having shown it yet.
      if (!detail::all_finite<M>(params)) {
        throw Error("error: weights are not finite after epoch " + std::to_string(epoch) + "; " +
                    detail::last_good_weights(weights_path, saved_epoch));
      }
      save_weights<M>(weights_path, params, weights_metadata<M>(epoch));
      io::write_file_atomic(metrics_path, metrics.csv());
      saved_epoch = epoch;
      last_save = clock::now();
    }
  }
}

}  // namespace castnet
