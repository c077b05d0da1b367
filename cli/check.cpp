// castnet check SPEC [--ir]: validate the spec and print the layer table (name, type, output
// shape, parameters, FLOPs per sample) with totals; --ir prints the IR after the passes instead.
#include <cstdio>
#include <iostream>
#include <string>

#include "args.hpp"
#include "emit/layer_table.hpp"
#include "generate.hpp"
#include "ir/print_ir.hpp"
#include "verbs.hpp"

namespace castnet::cli {

int check(int argc, char** argv) {
  const Args args(argc, argv, 2, {}, {"--ir"});
  const std::string spec = args.spec();
  const ir::Graph g = gen::load_graph(spec);
  if (args.flag("--ir")) {
    std::cout << ir::print_ir(g);
    return 0;
  }
  std::printf("%s: %s, input (%zu), batch %zu\n", spec.c_str(), g.name.c_str(), g.input_features(), g.batch);
  for (const auto& row : gen::layer_table(g)) std::printf("%s\n", row.c_str());
  std::printf("loss %s, optimizer %s (lr %g)\n", ir::to_string(g.loss.kind), std::string(castnet::name_of(g.training.optimizer.kind)).c_str(), g.training.optimizer.lr);
  return 0;
}

}  // namespace castnet::cli
