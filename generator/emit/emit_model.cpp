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
    case ir::Init::ones: return "ones";
    case ir::Init::silu_rbf: return "silu_rbf";
    case ir::Init::silu_bspline: return "silu_bspline";
    case ir::Init::uniform_fan_in: return "uniform_fan_in";
    case ir::Init::kan_spline: return "kan_spline";
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
    if (o_.arch == "dispatch") throw std::logic_error("emit_model: --arch dispatch emits a set of files (emit_dispatch)");
    const std::string ns = name_space();
    Holes h = skeleton(ns);
    h.num("abi", o_.abi).code("arch_guard", arch_guard(ns, o_.arch)).code("kernel_includes", kernel_includes());
    h.code("types", types()).code("functions", functions()).code("model_struct", model_struct(ns));
    std::string text = render("model.hpp.tmpl", h) + "\n";
    budget_.check(text.size());
    return text;
  }

  // The header declares; a unit per instruction set defines the functions, each in its own
  // namespace (ns::impl::<isa>) and compiled with that instruction set's flags; the dispatcher,
  // compiled for the baseline, points the header's functions at one unit's at the first call.
  std::vector<EmittedFile> emit_dispatch(const std::string& header_name) {
    const std::string ns = name_space();
    const std::string stem = header_name.substr(0, header_name.rfind('.'));
    std::vector<EmittedFile> files;
    Holes h = skeleton(ns);
    h.num("abi", o_.abi).code("types", types()).code("model_struct", model_struct(ns)).comment("stem", stem);
    files.push_back({header_name, render("dispatch.hpp.tmpl", h) + "\n"});
    const std::string functions_text = functions();
    for (const std::string_view arch : dispatch_arches()) {
      Holes u = skeleton(ns);
      u.code("arch_guard", arch == "scalar" ? arch_guard(ns, "scalar") : dispatch_unit_guard(ns, arch));
      u.id("arch", std::string(arch)).comment("header", header_name);
      u.comment("stem", stem).code("kernel_includes", kernel_includes()).code("functions", functions_text);
      files.push_back({stem + "_" + std::string(arch) + ".cpp", render("dispatch_unit.cpp.tmpl", u) + "\n"});
    }
    Holes d = skeleton(ns);
    d.num("abi", o_.abi).comment("header", header_name).comment("stem", stem);
    d.code("choose", render("dispatch_choose.tmpl", Holes().id("ns", ns)));
    files.push_back({stem + "_dispatch.cpp", render("dispatch.cpp.tmpl", d) + "\n"});
    for (const auto& f : files) budget_.check(f.text.size());
    return files;
  }

 private:
  std::string name_space() const { return o_.ns.empty() ? g_.name : o_.ns; }

  // What every file of the model has: the banner and the namespace.
  Holes skeleton(const std::string& ns) const {
    Holes h;
    h.code("banner", banner()).id("ns", ns);
    return h;
  }

  // Constants, Params, Grads, Workspace and the tensor table: what does not depend on the
  // instruction set.
  std::string types() const {
    Holes h;
    h.code("real", o_.real_double ? "double" : "float").code("sha256_value", o_.sha256).id("name", g_.name);
    h.num("inputs", g_.input_features()).num("outputs", g_.output_features()).num("targets", g_.targets_per_sample());
    h.num("batch", g_.batch).num("params", g_.param_count()).code("loss", ir::to_string(g_.loss.kind));
    h.code("outputs_are", g_.loss.kind != ir::LossKind::mse ? "logits" : "predictions");
    h.code("targets_are", g_.loss.kind == ir::LossKind::softmax_cross_entropy ? "the class index" : "one per output");
    h.code("layer_table", layer_table());
    h.code("param_members", param_members()).code("workspace_members", workspace_members());
    h.num("tensor_count", tensor_count()).code("tensor_infos", tensor_infos()).code("param_pointers", param_pointers());
    std::string shape;
    for (auto d : g_.input_shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    h.num("input_rank", g_.input_shape.size()).code("input_shape", shape);
    return render("model_types.tmpl", h);
  }

  // forward, forward_batch, outputs, backward, train_step and train_step_update.
  std::string functions() {
    Holes h;
    h.code("loss", ir::to_string(g_.loss.kind));
    h.code("forward_one", one_.forward()).code("forward_batch", step_.forward()).code("backward", step_.backward());
    const ir::Buffer& output = g_.step_plan.buffer(g_.step_plan.result);
    h.id("output", output.name).num("output_offset", output.offset);
    h.id("dy", g_.step_plan.buffer(g_.step_plan.loss_grad).name);
    return render("model_functions.tmpl", h);
  }

  static std::string model_struct(const std::string& ns) { return render("model_struct.tmpl", Holes().id("ns", ns)); }

  // A runner's header (no spec label) names no spec, so that every spec of one network, whatever
  // its path, comments or training settings, gives the same bytes and shares a compiled runner.
  std::string banner() const {
    Holes h;
    h.comment("version", o_.version);
    if (o_.spec_label.empty())
      return render_text("// Generated by castnet-gen {{version}} for a castnet runner of any spec with this network. DO NOT EDIT.\n"
                         "// The runner takes the spec's sha256 on its command line (--spec-sha256).", h, "runner banner");
    h.comment("spec", o_.spec_label).comment("sha256", o_.sha256).comment("gen_flags", o_.gen_flags);
    return render_text("// Generated by castnet-gen {{version}} from {{spec}}. DO NOT EDIT.\n"
                       "// spec sha256: {{sha256}}\n"
                       "// regenerate: castnet gen {{spec}} -o <dir>{{gen_flags}}", h, "banner");
  }

  // What the header (or a dispatch unit) checks, or for scalar defines, before its includes; empty
  // without --arch. It ends with a newline, which leaves a blank line above the includes.
  static std::string arch_guard(const std::string& ns, const std::string& name) {
    if (name.empty()) return "";
    const Arch* arch = find_arch(name);
    if (arch == nullptr) throw std::invalid_argument("--arch '" + name + "': must be one of " + arch_names() + "|dispatch");
    Holes h;
    h.id("ns", ns);
    if (arch->name == "scalar") return render("arch_scalar.tmpl", h) + "\n";
    h.comment("arch", arch->name).comment("flags", arch->flags);
    std::string check;
    if (!arch->condition.empty()) check = render("arch_check.tmpl", Holes(h).code("condition", std::string(arch->condition)));
    return render("arch_isa.tmpl", h.code("isa_check", check)) + "\n";
  }

  // The kernel headers the layers' code calls; merge.hpp for the graph's own copies and sums, the
  // losses train_step computes and the updates train_step_update applies.
  std::string kernel_includes() const {
    std::set<std::string> names = {"merge.hpp", "losses.hpp", "update.hpp"};
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
                        std::to_string(p.fan_in) + ", " + std::to_string(p.fan_out) +
                        (p.init == ir::Init::silu_rbf || p.init == ir::Init::silu_bspline
                             ? ", " + format_real(p.lo) + ", " + format_real(p.hi)
                             : std::string()) +
                        "},");
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

std::vector<EmittedFile> emit_dispatch(const ir::Graph& g, const EmitOptions& options, const std::string& header_name) {
  return ModelEmitter(g, options).emit_dispatch(header_name);
}

}  // namespace castnet::gen
