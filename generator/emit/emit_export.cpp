// Graph + weights -> the standalone inference header (templates/export.hpp.tmpl). Its passes are
// the training header's, printed by the same PassPrinter from the same planner: predict() is
// forward() over the graph's one-sample plan, predict_batch() the batched forward pass over an
// inference plan of kBatch rows whose input is staged (normalised, and padded with zeros). What
// this file adds: the weights as constant arrays in the training header's Params layout, the
// normalisation saved with the weights, the outputs as `castnet predict` prints them, and the
// kernels carried along (emit/bundle).
#include "emit/emit_export.hpp"

#include <castnet/error.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "emit/bundle.hpp"
#include "emit/code_writer.hpp"
#include "emit/layer_table.hpp"
#include "emit/pass_printer.hpp"
#include "emit/quantize.hpp"
#include "ir/diagnostic.hpp"
#include "ir/identifier.hpp"
#include "ops/op_def.hpp"
#include "passes/passes.hpp"

namespace castnet::gen {
namespace {

using ir::Graph;
using ir::Layer;

// The shortest text that reads back as exactly `v`, as a float literal ("0.5f", "1e-05f", "3.0f").
std::string float_literal(float v) {
  char buf[32];
  std::string s(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s + "f";
}

// The values of an array initialiser, a dozen per line.
template <class V, class Format>
std::string values_text(const std::vector<V>& values, Format format) {
  std::string s;
  for (std::size_t i = 0; i < values.size(); ++i) {
    s += i % 12 == 0 ? "\n    " : " ";
    s += format(values[i]);
    if (i + 1 < values.size()) s += ',';
  }
  return s;
}

class ExportEmitter {
 public:
  ExportEmitter(const Graph& g, const io::SafetensorsFile& w, const Normalization& norm, const ExportOptions& o)
      : g_(g), w_(w), norm_(norm), o_(o), budget_(g),
        quantized_(o.weights == ops::WeightFormat::f32 ? std::vector<std::string>{} : quantized_tensors(g, o.weights)),
        rows_plan_(passes::plan_inference(g, g.batch,
                                          {false, true, normalizes() ? "the rows' inputs, normalised, zeros past the last"
                                                                : "the rows' inputs: x, or a copy with zeros past the last"})) {}

  std::string emit() {
    const std::string ns = o_.ns.empty() ? g_.name : o_.ns;
    if (ns == "castnet") throw std::invalid_argument("--namespace castnet: castnet's own namespace; choose another");
    const std::size_t rows = rows_plan_.rows;
    check_rows_plan();
    const bool classifier = g_.loss.kind == ir::LossKind::softmax_cross_entropy;
    const Bundle kernels = bundle_kernels(kernel_headers());
    Holes h;
    h.comment("version", o_.version).comment("spec", o_.spec_label).comment("weights", o_.weights_label);
    h.comment("sha256", o_.sha256).comment("weights_sha256", o_.weights_sha256).comment("gen_flags", o_.gen_flags);
    h.code("quantization", quantization_banner());
    h.id("ns", ns).id("name", g_.name).id("kernels_ns", "castnet_export_" + ns);
    h.code("save_macros", macro_pragmas("push_macro", kernels.macros)).code("restore_macros", macro_pragmas("pop_macro", kernels.macros));
    h.code("kernels", kernels.text);
    h.num("inputs", g_.input_features()).num("outputs", g_.output_features()).num("params", g_.param_count()).num("batch", rows);
    h.comment("input_shape_comment", g_.input_shape.size() > 1 ? ", shaped " + ir::shape_text(g_.input_shape) : "");
    h.comment("outputs_are", g_.loss.kind == ir::LossKind::mse ? "the network's outputs"
                             : classifier ? "class probabilities (softmax of the logits)"
                                          : "probabilities (sigmoid of each logit)");
    h.comment("y_is", g_.loss.kind == ir::LossKind::mse ? "" : classifier ? ": class probabilities" : ": probabilities");
    h.code("outputs_fn", g_.loss.kind == ir::LossKind::mse ? "identity" : classifier ? "softmax" : "sigmoid");
    h.comment("outputs_are_comment", g_.loss.kind == ir::LossKind::mse ? ": the values themselves"
                                     : classifier ? ": the softmax of the logits" : ": the sigmoid of each logit");
    const std::size_t one = g_.forward_plan.arena.size + (normalizes() ? g_.input_features() : 0) + g_.output_features();
    h.num("stack_bytes", std::max(one, rows_plan_.arena.size) * sizeof(float) + quantized_input_bytes());
    std::vector<std::string> table;
    for (const auto& r : layer_table(g_)) table.push_back("// " + comment_text(r));
    h.code("layer_table", join_lines(table));
    h.code("normalize", normalize_code()).code("weight_arrays", weights());
    PassPrinter one_sample(g_, g_.forward_plan, PassPrinter::Arena::stack, o_.spec_label, budget_, o_.weights);
    PassPrinter batch(g_, rows_plan_, PassPrinter::Arena::stack, o_.spec_label, budget_, o_.weights);
    h.code("forward_one", one_sample.forward());
    h.code("stage_rows", stage_rows()).comment("staged_rows", normalizes() ? "normalised" : "as they are");
    h.code("forward_rows", batch.forward([](const std::string& buffer) { return "stage_rows(x, rows, " + buffer + ")"; }) + "\n\ndetail::outputs(" + batch.place(rows_plan_.result) + ", y, rows);");
    h.code("predict", predict()).code("classify", classifier ? classify() : "");
    // The layers' code counts against 'code_bytes' as it is printed; the weights do not.
    return render("export.hpp.tmpl", h) + "\n";
  }

 private:
  bool normalizes() const { return norm_.kind != Normalize::none; }

  // The calibrated kernels' own stack: one quantized input row (a dense layer's input, a conv2d
  // patch), the largest of the quantized layers'. 0 otherwise.
  std::size_t quantized_input_bytes() const {
    if (o_.weights != ops::WeightFormat::int8_calibrated) return 0;
    std::size_t most = 0;
    for (const Layer& l : g_.layers)
      if (ops::op_def(l.kind).quantize_rule(l) == ops::QuantizeRule::weight)
        most = std::max(most, l.kind == ir::OpKind::conv2d ? l.in_shapes.at(0).at(0) * l.kernel[0] * l.kernel[1] : l.in_features);
    return most;
  }

  // predict_batch's arena is on the stack too: it obeys the Workspace's limit.
  void check_rows_plan() const {
    if (rows_plan_.arena.size <= g_.limits.workspace) return;
    fail(g_.spec_path, g_.layers.back().pos, "",
         "predict_batch's buffers for " + std::to_string(rows_plan_.rows) + " rows need " +
             std::to_string(rows_plan_.arena.size) + " values, over the limit 'workspace' of " +
             std::to_string(g_.limits.workspace) + " (export with a smaller --batch)");
  }

  // The kernel headers of the layers that compute in either pass, and outputs.hpp.
  std::vector<std::string> kernel_headers() const {
    std::set<std::string> names = {"outputs.hpp"};
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      if (!g_.forward_plan.layers[i].computes && !rows_plan_.layers[i].computes) {
        if (i + 1 == g_.layers.size()) names.insert("merge.hpp");  // forward() copies it into y
        continue;
      }
      const ops::OpDef& op = ops::op_def(l.kind);
      const bool quantized = o_.weights != ops::WeightFormat::f32 && op.quantize_rule(l) == ops::QuantizeRule::weight;
      for (auto& h : quantized ? op.quantized_kernel_headers(l) : op.kernel_headers(l)) names.insert(h);
    }
    return {names.begin(), names.end()};
  }

  // #pragma push_macro / pop_macro of the export's macros and of those the kernels define, so the
  // header leaves the including code's macros as it found them.
  static std::string macro_pragmas(const char* pragma, std::vector<std::string> macros) {
    for (const char* own : {"castnet", "CASTNET_SIMD_SCALAR", "CASTNET_SIMD_VECEXT", "CASTNET_EXPORT_XSIMD"})
      if (std::find(macros.begin(), macros.end(), own) == macros.end()) macros.push_back(own);
    // Saved, then undefined, so that the header's own definitions meet no earlier ones.
    std::vector<std::string> lines;
    for (const auto& m : macros) lines.push_back("#pragma " + std::string(pragma) + "(\"" + m + "\")");  // names bundle.cpp matched
    if (std::string(pragma) == "push_macro")
      for (const auto& m : macros) lines.push_back("#undef " + m);
    return join_lines(lines);
  }

  // predict_batch's rows as the layers read them (stage_rows in export.hpp.tmpl). A full chunk on a
  // 64-byte boundary, as castnet's trainer keeps its batches, is read where it is unless it must be
  // normalised; any other is copied first, since the layers run over kBatch rows.
  std::string stage_rows() const {
    if (normalizes()) return "normalize(x, staged, rows * kInputs);";
    return "if (rows == kBatch && reinterpret_cast<std::uintptr_t>(x) % 64 == 0) return x;\n"
           "std::memcpy(staged, x, rows * kInputs * sizeof(real));";
  }

  std::string predict() const {
    std::vector<std::string> lines;
    std::string input = "x";
    if (normalizes()) {
      lines.push_back("alignas(64) real input[kInputs];\ndetail::normalize(x, input, kInputs);");
      input = "input";
    }
    lines.push_back("real z[kOutputs];\ndetail::forward(detail::Params{}, " + input + ", z);\ndetail::outputs(z, y, 1);");
    return join_lines(lines);
  }

  std::string classify() const {
    return "\n// The most probable class of one sample (the lowest index among equals).\n"
           "inline std::size_t classify(const float* x) noexcept {\n"
           "  float y[kOutputs];\n"
           "  predict(x, y);\n"
           "  std::size_t best = 0;\n"
           "  for (std::size_t k = 1; k < kOutputs; ++k)\n"
           "    if (y[k] > y[best]) best = k;\n"
           "  return best;\n"
           "}\n";
  }

  // x' = (x - offset) * scale in double, as castnet's Normalization::apply computes it.
  std::string normalize_code() const {
    if (!normalizes()) return "// The weights carry no input normalisation: the layers read x as it is.";
    const bool per_input = norm_.offset.size() > 1;
    const auto real = [](double v) { return format_real(v); };
    const std::string at = per_input ? "i % kInputs" : "0";
    return "// The input normalisation saved with the weights (" + std::string(name_of(norm_.kind)) +
           "): x' = (x - offset) * scale, in double as training applied it.\n"
           "alignas(64) inline constexpr double norm_offset[" + std::to_string(norm_.offset.size()) + "] = {" +
           values_text(norm_.offset, real) + "\n};\n"
           "alignas(64) inline constexpr double norm_scale[" + std::to_string(norm_.scale.size()) + "] = {" +
           values_text(norm_.scale, real) + "\n};\n"
           "inline void normalize(const float* x, float* out, std::size_t n) noexcept {\n"
           "  for (std::size_t i = 0; i < n; ++i)\n"
           "    out[i] = static_cast<float>((static_cast<double>(x[i]) - norm_offset[" + at + "]) * norm_scale[" + at + "]);\n}";
  }

  // The banner's paragraph on quantized weights: the mode, what was quantized and how, where the
  // scales come from and where the accuracy cost is measured. Nothing for float weights.
  std::string quantization_banner() const {
    if (o_.weights == ops::WeightFormat::f32) return "";
    std::string tensors;
    for (const auto& t : quantized_) tensors += (tensors.empty() ? "" : ", ") + t;
    const std::string weight_scales = "symmetric per output channel, scale = max|w_row| / 127 (per-output-channel "
                                      "max-abs of the weights file above), q = round(w / scale)";
    const bool calibrated = o_.weights == ops::WeightFormat::int8_calibrated;
    const Calibration& c = o_.calibration;
    std::string how;
    switch (o_.weights) {
      case ops::WeightFormat::f32: break;
      case ops::WeightFormat::int8:
        how = "int8, weight-only: " + weight_scales + "; activations stay float, the sums are fp32";
        break;
      case ops::WeightFormat::bf16: how = "bf16 (the floats' upper halves, rounded to nearest even), computed in fp32"; break;
      case ops::WeightFormat::int8_calibrated:
        how = "int8, calibrated activations: weights " + weight_scales +
              "; each quantized layer's input quantized per call to round(x / s_x) in [-127, 127] (saturating), "
              "s_x = max|x| / 127 measured by the float model on the calibration data below; int32 sums, "
              "rescaled to float by s_x * scale[o], then bias and activation in float";
        break;
    }
    const std::string mode = quantize_name(o_.weights);
    const std::string eval = "castnet eval SPEC --weights W --quantize " + mode +
                             (calibrated ? " --calibrate " + c.data_label + c.data_flags : std::string());
    std::vector<std::string> lines = {
        "", (calibrated ? "Quantized weights and activations (--quantize " + mode + " --calibrate): "
                        : "Quantized weights (--quantize " + mode + "): ") + how + ".",
        "Quantized: " + (tensors.empty() ? std::string("none (every layer is too small or has no weights)") : tensors) +
            ". Biases and all other tensors are float."};
    if (calibrated) {
      lines.push_back("Calibration data: " + c.data_label + " (sha256 " + c.data_sha256 + ", " + std::to_string(c.rows) +
                      " rows).");
      lines.push_back("Accuracy of this header on the calibration data: " + c.accuracy + " (`" + eval +
                      " --data " + c.data_label + "` measures the same on any data).");
    } else {
      lines.push_back("Accuracy: not measured at export (no data is read here); `" + eval +
                      "` measures it with these very weights.");
    }
    // Wrapped at 100 columns, as the rest of the banner.
    std::vector<std::string> wrapped;
    for (const auto& line : lines) {
      std::string text = comment_text(line), current = "//";
      for (std::size_t at = 0; at < text.size();) {
        const std::size_t end = std::min(text.find(' ', at), text.size());
        const std::string word = text.substr(at, end - at);
        if (current.size() > 2 && current.size() + 1 + word.size() > 100) {
          wrapped.push_back(current);
          current = "//";
        }
        current += " " + word;
        at = end + 1;
      }
      wrapped.push_back(current);
    }
    return join_lines(wrapped);
  }

  bool is_quantized(const std::string& torch_name) const {
    return std::find(quantized_.begin(), quantized_.end(), torch_name) != quantized_.end();
  }

  // A quantized tensor of layer `layer`: int8 values and their row scales, or bf16 bit patterns;
  // under --calibrate, int8 values and what the calibrated kernels read.
  std::string quantized_array(std::size_t layer, const ir::ParamTensor& p, const io::TensorData& t) const {
    const std::string head = "// " + comment_text(p.torch_name + " " + ir::shape_text(p.shape) + " " + p.layout + ", " +
                                                  quantize_name(o_.weights));
    const std::string member = checked_identifier(p.member);
    const auto int32_text = [](std::int32_t v) { return std::to_string(v); };
    if (o_.weights == ops::WeightFormat::int8_calibrated) {
      const float range = o_.calibration.input_range.at(layer);
      const CalibratedLayer c = calibrated_layer(t.values, p.shape.front(), range);
      const std::string prefix = checked_identifier(g_.layers[layer].name);
      return head + " (value = scale[row] * q)\nalignas(64) static constexpr std::int8_t " + member + "[" +
             std::to_string(p.size) + "] = {" + values_text(c.w.q, int32_text) + "\n};\n" +
             "// sum_i q[row][i], which the VNNI path takes off its sums of (x + 128) * q\n"
             "alignas(64) static constexpr std::int32_t " + checked_identifier(prefix + "_weight_sum") + "[" +
             std::to_string(c.wsum.size()) + "] = {" + values_text(c.wsum, int32_text) + "\n};\n" +
             "// s_x * scale[row]: an int32 sum back to float\n"
             "alignas(64) static constexpr float " + checked_identifier(prefix + "_out_scale") + "[" +
             std::to_string(c.out_scale.size()) + "] = {" + values_text(c.out_scale, float_literal) + "\n};\n" +
             "// 1 / s_x, s_x = range / 127, range = " + float_literal(range) + ": the largest |input| on the calibration data\n"
             "static constexpr float " + checked_identifier(prefix + "_input_inv") + " = " + float_literal(c.input_inv) + ";";
    }
    if (o_.weights == ops::WeightFormat::int8) {
      const Int8Rows r = quantize_int8(t.values, p.shape.front());
      return head + " (value = scale[row] * q)\nalignas(64) static constexpr std::int8_t " + member + "[" +
             std::to_string(p.size) + "] = {" + values_text(r.q, int32_text) +
             "\n};\nalignas(64) static constexpr float " + checked_identifier(p.member + "_scale") + "[" +
             std::to_string(r.scale.size()) + "] = {" + values_text(r.scale, float_literal) + "\n};";
    }
    std::vector<std::uint16_t> h(t.values.size());
    for (std::size_t i = 0; i < h.size(); ++i) {
      try {
        h[i] = float_to_bf16(t.values[i]);
      } catch (const std::range_error&) {
        throw Error(o_.weights_label + ": error: tensor '" + p.torch_name + "' holds a value beyond bf16's range (at " +
                    std::to_string(i) + ")");
      }
    }
    const auto hex = [](std::uint16_t v) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
      return std::string(buf);
    };
    return head + " (bit patterns: the float's upper half)\nalignas(64) static constexpr std::uint16_t " + member + "[" +
           std::to_string(p.size) + "] = {" + values_text(h, hex) + "\n};";
  }

  // Each tensor as a static member named like the training header's, in PyTorch's layout.
  std::string weights() const {
    std::vector<std::string> arrays;
    for (std::size_t k = 0; k < g_.layers.size(); ++k)
      for (const ir::ParamTensor& p : g_.layers[k].params) {
        const io::TensorData* t = w_.find(p.torch_name);
        if (t == nullptr || t->values.size() != p.size)
          throw std::logic_error("exporter: tensor '" + p.torch_name + "' was not checked against the spec");
        for (std::size_t i = 0; i < t->values.size(); ++i)
          if (!std::isfinite(t->values[i]))
            throw Error(o_.weights_label + ": error: tensor '" + p.torch_name + "' holds a value that is not finite (at " +
                        std::to_string(i) + ")");
        if (is_quantized(p.torch_name)) {
          arrays.push_back(quantized_array(k, p, *t));
          continue;
        }
        arrays.push_back("// " + comment_text(p.torch_name + " " + ir::shape_text(p.shape) + " " + p.layout) +
                         "\nalignas(64) static constexpr real " + checked_identifier(p.member) + "[" +
                         std::to_string(p.size) + "] = {" + values_text(t->values, float_literal) + "\n};");
      }
    return join_lines(arrays, "\n");
  }

  const Graph& g_;
  const io::SafetensorsFile& w_;
  const Normalization& norm_;
  const ExportOptions& o_;
  CodeBudget budget_;
  std::vector<std::string> quantized_;  // the torch names of the tensors stored quantized
  ir::PassPlan rows_plan_;
};

}  // namespace

std::string emit_export(const ir::Graph& g, const io::SafetensorsFile& weights, const Normalization& norm,
                        const ExportOptions& options) {
  return ExportEmitter(g, weights, norm, options).emit();
}

}  // namespace castnet::gen
