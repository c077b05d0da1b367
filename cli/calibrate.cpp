// See calibrate.hpp.
#include "calibrate.hpp"

#include <castnet/data/data.hpp>
#include <castnet/error.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/io/sha256.hpp>
#include <castnet/kernels/quantized.hpp>
#include <castnet/train/loss_outputs.hpp>
#include <castnet/train/verbs.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "args.hpp"
#include "mnist.hpp"
#include "ops/op_def.hpp"
#include "reference/interpreter.hpp"

namespace castnet::cli {
namespace {

namespace quant = kernels::quant;

// Rows per interpreter call: its trace of every layer's values stays small.
constexpr std::size_t kChunk = 256;

// A conv2d layer's geometry as quant::patches reads it (a Conv2dShape's members, at run time).
struct ConvDims {
  std::size_t c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, patch;
  explicit ConvDims(const ir::Layer& l)
      : c(l.in_shapes.at(0).at(0)), h(l.in_shapes[0].at(1)), w(l.in_shapes[0].at(2)), kh(l.kernel[0]), kw(l.kernel[1]),
        sh(l.stride[0]), sw(l.stride[1]), ph(l.padding[0]), pw(l.padding[1]), oh((h + 2 * ph - kh) / sh + 1),
        ow((w + 2 * pw - kw) / sw + 1), patch(c * kh * kw) {}
};

}  // namespace

void check_calibrate_mode(const std::string& quantize) {
  if (quantize.empty())
    throw UsageError("--calibrate quantizes the activations of an int8 model: give --quantize int8 too");
  try {
    gen::parse_quantize(quantize);  // an unknown mode is named as such
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (quantize != "int8")
    throw UsageError("--calibrate goes with --quantize int8 only (" + quantize + " keeps float activations)");
}

DataFiles calibration_files(const spec::Spec& s, const std::string& spec_path, const std::string& data,
                            const std::string& labels) {
  const DataFiles given = resolve(data, labels, "");
  if (!labels.empty() || !looks_like_idx(given.data) || !given.labels.empty()) return given;
  // The spec's own data: its labels file, as `castnet eval` would pair them.
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& [images, idx_labels] : {std::pair{s.data.train, s.data.train_labels}, std::pair{s.data.test, s.data.test_labels}}) {
    if (images.empty() || is_mnist_name(images)) continue;  // DATA was no data name: not these
    const DataFiles own = resolve(images, idx_labels, spec_path);
    if (fs::equivalent(own.data, given.data, ec)) return own;
  }
  throw UsageError("--calibrate " + data + ": IDX images need their labels: give --calibrate-labels FILE");
}

CalibratedModel::CalibratedModel(const spec::Spec& s, const std::string& weights)
    : spec_(s), model_(std::make_unique<interp::Interpreter<float>>(s.graph)) {
  const ir::Graph& g = s.graph;
  const io::SafetensorsFile file = io::parse_safetensors(io::read_file(weights), weights);
  std::vector<io::ExpectedTensor> expected;
  for (const auto& l : g.layers)
    for (const auto& p : l.params) expected.push_back({p.torch_name, p.shape});
  io::check_tensors(file, weights, expected);
  gen::quantized_tensors(g, ops::WeightFormat::int8);  // a layer without an int8 kernel is refused here
  norm_ = Normalization::from_metadata(file.metadata, g.input_features(), weights);
  if (const auto it = file.metadata.find(detail::kInputColumnsKey); it != file.metadata.end() && !it->second.empty())
    for (std::size_t start = 0; start <= it->second.size();) {
      const std::size_t end = std::min(it->second.find(',', start), it->second.size());
      input_columns_.push_back(it->second.substr(start, end - start));
      start = end + 1;
    }
  std::size_t t = 0;
  for (const auto& l : g.layers) {
    quantized_.push_back(ops::op_def(l.kind).quantize_rule(l) == ops::QuantizeRule::weight);
    for (const auto& p : l.params) model_->params()[t++] = file.find(p.torch_name)->values;
  }
}

CalibratedModel::~CalibratedModel() = default;

Dataset<float> CalibratedModel::load(const DataFiles& files, const std::vector<std::string>& label_columns) const {
  const ir::Graph& g = spec_.graph;
  const DataShape shape{runtime_loss(g.loss.kind), g.input_features(), g.output_features()};
  Dataset<float> d = load_dataset<float>(files.data, files.labels, label_columns, spec_.training.autoencoder, shape,
                                         input_columns_);
  norm_.apply(d);
  if (spec_.training.autoencoder) use_inputs_as_targets(d);
  if (d.rows == 0) throw Error(files.data + ": error: no rows to calibrate or evaluate on");
  return d;
}

gen::Calibration CalibratedModel::calibrate(const Dataset<float>& data, const DataFiles& files,
                                            const std::string& label) const {
  const ir::Graph& g = spec_.graph;
  gen::Calibration c;
  c.input_range.assign(g.layers.size(), 0.0f);
  const interp::Interpreter<float>::Replace measure = [&](std::size_t k, const std::vector<const float*>& in,
                                                          std::size_t n, float*) {
    if (quantized_[k])
      for (std::size_t i = 0; i < n * g.layers[k].in_features; ++i)
        c.input_range[k] = std::max(c.input_range[k], std::fabs(in[0][i]));
    return false;
  };
  std::vector<float> y(kChunk * g.output_features());
  for (std::size_t first = 0; first < data.rows; first += kChunk)
    model_->forward(data.x.data() + first * data.inputs, std::min(kChunk, data.rows - first), y.data(), measure);
  for (std::size_t k = 0; k < g.layers.size(); ++k)
    if (quantized_[k] && !std::isfinite(c.input_range[k]))
      throw Error(files.data + ": error: the input of layer '" + g.layers[k].name +
                  "' is not finite on this data: no int8 range can hold it");
  c.data_label = label;
  c.data_sha256 = io::sha256_hex(io::read_file(files.data));
  c.rows = data.rows;
  return c;
}

Evaluation CalibratedModel::evaluate(const Dataset<float>& data, const std::vector<float>& ranges) const {
  const ir::Graph& g = spec_.graph;
  // Each quantized layer's tables, as the header holds them, and its bias.
  std::vector<gen::CalibratedLayer> tables(g.layers.size());
  std::vector<const float*> bias(g.layers.size());
  std::size_t t = 0;
  for (std::size_t k = 0; k < g.layers.size(); ++k)
    for (const auto& p : g.layers[k].params) {
      const std::vector<float>& values = model_->params()[t++];
      if (!quantized_[k]) continue;
      if (p.member == g.layers[k].name + "_weight") tables[k] = gen::calibrated_layer(values, p.shape.front(), ranges.at(k));
      if (p.member == g.layers[k].name + "_bias") bias[k] = values.data();
    }
  const interp::Interpreter<float>::Replace header = [&](std::size_t k, const std::vector<const float*>& in,
                                                         std::size_t n, float* z) {
    if (!quantized_[k]) return false;
    const ir::Layer& l = g.layers[k];
    const gen::CalibratedLayer& c = tables[k];
    const std::size_t m_in = l.in_features, m_out = l.out_features;
    if (l.kind == ir::OpKind::dense) {
      std::vector<std::int8_t> qx(m_in);
      for (std::size_t s = 0; s < n; ++s) {
        quant::quantize_input(in[0] + s * m_in, c.input_inv, m_in, qx.data());
        quant::int_rows<Act::identity>(qx.data(), m_in, m_out, 1, c.w.q.data(), c.wsum.data(), c.out_scale.data(), bias[k],
                                       z + s * m_out);
      }
      return true;
    }
    if (l.kind != ir::OpKind::conv2d)
      throw std::logic_error("calibrated evaluation: a quantized " + std::string(ir::to_string(l.kind)) + " layer");
    const ConvDims d(l);
    const std::size_t pixels = d.oh * d.ow;
    std::vector<float> col(pixels * d.patch);
    std::vector<std::int8_t> row(d.patch);
    for (std::size_t s = 0; s < n; ++s) {
      quant::patches(d, in[0] + s * m_in, col.data());
      for (std::size_t p = 0; p < pixels; ++p) {
        quant::quantize_input(col.data() + p * d.patch, c.input_inv, d.patch, row.data());
        quant::int_rows<Act::identity>(row.data(), d.patch, l.filters, pixels, c.w.q.data(), c.wsum.data(),
                                       c.out_scale.data(), bias[k], z + s * m_out + p);
      }
    }
    return true;
  };
  const Loss loss = runtime_loss(g.loss.kind);
  const std::size_t outputs = g.output_features();
  std::vector<float> y(kChunk * outputs);
  Evaluation e;
  double loss_sum = 0;
  for (std::size_t first = 0; first < data.rows; first += kChunk) {
    const std::size_t n = std::min(kChunk, data.rows - first);
    model_->forward(data.x.data() + first * data.inputs, n, y.data(), header);
    const float* target = data.t.data() + first * data.targets;
    loss_sum += static_cast<double>(model_->output_loss(y.data(), target, n)) * static_cast<double>(n);
    e.correct += count_correct(loss, y.data(), target, n, outputs);
    e.scored += has_accuracy(loss) ? scored_per_batch(loss, n, outputs) : 0;
  }
  e.loss = loss_sum / static_cast<double>(data.rows);
  if (has_accuracy(loss)) e.accuracy = static_cast<double>(e.correct) / static_cast<double>(e.scored);
  return e;
}

std::string evaluation_text(const Evaluation& e) {
  char line[160];
  if (e.accuracy)
    std::snprintf(line, sizeof line, "accuracy %.2f%% (%zu/%zu), error %.2f%%, loss %.6g", 100.0 * *e.accuracy, e.correct,
                  e.scored, 100.0 * (1.0 - *e.accuracy), e.loss);
  else
    std::snprintf(line, sizeof line, "loss %.6g", e.loss);
  return line;
}

}  // namespace castnet::cli
