// What a layer kind is, in one place: the spec keys it reads and writes, its shape rule, its
// parameters, initialisation and FLOPs, the plan's choices (straight-line code or a kernel call,
// the buffers it keeps), and the code of its forward and backward passes, which the training
// header and the exported header both print. Each kind implements OpDef in its own folder,
// ops/<kind>/, beside the templates of the code it emits; registry.cpp maps OpKind to them.
// ops/README.md is the checklist for adding a kind.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.hpp"
#include "spec/attributes.hpp"

namespace castnet::ops {

// How an exported header stores a layer's "weight" tensor (`castnet export --quantize`): float,
// int8 with a float scale per output channel (the member <layer>_weight_scale), bf16, or int8 met
// by int8 activations (`--calibrate`: the members <layer>_input_inv, <layer>_weight_sum and
// <layer>_out_scale, kernels/quantized.hpp's dense_forward_int8_calibrated).
enum class WeightFormat { f32, int8, bf16, int8_calibrated };

// What `--quantize` does with a layer's parameters: keeps them all float (none, or small
// per-feature tensors), stores its "weight" tensor as WeightFormat (its forward() then calls a
// quantized kernel), or is refused (large weights without a quantized kernel).
enum class QuantizeRule { keep_float, weight, unsupported };

// Where a layer's forward pass reads and writes: C++ expressions naming the places the plan gave
// it (ir/plan.hpp). In the training pass, the variables `training` (train_step, not forward_batch)
// and `key` (the step's dropout key) are in scope.
struct ForwardSite {
  std::size_t rows = 1;         // samples: 1 in forward(), kBatch in forward_batch()
  std::vector<std::string> xs;  // the layer's inputs, in `inputs` order
  std::string pre;              // its pre-activation (the same buffer as `out` when none is kept)
  std::string out;              // its output
  std::string scratch;          // scratch_values() per sample, when the kind asks for any
  std::vector<std::string> extras;  // its extra_buffers(), in order (the training pass only)
  std::size_t index = 0;        // the layer's position in the graph (streams of random masks)
  WeightFormat weights = WeightFormat::f32;  // how Params holds the layer's "weight" tensor
  const std::string& x() const { return xs.front(); }
};

// A workspace buffer of kBatch * out_features values a layer keeps besides its output.
struct ExtraBuffer {
  std::string suffix;   // the buffer is called <layer><suffix>
  std::string comment;
};

// Which of its forward buffers a layer's backward pass reads: the memory plan keeps them until the
// next forward pass (backward() may run more than once) and reuses the others once the forward
// pass is past them.
struct BackwardReads {
  bool inputs = true, pre = true, out = true;
};

// Where a layer's backward pass reads and writes.
struct BackwardSite {
  std::vector<std::string> xs;  // as in the batched forward pass
  std::string pre, out;
  std::string dout;             // dLoss/d(out), read only
  std::string dz;               // a buffer of kBatch * pre_features() values, when needs_dz()
  std::string scratch;          // as in the forward pass
  std::vector<std::string> extras;
  std::vector<std::string> dxs; // where dLoss/d(input i) goes (overwritten)
  const std::string& x() const { return xs.front(); }
};

// A layer's backward pass: `params` fills its parameter gradients (and whatever the input
// gradients need first); inputs[i] writes dLoss/d(input i). The emitter may skip an input's part
// (the network's input when the caller passes no dx) or redirect it to accumulate.
struct BackwardCode {
  std::string params;
  std::vector<std::string> inputs;
  // Optional: what replaces `params` when the pass applies the step's update `*u`
  // (castnet::Update, to the parameters `*up`, with the velocity Params* `v`, null for sgd; see
  // train_step_update): `update_before` runs before `inputs` (what they need), `update` after them
  // (they read the parameters as they were) and makes the gradients and applies them at once.
  // Without it the gradients go to g, and the pass applies u to them after `inputs`.
  std::string update_before{}, update{};
};

// A spec error at the layer (file:line:col, the layer's name), for the shape rules.
struct LayerError {
  const ir::Graph& g;
  const ir::Layer& l;
  [[noreturn]] void operator()(const std::string& message) const;
};

class OpDef {
 public:
  virtual ~OpDef() = default;
  // Reads the layer's keys (all but name, type and inputs) into l.
  virtual void read(spec::Attributes& attributes, ir::Layer& l) const = 0;
  // Writes them back, so that read() gives l again (`castnet import` writes specs this way).
  virtual void write(const ir::Layer& l, spec::KeyWriter& keys) const = 0;
  // The spec's `type` of the layer: the kind's name, or the activation's for a standalone one.
  virtual std::string spec_type(const ir::Layer& l) const { return ir::to_string(l.kind); }
  // Whether the kind reads two or more inputs (add, concat) rather than one.
  virtual bool merges() const { return false; }
  // Whether a layer of the kind takes an `activation` key, applied to its output (dense, conv2d).
  virtual bool fuses_activation() const { return false; }
  // The activation a layer of the kind is, standing alone (identity for every other kind): the
  // passes pick the initialisation of the layer before it from it.
  virtual ir::Activation standalone_activation(const ir::Layer&) const { return ir::Activation::identity; }
  // Whether the layer leaves every value as it is (an identity activation): the loss's checks look
  // through such layers for the activation the network ends with.
  virtual bool changes_nothing(const ir::Layer&) const { return false; }
  // Values per sample the layer reads, given l.in_shapes: one input's (concat: all of them).
  virtual std::size_t in_features(const ir::Layer& l) const { return ir::elements(l.in_shapes.front()); }
  // Shape rule: the output shape of one sample, given l.in_shapes; calls fail when the inputs do
  // not fit (a conv on flat features, a kernel larger than its padded input, ...).
  virtual ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const = 0;
  // Trainable tensors (names, shapes, initialisation) and forward FLOPs per sample. `after` is
  // the activation that follows the layer's affine part (fused or next), which picks the init.
  virtual void count(ir::Layer& l, ir::Activation after) const = 0;
  // Plan: straight-line code instead of a call into a compile-time-sized kernel.
  virtual bool unrolled(const ir::Layer&) const { return false; }
  // Whether the batched pass keeps the pre-activation (<name>_pre) beside the output, its size per
  // sample, and what it holds (for the plan's comments: "before relu").
  virtual bool keeps_pre(const ir::Layer&) const { return false; }
  virtual std::size_t pre_features(const ir::Layer& l) const { return l.out_features; }
  virtual std::string pre_comment(const ir::Layer& l) const {
    return std::string("before ") + ir::to_string(l.activation.kind);
  }
  // Whether the output is the input itself: in every pass (flatten), or in forward() for one
  // sample (dropout). No code is emitted there and the output names the input's buffer.
  virtual bool aliases_input(const ir::Layer&) const { return false; }
  virtual bool identity_at_inference(const ir::Layer& l) const { return aliases_input(l); }
  virtual std::vector<ExtraBuffer> extra_buffers(const ir::Layer&) const { return {}; }
  // Values of scratch per sample the forward and backward passes use while the layer runs.
  virtual std::size_t scratch_values(const ir::Layer&) const { return 0; }
  // Values of scratch per row of the pass, for kinds that work on the whole batch at once (kan's
  // basis expansion feeds a GEMM): the passes' scratch holds scratch_values() plus rows times this.
  virtual std::size_t scratch_values_per_row(const ir::Layer&) const { return 0; }
  // Whether backward needs the dz buffer (kBatch * pre_features()).
  virtual bool needs_dz(const ir::Layer&) const { return false; }
  virtual BackwardReads backward_reads(const ir::Layer&) const { return {}; }
  // "dense+relu": the check table's type column.
  virtual std::string type_label(const ir::Layer& l) const = 0;
  // "dense 784 -> 512, relu": comments in generated code.
  virtual std::string describe(const ir::Layer& l) const = 0;
  // The kernel headers its code calls, under castnet/kernels/ ("dense.hpp"): the training header
  // includes them, an exported header carries them.
  virtual std::vector<std::string> kernel_headers(const ir::Layer& l) const = 0;
  // What --quantize does with the layer's parameters; a kind with large weights and no quantized
  // kernel is refused, by default.
  virtual QuantizeRule quantize_rule(const ir::Layer& l) const {
    return l.params.empty() ? QuantizeRule::keep_float : QuantizeRule::unsupported;
  }
  // The kernel headers of forward() with the weights in that format (an exported header carries them).
  virtual std::vector<std::string> quantized_kernel_headers(const ir::Layer& l) const { return kernel_headers(l); }
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
