// The plan of a pass: for every layer, where it reads and writes (typed places: a buffer of the
// pass's arena or one of the pass's arguments), and the arena those buffers share. The planner
// (generator/passes/plan.cpp) decides everything here; the emitter only prints it, the same way for
// the training header and the exported one.
//
// Passes: train_step (forward and backward over the spec's batch, its arena the Workspace),
// forward() (one sample, a stack arena) and the exported header's predict_batch (inference over a
// chunk of rows, a stack arena).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "ir/memory_plan.hpp"

namespace castnet::ir {

// Where a value lives in a pass.
struct Place {
  enum class Kind : std::uint8_t {
    none,    // not used by this layer in this pass
    buffer,  // buffers[buffer] of the pass's arena
    x,       // the pass's input argument
    y,       // the pass's output argument
    dx,      // the caller's dLoss/dx (backward; may be null at run time)
    dy,      // the caller's dLoss/dy (backward)
  };
  Kind kind = Kind::none;
  std::size_t buffer = 0;

  static Place arena(std::size_t index) { return {Kind::buffer, index}; }
  static Place argument(Kind k) { return {k, 0}; }
  bool used() const { return kind != Kind::none; }
  bool operator==(const Place& o) const { return kind == o.kind && (kind != Kind::buffer || buffer == o.buffer); }
  bool operator!=(const Place& o) const { return !(*this == o); }
};

// Where a layer's backward pass writes dLoss/d(input k): the first writer in backward order
// overwrites the producer's gradient, later ones write `temp` and add it into `to`.
struct GradientWrite {
  Place to;
  bool accumulate = false;
  Place temp;
};

struct LayerPlan {
  // false: the layer passes its input on in this pass (flatten; dropout at inference) and emits
  // no code; `out` is then its input's place.
  bool computes = true;
  std::vector<Place> inputs;  // in `inputs` order
  Place out;
  Place pre;      // its pre-activation: `out` itself when none is kept apart
  Place scratch;  // scratch of one sample while the layer runs, if the kind asks for any
  std::vector<Place> extras;  // the kind's extra buffers (OpDef::extra_buffers), in order
  // The training pass only:
  Place dout;  // dLoss/d(out)
  Place dz;    // dLoss/d(pre-activation), if the kind asks for a buffer
  std::vector<GradientWrite> input_grads;  // one per input
};

struct PassPlan {
  enum class Kind : std::uint8_t { train, inference };
  Kind kind = Kind::inference;
  std::size_t rows = 1;     // samples the pass runs at once
  bool output_to_y = false; // inference: the last layer's output goes to the caller's y
  MemoryPlan arena;
  std::vector<LayerPlan> layers;
  Place input;              // where the layers read the network's input: x, or a staged copy
  Place result;             // where the network's output is once the forward pass has run
  Place loss_grad;          // train: the buffer train_step's loss writes dLoss/dy into

  const Buffer& buffer(const Place& p) const { return arena.buffers.at(p.buffer); }
};

}  // namespace castnet::ir
