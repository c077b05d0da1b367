// The passes over the graph IR (see passes.hpp). Switches over OpKind have no default: a new
// layer kind does not compile until each pass says what it does with it.
#include "ir/passes.hpp"

#include <set>

#include "ir/limits.hpp"
#include "support/diagnostic.hpp"

namespace castnet::ir {
namespace {

bool relu_family(Activation a) {
  return a == Activation::relu || a == Activation::leaky_relu || a == Activation::elu || a == Activation::gelu ||
         a == Activation::silu;
}

// The activation that follows a dense layer's affine part: fused, or a standalone next layer.
Activation activation_after(const Graph& g, std::size_t i) {
  const Layer& l = g.layers[i];
  if (l.activation.kind != Activation::identity) return l.activation.kind;
  if (i + 1 < g.layers.size() && g.layers[i + 1].kind == OpKind::activation) return g.layers[i + 1].activation.kind;
  return Activation::identity;
}

// Dense layers this small are emitted as straight-line code: one line per output, so at most
// 8 products a line keeps the code readable; the weight limit bounds code size.
constexpr std::size_t kUnrollMaxInputs = 8;
constexpr std::size_t kUnrollMaxWeights = 64;

}  // namespace

void infer_shapes(Graph& g) {
  std::size_t features = g.input_features();
  for (Layer& l : g.layers) {
    l.in_features = features;
    switch (l.kind) {
      case OpKind::dense: l.out_features = l.units; break;
      case OpKind::activation: l.out_features = l.in_features; break;
    }
    features = l.out_features;
  }
}

void validate(Graph& g) {
  std::set<std::string> seen;
  for (const Layer& l : g.layers)
    if (!seen.insert(l.name).second)
      fail(g.spec_path, l.name_pos, l.name, "duplicate layer name (names must be unique; unnamed layers are called <type><index>)");

  const Layer& last = g.layers.back();
  const Activation out_act = last.activation.kind;
  switch (g.loss.kind) {
    case LossKind::mse: break;
    case LossKind::binary_cross_entropy:
      if (out_act == Activation::sigmoid || out_act == Activation::softmax)
        fail(g.spec_path, g.loss.pos, last.name,
             std::string("binary_cross_entropy takes logits, but the last layer applies ") + to_string(out_act) +
                 " (remove it: the loss applies the sigmoid itself, stably)");
      break;
    case LossKind::softmax_cross_entropy:
      if (out_act == Activation::softmax || out_act == Activation::sigmoid)
        fail(g.spec_path, g.loss.pos, last.name,
             std::string("softmax_cross_entropy takes logits, but the last layer applies ") + to_string(out_act) +
                 " (remove it: the loss applies the softmax itself, stably)");
      if (last.out_features < 2)
        fail(g.spec_path, g.loss.pos, last.name,
             "softmax_cross_entropy needs at least 2 outputs (one per class), the last layer has " +
                 std::to_string(last.out_features) + "; use binary_cross_entropy for one output");
      break;
  }

  // Memory a batch needs: every layer's output (and pre-activation) for kBatch samples.
  std::uint64_t values = 0;
  for (const Layer& l : g.layers) {
    values += 2ull * g.batch * l.out_features;
    if (values > kMaxWorkspace)
      fail(g.spec_path, l.pos, l.name,
           "activations for batch " + std::to_string(g.batch) + " exceed the limit of " + std::to_string(kMaxWorkspace) +
               " values; use a smaller batch or fewer units");
  }
}

void count(Graph& g) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < g.layers.size(); ++i) {
    Layer& l = g.layers[i];
    l.params.clear();
    switch (l.kind) {
      case OpKind::dense: {
        const Init w_init = relu_family(activation_after(g, i)) ? Init::he_normal : Init::glorot_uniform;
        l.params.push_back({l.name + ".weight", l.name + "_weight", {l.out_features, l.in_features},
                            l.out_features * l.in_features, w_init, l.in_features, l.out_features});
        l.params.push_back({l.name + ".bias", l.name + "_bias", {l.out_features}, l.out_features, Init::zeros,
                            l.in_features, l.out_features});
        // a multiply-add counts 2; the bias add 1 per output; activations are not counted.
        l.flops = 2ull * l.in_features * l.out_features + l.out_features;
        break;
      }
      case OpKind::activation: l.flops = 0; break;
    }
    for (const auto& p : l.params) total += p.size;
    if (total > kMaxParams)
      fail(g.spec_path, l.pos, l.name,
           "the net would have more than " + std::to_string(kMaxParams) + " parameters (limit)");
  }
}

void plan(Graph& g) {
  for (Layer& l : g.layers) {
    switch (l.kind) {
      case OpKind::dense:
        l.unrolled = l.in_features <= kUnrollMaxInputs && l.in_features * l.out_features <= kUnrollMaxWeights;
        break;
      case OpKind::activation: l.unrolled = false; break;
    }
  }
}

}  // namespace castnet::ir
