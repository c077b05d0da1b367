// The passes that complete a parsed graph, in pipeline order. Each one reads what the previous
// ones filled in; run_passes() runs them all. Errors throw castnet::SpecError naming the layer.
#pragma once

#include "ir/graph.hpp"

namespace castnet::ir {

void infer_shapes(Graph& g);  // in_features / out_features of every layer
void validate(Graph& g);      // unique names, loss fits the output, size limits
void count(Graph& g);         // parameter tensors (names, shapes, init) and FLOPs per layer
void plan(Graph& g);          // per layer: straight-line code or a kernel call

inline void run_passes(Graph& g) {
  infer_shapes(g);
  validate(g);
  count(g);
  plan(g);
}

}  // namespace castnet::ir
