// castnet check SPEC [--ir] [--limit KEY=N,...]: validate the spec and print the layer table (name, type, output
// shape, parameters, FLOPs per sample) with totals, the planned memory and the size of the
// generated source, then the spec's [data] loaded as the runner will (rows, and the classes'
// balance); --ir prints the IR after the passes instead.
#include <cstdio>
#include <iostream>
#include <string>

#include "args.hpp"
#include "data_check.hpp"
#include "mnist.hpp"
#include "emit/layer_table.hpp"
#include "generate.hpp"
#include "ir/print_ir.hpp"
#include "spec/spec.hpp"
#include "verbs.hpp"

namespace castnet::cli {

int check(int argc, char** argv) {
  const Args args(argc, argv, 2, {"--limit"}, {"--ir"});
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
  std::string shape;
  for (auto d : g.input_shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  std::printf("%s: %s, input (%s), batch %zu\n", spec.c_str(), g.name.c_str(), shape.c_str(), g.batch);
  for (const auto& row : gen::layer_table(g)) std::printf("%s\n", row.c_str());
  std::printf("loss %s, optimizer %s (lr %g)\n", ir::to_string(g.loss.kind), std::string(castnet::name_of(r.spec.training.optimizer.kind)).c_str(), r.spec.training.optimizer.lr);
  std::printf("memory: Workspace %zu values (%.1f MB of float), forward() stack %zu values (%.1f KB)\n", g.step_plan.arena.size,
              static_cast<double>(g.step_plan.arena.size) * 4 / 1e6, g.forward_plan.arena.size,
              static_cast<double>(g.forward_plan.arena.size) * 4 / 1e3);
  std::printf("generated source: %zu bytes\n", r.header_text.size());
  // The data, loaded as the runner will: a bad path, column or label shows here, not after a compile.
  const spec::DataConfig& d = r.spec.data;
  const auto data = [&](const char* which, const std::string& path, const std::string& idx_labels, ir::SourcePos pos) {
    if (path.empty()) return;
    if (is_mnist_name(path)) {
      std::printf("data %s: %s (MNIST: checked when castnet train fetches it)\n", which, path.c_str());
      return;
    }
    const std::string file = spec_relative(spec, path);
    const DataSummary summary = check_data(r.spec, file, spec_relative(spec, idx_labels), d.labels,
                                           {spec, pos, std::string("[data] ") + which});
    std::printf("data %s: %s: %s\n", which, file.c_str(), describe(summary, r.spec).c_str());
  };
  data("train", d.train, d.train_labels, d.train_pos);
  data("test", d.test, d.test_labels, d.test_pos);
  return 0;
}

}  // namespace castnet::cli
