// The passes that complete a parsed graph, in pipeline order. Each one reads what the previous
// ones filled in; run_passes() runs them all. Errors throw castnet::SpecError naming the layer.
// Per-kind rules come from each layer kind's OpDef (ops/); the passes hold the graph-level ones.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "ir/plan.hpp"

namespace castnet::passes {

void resolve_inputs(ir::Graph& g);  // unique names, inputs by name -> index, cycles, unused layers; topological order
void infer_shapes(ir::Graph& g);    // input and output shapes of every layer
void validate(ir::Graph& g);        // the loss fits the output
void count(ir::Graph& g);           // parameter tensors (names, shapes, init) and FLOPs; parameter limit
void plan(ir::Graph& g);            // per layer: straight-line code or a kernel call; the pass plans and their limits

// The pass plans (plan.cpp): every buffer of a pass with its lifetime and place in the arena, and
// where each layer reads and writes. Buffers are named <layer>_out, _pre, _grad (dLoss/d output),
// _dz, _scratch, _dx<k> (an input gradient on its way to being added), a kind's extra buffers,
// dy, and input (a staged copy of the network's input).
ir::PassPlan plan_training(const ir::Graph& g);  // train_step over g.batch rows: the Workspace

struct InferenceOptions {
  bool output_to_y = true;   // the last layer writes the caller's y; else a buffer of the arena
  bool stage_input = false;  // the layers read a copy of the input in the arena (normalised, or padded)
  std::string stage_comment;  // what that copy holds
};
ir::PassPlan plan_inference(const ir::Graph& g, std::size_t rows, const InferenceOptions& options = {});

// The layer whose buffer holds layer i's output: i itself, unless i passes its input through
// (flatten; at inference also dropout), or kGraphInput.
std::size_t storage_of(const ir::Graph& g, std::size_t i, bool inference);

inline void run_passes(ir::Graph& g) {
  resolve_inputs(g);
  infer_shapes(g);
  validate(g);
  count(g);
  plan(g);
}

}  // namespace castnet::passes
