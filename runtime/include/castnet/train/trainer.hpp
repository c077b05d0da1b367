// The epoch loop. Each epoch visits every training row once, in an order reshuffled per epoch by a
// seeded Fisher-Yates (stream kShuffleStream + epoch, always starting from file order, so an
// epoch's order depends only on the seed, the epoch and the row count), in batches of kBatch; the
// last batch may be partial and is trained with n < kBatch rather than dropped. Per step: the
// train_step (dropout key step_key(seed, step)), the L2 penalty, gradient clipping, and the
// optimizer at the scheduled learning rate. L-BFGS instead takes one full-batch iteration per epoch.
//
// After an epoch (once `save_every` seconds have passed since the last save, and always after the
// last epoch) the weights, metrics.csv, curves.svg and, last, a checkpoint are written atomically,
// so a kill loses the epoch in progress and the epochs completed since the last save, which all
// ended within save_every seconds of it. Not every epoch by default: a save fsyncs four files,
// tens of milliseconds, which would dwarf epochs of a millisecond;
// a write that fails stops training with a castnet::Error naming the file and the last good
// checkpoint. With
// --resume the checkpoint restores parameters, optimizer state, counters and metrics, and the run
// continues bit for bit as if it had not stopped. A NaN or infinite loss (or non-finite weights
// when saving) stops training with a castnet::Error naming the epoch and batch and the last good
// checkpoint, which is left as it was. With early stopping, the best weights (lowest validation
// loss) are restored and saved at the end.
//
// Every step goes through a DataParallelStep (data_parallel.hpp): the batch may be shared among
// threads and among the ranks of an MPI job (Parallel). Under MPI the ranks first check that they
// run the same training (check_agreement), every rank trains, the weights are checked to be
// identical on all ranks after every epoch, and rank 0 alone writes files.
#pragma once

#include <castnet/train/checkpoint.hpp>
#include <castnet/train/collective.hpp>
#include <castnet/train/config.hpp>
#include <castnet/train/data_parallel.hpp>
#include <castnet/data/dataset.hpp>
#include <castnet/error.hpp>
#include <castnet/io/atomic_file.hpp>
#include <castnet/io/sha256.hpp>
#include <castnet/train/interrupt.hpp>
#include <castnet/train/lbfgs.hpp>
#include <castnet/train/loss_outputs.hpp>
#include <castnet/train/metrics.hpp>
#include <castnet/model.hpp>
#include <castnet/train/optimizer.hpp>
#include <castnet/train/plot.hpp>
#include <castnet/train/progress.hpp>
#include <castnet/train/run_identity.hpp>
#include <castnet/train/regularize.hpp>
#include <castnet/rng.hpp>
#include <castnet/train/schedule.hpp>
#include <castnet/io/weights.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace castnet {

// Where and how train() writes, besides the training settings.
struct TrainOutput {
  std::filesystem::path dir;     // receives the files named below
  double save_every = 1.0;       // seconds between saves; 0 saves after every epoch
  bool resume = false;           // continue from dir's checkpoint
  bool live = false;             // a live progress bar (a terminal) rather than one line per epoch
  std::map<std::string, std::string> metadata;  // added to the weights file (normalisation)
  RunIdentity identity;          // what a resume must match, and the ranks must agree on
  std::ostream* epoch_json = nullptr;  // each epoch's figures as a JSON line (--format json)
};

inline std::filesystem::path weights_file(const std::filesystem::path& dir) { return dir / "weights.safetensors"; }
inline std::filesystem::path metrics_file(const std::filesystem::path& dir) { return dir / "metrics.csv"; }
inline std::filesystem::path curves_file(const std::filesystem::path& dir) { return dir / "curves.svg"; }

// How a run is shared out (data_parallel.hpp). M is then planned for one worker's shard.
struct Parallel {
  std::size_t global_batch = 0;   // rows per step: the spec's batch; 0: M::kBatch
  std::size_t threads = 1;        // in this process
  Collective* group = nullptr;    // the ranks of an MPI job; null: this process alone

  // This process prints and writes the files: rank 0, or the only process.
  bool writes() const { return !group || group->rank() == 0; }
};

struct TrainResult {
  std::size_t epochs = 0;         // epochs completed (this run and any resumed one)
  bool stopped_early = false;
  std::size_t best_epoch = 0;     // with early stopping: the epoch whose weights were kept
};

// Loss and accuracy of a model over a data set, one forward_batch per batch.
struct Evaluation {
  double loss = 0;
  std::optional<double> accuracy;
  std::size_t correct = 0, scored = 0;
};

// Fisher-Yates over `order` with stream `epoch` of `seed`.
inline void shuffle_rows(std::vector<std::size_t>& order, std::uint64_t seed, std::size_t epoch) {
  rng::shuffle(order, seed, rng::kShuffleStream + epoch);
}

// Gathers consecutive batches of `data` in file order, calling on_batch(n) for each.
template <GeneratedModel M, class F>
void for_each_batch(const Dataset<typename M::real>& data, Batch<M>& batch, F&& on_batch) {
  std::vector<std::size_t> order(data.rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t first = 0; first < data.rows; first += M::kBatch) {
    const std::size_t n = std::min<std::size_t>(M::kBatch, data.rows - first);
    batch.gather(data, std::span(order).subspan(first, n));
    on_batch(n);
  }
}

template <GeneratedModel M>
Evaluation evaluate(const typename M::Params& params, const Dataset<typename M::real>& data) {
  const auto workspace = std::make_unique<typename M::Workspace>();
  const auto batch = std::make_unique<Batch<M>>();
  Evaluation e;
  double loss_sum = 0;
  for_each_batch<M>(data, *batch, [&](std::size_t n) {
    M::forward_batch(params, *workspace, batch->x.data(), batch->y.data());
    loss_sum += static_cast<double>(batch_loss<M>(batch->y.data(), batch->t.data(), n)) * static_cast<double>(n);
    e.correct += count_correct(M::kLoss, batch->y.data(), batch->t.data(), n, M::kOutputs);
    e.scored += scored_per_batch(M::kLoss, n, M::kOutputs);
  });
  e.loss = data.rows ? loss_sum / static_cast<double>(data.rows) : 0.0;
  if (has_accuracy(M::kLoss) && e.scored > 0) e.accuracy = static_cast<double>(e.correct) / static_cast<double>(e.scored);
  return e;
}

// Before the first step of an MPI job: throws castnet::Error naming the ranks that do not run the
// same spec, data (files by size and SHA-256), settings (workers, --epochs and every training
// setting) or resume epoch as rank 0. Any of these differing would hang the collectives or train
// replicas apart. Every rank gathers the same values, so every rank stops.
inline void check_agreement(Collective& group, std::string_view spec_sha256, const RunIdentity& identity,
                            std::size_t epochs, std::size_t resume_epoch) {
  std::string data, settings = "epochs\t" + std::to_string(epochs) + '\n';
  for (const RunSetting& s : identity) (s.file.empty() ? settings : data) += s.name + '\t' + s.value + '\n';
  const auto hash = [](std::string_view text) {  // the first 64 bits of its SHA-256
    return std::stoull(io::sha256_hex(text).substr(0, 16), nullptr, 16);
  };
  std::string lines;
  const auto compare = [&](const std::string& what, const std::vector<std::uint64_t>& values, const std::string& why) {
    std::string differ;
    for (std::size_t r = 1; r < values.size(); ++r)
      if (values[r] != values[0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
    if (!differ.empty()) lines += "  " + what + ": rank(s) " + differ + " differ from rank 0" + why + '\n';
  };
  compare("spec", group.gather(hash(spec_sha256)), " (the spec file's SHA-256)");
  compare("data", group.gather(hash(data)), " (the data files' sizes and SHA-256)");
  compare("settings", group.gather(hash(settings)), " (--threads, --epochs or a training setting)");
  const std::vector<std::uint64_t> epoch = group.gather(resume_epoch);
  if (std::adjacent_find(epoch.begin(), epoch.end(), std::not_equal_to<>()) != epoch.end()) {
    lines += "  resume epoch:";
    for (std::size_t r = 0; r < epoch.size(); ++r)
      lines += (r ? ", rank " : " rank ") + std::to_string(r) + " after epoch " + std::to_string(epoch[r]);
    lines += '\n';
  }
  if (!lines.empty())
    throw Error("error: the " + std::to_string(group.size()) + " ranks of this MPI job do not run the same training:\n" +
                lines + "start every rank with the same spec, data files and settings, resuming from one checkpoint");
}

namespace detail {

template <GeneratedModel M>
bool all_finite(const typename M::Params& params) {
  const auto pointers = M::tensors(params);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i)
    for (std::size_t j = 0; j < M::kTensors[i].size; ++j)
      if (!std::isfinite(pointers[i][j])) return false;
  return true;
}

// One epoch's counters for the progress bar and metrics.
struct EpochTally {
  double loss_sum = 0;  // sum over batches of mean loss * rows
  std::size_t rows = 0, correct = 0, scored = 0;
  double loss() const { return rows ? loss_sum / static_cast<double>(rows) : 0.0; }
  std::optional<double> accuracy() const {
    if (scored == 0) return std::nullopt;
    return static_cast<double>(correct) / static_cast<double>(scored);
  }
};

template <GeneratedModel M>
class Trainer {
 public:
  using real = typename M::real;
  using Params = typename M::Params;

  Trainer(Params& params, const Dataset<real>& data, const Dataset<real>* validation,
          const TrainConfig& config, const TrainOutput& out, std::ostream& log, const Parallel& parallel)
      : params_(params), data_(data), validation_(validation && validation->rows ? validation : nullptr),
        config_(config), out_(out), log_(log),
        group_(parallel.group && parallel.group->size() > 1 ? parallel.group : nullptr),
        writer_(parallel.writes()),
        step_(parallel.global_batch ? parallel.global_batch : M::kBatch, parallel.threads, parallel.group) {
    if (config_.optimizer.kind == OptimizerConfig::Kind::lbfgs) {
      lbfgs_ = std::make_unique<Lbfgs<M>>(config_.optimizer);
      buffers_ = lbfgs_->state();
    } else {
      optimizer_ = std::make_unique<Optimizer<M>>(config_.optimizer);
      buffers_ = optimizer_->state();
      // Nothing between the gradient and the update: the model applies it as it makes the gradient.
      fused_ = optimizer_->fusable() && step_.can_fuse() && config_.l2 == 0 && config_.clip_norm == 0;
    }
    if (config_.early_stopping > 0) {
      best_ = std::make_unique<Params>();
      buffers_.emplace_back("best", best_.get());
    }
  }

  TrainResult run() {
    if (writer_) {  // what an earlier run killed mid-write left behind
      for (const auto& file : {weights_file(out_.dir), metrics_file(out_.dir), curves_file(out_.dir),
                               checkpoint_file(out_.dir)})
        io::remove_stale_temporaries(file);
    }
    const bool resumed = out_.resume && std::filesystem::exists(checkpoint_file(out_.dir));
    if (out_.resume && !resumed)
      log_ << "no checkpoint in " << out_.dir.string() << " to resume from: training from the start\n";
    if (resumed) {
      load_checkpoint<M>(checkpoint_file(out_.dir), params_, buffers_, progress_, out_.identity);
      if (optimizer_) optimizer_->set_steps(progress_.optimizer_steps);
      if (lbfgs_) lbfgs_->set_steps(progress_.optimizer_steps);
      saved_epoch_ = progress_.epoch;
      log_ << "resuming " << checkpoint_file(out_.dir).string() << " after epoch " << progress_.epoch << '\n';
    }
    if (group_) check_agreement(*group_, spec_sha256<M>(), out_.identity, config_.epochs, progress_.epoch);
    const std::size_t batch = step_.global_batch();
    const std::size_t steps_per_epoch = std::max<std::size_t>(1, (data_.rows + batch - 1) / batch);
    Progress bar(log_, out_.live, config_.epochs, lbfgs_ ? 1 : steps_per_epoch);
    TrainResult result;
    auto last_save = std::chrono::steady_clock::now();
    bool stop = progress_.epoch >= config_.epochs ||
                (config_.early_stopping > 0 && progress_.bad_epochs >= config_.early_stopping);
    while (!stop) {
      const std::size_t epoch = progress_.epoch + 1;
      const auto start = std::chrono::steady_clock::now();
      EpochTally tally;
      double lr = 0;
      if (lbfgs_) {
        lr = config_.optimizer.lr;
        lbfgs_epoch(epoch, tally);
        if (interrupt_requested()) interrupted(epoch, 1, 1);
      } else {
        lr = sgd_epoch(epoch, steps_per_epoch, tally, bar);
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      EpochStats stats;
      stats.epoch = epoch;
      stats.loss = tally.loss();
      stats.accuracy = tally.accuracy();
      stats.lr = lr;
      stats.seconds = seconds;
      stats.samples_per_s = seconds > 0 ? static_cast<double>(data_.rows) / seconds : 0.0;
      if (validation_) {
        const Evaluation v = evaluate<M>(params_, *validation_);
        stats.val_loss = v.loss;
        stats.val_accuracy = v.accuracy;
        track_best(epoch, v.loss);
      }
      if (group_) check_replicas<M>(*group_, params_, epoch);
      progress_.epoch = epoch;
      progress_.metrics.append(stats);
      bar.epoch_done(stats);
      if (out_.epoch_json) *out_.epoch_json << epoch_json(stats, config_.epochs) << '\n' << std::flush;

      stop = epoch >= config_.epochs;
      if (config_.early_stopping > 0 && progress_.bad_epochs >= config_.early_stopping) {
        stop = true;
        result.stopped_early = true;
        log_ << "early stopping: the validation loss has not improved for " << progress_.bad_epochs
             << " epochs; keeping the weights of epoch " << progress_.best_epoch << '\n';
      }
      const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save).count();
      if (stop || since >= out_.save_every) {
        save(epoch);
        last_save = std::chrono::steady_clock::now();
      }
    }
    if (best_ && progress_.best_epoch > 0) {
      params_ = *best_;  // the lowest validation loss, not the last epoch
      if (writer_) save_weights<M>(weights_file(out_.dir), params_, weights_meta(progress_.best_epoch));
      result.best_epoch = progress_.best_epoch;
    }
    result.epochs = progress_.epoch;
    return result;
  }

 private:
  // One epoch of mini-batch steps; returns the learning rate of its last step.
  double sgd_epoch(std::size_t epoch, std::size_t steps_per_epoch, EpochTally& tally, Progress& bar) {
    std::vector<std::size_t> order(data_.rows);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (config_.shuffle) shuffle_rows(order, config_.seed, epoch);
    const std::size_t batch = step_.global_batch();
    double lr = 0;
    for (std::size_t first = 0, b = 1; first < data_.rows; first += batch, ++b) {
      const std::size_t n = std::min(batch, data_.rows - first);
      lr = scheduled_lr(config_.schedule, config_.optimizer.lr, epoch - 1, progress_.step, steps_per_epoch,
                        config_.epochs);
      // The accuracy is that of the outputs before this batch's update, as the loss is.
      const auto rows = std::span(order).subspan(first, n);
      const std::uint64_t key = rng::step_key(config_.seed, progress_.step);
      const InputNoise noise{config_.input_noise, config_.seed, progress_.step};
      const auto totals = fused_ ? step_.compute_update(params_, data_, rows, key, noise, *optimizer_, lr)
                                 : step_.compute(params_, data_, rows, key, noise);
      double loss = totals.loss;
      tally.correct += totals.correct;
      tally.scored += totals.scored;
      if (config_.l2 > 0) loss += add_l2<M>(params_, step_.grads(), config_.l2);
      if (!std::isfinite(loss)) diverged(loss, epoch, b);
      if (!fused_) {
        if (config_.clip_norm > 0) clip_grad_norm<M>(step_.grads(), config_.clip_norm);
        step_.update(*optimizer_, params_, lr);
      }
      ++progress_.step;
      tally.loss_sum += loss * static_cast<double>(n);
      tally.rows += n;
      bar.batch(epoch, b, tally.rows, tally.loss(), tally.accuracy());
      if (interrupt_requested()) interrupted(epoch, b, steps_per_epoch);
    }
    progress_.optimizer_steps = optimizer_->steps();
    return lr;
  }

  // One L-BFGS iteration on the full training set (the loss reported is the one before it).
  void lbfgs_epoch(std::size_t epoch, EpochTally& tally) {
    const std::uint64_t key = rng::step_key(config_.seed, progress_.step);
    std::vector<std::size_t> order(data_.rows);
    std::iota(order.begin(), order.end(), std::size_t{0});
    const std::size_t batch = step_.global_batch();
    bool first = true;
    auto evaluate_all = [&](const Params& p, typename M::Grads& g) -> double {
      const auto gs = M::tensors(g);
      for (std::size_t i = 0; i < M::kTensors.size(); ++i) std::fill_n(gs[i], M::kTensors[i].size, real(0));
      const auto bs = M::tensors(static_cast<const typename M::Grads&>(step_.grads()));
      double loss = 0;
      std::size_t correct = 0, scored = 0;
      for (std::size_t start = 0; start < data_.rows; start += batch) {  // file order
        const std::size_t n = std::min(batch, data_.rows - start);
        const auto totals = step_.compute(p, data_, std::span(order).subspan(start, n), key);
        const double w = static_cast<double>(n) / static_cast<double>(data_.rows);
        loss += w * totals.loss;
        for (std::size_t i = 0; i < M::kTensors.size(); ++i)
          for (std::size_t j = 0; j < M::kTensors[i].size; ++j) gs[i][j] += static_cast<real>(w) * bs[i][j];
        correct += totals.correct;
        scored += totals.scored;
      }
      if (config_.l2 > 0) loss += add_l2<M>(p, g, config_.l2);
      if (first) {  // the statistics of the weights the iteration starts from
        tally.loss_sum = loss * static_cast<double>(data_.rows);
        tally.rows = data_.rows;
        tally.correct = correct;
        tally.scored = scored;
        first = false;
        if (!std::isfinite(loss)) diverged(loss, epoch, 1);
      }
      return loss;  // a non-finite trial point of the line search is rejected there, not fatal
    };
    lbfgs_->step(params_, evaluate_all);
    ++progress_.step;
    progress_.optimizer_steps = lbfgs_->steps();
  }

  void track_best(std::size_t epoch, double val_loss) {
    if (!best_) return;
    if (val_loss < progress_.best_loss) {
      progress_.best_loss = val_loss;
      progress_.best_epoch = epoch;
      progress_.bad_epochs = 0;
      *best_ = params_;
    } else {
      ++progress_.bad_epochs;
    }
  }

  std::map<std::string, std::string> weights_meta(std::size_t epoch) const {
    auto meta = weights_metadata<M>(epoch);
    meta.insert(out_.metadata.begin(), out_.metadata.end());
    return meta;
  }

  std::string last_good() const {
    if (saved_epoch_ == 0) return "no checkpoint was written";
    return "the last good checkpoint is " + checkpoint_file(out_.dir).string() + " (epoch " +
           std::to_string(saved_epoch_) + ", intact; continue with --resume)";
  }

  // Ctrl-C (interrupt.hpp): the batch in progress is done, the epoch is not.
  [[noreturn]] void interrupted(std::size_t epoch, std::size_t batch, std::size_t batches) const {
    throw Interrupted("interrupted (Ctrl-C) in epoch " + std::to_string(epoch) + " after batch " +
                      std::to_string(batch) + " of " + std::to_string(batches) + "; " + last_good());
  }

  [[noreturn]] void diverged(double loss, std::size_t epoch, std::size_t batch) const {
    throw Error("error: loss is " + std::string(std::isnan(loss) ? "nan" : "inf") + " at epoch " +
                std::to_string(epoch) + " batch " + std::to_string(batch) + "; " + last_good() +
                "; try a lower learning rate or gradient clipping (clip_norm)");
  }

  void save(std::size_t epoch) {
    // The last step of an epoch can overflow the weights without any loss having shown it yet.
    if (!all_finite<M>(params_))
      throw Error("error: weights are not finite after epoch " + std::to_string(epoch) + "; " + last_good());
    if (writer_) {
      // The checkpoint goes last: once it says epoch N, every file of epoch N is written. A run
      // killed between two of these writes redoes the epoch on --resume, which rewrites the same
      // bytes. A write that fails (disk full, read-only directory) stops training, its message
      // saying what is on disk: going on would spend epochs that could not be kept.
      try {
        save_weights<M>(weights_file(out_.dir), params_, weights_meta(epoch));
        io::write_file_atomic(metrics_file(out_.dir), progress_.metrics.csv());
        write_curves(curves_file(out_.dir), progress_.metrics.epochs(), M::kName);
        save_checkpoint<M>(checkpoint_file(out_.dir), params_, buffers_, progress_, out_.identity);
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + "\ntraining stopped after epoch " + std::to_string(epoch) +
                    "; " + last_good());
      }
    }
    saved_epoch_ = epoch;
  }

  Params& params_;
  const Dataset<real>& data_;
  const Dataset<real>* validation_;
  const TrainConfig& config_;
  const TrainOutput& out_;
  std::ostream& log_;
  Collective* const group_;  // null unless there are several ranks
  const bool writer_;        // this process writes the files (rank 0)
  DataParallelStep<M> step_;  // the buffers of the steps, allocated once
  std::unique_ptr<Optimizer<M>> optimizer_;
  bool fused_ = false;  // steps by compute_update (data_parallel.hpp)
  std::unique_ptr<Lbfgs<M>> lbfgs_;
  std::unique_ptr<Params> best_;
  ParamBuffers<M> buffers_;
  TrainProgress progress_;
  std::size_t saved_epoch_ = 0;
};

}  // namespace detail

// Trains `params` (initialised or loaded by the caller) on `data`, watching `validation` (null or
// empty: none). Writes into out.dir; progress goes to `log`. `parallel` shares the steps out.
template <GeneratedModel M>
TrainResult train(typename M::Params& params, const Dataset<typename M::real>& data,
                  const Dataset<typename M::real>* validation, const TrainConfig& config,
                  const TrainOutput& out, std::ostream& log, const Parallel& parallel = {}) {
  return detail::Trainer<M>(params, data, validation, config, out, log, parallel).run();
}

}  // namespace castnet
