// The runner's verbs for any GeneratedModel, as the runner's main() calls them through run_model
// (runner.hpp); libcastnet_runtime compiles them once for ErasedModel<float> and <double>.
// Verbs (options in run_options.hpp):
//   train    load and split the data, fit the normalisation on the training rows, initialise from
//            --seed (or load --init; or --resume), train (trainer.hpp), and report the --test set
//   eval     "loss L" over the whole data set, "accuracy P% (correct/total)" and a confusion matrix
//            for classifiers; --images draws inputs beside outputs (autoencoders)
//   predict  a header row, then one comma-separated row of outputs per input row
//   landscape  the loss (and accuracy) on a grid around the weights along two filter-normalised
//            random directions (landscape.hpp): landscape.csv, .svg, _slice.svg and the
//            directions (directions.safetensors) in --out; prints where the minimum lies
// eval and predict normalise inputs as training did, from the weights file's metadata.
// Data-parallel training (--threads N, and mpirun for runners built with Sharding::connect) shares
// each batch of the spec's size among workers running M, the spec planned for one worker's shard
// (data_parallel.hpp). Under MPI only rank 0 prints and writes; an error on any rank ends the job.
// Exit codes (DESIGN.md): 0 success, 1 user error (castnet::Error: its message on stderr),
// 2 usage error (the problem and the usage on stderr).
#pragma once

#include <castnet/train/collective.hpp>
#include <castnet/data/data.hpp>
#include <castnet/data/dataset.hpp>
#include <castnet/error.hpp>
#include <castnet/train/init.hpp>
#include <castnet/train/interrupt.hpp>
#include <castnet/train/landscape.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/data/csv.hpp>
#include <castnet/io/json.hpp>
#include <castnet/io/png.hpp>
#include <castnet/train/loss_outputs.hpp>
#include <castnet/model.hpp>
#include <castnet/data/normalize.hpp>
#include <castnet/train/run_identity.hpp>
#include <castnet/train/run_options.hpp>
#include <castnet/train/runner.hpp>
#include <castnet/train/report.hpp>
#include <castnet/train/trainer.hpp>
#include <castnet/io/weights.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace castnet {

namespace detail {

// "loss 0.0123", then for classifiers "accuracy 98.40% (9840/10000)" and "error 1.60%".
inline std::string evaluation_json(const Evaluation& e) {
  return json::Object()
      .add("loss", json::num(e.loss))
      .add("accuracy", json::num(e.accuracy))
      .add("correct", e.accuracy ? std::to_string(e.correct) : "null")
      .add("scored", e.accuracy ? std::to_string(e.scored) : "null")
      .text();
}

inline void print_evaluation(const std::string& what, const Evaluation& e) {
  char line[160];
  std::snprintf(line, sizeof line, "%sloss %.6g\n", what.c_str(), e.loss);
  std::cout << line;
  if (e.accuracy) {
    std::snprintf(line, sizeof line, "%saccuracy %.2f%% (%zu/%zu), error %.2f%%\n", what.c_str(), 100.0 * *e.accuracy,
                  e.correct, e.scored, 100.0 * (1.0 - *e.accuracy));
    std::cout << line;
  }
}

// The metadata key of the CSV input column names a model was trained on, joined by commas (which
// no column name holds).
inline constexpr const char* kInputColumnsKey = "castnet_input_columns";

inline std::string join_columns(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ",") + n;
  return text;
}

// What weights bring besides the parameters: the normalisation and the input columns they were
// trained on (empty: not from a CSV, or weights from before castnet recorded them).
struct LoadedModel {
  Normalization norm;
  std::vector<std::string> input_columns;
};

template <GeneratedModel M>
LoadedModel load_model(const std::filesystem::path& weights, typename M::Params& params) {
  const auto meta = load_weights<M>(weights, params);
  LoadedModel m{Normalization::from_metadata(meta, M::kInputs, weights), {}};
  if (const auto it = meta.find(kInputColumnsKey); it != meta.end() && !it->second.empty()) {
    for (std::size_t start = 0; start <= it->second.size();) {
      const std::size_t end = std::min(it->second.find(',', start), it->second.size());
      m.input_columns.push_back(it->second.substr(start, end - start));
      start = end + 1;
    }
  }
  return m;
}

template <GeneratedModel M>
void run_train(const RunOptions& o, const Parallel& parallel) {
  if (!o.spec_sha256.empty()) {
    if (!M::kSpecSha256.empty() && o.spec_sha256 != M::kSpecSha256)
      throw Error("error: --spec-sha256 " + o.spec_sha256 + " is not the sha256 of the spec model " +
                  std::string(M::kName) + " was generated from (" + std::string(M::kSpecSha256) + ")");
    runner_spec_sha256() = o.spec_sha256;
    runner_network_sha256() = o.network_sha256;
  } else if (M::kSpecSha256.empty()) {
    throw Error("error: model " + std::string(M::kName) +
                " was generated for a castnet runner, which names no spec: train it with --spec-sha256");
  }
  const bool writer = parallel.writes();
  std::ostream silent(nullptr);  // the other ranks' progress: rank 0 reports for all
  const bool text = o.format == RunOptions::Format::text;
  std::ostream& log = writer && text ? std::cout : silent;
  using real = typename M::real;
  const bool autoencoder = o.train.autoencoder;
  // [data] subset first, then the validation split, then [data] label_noise on the training
  // rows only: validation rows keep their true labels and, like the test set, measure the task.
  Dataset<real> all = take_subset(load_dataset<M>(o.data, o.data_labels, o.labels, autoencoder), o.train.subset,
                                  o.train.seed, o.data);
  const std::vector<std::string> columns = all.input_names;  // kept with the weights, for eval and predict
  Dataset<real> train_rows, validation;
  if (o.train.validation > 0) {
    auto parts = split_validation(all, o.train.validation, o.train.seed, o.data);
    train_rows = std::move(parts.first);
    validation = std::move(parts.second);
  } else {
    train_rows = std::move(all);
  }
  if (o.train.label_noise > 0 && M::kLoss != Loss::softmax_cross_entropy)
    throw Error("error: --label-noise swaps class labels: it needs a softmax_cross_entropy classifier");
  const std::size_t noisy = add_label_noise(train_rows, o.train.label_noise, M::kOutputs, o.train.seed);
  const Normalization norm = Normalization::fit(o.train.normalize, train_rows);
  norm.apply(train_rows);
  norm.apply(validation);
  if (autoencoder) {
    use_inputs_as_targets(train_rows);
    use_inputs_as_targets(validation);
  }

  const auto params = std::make_unique<typename M::Params>();
  if (o.init.empty()) {
    init_params<M>(*params, o.train.seed);
  } else {
    load_weights<M>(o.init, *params);
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) throw Error(o.out.string() + ": error: cannot create the directory: " + ec.message());
  TrainOutput out;
  out.dir = o.out;
  out.save_every = o.save_every;
  out.resume = o.resume;
  out.live = ::isatty(STDOUT_FILENO) == 1;
  out.metadata = norm.metadata();
  if (!columns.empty()) out.metadata[kInputColumnsKey] = join_columns(columns);
  out.identity = run_identity(o, parallel.group ? parallel.group->size() : 1);
  if (writer && o.format == RunOptions::Format::json) out.epoch_json = &std::cout;
  log << "training " << M::kName << " on " << train_rows.rows << " rows"
      << (noisy ? " (" + std::to_string(noisy) + " labels swapped by label_noise)" : std::string())
      << (validation.rows ? ", validating on " + std::to_string(validation.rows) : std::string());
  const std::size_t ranks = parallel.group ? parallel.group->size() : 1;
  if (parallel.threads > 1 || ranks > 1) {
    log << ", batches of " << (parallel.global_batch ? parallel.global_batch : M::kBatch) << " shared by ";
    if (ranks > 1) log << ranks << " processes x ";
    log << parallel.threads << (parallel.threads == 1 ? " thread" : " threads");
  }
  log << '\n';
  {
    const InterruptGuard ctrl_c(parallel.group == nullptr);
    train<M>(*params, train_rows, &validation, o.train, out, log, parallel);
  }
  if (!writer) return;
  log << "wrote " << weights_file(o.out).string() << ", " << checkpoint_file(o.out).string() << ",\n      "
      << metrics_file(o.out).string() << " and " << curves_file(o.out).string() << '\n';
  std::optional<Evaluation> tested;
  if (!o.test.empty()) {
    Dataset<real> test = load_dataset<M>(o.test, o.test_labels, o.labels, autoencoder, columns);
    norm.apply(test);
    if (autoencoder) use_inputs_as_targets(test);
    tested = evaluate<M>(*params, test);
    if (text) print_evaluation("test ", *tested);
  }
  // The final weights on the rows they were trained on (noisy labels included) and on the
  // validation rows: what castnet sweep tabulates beside the test set.
  if (o.format == RunOptions::Format::json)
    std::cout << json::Object()
                     .add("weights", json::str(weights_file(o.out).string()))
                     .add("checkpoint", json::str(checkpoint_file(o.out).string()))
                     .add("metrics", json::str(metrics_file(o.out).string()))
                     .add("curves", json::str(curves_file(o.out).string()))
                     .add("test", tested ? evaluation_json(*tested) : "null")
                     .add("train", evaluation_json(evaluate<M>(*params, train_rows)))
                     .add("validation", validation.rows ? evaluation_json(evaluate<M>(*params, validation)) : "null")
                     .text()
              << '\n';
}

// The quality figures of report.hpp for the model's outputs on `data`.
template <GeneratedModel M>
QualityReport report_of(const typename M::Params& params, const Dataset<typename M::real>& data) {
  std::vector<double> outputs, targets(data.t.begin(), data.t.end());
  outputs.reserve(data.rows * M::kOutputs);
  const auto workspace = std::make_unique<typename M::Workspace>();
  const auto batch = std::make_unique<Batch<M>>();
  for_each_batch<M>(data, *batch, [&](std::size_t n) {
    M::forward_batch(params, *workspace, batch->x.data(), batch->y.data());
    outputs.insert(outputs.end(), batch->y.begin(), batch->y.begin() + static_cast<std::ptrdiff_t>(n * M::kOutputs));
  });
  return quality(M::kLoss, M::kOutputs, outputs, targets);
}

// A PNG of the first samples' inputs (top row) above the model's outputs (bottom row), for models
// whose inputs and outputs are square greyscale images of the same size (autoencoders). Values are
// mapped to 0..255 by the range of the inputs shown.
template <GeneratedModel M>
void write_reconstructions(const std::filesystem::path& path, const typename M::Params& params,
                           const Dataset<typename M::real>& data, bool say = true) {
  const auto side = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(M::kInputs))));
  if (M::kOutputs != M::kInputs || side * side != M::kInputs)
    throw Error(path.string() + ": error: --images draws square images: the model needs as many outputs as "
                "inputs, a square number (it has " + std::to_string(M::kInputs) + " inputs and " +
                std::to_string(M::kOutputs) + " outputs)");
  const std::size_t shown = std::min<std::size_t>({data.rows, M::kBatch, 16});
  if (shown == 0) throw Error(path.string() + ": error: --images: the data set is empty");
  const auto batch = std::make_unique<Batch<M>>();
  const auto workspace = std::make_unique<typename M::Workspace>();
  std::vector<std::size_t> rows(shown);
  for (std::size_t i = 0; i < shown; ++i) rows[i] = i;
  batch->gather(data, rows);
  M::forward_batch(params, *workspace, batch->x.data(), batch->y.data());
  const auto [lo, hi] = std::minmax_element(batch->x.begin(), batch->x.begin() + static_cast<std::ptrdiff_t>(shown * M::kInputs));
  const double low = static_cast<double>(*lo), span = std::max(1e-12, static_cast<double>(*hi) - low);
  const std::size_t gap = 2, width = shown * (side + gap) + gap, height = 2 * (side + gap) + gap;
  std::vector<std::uint8_t> pixels(width * height, 40);
  for (std::size_t s = 0; s < shown; ++s)
    for (std::size_t part = 0; part < 2; ++part) {
      const typename M::real* image = (part == 0 ? batch->x.data() : batch->y.data()) + s * M::kInputs;
      for (std::size_t r = 0; r < side; ++r)
        for (std::size_t c = 0; c < side; ++c) {
          const double v = (static_cast<double>(image[r * side + c]) - low) / span;
          pixels[(gap + part * (side + gap) + r) * width + gap + s * (side + gap) + c] =
              static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
        }
    }
  io::write_png_gray(path, width, height, pixels);
  if (say) std::cout << "wrote " << path.string() << " (top: inputs, bottom: outputs)\n";
}

template <GeneratedModel M>
void run_eval(const RunOptions& o) {
  const auto params = std::make_unique<typename M::Params>();
  const LoadedModel model = load_model<M>(o.weights, *params);
  Dataset<typename M::real> data = load_dataset<M>(o.data, o.data_labels, o.labels, o.train.autoencoder, model.input_columns);
  model.norm.apply(data);
  if (o.train.autoencoder) use_inputs_as_targets(data);
  const Evaluation e = evaluate<M>(*params, data);
  // An autoencoder's quality is its loss.
  const std::optional<QualityReport> report =
      o.train.autoencoder ? std::nullopt : std::optional<QualityReport>(report_of<M>(*params, data));
  if (o.format == RunOptions::Format::json) {
    std::cout << json::Object()
                     .add("rows", std::to_string(data.rows))
                     .add("evaluation", evaluation_json(e))
                     .add("quality", report ? to_json(*report) : "null")
                     .text()
              << '\n';
  } else if (o.format == RunOptions::Format::text) {
    print_evaluation("", e);
    if (report) std::cout << to_text(*report);
  }
  if (!o.images.empty()) write_reconstructions<M>(o.images, *params, data, o.format == RunOptions::Format::text);
}

template <GeneratedModel M>
void run_predict(const RunOptions& o) {
  using real = typename M::real;
  const auto params = std::make_unique<typename M::Params>();
  const LoadedModel model = load_model<M>(o.weights, *params);
  Dataset<real> data = inputs_from_csv<real>(io::read_csv(o.input), o.labels, M::kInputs, model.input_columns);
  model.norm.apply(data);
  const auto workspace = std::make_unique<typename M::Workspace>();
  const auto batch = std::make_unique<Batch<M>>();

  // CSV (a header row, then one row per input row), or with --format json one object
  // {"columns": [...], "rows": [[...], ...]} with the same values.
  const bool json_out = o.format == RunOptions::Format::json;
  if (o.format == RunOptions::Format::quiet) return;
  const char* const column = M::kLoss == Loss::mse ? "y" : "p";
  std::vector<std::string> names;
  for (std::size_t k = 0; k < M::kOutputs; ++k) names.push_back(column + std::to_string(k));
  if (M::kLoss == Loss::softmax_cross_entropy) names.push_back("class");
  std::string text;
  if (json_out) {
    std::vector<std::string> quoted;
    for (const auto& n : names) quoted.push_back(json::str(n));
    text = "{\"columns\":" + json::array(quoted) + ",\"rows\":[";
  } else {
    for (std::size_t k = 0; k < names.size(); ++k) text += (k ? "," : "") + names[k];
    text += '\n';
  }
  std::cout << text;

  std::vector<real> values(M::kOutputs);
  bool first = true;
  for_each_batch<M>(data, *batch, [&](std::size_t n) {
    M::forward_batch(*params, *workspace, batch->x.data(), batch->y.data());
    text.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const real* y = batch->y.data() + i * M::kOutputs;
      output_values(M::kLoss, y, M::kOutputs, values.data());
      if (json_out) text += first ? "[" : ",[";
      first = false;
      for (std::size_t k = 0; k < M::kOutputs; ++k) {
        char buf[32];  // shortest text that reads back as the same value
        if (k) text += ',';
        text.append(buf, std::to_chars(buf, buf + sizeof buf, values[k]).ptr);
      }
      if (M::kLoss == Loss::softmax_cross_entropy) text += ',' + std::to_string(argmax(y, M::kOutputs));
      text += json_out ? "]" : "\n";
    }
    std::cout << text;
  });
  if (json_out) std::cout << "]}\n";
}

template <GeneratedModel M>
void run_landscape(const RunOptions& o) {
  const auto params = std::make_unique<typename M::Params>();
  const LoadedModel model = load_model<M>(o.weights, *params);
  // --subset: the loss on N rows drawn by the seed, as training draws them; a 41 x 41 grid over
  // all of MNIST's 60000 is 1681 passes over the data.
  Dataset<typename M::real> data =
      take_subset(load_dataset<M>(o.data, o.data_labels, o.labels, o.train.autoencoder, model.input_columns),
                  o.train.subset, o.train.seed, o.data);
  if (data.rows == 0) throw Error(o.data.string() + ": error: the data set is empty");
  model.norm.apply(data);
  if (o.train.autoencoder) use_inputs_as_targets(data);
  const Direction d1 = filter_normalised_direction<M>(*params, o.train.seed, 0);
  const Direction d2 = filter_normalised_direction<M>(*params, o.train.seed, 1);
  const std::vector<LandscapePoint> grid = landscape_grid<M>(*params, data, d1, d2, o.steps, o.span, o.threads);
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) throw Error(o.out.string() + ": error: cannot create the directory: " + ec.message());
  write_landscape(o.out, grid, o.steps, std::string(M::kName));
  // The directions, so that a picture can be checked and redrawn: tensor "direction1.fc1.weight"...
  std::vector<io::TensorData> directions;
  for (std::size_t k = 0; k < 2; ++k)
    for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
      const TensorInfo& t = M::kTensors[i];
      io::TensorData& d = directions.emplace_back();
      d.name = "direction" + std::to_string(k + 1) + "." + std::string(t.name);
      d.shape.assign(t.shape.begin(), t.shape.begin() + static_cast<std::ptrdiff_t>(t.rank));
      d.f64 = (k == 0 ? d1 : d2)[i];
      d.values.assign(d.f64.begin(), d.f64.end());
    }
  io::write_safetensors(o.out / "directions.safetensors", directions,
                        {{"castnet_model", std::string(M::kName)}, {"seed", std::to_string(o.train.seed)}});
  std::size_t best = 0, centre = grid.size();
  for (std::size_t k = 0; k < grid.size(); ++k) {
    if (grid[k].loss < grid[best].loss) best = k;
    if (grid[k].alpha == 0 && grid[k].beta == 0) centre = k;
  }
  const auto point_json = [](const LandscapePoint& p) {
    return json::Object()
        .add("alpha", json::num(p.alpha))
        .add("beta", json::num(p.beta))
        .add("loss", json::num(p.loss))
        .add("accuracy", p.accuracy ? json::num(*p.accuracy) : "null")
        .text();
  };
  if (o.format == RunOptions::Format::json) {
    std::cout << json::Object()
                     .add("minimum", point_json(grid[best]))
                     .add("centre", centre < grid.size() ? point_json(grid[centre]) : "null")
                     .text()
              << '\n';
  } else if (o.format == RunOptions::Format::text) {
    char line[200];
    std::snprintf(line, sizeof line, "minimum: loss %.6g at alpha %.4g, beta %.4g", grid[best].loss, grid[best].alpha,
                  grid[best].beta);
    std::cout << line;
    if (grid[best].accuracy) std::cout << " (accuracy " << 100.0 * *grid[best].accuracy << "%)";
    std::cout << '\n';
    if (centre < grid.size()) {
      std::snprintf(line, sizeof line, "at W (alpha = beta = 0): loss %.6g", grid[centre].loss);
      std::cout << line << (best == centre ? ", the grid's minimum\n" : "\n");
    }
    std::cout << "wrote " << (o.out / "landscape.csv").string() << ", landscape.svg, landscape_slice.svg and directions.safetensors\n";
  }
}

// Under MPI: prints the error (rank 0 as it is, others naming their rank) and ends the whole job.
inline int fail(Collective* group, const std::string& message, int code) {
  std::cout.flush();
  if (group && group->rank() > 0) {
    std::cerr << "rank " << group->rank() << ": " << message << '\n';
  } else {
    std::cerr << message << '\n';
  }
  if (group && group->size() > 1) {
    std::cerr.flush();
    group->abort(code);
  }
  return code;
}

}  // namespace detail

// Runs one verb of the runner's command line for model M; returns the process exit code.
template <GeneratedModel M>
int run_verbs(int argc, char** argv, const Sharding& sharding) {
  const std::string program =
      argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "runner";
  std::unique_ptr<Collective> group;
  try {
    if (sharding.connect) group = sharding.connect(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
  RunOptions options;
  try {
    options = parse_run_options(argc, argv);
  } catch (const UsageError& e) {
    return detail::fail(group.get(), "error: " + std::string(e.what()) + '\n' + run_usage(program), 2);
  }
  try {
    switch (options.verb) {
      case RunOptions::Verb::train:
        detail::run_train<M>(options, {sharding.global_batch, options.threads, group.get()});
        break;
      case RunOptions::Verb::eval: detail::run_eval<M>(options); break;
      case RunOptions::Verb::predict: detail::run_predict<M>(options); break;
      case RunOptions::Verb::landscape: detail::run_landscape<M>(options); break;
      case RunOptions::Verb::help: std::cout << run_usage(program); break;
    }
    return 0;
  } catch (const Interrupted& e) {
    return detail::fail(group.get(), e.what(), 130);
  } catch (const Error& e) {
    return detail::fail(group.get(), e.what(), 1);
  } catch (const std::exception& e) {
    // Not a castnet::Error, e.g. out of memory for a large data set: still a clean exit 1.
    return detail::fail(group.get(), "error: " + std::string(e.what()), 1);
  }
}

}  // namespace castnet
