// Quantized weights for `castnet export --quantize int8|bf16` and `castnet eval --quantize`: which
// tensors are quantized (each layer kind's OpDef::quantize_rule), the rounding itself, and the
// weights as the exported header will compute with them, so that eval measures the exported
// model's accuracy before anything is exported.
//   int8  per output channel (a row of a dense weight, a filter of a conv2d weight):
//         scale = max|w_row| / 127, q = round-to-nearest(w / scale) in [-127, 127]; an all-zero
//         row has scale 0 and q = 0. The value computed with is scale · q.
//   bf16  the float's upper 16 bits, rounded to nearest, ties to even. Exact back to float.
//   int8 with --calibrate  the int8 weights above, and each quantized layer's input quantized per
//         call with a static scale s_x = range / 127, the range measured on calibration data
//         (cli/calibrate.hpp); the header holds what kernels/quantized.hpp's calibrated kernels
//         read: 1/s_x, Σ_i q[o][i] and m[o] = s_x · s_w[o]. A range of 0 gives s_x = 1.
// Biases and every other tensor stay float.
#pragma once

#include <castnet/io/safetensors.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.hpp"
#include "ops/op_def.hpp"

namespace castnet::gen {

// "int8" | "bf16" -> the format; anything else: std::invalid_argument naming the choices.
ops::WeightFormat parse_quantize(std::string_view mode);
const char* quantize_name(ops::WeightFormat format);  // "float", "int8", "bf16"

struct Int8Rows {
  std::vector<std::int8_t> q;  // rows × cols, row-major
  std::vector<float> scale;    // one per row
};
// w holds rows × cols finite values.
Int8Rows quantize_int8(const std::vector<float>& w, std::size_t rows);
// Round to nearest even; a finite value whose rounding overflows to infinity throws std::range_error.
std::uint16_t float_to_bf16(float v);
float bf16_to_float(std::uint16_t h);

// A quantized layer's tables under --calibrate, from its float weights (rows × cols) and the
// largest |input| measured on the calibration data.
struct CalibratedLayer {
  Int8Rows w;                      // as quantize_int8 rounds them
  std::vector<std::int32_t> wsum;  // Σ_i q[o][i], one per row
  std::vector<float> out_scale;    // m[o] = s_x · s_w[o], rounded to float once
  float input_scale = 1, input_inv = 1;  // s_x and 1/s_x (float)
};
CalibratedLayer calibrated_layer(const std::vector<float>& w, std::size_t rows, float input_range);

// Where a calibrated export's activation scales come from, and what they cost: the header's banner.
struct Calibration {
  std::vector<float> input_range;  // per graph layer: max |input| over the data (0 where not quantized)
  std::string data_label;          // the calibration data file, as the banner names it
  std::string data_flags;          // how the export read it beyond --calibrate DATA (" --labels y"), or ""
  std::string data_sha256;
  std::size_t rows = 0;
  std::string accuracy;            // the metric measured on those rows, as `castnet eval` reports it
};

// The parameter tensors --quantize stores in `format` (their torch names), the graph's layers in
// order; throws castnet::SpecError (file:line:col, the layer) at the first layer whose kind has
// large weights and no quantized kernel.
std::vector<std::string> quantized_tensors(const ir::Graph& g, ops::WeightFormat format);

// `weights` with each quantized tensor replaced by the values the exported header computes with
// (scale · q, or the bf16 value); the other tensors and the metadata as they were. A value beyond
// bf16's range throws std::range_error naming the tensor and the index.
io::SafetensorsFile dequantized(const ir::Graph& g, const io::SafetensorsFile& weights, ops::WeightFormat format);

}  // namespace castnet::gen
