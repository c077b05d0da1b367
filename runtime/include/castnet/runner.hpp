// The runner: the main() of the small program the castnet CLI compiles per spec,
//   int main(int argc, char** argv) { return castnet::run_model<xor_net::Model>(argc, argv); }
// Verbs (options in run_options.hpp):
//   train    initialise from --seed (or load --init), train, write DIR/weights.safetensors and
//            DIR/metrics.csv after epochs (trainer.hpp); one progress line per epoch on stdout
//   eval     "loss L" over the whole data set, and "accuracy P% (correct/total)" for classifiers
//   predict  a header row, then one comma-separated row of outputs per input row
// Exit codes (DESIGN.md): 0 success, 1 user error (castnet::Error: its message on stderr),
// 2 usage error (the problem and the usage on stderr).
#pragma once

#include <castnet/dataset.hpp>
#include <castnet/error.hpp>
#include <castnet/init.hpp>
#include <castnet/io/csv.hpp>
#include <castnet/loss_outputs.hpp>
#include <castnet/model.hpp>
#include <castnet/run_options.hpp>
#include <castnet/trainer.hpp>
#include <castnet/weights.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace castnet {
namespace detail {

// Gathers consecutive batches of `data` in file order into `batch`, calling on_batch(n) for each
// (n rows filled; the last batch may be partial).
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
void run_train(const RunOptions& o) {
  const auto data = dataset_from_csv<typename M::real>(io::read_csv(o.data), o.labels, M::kLoss,
                                                       M::kInputs, M::kOutputs);
  const auto params = std::make_unique<typename M::Params>();
  if (o.init.empty()) {
    init_params<M>(*params, o.seed);
  } else {
    load_weights<M>(o.init, *params);
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) throw Error(o.out.string() + ": error: cannot create the directory: " + ec.message());
  train<M>(*params, data,
           TrainOptions{o.epochs, o.optimizer, o.seed, o.shuffle, o.out, o.save_every}, std::cout);
  std::cout << "wrote " << weights_file(o.out).string() << " and " << metrics_file(o.out).string() << '\n';
}

// One forward pass per batch gives both the loss (castnet::losses, as train_step computes it)
// and the accuracy; no backward pass, no gradient buffers.
template <GeneratedModel M>
void run_eval(const RunOptions& o) {
  const auto data = dataset_from_csv<typename M::real>(io::read_csv(o.data), o.labels, M::kLoss,
                                                       M::kInputs, M::kOutputs);
  const auto params = std::make_unique<typename M::Params>();
  load_weights<M>(o.weights, *params);
  const auto workspace = std::make_unique<typename M::Workspace>();
  const auto batch = std::make_unique<Batch<M>>();
  double loss_sum = 0;
  std::size_t correct = 0, scored = 0;
  for_each_batch<M>(data, *batch, [&](std::size_t n) {
    M::forward_batch(*params, *workspace, batch->x.data(), batch->y.data());
    const auto loss = batch_loss<M>(batch->y.data(), batch->t.data(), n);
    loss_sum += static_cast<double>(loss) * static_cast<double>(n);
    correct += count_correct(M::kLoss, batch->y.data(), batch->t.data(), n, M::kOutputs);
    scored += scored_per_batch(M::kLoss, n, M::kOutputs);
  });
  char line[128];
  std::snprintf(line, sizeof line, "loss %.6g\n", loss_sum / static_cast<double>(data.rows));
  std::cout << line;
  if constexpr (has_accuracy(M::kLoss)) {
    std::snprintf(line, sizeof line, "accuracy %.2f%% (%zu/%zu)\n",
                  100.0 * static_cast<double>(correct) / static_cast<double>(scored), correct,
                  scored);
    std::cout << line;
  }
}

template <GeneratedModel M>
void run_predict(const RunOptions& o) {
  using real = typename M::real;
  const auto data = inputs_from_csv<real>(io::read_csv(o.input), o.labels, M::kInputs);
  const auto params = std::make_unique<typename M::Params>();
  load_weights<M>(o.weights, *params);
  const auto workspace = std::make_unique<typename M::Workspace>();
  const auto batch = std::make_unique<Batch<M>>();

  const char* const column = M::kLoss == Loss::mse ? "y" : "p";
  std::string text;
  for (std::size_t k = 0; k < M::kOutputs; ++k) {
    if (k) text += ',';
    text.append(column).append(std::to_string(k));
  }
  text += M::kLoss == Loss::softmax_cross_entropy ? ",class\n" : "\n";
  std::cout << text;

  std::array<real, M::kOutputs> values;
  for_each_batch<M>(data, *batch, [&](std::size_t n) {
    M::forward_batch(*params, *workspace, batch->x.data(), batch->y.data());
    text.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const real* y = batch->y.data() + i * M::kOutputs;
      output_values(M::kLoss, y, M::kOutputs, values.data());
      for (std::size_t k = 0; k < M::kOutputs; ++k) {
        char buf[32];  // shortest text that reads back as the same value
        if (k) text += ',';
        text.append(buf, std::to_chars(buf, buf + sizeof buf, values[k]).ptr);
      }
      if constexpr (M::kLoss == Loss::softmax_cross_entropy) {
        text += ',' + std::to_string(argmax(y, M::kOutputs));
      }
      text += '\n';
    }
    std::cout << text;
  });
}

}  // namespace detail

// Runs one verb of the runner's command line for model M; returns the process exit code.
template <GeneratedModel M>
int run_model(int argc, char** argv) {
  static_assert(M::kTargets == (M::kLoss == Loss::softmax_cross_entropy ? 1 : M::kOutputs),
                "kTargets must be 1 (a class index) for softmax_cross_entropy, else kOutputs");
  const std::string program =
      argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "runner";
  RunOptions options;
  try {
    options = parse_run_options(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << '\n' << run_usage(program);
    return 2;
  }
  try {
    switch (options.verb) {
      case RunOptions::Verb::train: detail::run_train<M>(options); break;
      case RunOptions::Verb::eval: detail::run_eval<M>(options); break;
      case RunOptions::Verb::predict: detail::run_predict<M>(options); break;
      case RunOptions::Verb::help: std::cout << run_usage(program); break;
    }
    return 0;
  } catch (const Error& e) {
    std::cerr << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    // Not a castnet::Error, e.g. out of memory for a large data set: still a clean exit 1.
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace castnet
