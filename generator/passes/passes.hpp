// The passes that complete a parsed graph, in pipeline order. Each one reads what the previous
// ones filled in; run_passes() runs them all. Errors throw castnet::SpecError naming the layer.
// Per-kind rules come from each layer kind's OpDef (ops/); the passes hold the graph-level ones.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::passes {

void resolve_inputs(ir::Graph& g);  // unique names, inputs by name -> index, cycles, unused layers; topological order
void infer_shapes(ir::Graph& g);    // input and output shapes of every layer
void validate(ir::Graph& g);        // the loss fits the output
void count(ir::Graph& g);           // parameter tensors (names, shapes, init) and FLOPs; parameter limit
void plan(ir::Graph& g);            // per layer: straight-line code or a kernel call; the memory plans and their limits

// The memory plans (memory_plan.cpp): every buffer of train_step and of forward(), with lifetimes.
// Buffers are named <layer>_out, _pre, _grad (dLoss/d output), _dz, _scratch, _dx<k> (an input
// gradient on its way to being added), a kind's extra buffers, and dy.
ir::MemoryPlan plan_workspace(const ir::Graph& g);
ir::MemoryPlan plan_one_sample(const ir::Graph& g);

// The layer whose buffer holds layer i's output: i itself, unless i passes its input through
// (flatten; at inference also dropout), or kGraphInput.
std::size_t storage_of(const ir::Graph& g, std::size_t i, bool inference);

// Where layer i's backward pass writes dLoss/d(input k): the producer's <layer>_grad buffer (dx,
// the caller's, for the network's input). The first writer in backward order overwrites it; later
// ones write a temp and add it.
struct GradientWrite {
  std::string target;
  bool graph_input = false;
  bool accumulate = false;
  std::string temp;  // when accumulating
};
std::vector<std::vector<GradientWrite>> gradient_writes(const ir::Graph& g);

inline void run_passes(ir::Graph& g) {
  resolve_inputs(g);
  infer_shapes(g);
  validate(g);
  count(g);
  plan(g);
}

}  // namespace castnet::passes
