// Graph + weights -> the standalone inference header. This file decides the buffers of predict()
// (one stack arena, planned like forward()'s), the layout of the baked-in arrays, and the call each
// layer makes into the header's own kernels (templates/export.hpp.tmpl).
#include "emit/emit_export.hpp"

#include <castnet/error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "emit/code_writer.hpp"
#include "emit/layer_table.hpp"
#include "ir/identifier.hpp"
#include "ir/memory_plan.hpp"
#include "ops/op_def.hpp"
#include "passes/passes.hpp"

namespace castnet::gen {
namespace {

using ir::Graph;
using ir::Layer;
using ir::OpKind;

// The shortest text that reads back as exactly `v`, as a float literal ("0.5f", "1e-05f", "3.0f").
std::string float_literal(float v) {
  char buf[32];
  std::string s(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s + "f";
}

// `alignas(64) inline constexpr T name[n] = {...};`, a dozen values per line.
template <class V, class Format>
std::string constant_array(const std::string& type, const std::string& name, const std::string& comment,
                           const std::vector<V>& values, Format format) {
  std::string s = "// " + comment + "\nalignas(64) inline constexpr " + type + " " + checked_identifier(name) + "[" +
                  std::to_string(values.size()) + "] = {";
  for (std::size_t i = 0; i < values.size(); ++i) {
    s += i % 12 == 0 ? "\n    " : " ";
    s += format(values[i]);
    if (i + 1 < values.size()) s += ',';
  }
  return s + "\n};";
}

class ExportEmitter {
 public:
  ExportEmitter(const Graph& g, const io::SafetensorsFile& w, const Normalization& norm, const ExportOptions& o)
      : g_(g), w_(w), norm_(norm), o_(o) {}

  std::string emit() {
    plan_buffers();
    const bool classifier = g_.loss.kind == ir::LossKind::softmax_cross_entropy;
    Holes h;
    h.comment("version", o_.version).comment("spec", o_.spec_label).comment("weights", o_.weights_label);
    h.comment("sha256", o_.sha256).comment("weights_sha256", o_.weights_sha256).comment("gen_flags", o_.gen_flags);
    h.id("ns", o_.ns.empty() ? g_.name : o_.ns).id("name", g_.name);
    h.num("inputs", g_.input_features()).num("outputs", g_.output_features()).num("params", g_.param_count());
    h.comment("input_shape_comment", g_.input_shape.size() > 1 ? ", shaped " + ir::shape_text(g_.input_shape) : "");
    h.comment("outputs_are", g_.loss.kind == ir::LossKind::mse ? "the network's outputs"
                             : classifier ? "class probabilities (softmax of the logits)"
                                          : "probabilities (sigmoid of each logit)");
    h.comment("y_is", g_.loss.kind == ir::LossKind::mse ? "" : classifier ? ": class probabilities" : ": probabilities");
    h.num("stack_bytes", plan_.size * sizeof(float) + kernel_stack_bytes());
    std::vector<std::string> table;
    for (const auto& r : layer_table(g_)) table.push_back("// " + comment_text(r));
    h.code("layer_table", join_lines(table));
    h.code("normalize", normalize_code()).code("outputs_code", outputs_code()).code("weight_arrays", weights());
    h.code("predict", predict()).code("classify", classifier ? classify() : "");
    return render("export.hpp.tmpl", h) + "\n";
  }

 private:
  // Steps of predict(): 0 normalises the input, layer i runs at i + 1, the outputs are read at n + 1.
  void plan_buffers() {
    const std::size_t n = g_.layers.size();
    const auto use = [&](std::size_t value, std::size_t step) {
      const std::size_t s = passes::storage_of(g_, value, true);
      if (s != ir::kGraphInput) {
        plan_.buffers[index_[s]].live[0][1] = step;
      } else if (!norm_input_.empty()) {
        plan_.buffers.front().live[0][1] = step;
      }
    };
    if (norm_.kind != Normalize::none) {
      norm_input_ = "input";
      plan_.buffers.push_back({norm_input_, "the normalised input", g_.input_features(), {{0, 0}}, 0});
    }
    index_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const Layer& l = g_.layers[i];
      if (passes::storage_of(g_, i, true) != i) continue;
      if (l.kind == OpKind::glu)  // the dense part's 2U outputs, read by the gate at once
        plan_.buffers.push_back({l.name + "_pre", l.name + "'s dense outputs", 2 * l.units, {{i + 1, i + 1}}, 0});
      index_[i] = plan_.buffers.size();
      plan_.buffers.push_back({l.name + "_out", l.name + "'s output", l.out_features, {{i + 1, i + 1}}, 0});
    }
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t in : g_.layers[i].inputs) use(in, i + 1);
    if (n > 0) use(n - 1, n + 1);
    ir::assign_offsets(plan_, 16);  // 64-byte aligned buffers
  }

  // The largest array of double sums a kernel keeps on the stack: dense's outputs, or one conv2d
  // output channel.
  std::size_t kernel_stack_bytes() const {
    std::size_t most = 0;
    for (const Layer& l : g_.layers) {
      std::size_t sums = 0;
      if (l.kind == OpKind::dense) sums = l.out_features;
      if (l.kind == OpKind::glu) sums = 2 * l.units;
      if (l.kind == OpKind::conv2d) sums = l.out_features / l.filters;
      most = std::max(most, sums * sizeof(double));
    }
    return most;
  }

  // The C++ expression for the value of layer `i` (or the graph's input).
  std::string value(std::size_t i) const {
    const std::size_t s = passes::storage_of(g_, i, true);
    if (s != ir::kGraphInput) return checked_identifier(g_.layers[s].name + "_out");
    return norm_input_.empty() ? "x" : norm_input_;
  }

  std::string pointer(const std::string& name) const {
    const ir::Buffer* b = plan_.find(name);
    return "float* const " + checked_identifier(name) + " = buf + " + std::to_string(b->offset) + ";  // " + comment_text(b->comment);
  }

  static std::string sizes(std::initializer_list<std::size_t> values) {
    std::string s;
    for (auto v : values) s += (s.empty() ? "" : ", ") + std::to_string(v);
    return s;
  }

  // "// fc1: dense 784 -> 512, relu  (mnist.toml:9)", as in the training header, without the
  // training header's choice of straight-line code.
  std::string title(const Layer& layer) const {
    Layer l = layer;
    l.unrolled = false;
    return "// " + checked_identifier(l.name) + ": " + ops::op_def(l.kind).describe(l) + "  (" + comment_text(o_.spec_label) +
           ":" + std::to_string(l.pos.line) + ")";
  }

  static std::string activation(const Layer& l, const std::string& out) {
    const std::string n = std::to_string(l.out_features);
    const std::string alpha = float_literal(static_cast<float>(l.activation.alpha));
    switch (l.activation.kind) {
      case ir::Activation::identity: return "";
      case ir::Activation::leaky_relu: return "detail::leaky_relu<" + n + ">(" + out + ", " + alpha + ");";
      case ir::Activation::elu: return "detail::elu<" + n + ">(" + out + ", " + alpha + ");";
      case ir::Activation::softplus: return "detail::softplus<" + n + ">(" + out + ", " + alpha + ");";
      case ir::Activation::relu:
      case ir::Activation::gelu:
      case ir::Activation::silu:
      case ir::Activation::tanh:
      case ir::Activation::sigmoid:
      case ir::Activation::softmax:
        return std::string("detail::") + ir::to_string(l.activation.kind) + "<" + n + ">(" + out + ");";
    }
    return "";
  }

  // The call(s) computing layer l's output `out` from its inputs `xs`, before its activation.
  std::vector<std::string> compute(const Layer& l, const std::vector<std::string>& xs, const std::string& out) const {
    const std::string w = "detail::" + l.name + "_weight", b = "detail::" + l.name + "_bias";
    switch (l.kind) {
      case OpKind::dense:
        return {"detail::dense<" + sizes({l.in_features, l.out_features}) + ">(" + xs[0] + ", " + w + "_t, " + b + ", " +
                out + ");"};
      case OpKind::glu: {
        const std::string pre = l.name + "_pre";
        return {pointer(pre), "detail::dense<" + sizes({l.in_features, 2 * l.units}) + ">(" + xs[0] + ", " + w + "_t, " +
                                  b + ", " + pre + ");",
                "detail::glu<" + std::to_string(l.units) + ">(" + pre + ", " + out + ");"};
      }
      case OpKind::activation: return {"detail::copy<" + std::to_string(l.out_features) + ">(" + xs[0] + ", " + out + ");"};
      case OpKind::conv2d: {
        const auto& s = l.in_shapes[0];
        return {"detail::conv2d<" +
                sizes({s[0], s[1], s[2], l.filters, l.kernel[0], l.kernel[1], l.stride[0], l.stride[1], l.padding[0],
                       l.padding[1]}) +
                ">(" + xs[0] + ", " + w + ", " + b + ", " + out + ");"};
      }
      case OpKind::maxpool2d:
      case OpKind::avgpool2d: {
        const auto& s = l.in_shapes[0];
        return {std::string("detail::") + ir::to_string(l.kind) + "<" +
                sizes({s[0], s[1], s[2], l.kernel[0], l.kernel[1], l.stride[0], l.stride[1]}) + ">(" + xs[0] + ", " +
                out + ");"};
      }
      case OpKind::add: {
        const std::string n = std::to_string(l.out_features);
        std::vector<std::string> lines = {"detail::add<" + n + ">(" + xs[0] + ", " + xs[1] + ", " + out + ");"};
        for (std::size_t k = 2; k < xs.size(); ++k) lines.push_back("detail::add<" + n + ">(" + out + ", " + xs[k] + ", " + out + ");");
        return lines;
      }
      case OpKind::concat: {
        std::vector<std::string> lines;
        std::size_t offset = 0;
        for (std::size_t k = 0; k < xs.size(); ++k) {
          const std::size_t m = ir::elements(l.in_shapes[k]);
          lines.push_back("detail::copy<" + std::to_string(m) + ">(" + xs[k] + ", " + out + " + " + std::to_string(offset) + ");");
          offset += m;
        }
        return lines;
      }
      case OpKind::prelu: {
        const std::size_t channels = l.params.at(0).size;
        return {"detail::prelu<" + sizes({channels, l.in_features / channels}) + ">(" + xs[0] + ", " + w + ", " + out + ");"};
      }
      case OpKind::dropout:
      case OpKind::flatten:
        break;
    }
    throw std::logic_error("exporter: layer '" + l.name + "' passes its input on and computes nothing");
  }

  std::string predict() const {
    std::vector<std::string> parts;
    if (plan_.size > 0) parts.push_back("alignas(64) float buf[" + std::to_string(plan_.size) + "];  // the layers' buffers, planned to share memory");
    if (!norm_input_.empty()) parts.push_back(pointer(norm_input_) + "\ndetail::normalize(x, " + norm_input_ + ");");
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      std::vector<std::string> xs;
      for (std::size_t in : l.inputs) xs.push_back(value(in));
      if (passes::storage_of(g_, i, true) != i) {
        parts.push_back(title(l) + "\n// passes " + xs[0] + " on");
        continue;
      }
      const std::string out = checked_identifier(l.name + "_out");
      std::vector<std::string> lines = {title(l), pointer(out)};
      for (auto& line : compute(l, xs, out)) lines.push_back(std::move(line));
      if (const std::string a = activation(l, out); !a.empty()) lines.push_back(a);
      parts.push_back(join_lines(lines));
    }
    parts.push_back("detail::outputs(" + value(g_.layers.size() - 1) + ", y);");
    return join_lines(parts, "\n\n");
  }

  // What `castnet predict` prints: the outputs, or probabilities computed in double from the logits.
  std::string outputs_code() const {
    const std::string head = "// y from the network's last values z, as `castnet predict` prints them";
    switch (g_.loss.kind) {
      case ir::LossKind::mse:
        return head + ".\ninline void outputs(const float* z, float* y) noexcept {\n"
                      "  for (std::size_t k = 0; k < kOutputs; ++k) y[k] = z[k];\n}";
      case ir::LossKind::binary_cross_entropy:
        return head + ": the sigmoid of each logit.\n"
                      "inline void outputs(const float* z, float* y) noexcept {\n"
                      "  for (std::size_t k = 0; k < kOutputs; ++k) {\n"
                      "    const double e = std::exp(-std::fabs(static_cast<double>(z[k])));\n"
                      "    y[k] = static_cast<float>(z[k] >= 0.0f ? 1.0 / (1.0 + e) : e / (1.0 + e));\n"
                      "  }\n}";
      case ir::LossKind::softmax_cross_entropy:
        return head + ": the softmax of the logits.\n"
                      "inline void outputs(const float* z, float* y) noexcept {\n"
                      "  float top = z[0];\n"
                      "  for (std::size_t k = 1; k < kOutputs; ++k) top = z[k] > top ? z[k] : top;\n"
                      "  double sum = 0.0;\n"
                      "  for (std::size_t k = 0; k < kOutputs; ++k) sum += std::exp(static_cast<double>(z[k]) - top);\n"
                      "  for (std::size_t k = 0; k < kOutputs; ++k)\n"
                      "    y[k] = static_cast<float>(std::exp(static_cast<double>(z[k]) - top) / sum);\n}";
    }
    return "";
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

  std::string normalize_code() const {
    if (norm_.kind == Normalize::none) return "// The weights carry no input normalisation: predict() reads x as it is.";
    const bool per_input = norm_.offset.size() > 1;
    const auto real = [](double v) { return format_real(v); };
    return "// The input normalisation saved with the weights (" + std::string(name_of(norm_.kind)) +
           "): x' = (x - offset) * scale, in double as training applied it.\n" +
           constant_array("double", "norm_offset", "offset", norm_.offset, real) + "\n" +
           constant_array("double", "norm_scale", "scale", norm_.scale, real) +
           "\ninline void normalize(const float* x, float* out) noexcept {\n"
           "  for (std::size_t i = 0; i < kInputs; ++i)\n"
           "    out[i] = static_cast<float>((static_cast<double>(x[i]) - norm_offset[" +
           (per_input ? "i" : "0") + "]) * norm_scale[" + (per_input ? "i" : "0") + "]);\n}";
  }

  // Each tensor as an array named like the training header's member. Dense (and glu) weights are
  // stored transposed, (in, out), for the dense kernel.
  std::string weights() const {
    std::vector<std::string> arrays;
    for (const Layer& l : g_.layers)
      for (const ir::ParamTensor& p : l.params) {
        const io::TensorData* t = w_.find(p.torch_name);
        if (t == nullptr || t->values.size() != p.size)
          throw std::logic_error("exporter: tensor '" + p.torch_name + "' was not checked against the spec");
        for (std::size_t i = 0; i < t->values.size(); ++i)
          if (!std::isfinite(t->values[i]))
            throw Error(o_.weights_label + ": error: tensor '" + p.torch_name + "' holds a value that is not finite (at " +
                        std::to_string(i) + ")");
        const bool transpose = p.shape.size() == 2;
        std::vector<float> values = t->values;
        std::string comment = p.torch_name + " " + ir::shape_text(p.shape);
        if (transpose) {
          const std::size_t rows = p.shape[0], cols = p.shape[1];
          for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) values[c * rows + r] = t->values[r * cols + c];
          comment += ", stored transposed: (in, out)";
        }
        arrays.push_back(constant_array("float", p.member + (transpose ? "_t" : ""), comment, values, float_literal));
      }
    return join_lines(arrays, "\n\n");
  }

  const Graph& g_;
  const io::SafetensorsFile& w_;
  const Normalization& norm_;
  const ExportOptions& o_;
  ir::MemoryPlan plan_;
  std::vector<std::size_t> index_;  // layer -> its _out buffer in plan_
  std::string norm_input_;          // the normalised input's buffer, if any
};

}  // namespace

std::string emit_export(const ir::Graph& g, const io::SafetensorsFile& weights, const Normalization& norm,
                        const ExportOptions& options) {
  return ExportEmitter(g, weights, norm, options).emit();
}

}  // namespace castnet::gen
