// The passes over the graph IR (see passes.hpp).
#include "passes/passes.hpp"

#include <algorithm>
#include <set>

#include "ir/limits.hpp"
#include "ops/op_def.hpp"
#include "support/diagnostic.hpp"

namespace castnet::passes {
namespace {

using ir::Activation;

// The activation that follows layer i's affine part: fused, or a standalone next layer.
Activation activation_after(const ir::Graph& g, std::size_t i) {
  const ir::Layer& l = g.layers[i];
  if (l.activation.kind != Activation::identity) return l.activation.kind;
  if (i + 1 < g.layers.size() && g.layers[i + 1].kind == ir::OpKind::activation) return g.layers[i + 1].activation.kind;
  return Activation::identity;
}

}  // namespace

void infer_shapes(ir::Graph& g) {
  std::size_t features = g.input_features();
  for (ir::Layer& l : g.layers) {
    l.in_features = features;
    l.out_features = ops::op_def(l.kind).out_features(l);
    features = l.out_features;
  }
}

void validate(ir::Graph& g) {
  std::set<std::string> seen;
  for (const ir::Layer& l : g.layers)
    if (!seen.insert(l.name).second)
      fail(g.spec_path, l.name_pos, l.name, "duplicate layer name (names must be unique; unnamed layers are called <type><index>)");

  // The activation the network ends with: trailing identity layers change nothing.
  std::size_t end = g.layers.size() - 1;
  while (end > 0 && g.layers[end].kind == ir::OpKind::activation && g.layers[end].activation.kind == Activation::identity)
    --end;
  const ir::Layer& last = g.layers[end];
  const Activation out_act = last.activation.kind;
  switch (g.loss.kind) {
    case ir::LossKind::mse: break;
    case ir::LossKind::binary_cross_entropy:
      if (out_act == Activation::sigmoid || out_act == Activation::softmax)
        fail(g.spec_path, g.loss.pos, last.name,
             std::string("binary_cross_entropy takes logits, but the last layer applies ") + ir::to_string(out_act) +
                 " (remove it: the loss applies the sigmoid itself, stably)");
      break;
    case ir::LossKind::softmax_cross_entropy:
      if (out_act == Activation::softmax || out_act == Activation::sigmoid)
        fail(g.spec_path, g.loss.pos, last.name,
             std::string("softmax_cross_entropy takes logits, but the last layer applies ") + ir::to_string(out_act) +
                 " (remove it: the loss applies the softmax itself, stably)");
      if (g.layers.back().out_features < 2)
        fail(g.spec_path, g.loss.pos, last.name,
             "softmax_cross_entropy needs at least 2 outputs (one per class), the last layer has " +
                 std::to_string(g.layers.back().out_features) + "; use binary_cross_entropy for one output");
      break;
  }
  if (g.training.autoencoder) {
    if (g.loss.kind == ir::LossKind::softmax_cross_entropy)
      fail(g.spec_path, g.data.targets_pos, "", "targets = \"inputs\" (an autoencoder) needs mse or binary_cross_entropy, not softmax_cross_entropy");
    if (g.output_features() != g.input_features())
      fail(g.spec_path, g.data.targets_pos, last.name,
           "targets = \"inputs\" (an autoencoder) needs as many outputs as inputs: the network has " +
               std::to_string(g.input_features()) + " inputs and " + std::to_string(g.output_features()) + " outputs");
  }

  // Memory of one batch: the input, every layer's output and pre-activation, dLoss/dy and the two
  // gradient buffers (Workspace); and what forward() keeps on the stack for one sample.
  std::uint64_t widest = 0;
  for (const ir::Layer& l : g.layers) widest = std::max<std::uint64_t>(widest, l.out_features);
  std::uint64_t values = g.batch * (g.input_features() + g.output_features() + 2 * widest);
  std::uint64_t stack = 0;
  for (std::size_t i = 0; i < g.layers.size(); ++i) {
    const ir::Layer& l = g.layers[i];
    const ops::OpDef& op = ops::op_def(l.kind);
    values += g.batch * l.out_features * (1 + (op.keeps_pre(l) ? 1 : 0) + op.extra_buffers(l).size());
    if (values > ir::kMaxWorkspace)
      fail(g.spec_path, l.pos, l.name,
           "the activations of batch " + std::to_string(g.batch) + " exceed the limit of " +
               std::to_string(ir::kMaxWorkspace) + " values; use a smaller batch or fewer units");
    if (i + 1 < g.layers.size()) stack += l.out_features;
    if (stack > ir::kMaxStack)
      fail(g.spec_path, l.pos, l.name,
           "forward() for one sample would keep more than " + std::to_string(ir::kMaxStack) +
               " values on the stack (limit); use fewer or narrower layers");
  }
}

void count(ir::Graph& g) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < g.layers.size(); ++i) {
    ir::Layer& l = g.layers[i];
    ops::op_def(l.kind).count(l, activation_after(g, i));
    for (const auto& p : l.params) total += p.size;
    if (total > ir::kMaxParams)
      fail(g.spec_path, l.pos, l.name, "the net would have more than " + std::to_string(ir::kMaxParams) + " parameters (limit)");
  }
  if (total == 0)
    fail(g.spec_path, g.layers.front().pos, g.layers.front().name, "the net has nothing to train: add a dense layer");
}

void plan(ir::Graph& g) {
  for (ir::Layer& l : g.layers) l.unrolled = ops::op_def(l.kind).unrolled(l);
}

}  // namespace castnet::passes
