// What a layer kind is, in one place: how it reads its keys from a spec, its shape rule, its
// parameters and FLOPs, the plan's choice between straight-line code and a kernel call, and the
// code of its forward and backward passes. Each kind implements OpDef in its own file
// (dense.cpp, activation.cpp); registry.cpp maps OpKind to them. Adding a kind: list it in
// ir/op_kinds.def, copy the nearest ops/<kind>.cpp, register it, add its templates, and teach the
// interpreter (runtime/interp) its math: the compiler points at every switch that misses it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.hpp"
#include "spec/attributes.hpp"

namespace castnet::ops {

// Where a layer's forward pass reads and writes: C++ expressions naming buffers.
// In the batched pass, the variables `training` (train_step, not forward_batch) and `key` (the
// step's dropout key) are in scope.
struct ForwardSite {
  std::size_t rows = 1;  // samples: 1 in forward(), kBatch in forward_batch()
  std::string x;         // the layer's input
  std::string pre;       // its pre-activation (the same buffer as `out` when none is kept)
  std::string out;       // its output
  std::size_t index = 0; // the layer's position in the graph (streams of random masks)
};

// A workspace buffer of kBatch * out_features values a layer keeps besides its output.
struct ExtraBuffer {
  std::string suffix;   // the member is <layer><suffix>
  std::string comment;
};

// Where a layer's backward pass reads and writes.
struct BackwardSite {
  std::string x, pre, out;  // as in the batched forward pass
  std::string dout;         // dLoss/d(out), read only
  bool first = false;       // the first layer: its input gradient goes to the caller's dx, if not null
  // A gradient scratch buffer that is neither of the two given.
  std::function<std::string(const std::string&, const std::string&)> scratch;
};

struct BackwardCode {
  std::string code;
  std::string dinput;  // the buffer holding dLoss/d(input) afterwards ("dx" for the first layer)
};

class OpDef {
 public:
  virtual ~OpDef() = default;
  // Reads the layer's keys (all but name and type) into l.
  virtual void read(spec::Attributes& attributes, ir::Layer& l) const = 0;
  // Shape rule: features of one sample out, given l.in_features.
  virtual std::size_t out_features(const ir::Layer& l) const = 0;
  // Trainable tensors (names, shapes, initialisation) and forward FLOPs per sample. `after` is
  // the activation that follows the layer's affine part (fused or next), which picks the init.
  virtual void count(ir::Layer& l, ir::Activation after) const = 0;
  // Plan: straight-line code instead of a call into a compile-time-sized kernel.
  virtual bool unrolled(const ir::Layer& l) const = 0;
  // Whether the batched pass keeps the pre-activation (<name>_pre) beside the output.
  virtual bool keeps_pre(const ir::Layer& l) const = 0;
  // Whether inference (forward, forward_batch) passes the input through unchanged: forward()
  // then emits nothing for the layer.
  virtual bool identity_at_inference(const ir::Layer&) const { return false; }
  virtual std::vector<ExtraBuffer> extra_buffers(const ir::Layer&) const { return {}; }
  // "dense+relu": the check table's type column.
  virtual std::string type_label(const ir::Layer& l) const = 0;
  // "dense 784 -> 512, relu": comments in generated code.
  virtual std::string describe(const ir::Layer& l) const = 0;
  virtual std::string forward(const ir::Layer& l, const ForwardSite& site) const = 0;
  virtual BackwardCode backward(const ir::Layer& l, const BackwardSite& site) const = 0;
};

const OpDef& op_def(ir::OpKind kind);

// The layer kind a spec's `type` names, setting l.kind (and l.activation for a standalone
// activation); nullptr if the type is unknown.
const OpDef* op_for_type(std::string_view type, ir::Layer& l);

// "dense or an activation: identity, relu, ...": the types op_for_type knows, for messages.
std::string known_types();

}  // namespace castnet::ops
