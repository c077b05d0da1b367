// castnet check SPEC [--ir | --json | --quiet] [--limit KEY=N,...]: validate the spec and print
// the layer table (name, type, output shape, parameters, FLOPs per sample) with totals, the
// planned memory and the size of the generated source, then the spec's [data] loaded as the
// runner will (rows, and the classes' balance). --ir prints the IR after the passes instead,
// --json the same figures as one JSON object, --quiet nothing (the exit code says it all).
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <castnet/io/json.hpp>

#include "args.hpp"
#include "data_check.hpp"
#include "emit/layer_table.hpp"
#include "generate.hpp"
#include "ir/print_ir.hpp"
#include "mnist.hpp"
#include "spec/spec.hpp"
#include "verbs.hpp"

namespace castnet::cli {
namespace {

std::string shape_json(const std::vector<std::size_t>& shape) {
  std::vector<std::string> dims;
  for (auto d : shape) dims.push_back(std::to_string(d));
  return json::array(dims);
}

// One data set of the spec, checked: its file (relative to the spec) and summary; nothing for
// none, and no summary for a data name (MNIST is checked when castnet train fetches it).
struct CheckedData {
  std::string name, file;
  std::optional<DataSummary> summary;
};

std::optional<CheckedData> checked(const gen::GenResult& r, const std::string& spec, const char* which,
                                   const std::string& path, const std::string& idx_labels, ir::SourcePos pos) {
  if (path.empty()) return std::nullopt;
  if (is_mnist_name(path)) return CheckedData{which, path, std::nullopt};
  const std::string file = spec_relative(spec, path);
  return CheckedData{which, file,
                     check_data(r.spec, file, spec_relative(spec, idx_labels), r.spec.data.labels,
                                {spec, pos, std::string("[data] ") + which})};
}

}  // namespace

int check(int argc, char** argv) {
  const Args args(argc, argv, 2, {"--limit"}, {"--ir", "--json", "--quiet"});
  if (args.flag("--ir") + args.flag("--json") + args.flag("--quiet") > 1)
    throw UsageError("--ir, --json and --quiet: give one");
  const std::string spec = args.spec();
  gen::GenRequest req;
  req.spec = spec;
  req.limits = limits_option(args);
  const gen::GenResult r = gen::emit_header(req);
  const ir::Graph& g = r.spec.graph;
  if (args.flag("--ir")) {
    std::cout << ir::print_ir(g) << spec::print_settings(r.spec);
    return 0;
  }
  // The data, loaded as the runner will: a bad path, column or label shows here, not after a compile.
  const spec::DataConfig& d = r.spec.data;
  const auto train = checked(r, spec, "train", d.train, d.train_labels, d.train_pos);
  const auto test = checked(r, spec, "test", d.test, d.test_labels, d.test_pos);
  if (args.flag("--quiet")) return 0;
  const std::string optimizer(castnet::name_of(r.spec.training.optimizer.kind));

  if (args.flag("--json")) {
    std::vector<std::string> layers, data;
    std::uint64_t flops = 0;
    for (const auto& l : gen::layer_rows(g)) {
      flops = ir::sat_add(flops, l.flops);
      layers.push_back(json::Object()
                           .add("name", json::str(l.name))
                           .add("type", json::str(l.type))
                           .add("output", shape_json(l.output))
                           .add("params", std::to_string(l.params))
                           .add("flops", std::to_string(l.flops))
                           .text());
    }
    json::Object sets;
    for (const auto& c : {train, test}) {
      if (!c) continue;
      json::Object o;
      o.add("file", json::str(c->file));
      if (c->summary) {
        std::vector<std::string> counts;
        for (auto n : c->summary->counts) counts.push_back(std::to_string(n));
        o.add("rows", std::to_string(c->summary->rows)).add("counts", json::array(counts));
      }
      sets.add(c->name, o.text());
    }
    std::cout << json::Object()
                     .add("spec", json::str(spec))
                     .add("name", json::str(g.name))
                     .add("input", shape_json(g.input_shape))
                     .add("batch", std::to_string(g.batch))
                     .add("layers", json::array(layers))
                     .add("params", std::to_string(g.param_count()))
                     .add("flops", std::to_string(flops))
                     .add("loss", json::str(ir::to_string(g.loss.kind)))
                     .add("optimizer", json::str(optimizer))
                     .add("lr", json::num(r.spec.training.optimizer.lr))
                     .add("workspace_values", std::to_string(g.step_plan.arena.size))
                     .add("forward_stack_values", std::to_string(g.forward_plan.arena.size))
                     .add("generated_bytes", std::to_string(r.header_text.size()))
                     .add("data", sets.text())
                     .text()
              << '\n';
    return 0;
  }

  std::string shape;
  for (auto dim : g.input_shape) shape += (shape.empty() ? "" : ", ") + std::to_string(dim);
  std::printf("%s: %s, input (%s), batch %zu\n", spec.c_str(), g.name.c_str(), shape.c_str(), g.batch);
  for (const auto& row : gen::layer_table(g)) std::printf("%s\n", row.c_str());
  std::printf("loss %s, optimizer %s (lr %g)\n", ir::to_string(g.loss.kind), optimizer.c_str(), r.spec.training.optimizer.lr);
  std::printf("memory: Workspace %zu values (%.1f MB of float), forward() stack %zu values (%.1f KB)\n", g.step_plan.arena.size,
              static_cast<double>(g.step_plan.arena.size) * 4 / 1e6, g.forward_plan.arena.size,
              static_cast<double>(g.forward_plan.arena.size) * 4 / 1e3);
  std::printf("generated source: %zu bytes\n", r.header_text.size());
  for (const auto& c : {train, test}) {
    if (!c) continue;
    if (c->summary)
      std::printf("data %s: %s: %s\n", c->name.c_str(), c->file.c_str(), describe(*c->summary, r.spec).c_str());
    else
      std::printf("data %s: %s (MNIST: checked when castnet train fetches it)\n", c->name.c_str(), c->file.c_str());
  }
  return 0;
}

}  // namespace castnet::cli
