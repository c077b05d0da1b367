// Checkpoints: everything a stopped run needs to continue as if it had never stopped, in one
// safetensors file written atomically (temporary file, fsync, rename), so a crash at any moment
// leaves the previous checkpoint loadable. It holds the parameters ("params/<tensor>"), the
// optimizer's buffers ("<buffer>/<tensor>"), the early-stopping best weights ("best/<tensor>"),
// exactly (F64 for a double model), and in its metadata the counters, the metrics so far and what
// identifies the run (run_identity.hpp: data files, workers, training settings). Shuffles,
// dropout masks and input noise are functions of (seed, epoch or step), so counters are all the
// random state there is.
#pragma once

#include <castnet/error.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/train/metrics.hpp>
#include <castnet/train/run_identity.hpp>
#include <castnet/model.hpp>
#include <castnet/io/weights.hpp>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace castnet {

// Named Params-shaped buffers (an optimizer's state, the best weights).
template <GeneratedModel M>
using ParamBuffers = std::vector<std::pair<std::string, typename M::Params*>>;

// The trainer's counters and early-stopping record.
struct TrainProgress {
  std::size_t epoch = 0;           // epochs completed
  std::uint64_t step = 0;          // optimizer steps taken (dropout and noise keys)
  std::uint64_t optimizer_steps = 0;
  double best_loss = std::numeric_limits<double>::infinity();  // best validation loss so far
  std::size_t best_epoch = 0;
  std::size_t bad_epochs = 0;      // epochs since the best
  MetricsLog metrics;
};

namespace detail {

inline std::string exact_text(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

template <class T>
T number_from(const std::map<std::string, std::string>& m, const std::string& key,
              const std::filesystem::path& file) {
  const auto it = m.find(key);
  T v{};
  if (it == m.end()) throw Error(file.string() + ": error: checkpoint metadata '" + key + "' is missing");
  const auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (r.ec != std::errc{} || r.ptr != it->second.data() + it->second.size())
    throw Error(file.string() + ": error: checkpoint metadata '" + key + "' is not a number: '" + it->second + "'");
  return v;
}

}  // namespace detail

inline std::filesystem::path checkpoint_file(const std::filesystem::path& out_dir) {
  return out_dir / "checkpoint.safetensors";
}

// `identity`: what a resume must match.
template <GeneratedModel M>
void save_checkpoint(const std::filesystem::path& path, const typename M::Params& params,
                     const ParamBuffers<M>& buffers, const TrainProgress& progress,
                     const RunIdentity& identity) {
  std::vector<io::TensorData> tensors = weight_tensors<M>(params, true, "params/");
  for (const auto& [name, buffer] : buffers) {
    auto more = weight_tensors<M>(*buffer, true, name + "/");
    tensors.insert(tensors.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  std::map<std::string, std::string> meta = {
      {"castnet_model", std::string(M::kName)},
      {"castnet_spec_sha256", spec_sha256<M>()},
      {"castnet_checkpoint", "1"},
      {"castnet_run", identity_text(identity)},
      {"epoch", std::to_string(progress.epoch)},
      {"step", std::to_string(progress.step)},
      {"optimizer_steps", std::to_string(progress.optimizer_steps)},
      {"best_loss", detail::exact_text(progress.best_loss)},
      {"best_epoch", std::to_string(progress.best_epoch)},
      {"bad_epochs", std::to_string(progress.bad_epochs)},
      {"metrics", progress.metrics.csv()},
  };
  if (!runner_network_sha256().empty()) meta["castnet_network_sha256"] = runner_network_sha256();
  io::write_safetensors(path, tensors, meta);
}

// Restores what save_checkpoint wrote into params, the buffers (which must be named as when
// saving) and progress. Throws castnet::Error naming the file when it is not a checkpoint of this
// model (naming the first tensor of another name or shape, if any), was trained on other data or
// with other workers or settings than `identity` (one line per difference), or lacks a tensor.
template <GeneratedModel M>
void load_checkpoint(const std::filesystem::path& path, typename M::Params& params,
                     const ParamBuffers<M>& buffers, TrainProgress& progress,
                     const RunIdentity& identity) {
  const io::SafetensorsFile file = io::read_safetensors(path);
  const auto& m = file.metadata;
  const auto get = [&](const std::string& key) {
    const auto it = m.find(key);
    return it == m.end() ? std::string() : it->second;
  };
  if (get("castnet_checkpoint") != "1")
    throw Error(path.string() + ": error: not a castnet checkpoint");
  // The network, not the spec's bytes: a comment or a training setting edited in the spec does not
  // change it (the settings are checked apart, below). Checkpoints without it name their spec.
  const bool by_network = m.contains("castnet_network_sha256");
  const std::string key = by_network ? "castnet_network_sha256" : "castnet_spec_sha256";
  const std::string sha = by_network ? runner_network_sha256() : spec_sha256<M>();
  const bool same_spec = get("castnet_model") == M::kName && get(key) == sha;
  const std::string other_spec = "this checkpoint is of model '" + get("castnet_model") + "' (" +
                                 (by_network ? "network" : "spec") + " sha256 " + get(key).substr(0, 12) +
                                 "...), not of this " + (by_network ? "network" : "spec") + " ('" +
                                 std::string(M::kName) + "', " + sha.substr(0, 12) +
                                 "...): train into another --out directory";
  // Of another spec: refused naming the first tensor that differs, if any, as a weights file is.
  std::vector<io::ExpectedTensor> expected;
  const auto expect = [&](const std::string& prefix) {
    for (const TensorInfo& info : M::kTensors)
      expected.push_back({prefix + std::string(info.name),
                          std::vector<std::size_t>(info.shape.begin(), info.shape.begin() + static_cast<std::ptrdiff_t>(info.rank))});
  };
  expect("params/");
  for (const auto& b : buffers) expect(b.first + "/");
  if (!same_spec) {
    try {
      io::check_tensors(file, path, expected);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + ";\n" + other_spec);
    }
    throw Error(path.string() + ": error: " + other_spec);
  }
  if (!m.contains("castnet_run"))
    throw Error(path.string() + ": error: --resume: this checkpoint does not record its data files and workers "
                "(an older castnet wrote it), so a resume could not be checked: train into another --out directory");
  RunIdentity recorded;
  try {
    recorded = parse_identity(get("castnet_run"));
  } catch (const Error& e) {
    throw Error(path.string() + ": error: checkpoint metadata 'castnet_run': " + e.what());
  }
  if (const std::string differences = identity_differences(recorded, identity); !differences.empty())
    throw Error(path.string() + ": error: --resume: the checkpoint was trained with other settings (then, and now):\n" +
                differences +
                "resume with the same data, workers and settings (only --epochs may change, but for a cosine "
                "schedule), or train into another --out directory");
  io::check_tensors(file, path, expected);
  copy_weight_tensors<M>(file, params, "params/");
  for (const auto& [name, buffer] : buffers) copy_weight_tensors<M>(file, *buffer, name + "/");
  progress.epoch = detail::number_from<std::size_t>(m, "epoch", path);
  progress.step = detail::number_from<std::uint64_t>(m, "step", path);
  progress.optimizer_steps = detail::number_from<std::uint64_t>(m, "optimizer_steps", path);
  progress.best_loss = detail::number_from<double>(m, "best_loss", path);
  progress.best_epoch = detail::number_from<std::size_t>(m, "best_epoch", path);
  progress.bad_epochs = detail::number_from<std::size_t>(m, "bad_epochs", path);
  progress.metrics = MetricsLog::parse(get("metrics"));
}

}  // namespace castnet
