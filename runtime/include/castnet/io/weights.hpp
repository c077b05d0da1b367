// A model's parameters to and from safetensors files, named and shaped by the model's tensor table
// (PyTorch's names and layouts, so a torch.nn twin loads them with load_state_dict). Weight files
// hold F32 (a double model's weights are rounded to float); checkpoints keep a double model's F64.
#pragma once

#include <castnet/io/safetensors.hpp>
#include <castnet/model.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace castnet {

// The spec sha256 of a castnet runner's model, whose header leaves kSpecSha256 empty: one runner
// serves every spec with the same network, and learns which one from its command line.
inline std::string& runner_spec_sha256() {
  static std::string sha;
  return sha;
}

// The SHA-256 of the spec the model was trained from: the header's, or a runner's.
template <GeneratedModel M>
std::string spec_sha256() {
  return M::kSpecSha256.empty() ? runner_spec_sha256() : std::string(M::kSpecSha256);
}

// A castnet runner's network: the SHA-256 of its header, which names no spec, so that it differs
// only when the network does (castnet train passes it as --network-sha256); its checkpoints are
// bound to it rather than to the spec's bytes (checkpoint.hpp). Elsewhere empty.
inline std::string& runner_network_sha256() {
  static std::string sha;
  return sha;
}

// Metadata identifying the model and the epoch the weights are from.
template <GeneratedModel M>
std::map<std::string, std::string> weights_metadata(std::size_t epoch) {
  return {{"castnet_model", std::string(M::kName)},
          {"castnet_spec_sha256", spec_sha256<M>()},
          {"epoch", std::to_string(epoch)}};
}

// The tensors of `params` named and shaped as PyTorch has them, each prefixed by `prefix`; F32,
// or F64 for a double model when `exact` (checkpoints, which must resume bit for bit).
template <GeneratedModel M>
std::vector<io::TensorData> weight_tensors(const typename M::Params& params, bool exact = false,
                                           const std::string& prefix = "") {
  const auto pointers = M::tensors(params);
  std::vector<io::TensorData> tensors;
  tensors.reserve(M::kTensors.size());
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    const TensorInfo& info = M::kTensors[i];
    io::TensorData& t = tensors.emplace_back();
    t.name = prefix + std::string(info.name);
    t.shape.assign(info.shape.begin(), info.shape.begin() + static_cast<std::ptrdiff_t>(info.rank));
    if (exact && sizeof(typename M::real) > sizeof(float)) {
      t.f64.assign(pointers[i], pointers[i] + info.size);
    } else {
      t.values.assign(pointers[i], pointers[i] + info.size);  // converts to float
    }
  }
  return tensors;
}

// Copies tensor `prefix + name` of each model tensor from `file` into `params`, F64 values
// exactly; the caller has checked names and shapes.
template <GeneratedModel M>
void copy_weight_tensors(const io::SafetensorsFile& file, typename M::Params& params,
                         const std::string& prefix = "") {
  const auto pointers = M::tensors(params);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    const io::TensorData* t = file.find(prefix + std::string(M::kTensors[i].name));
    if (!t->f64.empty()) {
      std::transform(t->f64.begin(), t->f64.end(), pointers[i],
                     [](double v) { return static_cast<typename M::real>(v); });
    } else {
      std::transform(t->values.begin(), t->values.end(), pointers[i],
                     [](float v) { return static_cast<typename M::real>(v); });
    }
  }
}

// Writes `params` atomically to `path` (a crash leaves the previous file intact).
template <GeneratedModel M>
void save_weights(const std::filesystem::path& path, const typename M::Params& params,
                  const std::map<std::string, std::string>& metadata) {
  const auto tensors = weight_tensors<M>(params);
  io::write_safetensors(path, tensors, metadata);
}

// Loads `path` into `params` and returns the file's metadata. Throws castnet::Error naming the
// file and the tensor when a tensor is missing, unexpected or of another shape.
template <GeneratedModel M>
std::map<std::string, std::string> load_weights(const std::filesystem::path& path, typename M::Params& params) {
  const io::SafetensorsFile file = io::read_safetensors(path);
  std::vector<io::ExpectedTensor> expected;
  expected.reserve(M::kTensors.size());
  for (const TensorInfo& info : M::kTensors) {
    expected.push_back({std::string(info.name),
                        std::vector<std::size_t>(info.shape.begin(),
                                                 info.shape.begin() +
                                                     static_cast<std::ptrdiff_t>(info.rank))});
  }
  io::check_tensors(file, path, expected);
  copy_weight_tensors<M>(file, params);
  return file.metadata;
}

}  // namespace castnet
