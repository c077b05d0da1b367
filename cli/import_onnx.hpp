// castnet import: an ONNX model becomes a castnet network (the graph IR as the spec parser gives
// it) and its weights, named and shaped as castnet names them. The ONNX reading (import_onnx.cpp,
// built only where libonnx-dev was found) is kept apart from the TOML writing (spec/write_spec.hpp), so
// each is testable on its own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <castnet/io/safetensors.hpp>

#include "spec/spec.hpp"

namespace castnet::cli {

struct ImportedModel {
  // As parse_spec would give it: name, input shape, layers (names, kinds, attributes, inputs by
  // name, empty for the previous layer), loss and optimizer. The passes have not run.
  spec::Spec spec;
  std::vector<io::TensorData> weights;  // "<layer>.weight", "<layer>.bias", in layer order
  std::vector<std::string> notes;       // what the import decided on the user's behalf (the spec's header comment)
};

// Reads an ONNX model file. Throws castnet::Error "<file>: error: ..." naming the node (its name,
// or #index in the graph's node list when it has none) and its operator, for anything castnet
// cannot express.
ImportedModel import_onnx(const std::filesystem::path& model);

}  // namespace castnet::cli
