// Planned graph -> the model header. This file owns what is graph-wide: the skeleton
// (templates/model.hpp.tmpl), the Params, Grads and Workspace members, the tensor table, which
// buffer each layer reads and writes, and the comment that names each layer and its spec line.
// What a layer computes is emitted by its kind (ops/).
#include "emit/emit_model.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "emit/code_writer.hpp"
#include "emit/layer_table.hpp"
#include "ir/identifier.hpp"
#include "ops/op_def.hpp"

namespace castnet::gen {
namespace {

using ir::Graph;
using ir::Layer;

const char* init_name(ir::Init i) {
  switch (i) {
    case ir::Init::zeros: return "zeros";
    case ir::Init::he_normal: return "he_normal";
    case ir::Init::glorot_uniform: return "glorot_uniform";
  }
  return "zeros";
}

std::string joined(const std::vector<std::string>& lines, const char* separator = "\n") {
  std::string s;
  for (const auto& l : lines) s += (s.empty() ? "" : separator) + l;
  return s;
}

// Layers are separated by a blank line.
std::string paragraphs(const std::vector<std::string>& parts) { return joined(parts, "\n\n"); }

const std::string& checked(const std::string& name) {
  if (!ir::is_identifier(name)) throw std::logic_error("emitter: '" + name + "' is not a valid identifier");
  return name;
}

class ModelEmitter {
 public:
  ModelEmitter(const Graph& g, const EmitOptions& o) : g_(g), o_(o) {}

  std::string emit() {
    const std::string ns = o_.ns.empty() ? g_.name : o_.ns;
    Holes h;
    h.comment("version", o_.version).comment("spec", o_.spec_label).comment("sha256", o_.sha256);
    h.comment("gen_flags", o_.gen_flags).num("abi", o_.abi).id("ns", ns).code("real", o_.real_double ? "double" : "float");
    h.id("name", g_.name);
    h.num("inputs", g_.input_features()).num("outputs", g_.output_features()).num("targets", g_.targets_per_sample());
    h.num("batch", g_.batch).num("params", g_.param_count()).code("loss", ir::to_string(g_.loss.kind));
    h.code("outputs_are", g_.loss.kind != ir::LossKind::mse ? "logits" : "predictions");
    h.code("targets_are", g_.loss.kind == ir::LossKind::softmax_cross_entropy ? "the class index" : "one per output");
    h.code("layer_table", layer_table());
    h.code("param_members", param_members()).code("workspace_members", workspace_members());
    h.num("tensor_count", tensor_count()).code("tensor_infos", tensor_infos()).code("param_pointers", param_pointers());
    h.code("forward_one", forward_one()).code("forward_batch", forward_batch()).code("backward", backward());
    h.id("output", g_.layers.back().name + "_out");
    return render("model.hpp.tmpl", h) + "\n";
  }

 private:
  static const ops::OpDef& op(const Layer& l) { return ops::op_def(l.kind); }

  // "// fc1: dense 784 -> 512, relu  (mnist.toml:9)"; the spec label is comment-safe text.
  std::string title(const Layer& l) const {
    return "// " + checked(l.name) + ": " + op(l).describe(l) + "  (" + comment_text(o_.spec_label) + ":" +
           std::to_string(l.pos.line) + ")";
  }

  std::size_t tensor_count() const {
    std::size_t n = 0;
    for (const auto& l : g_.layers) n += l.params.size();
    return n;
  }

  std::string layer_table() const {
    std::vector<std::string> rows;
    for (const auto& r : gen::layer_table(g_)) rows.push_back("// " + r);
    return joined(rows);
  }

  std::string param_members() const {
    std::vector<std::string> lines;
    for (const auto& l : g_.layers) {
      if (l.params.empty()) continue;
      lines.push_back(title(l));
      for (const auto& p : l.params) {
        std::string size;
        for (auto d : p.shape) size += (size.empty() ? "" : " * ") + std::to_string(d);
        const char* what = p.shape.size() == 2 ? "  // (out, in)" : "  // (out)";
        lines.push_back("alignas(64) real " + checked(p.member) + "[" + size + "];" + what);
      }
    }
    return joined(lines);
  }

  std::string workspace_members() const {
    std::vector<std::string> lines;
    std::size_t widest = g_.output_features();
    for (const auto& l : g_.layers) {
      widest = std::max(widest, l.out_features);
      const std::string n = std::to_string(l.out_features);
      if (op(l).keeps_pre(l))
        lines.push_back("alignas(64) real " + checked(l.name + "_pre") + "[kBatch * " + n + "];  // (batch, " + n +
                        ") before " + ir::to_string(l.activation.kind));
      lines.push_back("alignas(64) real " + checked(l.name + "_out") + "[kBatch * " + n + "];  // (batch, " + n + ")");
      for (const auto& b : op(l).extra_buffers(l))
        lines.push_back("alignas(64) real " + checked(l.name + b.suffix) + "[kBatch * " + n + "];  // " + b.comment);
    }
    const std::string w = std::to_string(widest);
    lines.push_back("alignas(64) real dy[kBatch * kOutputs];  // dLoss/dy of train_step");
    lines.push_back("alignas(64) real grad_a[kBatch * " + w + "];  // backward scratch: gradients between layers");
    lines.push_back("alignas(64) real grad_b[kBatch * " + w + "];");
    return joined(lines);
  }

  std::string tensor_infos() const {
    std::vector<std::string> lines;
    for (const auto& l : g_.layers)
      for (const auto& p : l.params) {
        std::string shape;
        for (std::size_t i = 0; i < 4; ++i) shape += (i ? ", " : "") + std::to_string(i < p.shape.size() ? p.shape[i] : 0);
        checked(p.member);  // torch_name is "<identifier>.weight"; the member is the same identifier + suffix
        lines.push_back("castnet::TensorInfo{\"" + p.torch_name + "\", {" + shape + "}, " + std::to_string(p.shape.size()) +
                        ", " + std::to_string(p.size) + ", castnet::Init::" + init_name(p.init) + ", " +
                        std::to_string(p.fan_in) + ", " + std::to_string(p.fan_out) + "},");
      }
    return joined(lines);
  }

  std::string param_pointers() const {
    std::string s;
    for (const auto& l : g_.layers)
      for (const auto& p : l.params) s += (s.empty() ? "" : ", ") + ("p." + checked(p.member));
    return s;
  }

  // Buffers of the batched pass: where layer i reads its input and writes its output.
  std::string in_buffer(std::size_t i) const { return i == 0 ? "x" : out_buffer(i - 1); }
  std::string out_buffer(std::size_t i) const { return "ws." + checked(g_.layers[i].name + "_out"); }
  std::string pre_buffer(std::size_t i) const {
    const Layer& l = g_.layers[i];
    return op(l).keeps_pre(l) ? "ws." + checked(l.name + "_pre") : out_buffer(i);
  }

  // One sample: a stack array per layer (the last writes y); activations applied in place. A layer
  // that is the identity at inference (dropout) reads and writes nothing, except as the last.
  std::string forward_one() const {
    std::vector<std::string> parts;
    std::string cur = "x";
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      const bool last = i + 1 == g_.layers.size();
      if (op(l).identity_at_inference(l)) {
        const std::string n = std::to_string(l.out_features);
        parts.push_back(title(l) + "\n" + (last ? "castnet::copy<real, " + n + ">(" + cur + ", y);" : "// the identity at inference"));
        continue;
      }
      const std::string out = last ? "y" : checked(l.name + "_out");
      const std::string decl = last ? "" : "alignas(64) real " + out + "[" + std::to_string(l.out_features) + "];\n";
      parts.push_back(title(l) + "\n" + decl + op(l).forward(l, {1, cur, out, out, i}));
      cur = out;
    }
    return paragraphs(parts);
  }

  std::string forward_batch() const {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      parts.push_back(title(l) + "\n" + op(l).forward(l, {g_.batch, in_buffer(i), pre_buffer(i), out_buffer(i), i}));
    }
    return paragraphs(parts);
  }

  // Reverse order; `cur` holds dLoss/d(output of layer i). Gradients between layers flow through
  // two scratch buffers; the first layer writes its input gradient into dx when asked.
  std::string backward() const {
    const auto scratch = [](const std::string& a, const std::string& b) {
      for (const char* s : {"ws.grad_a", "ws.grad_b"})
        if (a != s && b != s) return std::string(s);
      throw std::logic_error("emitter: no free gradient buffer");
    };
    std::vector<std::string> parts;
    std::string cur = "dy";
    for (std::size_t i = g_.layers.size(); i-- > 0;) {
      const Layer& l = g_.layers[i];
      const auto code = op(l).backward(l, {in_buffer(i), pre_buffer(i), out_buffer(i), cur, i == 0, scratch});
      parts.push_back(title(l) + "\n" + code.code);
      cur = code.dinput;
    }
    return paragraphs(parts);
  }

  const Graph& g_;
  const EmitOptions& o_;
};

}  // namespace

std::string emit_model(const ir::Graph& g, const EmitOptions& options) { return ModelEmitter(g, options).emit(); }

}  // namespace castnet::gen
