// See quantize.hpp.
#include "emit/quantize.hpp"

#include <castnet/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "ir/diagnostic.hpp"

namespace castnet::gen {

ops::WeightFormat parse_quantize(std::string_view mode) {
  if (mode == "int8") return ops::WeightFormat::int8;
  if (mode == "bf16") return ops::WeightFormat::bf16;
  throw std::invalid_argument("--quantize '" + printable(mode, 40) + "': unknown mode; give int8 or bf16");
}

const char* quantize_name(ops::WeightFormat format) {
  switch (format) {
    case ops::WeightFormat::f32: return "float";
    case ops::WeightFormat::int8: return "int8";
    case ops::WeightFormat::bf16: return "bf16";
    case ops::WeightFormat::int8_calibrated: return "int8";
  }
  return "?";
}

Int8Rows quantize_int8(const std::vector<float>& w, std::size_t rows) {
  if (rows == 0 || w.size() % rows != 0) throw std::logic_error("quantize_int8: the tensor is not whole rows");
  const std::size_t cols = w.size() / rows;
  Int8Rows r;
  r.q.resize(w.size());
  r.scale.resize(rows);
  for (std::size_t o = 0; o < rows; ++o) {
    float m = 0.0f;
    for (std::size_t i = 0; i < cols; ++i) m = std::max(m, std::fabs(w[o * cols + i]));
    const float scale = m / 127.0f;
    r.scale[o] = scale;
    for (std::size_t i = 0; i < cols; ++i) {
      // w / scale can land a hair past ±127 for the largest value; the clamp keeps it in range.
      const float v = scale > 0.0f ? std::nearbyint(w[o * cols + i] / scale) : 0.0f;
      r.q[o * cols + i] = static_cast<std::int8_t>(std::clamp(v, -127.0f, 127.0f));
    }
  }
  return r;
}

CalibratedLayer calibrated_layer(const std::vector<float>& w, std::size_t rows, float input_range) {
  CalibratedLayer c;
  c.w = quantize_int8(w, rows);
  if (input_range > 0.0f) {
    c.input_scale = input_range / 127.0f;
    c.input_inv = 1.0f / c.input_scale;
  }
  const std::size_t cols = w.size() / rows;
  c.wsum.assign(rows, 0);
  c.out_scale.resize(rows);
  for (std::size_t o = 0; o < rows; ++o) {
    for (std::size_t i = 0; i < cols; ++i) c.wsum[o] += c.w.q[o * cols + i];
    c.out_scale[o] = c.input_scale * c.w.scale[o];
  }
  return c;
}

std::uint16_t float_to_bf16(float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  // Adding 0x7FFF plus the kept part's lowest bit rounds to nearest, ties to even.
  const std::uint32_t rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
  const auto h = static_cast<std::uint16_t>(rounded >> 16);
  if (std::isfinite(v) && !std::isfinite(bf16_to_float(h))) throw std::range_error("beyond bf16's range");
  return h;
}

float bf16_to_float(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::vector<std::string> quantized_tensors(const ir::Graph& g, ops::WeightFormat format) {
  std::vector<std::string> names;
  for (const ir::Layer& l : g.layers) {
    switch (ops::op_def(l.kind).quantize_rule(l)) {
      case ops::QuantizeRule::keep_float: break;
      case ops::QuantizeRule::weight:
        for (const ir::ParamTensor& p : l.params)
          if (p.member == l.name + "_weight") names.push_back(p.torch_name);
        break;
      case ops::QuantizeRule::unsupported:
        fail(g.spec_path, l.pos, l.name,
             std::string("--quantize ") + quantize_name(format) + ": a " + ops::op_def(l.kind).spec_type(l) +
                 " layer's weights have no quantized kernel (dense and conv2d do); export this net in float");
    }
  }
  return names;
}

io::SafetensorsFile dequantized(const ir::Graph& g, const io::SafetensorsFile& weights, ops::WeightFormat format) {
  if (format == ops::WeightFormat::int8_calibrated) throw std::logic_error("dequantized: int8 activations are no weights");
  io::SafetensorsFile out = weights;
  const std::vector<std::string> names = quantized_tensors(g, format);
  for (io::TensorData& t : out.tensors) {
    if (std::find(names.begin(), names.end(), t.name) == names.end()) continue;
    if (format == ops::WeightFormat::int8) {
      const Int8Rows r = quantize_int8(t.values, t.shape.at(0));
      const std::size_t cols = t.values.size() / t.shape[0];
      for (std::size_t i = 0; i < t.values.size(); ++i) t.values[i] = r.scale[i / cols] * static_cast<float>(r.q[i]);
    } else {
      for (std::size_t i = 0; i < t.values.size(); ++i) {
        try {
          t.values[i] = bf16_to_float(float_to_bf16(t.values[i]));
        } catch (const std::range_error&) {
          throw std::range_error("tensor '" + t.name + "' holds a value beyond bf16's range (at " + std::to_string(i) + ")");
        }
      }
    }
    t.f64.clear();
  }
  return out;
}

}  // namespace castnet::gen
