// castnet check SPEC [--ir]: validate the spec and print the layer table (name, type, output
// shape, parameters, FLOPs per sample) with totals; --ir prints the IR after the passes instead.
#include <cstdio>
#include <iostream>
#include <string>

#include "args.hpp"
#include "generate.hpp"
#include "ir/print_ir.hpp"
#include "ops/op_def.hpp"
#include "verbs.hpp"

namespace castnet::cli {
namespace {

std::string shape_text(std::size_t features) { return "(" + std::to_string(features) + ")"; }

}  // namespace

int check(int argc, char** argv) {
  const Args args(argc, argv, 2, {}, {"--ir"});
  const std::string spec = args.spec();
  const ir::Graph g = gen::load_graph(spec);
  if (args.flag("--ir")) {
    std::cout << ir::print_ir(g);
    return 0;
  }

  std::printf("%s: %s, input %s, batch %zu\n", spec.c_str(), g.name.c_str(), shape_text(g.input_features()).c_str(), g.batch);
  std::printf("%-20s %-18s %-10s %12s %14s\n", "layer", "type", "output", "params", "FLOPs/sample");
  std::uint64_t flops = 0;
  for (const auto& l : g.layers) {
    std::size_t params = 0;
    for (const auto& p : l.params) params += p.size;
    flops += l.flops;
    std::printf("%-20s %-18s %-10s %12zu %14llu\n", l.name.c_str(), ops::op_def(l.kind).type_label(l).c_str(),
                shape_text(l.out_features).c_str(), params, static_cast<unsigned long long>(l.flops));
  }
  std::printf("%-20s %-18s %-10s %12zu %14llu\n", "total", "", "", g.param_count(), static_cast<unsigned long long>(flops));
  std::printf("loss %s, optimizer %s (lr %g)\n", ir::to_string(g.loss.kind), ir::to_string(g.optimizer.kind), g.optimizer.lr);
  return 0;
}

}  // namespace castnet::cli
