// safetensors weight files (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then
// the raw little-endian tensor bytes. castnet writes and reads F32 and F64.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace castnet::io {

struct TensorData {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float> values;  // shape's product elements, row-major (an F64 tensor's, rounded)
  std::vector<double> f64 = {};  // an F64 tensor's exact values; written as F64 when not empty
};

struct SafetensorsFile {
  std::vector<TensorData> tensors;              // in file order
  std::map<std::string, std::string> metadata;  // "__metadata__" (string values only)
  const TensorData* find(const std::string& name) const;
};

// Writes atomically (write_file_atomic). Tensors are written in the given order. The metadata
// gains "castnet_crc32", the CRC-32 of each tensor's bytes (safetensors.cpp says how), replacing
// any passed in.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Throws castnet::Error naming the file and the problem: too short, header length beyond the file,
// malformed JSON header (with its byte offset), unsupported dtype (naming the tensor), data offsets
// outside the file or disagreeing with the shape (naming the tensor), truncated data, gaps,
// overlaps or trailing bytes in the data section, and, in a file with "castnet_crc32" metadata,
// a tensor whose bytes do not match its checksum (naming it). The checksum is verified and left
// out of `metadata`; files without it (written by torch) are read as before.
SafetensorsFile read_safetensors(const std::filesystem::path& path);
// The same for a file's bytes already in memory; `path` names it in errors.
SafetensorsFile parse_safetensors(std::string_view bytes, const std::filesystem::path& path);

// The expectation of a model: tensor names and shapes. Loads `path` and checks that every expected
// tensor is present with exactly that shape; copies into the destinations (converted to T).
// Errors name the file and the tensor: "w.safetensors: error: tensor 'fc1.weight' has shape [4, 2], the spec needs [2, 2]",
// "...: error: missing tensor 'fc2.bias'", "...: error: unexpected tensor 'fc3.weight'".
struct ExpectedTensor {
  std::string name;
  std::vector<std::size_t> shape;
};
void check_tensors(const SafetensorsFile& file, const std::filesystem::path& path,
                   const std::vector<ExpectedTensor>& expected);

}  // namespace castnet::io
