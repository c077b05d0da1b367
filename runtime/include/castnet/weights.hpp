// A model's parameters to and from safetensors files, named and shaped by the model's tensor table
// (PyTorch's names and layouts, so a torch.nn twin loads them with load_state_dict). Files hold
// F32; a double model's weights are rounded to float when written.
#pragma once

#include <castnet/io/safetensors.hpp>
#include <castnet/model.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace castnet {

// Metadata identifying the model and the epoch the weights are from.
template <GeneratedModel M>
std::map<std::string, std::string> weights_metadata(std::size_t epoch) {
  return {{"castnet_model", std::string(M::kName)},
          {"castnet_spec_sha256", std::string(M::kSpecSha256)},
          {"epoch", std::to_string(epoch)}};
}

// Writes `params` atomically to `path` (a crash leaves the previous file intact).
template <GeneratedModel M>
void save_weights(const std::filesystem::path& path, typename M::Params& params,
                  const std::map<std::string, std::string>& metadata) {
  const auto pointers = M::tensors(params);
  std::vector<io::TensorData> tensors;
  tensors.reserve(M::kTensors.size());
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    const TensorInfo& info = M::kTensors[i];
    io::TensorData& t = tensors.emplace_back();
    t.name = std::string(info.name);
    t.shape.assign(info.shape.begin(), info.shape.begin() + static_cast<std::ptrdiff_t>(info.rank));
    t.values.assign(pointers[i], pointers[i] + info.size);  // converts to float
  }
  io::write_safetensors(path, tensors, metadata);
}

// Loads `path` into `params`. Throws castnet::Error naming the file and the tensor when a tensor
// is missing, unexpected or of another shape.
template <GeneratedModel M>
void load_weights(const std::filesystem::path& path, typename M::Params& params) {
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
  const auto pointers = M::tensors(params);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    const io::TensorData* t = file.find(std::string(M::kTensors[i].name));
    std::transform(t->values.begin(), t->values.end(), pointers[i],
                   [](float v) { return static_cast<typename M::real>(v); });
  }
}

}  // namespace castnet
