// Emission of the standalone inference header (`castnet export`, castnet_add_model WEIGHTS): the
// weights baked in as constant arrays, the training header's forward passes over castnet's own
// kernels, carried along, so that it needs only the C++ standard library (templates/export.hpp.tmpl).
#pragma once

#include <castnet/io/safetensors.hpp>
#include <castnet/data/normalize.hpp>

#include <string>

#include "emit/quantize.hpp"
#include "ir/graph.hpp"
#include "ops/op_def.hpp"

namespace castnet::gen {

struct ExportOptions {
  std::string ns;              // C++ namespace; empty: the spec's name (must be an identifier)
  std::string spec_label;      // how the banner names the spec and the weights (no absolute paths)
  std::string weights_label;
  std::string sha256;          // of the spec's bytes
  std::string weights_sha256;  // of the weights file's bytes
  std::string version;
  std::string gen_flags;       // the options beyond the defaults, for the banner's "regenerate" line
  ops::WeightFormat weights = ops::WeightFormat::f32;  // --quantize (emit/quantize.hpp)
  Calibration calibration;     // with WeightFormat::int8_calibrated: the activations' ranges and their provenance
};

// `weights` must hold the graph's tensors with the graph's shapes (io::check_tensors); a value
// that is not finite throws castnet::Error naming the tensor. `norm` is applied to the inputs.
std::string emit_export(const ir::Graph& g, const io::SafetensorsFile& weights, const Normalization& norm,
                        const ExportOptions& options);

}  // namespace castnet::gen
