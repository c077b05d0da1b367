// Planned graph -> the model header. This file owns what is graph-wide: the skeleton
// (templates/model.hpp.tmpl), the Params, Grads and Workspace members, the tensor table, which
// buffer each layer reads and writes, and the comment that names each layer and its spec line.
// What a layer computes is emitted by its kind (ops/).
#include "emit/emit_model.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "emit/arch.hpp"
#include "emit/code_writer.hpp"
#include "emit/layer_table.hpp"
#include "ir/identifier.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"
#include "passes/passes.hpp"
#include "ir/diagnostic.hpp"

namespace castnet::gen {
namespace {

using ir::Graph;
using ir::Layer;

const char* init_name(ir::Init i) {
  switch (i) {
    case ir::Init::zeros: return "zeros";
    case ir::Init::he_normal: return "he_normal";
    case ir::Init::glorot_uniform: return "glorot_uniform";
    case ir::Init::prelu_slope: return "prelu_slope";
  }
  return "zeros";
}

// Layers are separated by a blank line.
std::string paragraphs(const std::vector<std::string>& parts) { return join_lines(parts, "\n\n"); }

class ModelEmitter {
 public:
  ModelEmitter(const Graph& g, const EmitOptions& o) : g_(g), o_(o), bytes_(g.layers.size(), 0) {}

  std::string emit() {
    const std::string ns = o_.ns.empty() ? g_.name : o_.ns;
    Holes h;
    h.comment("version", o_.version).comment("spec", o_.spec_label).comment("sha256", o_.sha256);
    h.comment("gen_flags", o_.gen_flags).num("abi", o_.abi).id("ns", ns).code("real", o_.real_double ? "double" : "float");
    h.code("arch_guard", arch_guard(ns));
    h.id("name", g_.name);
    h.num("inputs", g_.input_features()).num("outputs", g_.output_features()).num("targets", g_.targets_per_sample());
    h.num("batch", g_.batch).num("params", g_.param_count()).code("loss", ir::to_string(g_.loss.kind));
    h.code("outputs_are", g_.loss.kind != ir::LossKind::mse ? "logits" : "predictions");
    h.code("targets_are", g_.loss.kind == ir::LossKind::softmax_cross_entropy ? "the class index" : "one per output");
    h.code("layer_table", layer_table());
    h.code("param_members", param_members()).code("workspace_members", workspace_members());
    h.num("tensor_count", tensor_count()).code("tensor_infos", tensor_infos()).code("param_pointers", param_pointers());
    h.code("forward_one", forward_one()).code("forward_batch", forward_batch()).code("backward", backward());
    h.id("output", output_buffer());
    h.num("output_offset", g_.workspace.find(output_buffer())->offset);
    std::string shape;
    for (auto d : g_.input_shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    h.num("input_rank", g_.input_shape.size()).code("input_shape", shape);
    std::string text = render("model.hpp.tmpl", h) + "\n";
    check_size(text.size());
    return text;
  }

 private:
  static const ops::OpDef& op(const Layer& l) { return ops::op_def(l.kind); }

  // The limit 'code_bytes' on the header: checked as the layers' code accumulates, so a spec
  // that would emit gigabytes stops early, and on the whole text. The error names the layer that
  // emits the most code.
  const std::string& counted(std::size_t i, const std::string& code) const {
    bytes_[i] += code.size();
    layer_bytes_ += code.size();
    check_size(layer_bytes_);
    return code;
  }
  void check_size(std::uint64_t size) const {
    if (size <= g_.limits.code_bytes) return;
    std::size_t big = 0;
    for (std::size_t i = 0; i < bytes_.size(); ++i)
      if (bytes_[i] > bytes_[big]) big = i;
    const Layer& l = g_.layers[big];
    fail(g_.spec_path, l.pos, l.name,
         "the generated header would be larger than " + std::to_string(g_.limits.code_bytes) +
             " bytes (limit 'code_bytes'); this layer emits the most code, " + std::to_string(bytes_[big]) +
             " bytes so far: use fewer layers (small dense and conv layers are unrolled into straight-line code)");
  }

  // What the header checks (or, for scalar, defines) before its includes; empty without --arch.
  // It ends with a newline, which leaves a blank line above the includes.
  std::string arch_guard(const std::string& ns) const {
    if (o_.arch.empty()) return "";
    const Arch* arch = find_arch(o_.arch);
    if (arch == nullptr) throw std::invalid_argument("--arch '" + o_.arch + "': must be one of " + arch_names());
    Holes h;
    h.id("ns", ns);
    if (arch->name == "scalar") return render("arch_scalar.tmpl", h) + "\n";
    h.comment("arch", arch->name).comment("flags", arch->flags);
    std::string check;
    if (!arch->condition.empty()) check = render("arch_check.tmpl", Holes(h).code("condition", std::string(arch->condition)));
    return render("arch_isa.tmpl", h.code("isa_check", check)) + "\n";
  }

  // "// fc1: dense 784 -> 512, relu  (mnist.toml:9)"; the spec label is comment-safe text. A layer
  // that does not read the one before it says what it reads.
  std::string title(std::size_t i) const {
    const Layer& l = g_.layers[i];
    std::string reads;
    const std::vector<std::size_t> chain = {i == 0 ? ir::kGraphInput : i - 1};
    if (l.inputs != chain && !op(l).merges())
      for (const auto& n : l.input_names) reads += (reads.empty() ? ", reads " : ", ") + checked_identifier(n);
    return "// " + checked_identifier(l.name) + ": " + op(l).describe(l) + reads + "  (" + comment_text(o_.spec_label) + ":" +
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
    return join_lines(rows);
  }

  std::string param_members() const {
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      if (l.params.empty()) continue;
      lines.push_back(title(i));
      for (const auto& p : l.params) {
        std::string size, dims;
        for (auto d : p.shape) size += (size.empty() ? "" : " * ") + std::to_string(d);
        lines.push_back("alignas(64) real " + checked_identifier(p.member) + "[" + size + "];  // " + comment_text(p.layout));
      }
    }
    return join_lines(lines);
  }

  // The planned arena and one accessor per buffer, in the order the plan lists them (by layer).
  std::string workspace_members() const {
    std::vector<std::string> lines = {"alignas(64) real buffer[" + std::to_string(g_.workspace.size) + "];"};
    for (const auto& b : g_.workspace.buffers)
      lines.push_back("real* " + checked_identifier(b.name) + "() noexcept { return buffer + " + std::to_string(b.offset) + "; }  // " +
                      comment_text(b.comment) + ", " + std::to_string(b.size) + " values, " + steps(b));
    return join_lines(lines);
  }

  // "steps 3-12": when a buffer holds data (train_step's steps: layer i forward = i, loss = n,
  // layer i backward = 2n - i).
  static std::string steps(const ir::Buffer& b) {
    std::string s;
    for (const auto& r : b.live)
      s += (s.empty() ? (b.live.size() == 1 && r[0] == r[1] ? "step " : "steps ") : " and ") + std::to_string(r[0]) + (r[1] != r[0] ? "-" + std::to_string(r[1]) : "");
    return s;
  }

  std::string tensor_infos() const {
    std::vector<std::string> lines;
    for (const auto& l : g_.layers)
      for (const auto& p : l.params) {
        std::string shape;
        for (std::size_t i = 0; i < 4; ++i) shape += (i ? ", " : "") + std::to_string(i < p.shape.size() ? p.shape[i] : 0);
        checked_identifier(p.member);  // torch_name is "<identifier>.weight"; the member is the same identifier + suffix
        lines.push_back("castnet::TensorInfo{\"" + p.torch_name + "\", {" + shape + "}, " + std::to_string(p.shape.size()) +
                        ", " + std::to_string(p.size) + ", castnet::Init::" + init_name(p.init) + ", " +
                        std::to_string(p.fan_in) + ", " + std::to_string(p.fan_out) + "},");
      }
    return join_lines(lines);
  }

  std::string param_pointers() const {
    std::string s;
    for (const auto& l : g_.layers)
      for (const auto& p : l.params) s += (s.empty() ? "" : ", ") + ("p." + checked_identifier(p.member));
    return s;
  }

  std::string output_buffer() const {
    const std::size_t s = passes::storage_of(g_, g_.layers.size() - 1, false);
    return g_.layers[s].name + "_out";
  }

  // Batched passes: the buffer holding the output of layer i (the input's when i passes it on).
  std::string batch_value(std::size_t i) const {
    const std::size_t s = passes::storage_of(g_, i, false);  // kGraphInput stays kGraphInput
    return s == ir::kGraphInput ? "x" : ops::workspace_buffer(g_.layers[s], "_out");
  }

  std::vector<std::string> batch_inputs(const Layer& l) const {
    std::vector<std::string> xs;
    for (std::size_t in : l.inputs) xs.push_back(batch_value(in));
    return xs;
  }

  std::string optional_buffer(const Layer& l, bool present, const std::string& suffix) const {
    return present ? ops::workspace_buffer(l, suffix) : "";
  }

  // One sample: the planned stack arena; each layer's buffers are named pointers into it, and the
  // last layer writes y. A layer that passes its input on at inference (flatten, dropout) emits
  // nothing, except as the last, where it copies into y.
  std::string forward_one() const {
    std::vector<std::string> parts;
    if (g_.one_sample.size > 0)
      parts.push_back("alignas(64) real buf[" + std::to_string(g_.one_sample.size) + "];  // the planned arena of the layers below");
    const auto value = [&](std::size_t i) {
      const std::size_t s = passes::storage_of(g_, i, true);
      return s == ir::kGraphInput ? std::string("x") : checked_identifier(g_.layers[s].name + "_out");
    };
    const auto pointer = [&](const std::string& name) {
      const ir::Buffer* b = g_.one_sample.find(name);
      return "real* const " + checked_identifier(name) + " = buf + " + std::to_string(b->offset) + ";  // " + comment_text(b->comment);
    };
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      const bool last = i + 1 == g_.layers.size();
      std::vector<std::string> xs;
      for (std::size_t in : l.inputs) xs.push_back(value(in));
      if (op(l).aliases_input(l) || op(l).identity_at_inference(l)) {
        gen::Holes h;
        h.num("rows", 1).num("n", l.out_features).code("from", xs[0]).code("to", "y");
        parts.push_back(counted(i, title(i) + "\n" + (last ? render("graph/copy.tmpl", h) : "// passes " + xs[0] + " on")));
        continue;
      }
      std::string code = title(i);
      const std::string out = last ? "y" : checked_identifier(l.name + "_out");
      if (!last) code += "\n" + pointer(out);
      std::string pre = out, scratch;
      if (g_.one_sample.find(l.name + "_pre")) {
        pre = l.name + "_pre";
        code += "\n" + pointer(pre);
      }
      if (g_.one_sample.find(l.name + "_scratch")) {
        scratch = l.name + "_scratch";
        code += "\n" + pointer(scratch);
      }
      parts.push_back(counted(i, code + "\n" + op(l).forward(l, {1, xs, pre, out, scratch, i})));
    }
    return paragraphs(parts);
  }

  std::string forward_batch() const {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      const auto xs = batch_inputs(l);
      if (op(l).aliases_input(l)) {
        parts.push_back(title(i) + "\n// passes " + xs[0] + " on");
        continue;
      }
      const std::string out = ops::workspace_buffer(l, "_out");
      const std::string pre = op(l).keeps_pre(l) ? ops::workspace_buffer(l, "_pre") : out;
      const std::string scratch = optional_buffer(l, op(l).scratch_values(l) > 0, "_scratch");
      parts.push_back(counted(i, title(i) + "\n" + op(l).forward(l, {g_.batch, xs, pre, out, scratch, i})));
    }
    return paragraphs(parts);
  }

  // Reverse order. Layer i's backward reads dLoss/d(its output) from <layer>_grad (dy for the last)
  // and writes each input's gradient into that input's _grad buffer: the first writer overwrites,
  // later ones (a layer read by several) go through a temp and add. The network input's gradient
  // goes to the caller's dx, when it is not null.
  std::string backward() const {
    const auto writes = passes::gradient_writes(g_);
    std::vector<std::string> parts;
    for (std::size_t i = g_.layers.size(); i-- > 0;) {
      const Layer& l = g_.layers[i];
      ops::BackwardSite s;
      s.xs = batch_inputs(l);
      s.out = batch_value(i);
      s.pre = op(l).keeps_pre(l) ? ops::workspace_buffer(l, "_pre") : s.out;
      s.dout = i + 1 == g_.layers.size() ? "dy" : ops::workspace_buffer(l, "_grad");
      s.dz = optional_buffer(l, op(l).needs_dz(l), "_dz");
      s.scratch = optional_buffer(l, op(l).scratch_values(l) > 0, "_scratch");
      for (const auto& w : writes[i])
        s.dxs.push_back(w.accumulate ? ops::workspace_buffer(w.temp) : w.graph_input ? "dx" : ops::workspace_buffer(w.target));
      const ops::BackwardCode code = op(l).backward(l, s);
      std::vector<std::string> lines = {title(i)};
      if (!code.params.empty()) lines.push_back(code.params);
      for (std::size_t k = 0; k < writes[i].size(); ++k) {
        const auto& w = writes[i][k];
        std::string input = code.inputs[k];
        if (w.accumulate) {
          Holes h;
          h.num("n", ir::elements(l.in_shapes[k])).code("to", w.graph_input ? "dx" : ops::workspace_buffer(w.target));
          h.code("from", ops::workspace_buffer(w.temp));
          input += "\n" + render("graph/accumulate.tmpl", h);
        }
        if (w.graph_input) {
          Holes h;
          h.code("body", input);
          input = render("graph/if_dx.tmpl", h);
        }
        lines.push_back(input);
      }
      parts.push_back(counted(i, join_lines(lines)));
    }
    return paragraphs(parts);
  }

  const Graph& g_;
  const EmitOptions& o_;
  mutable std::vector<std::uint64_t> bytes_;  // code emitted per layer (forward, batch, backward)
  mutable std::uint64_t layer_bytes_ = 0;
};

}  // namespace

std::string emit_model(const ir::Graph& g, const EmitOptions& options) { return ModelEmitter(g, options).emit(); }

}  // namespace castnet::gen
