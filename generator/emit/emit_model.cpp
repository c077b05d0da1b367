// Planned graph -> the model header. This file owns what is graph-wide: the skeleton
// (templates/model.hpp.tmpl), the Params, Grads and Workspace members and the tensor table. The
// passes' code is printed from their plans by PassPrinter (which the exported header shares);
// what a layer computes is emitted by its kind (ops/).
#include "emit/emit_model.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <vector>

#include "emit/arch.hpp"
#include "emit/code_writer.hpp"
#include "emit/layer_table.hpp"
#include "emit/pass_printer.hpp"
#include "ir/diagnostic.hpp"
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
    case ir::Init::prelu_slope: return "prelu_slope";
  }
  return "zeros";
}

class ModelEmitter {
 public:
  ModelEmitter(const Graph& g, const EmitOptions& o)
      : g_(g), o_(o), budget_(g),
        step_(g, g.step_plan, PassPrinter::Arena::workspace, o.spec_label, budget_),
        one_(g, g.forward_plan, PassPrinter::Arena::stack, o.spec_label, budget_) {}

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
    h.code("layer_table", layer_table()).code("kernel_includes", kernel_includes());
    h.code("param_members", param_members()).code("workspace_members", workspace_members());
    h.num("tensor_count", tensor_count()).code("tensor_infos", tensor_infos()).code("param_pointers", param_pointers());
    h.code("forward_one", one_.forward()).code("forward_batch", step_.forward()).code("backward", step_.backward());
    const ir::Buffer& output = g_.step_plan.buffer(g_.step_plan.result);
    h.id("output", output.name).num("output_offset", output.offset);
    h.id("dy", g_.step_plan.buffer(g_.step_plan.loss_grad).name);
    std::string shape;
    for (auto d : g_.input_shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    h.num("input_rank", g_.input_shape.size()).code("input_shape", shape);
    std::string text = render("model.hpp.tmpl", h) + "\n";
    budget_.check(text.size());
    return text;
  }

 private:

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

  // The kernel headers the layers' code calls; merge.hpp for the graph's own copies and sums, and
  // the losses train_step computes.
  std::string kernel_includes() const {
    std::set<std::string> names = {"merge.hpp", "losses.hpp"};
    for (const auto& l : g_.layers)
      for (auto& h : ops::op_def(l.kind).kernel_headers(l)) names.insert(h);
    std::vector<std::string> lines;
    for (const auto& n : names) lines.push_back("#include <castnet/kernels/" + n + ">");
    return join_lines(lines);
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
      lines.push_back(step_.title(i));
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
    std::vector<std::string> lines = {"alignas(64) real buffer[" + std::to_string(g_.step_plan.arena.size) + "];"};
    for (const auto& b : g_.step_plan.arena.buffers)
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

  const Graph& g_;
  const EmitOptions& o_;
  CodeBudget budget_;
  PassPrinter step_, one_;  // train_step's passes over the Workspace; forward()'s over the stack
};

}  // namespace

std::string emit_model(const ir::Graph& g, const EmitOptions& options) { return ModelEmitter(g, options).emit(); }

}  // namespace castnet::gen
