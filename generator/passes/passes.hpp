// The passes that complete a parsed graph, in pipeline order. Each one reads what the previous
// ones filled in; run_passes() runs them all. Errors throw castnet::SpecError naming the layer.
// Per-kind rules come from each layer kind's OpDef (ops/); the passes hold the graph-level ones.
#pragma once

#include "ir/graph.hpp"

namespace castnet::passes {

void infer_shapes(ir::Graph& g);  // in_features / out_features of every layer
void validate(ir::Graph& g);      // unique names, loss fits the output, memory limit
void count(ir::Graph& g);         // parameter tensors (names, shapes, init) and FLOPs; parameter limit
void plan(ir::Graph& g);          // per layer: straight-line code or a kernel call

inline void run_passes(ir::Graph& g) {
  infer_shapes(g);
  validate(g);
  count(g);
  plan(g);
}

}  // namespace castnet::passes
