// Prints the layers' code of one planned pass (ir/plan.hpp): each layer's title, then what its kind
// emits (ops/) at the places the plan gives it. The training header (train_step's forward and
// backward over the Workspace, forward() over a stack arena) and the exported header (predict()
// and predict_batch() over stack arenas) print their passes through it, so both run the same code.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "ir/plan.hpp"
#include "ops/op_def.hpp"

namespace castnet::gen {

// The limit 'code_bytes' on what the layers emit, counted as their code accumulates so that a spec
// that would emit gigabytes stops early. The error names the layer that emits the most code.
class CodeBudget {
 public:
  explicit CodeBudget(const ir::Graph& g) : g_(g), bytes_(g.layers.size(), 0) {}
  // Counts `code` against layer i and returns it.
  const std::string& count(std::size_t layer, const std::string& code);
  // Checks a whole text of `size` bytes.
  void check(std::uint64_t size) const;

 private:
  const ir::Graph& g_;
  std::vector<std::uint64_t> bytes_;
  std::uint64_t total_ = 0;
};

class PassPrinter {
 public:
  // How the pass names its buffers: accessors of a Workspace `ws` (train_step), or pointers into a
  // stack array `buf`, each declared where its layer first writes it (forward(), predict()).
  enum class Arena { workspace, stack };

  // `weights`: the format of the quantizable layers' weights (an exported header's --quantize).
  PassPrinter(const ir::Graph& g, const ir::PassPlan& plan, Arena arena, std::string spec_label, CodeBudget& budget,
              ops::WeightFormat weights = ops::WeightFormat::f32)
      : g_(g), plan_(plan), arena_(arena), spec_label_(std::move(spec_label)), budget_(budget), weights_(weights) {}

  // "ws.fc1_out()", "fc1_out", "x", "y", "dx", "dy".
  std::string place(const ir::Place& p) const;
  // "// fc1: dense 784 -> 512, relu  (mnist.toml:9)".
  std::string title(std::size_t layer) const;

  // Where a pass whose plan stages its input reads it: given the staged buffer's address
  // ("buf + 0"), an expression that fills the buffer and returns the address the layers read,
  // the buffer's or another's with the same rows.
  using InputStager = std::function<std::string(const std::string& buffer)>;

  // The forward pass. With a stack arena: the arena's declaration first, then the staged input's
  // pointer (from `stage`, when the plan stages the input), then the layers. In the training pass,
  // dropout layers draw their masks when `training` is set (see OpDef::forward).
  std::string forward(const InputStager& stage = nullptr) const;
  // The backward pass (the training plan): parameter gradients into g, input gradients into dx;
  // or, where the update `u` is not null (train_step_update), each layer's parameters `*up` take
  // it as their gradients are made, or right after its backward, the last reader of them.
  std::string backward() const;

 private:
  // The declaration of a stack buffer's pointer: "real* const fc1_out = buf + 0;  // (64)".
  std::string pointer(const ir::Place& p) const;

  const ir::Graph& g_;
  const ir::PassPlan& plan_;
  Arena arena_;
  std::string spec_label_;
  CodeBudget& budget_;
  ops::WeightFormat weights_;
};

}  // namespace castnet::gen
