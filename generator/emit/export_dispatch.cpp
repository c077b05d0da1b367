// See export_dispatch.hpp. The units compile the export unchanged; what they add is the check of
// their flags and their function table.
#include "emit/export_dispatch.hpp"

#include "emit/arch.hpp"
#include "emit/code_writer.hpp"

namespace castnet::gen {
namespace {

// The banner lines every file shares.
Holes provenance(const ExportOptions& o) {
  Holes h;
  h.comment("version", o.version).comment("spec", o.spec_label).comment("weights", o.weights_label);
  return h;
}

// What a unit checks before the export: its instruction set's flags, or, for scalar, the define
// that selects the export's scalar kernels.
std::string unit_guard(const std::string& ns, std::string_view arch) {
  if (arch == "scalar")
    return "// The export's plain scalar kernels.\n#ifndef CASTNET_EXPORT_SCALAR\n#define CASTNET_EXPORT_SCALAR\n#endif\n";
  return dispatch_unit_guard(ns, arch);
}

}  // namespace

std::vector<EmittedFile> export_dispatch(const ir::Graph& g, const ExportOptions& o, std::string export_text,
                                         const std::string& header_name) {
  const std::string ns = o.ns.empty() ? g.name : o.ns;
  const std::string stem = header_name.substr(0, header_name.rfind('.'));
  const std::string impl = stem + "_impl.hpp";
  const bool classifier = g.loss.kind == ir::LossKind::softmax_cross_entropy;

  Holes table;
  table.id("ns", ns).comment("stem", stem);
  table.code("classify_member", classifier ? "\nstd::size_t (*classify)(const float*) noexcept;" : "");
  const std::string table_text = render("export_dispatch_table.tmpl", table);

  std::vector<EmittedFile> files;
  Holes h = provenance(o);
  h.comment("sha256", o.sha256).comment("weights_sha256", o.weights_sha256).comment("gen_flags", o.gen_flags);
  h.id("ns", ns).comment("stem", stem).code("table", table_text);
  h.num("inputs", g.input_features()).num("outputs", g.output_features()).num("params", g.param_count()).num("batch", g.batch);
  h.comment("outputs_are", g.loss.kind == ir::LossKind::mse ? "the network's outputs"
                           : classifier ? "class probabilities (softmax of the logits)"
                                        : "probabilities (sigmoid of each logit)");
  h.code("classify_decl", classifier ? "\n// The most probable class of one sample (the lowest index among equals).\n"
                                       "std::size_t classify(const float* x) noexcept;"
                                     : "");
  files.push_back({header_name, render("export_dispatch.hpp.tmpl", h) + "\n"});
  files.push_back({impl, std::move(export_text)});

  for (const std::string_view arch : dispatch_arches()) {
    Holes u = provenance(o);
    u.id("ns", ns).id("arch", std::string(arch)).comment("header", header_name).comment("stem", stem).comment("impl", impl);
    u.code("arch_guard", unit_guard(ns, arch)).code("table", table_text);
    u.code("classify_entry", classifier ? ", classify" : "");
    files.push_back({stem + "_" + std::string(arch) + ".cpp", render("export_dispatch_unit.cpp.tmpl", u) + "\n"});
  }

  Holes d = provenance(o);
  d.id("ns", ns).comment("header", header_name).comment("stem", stem);
  d.code("choose", render("dispatch_choose.tmpl", Holes().id("ns", ns)));
  d.code("classify_def", classifier ? "\nstd::size_t classify(const float* x) noexcept { return dispatch::kernels().classify(x); }" : "");
  files.push_back({stem + "_dispatch.cpp", render("export_dispatch.cpp.tmpl", d) + "\n"});
  return files;
}

}  // namespace castnet::gen
