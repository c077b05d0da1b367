// The passes over the graph IR (see passes.hpp).
#include "passes/passes.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "ir/limits.hpp"
#include "ops/op_def.hpp"
#include "ir/diagnostic.hpp"

namespace castnet::passes {
namespace {

using ir::Activation;

const ops::OpDef& op(const ir::Layer& l) { return ops::op_def(l.kind); }

// The activation that follows layer i's affine part: fused, or a standalone next layer reading it.
Activation activation_after(const ir::Graph& g, std::size_t i) {
  const ir::Layer& l = g.layers[i];
  if (l.activation.kind != Activation::identity) return l.activation.kind;
  if (i + 1 < g.layers.size()) {
    const ir::Layer& next = g.layers[i + 1];
    if (next.inputs == std::vector<std::size_t>{i}) return op(next).standalone_activation(next);
  }
  return Activation::identity;
}

// A count of values; "more than 2^64" when the arithmetic saturated (ir::sat_mul).
std::string features_text(std::uint64_t n) {
  return n == std::numeric_limits<std::uint64_t>::max() ? "more than 2^64" : std::to_string(n);
}

// "a -> b -> a": a cycle through `start`, which is on one, following inputs among unsorted layers.
std::string cycle_text(const ir::Graph& g, std::size_t start, const std::vector<bool>& sorted) {
  std::vector<std::size_t> path = {start};
  std::set<std::size_t> seen = {start};
  std::size_t at = start;
  for (;;) {
    std::size_t next = ir::kGraphInput;
    for (std::size_t in : g.layers[at].inputs)
      if (in != ir::kGraphInput && !sorted[in]) {
        next = in;
        break;
      }
    if (next == ir::kGraphInput) break;  // cannot happen for a layer left unsorted
    if (seen.count(next)) {
      std::string s = g.layers[next].name;
      const auto from = std::find(path.begin(), path.end(), next);
      // Inputs point backwards along the data flow, so print the path reversed: data flows a -> b.
      std::vector<std::size_t> cycle(from, path.end());
      std::reverse(cycle.begin(), cycle.end());
      for (std::size_t k : cycle) s = g.layers[k].name + " -> " + s;
      return s;
    }
    seen.insert(next);
    path.push_back(next);
    at = next;
  }
  return g.layers[start].name;
}

}  // namespace

void resolve_inputs(ir::Graph& g) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < g.layers.size(); ++i)
    if (!index.emplace(g.layers[i].name, i).second)
      fail(g.spec_path, g.layers[i].name_pos, g.layers[i].name,
           "duplicate layer name (names must be unique; unnamed layers are called <type><index>)");

  for (std::size_t i = 0; i < g.layers.size(); ++i) {
    ir::Layer& l = g.layers[i];
    l.inputs.clear();
    if (l.input_names.empty()) {
      l.input_names = {i == 0 ? std::string(ir::kInputName) : g.layers[i - 1].name};
      l.input_name_pos = {l.pos};
    }
    for (std::size_t k = 0; k < l.input_names.size(); ++k) {
      const std::string& name = l.input_names[k];
      if (name == ir::kInputName) {
        l.inputs.push_back(ir::kGraphInput);
        continue;
      }
      const auto it = index.find(name);
      if (it == index.end())
        fail(g.spec_path, l.input_name_pos[k], l.name,
             "unknown input '" + name + "': no layer has that name (\"input\" is the network's input)");
      if (it->second == i) fail(g.spec_path, l.input_name_pos[k], l.name, "a layer cannot read its own output");
      l.inputs.push_back(it->second);
    }
    const std::string kind = ir::to_string(l.kind);
    if (op(l).merges() && l.inputs.size() < 2)
      fail(g.spec_path, l.input_name_pos[0], l.name,
           kind + " needs at least two inputs, got one ('" + l.input_names[0] + "'" +
               (l.inputs.size() == 1 && l.input_name_pos[0].line == l.pos.line && l.input_name_pos[0].column == l.pos.column
                    ? ", the previous layer, as `inputs` is not given"
                    : "") +
               "): write e.g. inputs = [\"a\", \"b\"]");
    if (!op(l).merges() && l.inputs.size() != 1)
      fail(g.spec_path, l.input_name_pos[1], l.name,
           kind + " reads one input, got " + std::to_string(l.inputs.size()) + " (only add and concat take several)");
  }

  // Topological order, keeping the file's order where the inputs allow: the ready layer that comes
  // first in the file goes next.
  const std::size_t n = g.layers.size();
  std::vector<bool> sorted(n, false);
  std::vector<std::size_t> order;
  while (order.size() < n) {
    std::size_t next = n;
    for (std::size_t i = 0; i < n && next == n; ++i) {
      if (sorted[i]) continue;
      bool ready = true;
      for (std::size_t in : g.layers[i].inputs) ready = ready && (in == ir::kGraphInput || sorted[in]);
      if (ready) next = i;
    }
    if (next == n) {
      std::size_t first = 0;
      while (sorted[first]) ++first;
      fail(g.spec_path, g.layers[first].pos, g.layers[first].name,
           "the layers' inputs form a cycle: " + cycle_text(g, first, sorted));
    }
    sorted[next] = true;
    order.push_back(next);
  }

  // The last layer in the file is the output; every other layer must lead to it.
  std::vector<bool> used(n, false);
  std::vector<std::size_t> stack = {n - 1};
  used[n - 1] = true;
  while (!stack.empty()) {
    const std::size_t at = stack.back();
    stack.pop_back();
    for (std::size_t in : g.layers[at].inputs)
      if (in != ir::kGraphInput && !used[in]) {
        used[in] = true;
        stack.push_back(in);
      }
  }
  for (std::size_t i = 0; i < n; ++i)
    if (!used[i])
      fail(g.spec_path, g.layers[i].pos, g.layers[i].name,
           "the output of this layer is never used: every layer must lead to the last one, '" + g.layers[n - 1].name +
               "', the network's output");

  std::vector<std::size_t> position(n);
  for (std::size_t k = 0; k < n; ++k) position[order[k]] = k;
  std::vector<ir::Layer> layers;
  for (std::size_t k = 0; k < n; ++k) {
    layers.push_back(std::move(g.layers[order[k]]));
    for (auto& in : layers.back().inputs)
      if (in != ir::kGraphInput) in = position[in];
  }
  g.layers = std::move(layers);
}

void infer_shapes(ir::Graph& g) {
  const std::uint64_t max_features = g.limits.features;
  if (g.input_features() > max_features)
    fail(g.spec_path, g.input_pos, "",
         "the input holds " + features_text(g.input_features()) + " values per sample, over the limit 'features' of " +
             std::to_string(max_features));
  for (ir::Layer& l : g.layers) {
    l.in_shapes.clear();
    for (std::size_t in : l.inputs) l.in_shapes.push_back(in == ir::kGraphInput ? g.input_shape : g.layers[in].out_shape);
    l.in_features = op(l).in_features(l);
    l.out_shape = op(l).out_shape(l, ops::LayerError{g, l});
    l.out_features = ir::elements(l.out_shape);
    if (l.out_features > max_features)
      fail(g.spec_path, l.pos, l.name,
           "the output holds " + features_text(l.out_features) + " values per sample, over the limit 'features' of " +
               std::to_string(max_features));
  }
}

void validate(ir::Graph& g) {
  // The activation the network ends with: trailing identity layers change nothing.
  std::size_t end = g.layers.size() - 1;
  while (end > 0 && op(g.layers[end]).changes_nothing(g.layers[end])) --end;
  const ir::Layer& last = g.layers[end];
  const Activation out_act = last.activation.kind;
  if (g.layers.back().out_shape.size() != 1)
    fail(g.spec_path, g.layers.back().pos, g.layers.back().name,
         "the network's output must be flat features, but it is an image " + ir::shape_text(g.layers.back().out_shape) +
             " (end with a flatten or dense layer)");
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
}

void count(ir::Graph& g) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < g.layers.size(); ++i) {
    ir::Layer& l = g.layers[i];
    op(l).count(l, activation_after(g, i));
    for (const auto& p : l.params) total = ir::sat_add(total, p.size);
    if (total > g.limits.params)
      fail(g.spec_path, l.pos, l.name,
           "the net would have more than " + std::to_string(g.limits.params) + " parameters (limit 'params')");
  }
  if (total == 0)
    fail(g.spec_path, g.layers.front().pos, g.layers.front().name,
         "the net has nothing to train: add a layer with parameters (dense, conv2d, glu or prelu)");
}

void plan(ir::Graph& g) {
  for (ir::Layer& l : g.layers) l.unrolled = op(l).unrolled(l);
  g.step_plan = plan_training(g);
  g.forward_plan = plan_inference(g, 1);
  // The trainer's batch of inputs counts with the Workspace.
  const auto too_big = [&](const ir::MemoryPlan& p, std::uint64_t extra, std::uint64_t limit, const std::string& what,
                           const std::string& hint) {
    const std::uint64_t size = ir::sat_add(p.size, extra);
    if (size <= limit) return;
    // Blame the layer that owns the largest buffer.
    const ir::Buffer* big = &p.buffers.front();
    for (const auto& b : p.buffers)
      if (b.size > big->size) big = &b;
    const ir::Layer* owner = big->layer == ir::kNoLayer ? &g.layers.back() : &g.layers[big->layer];
    fail(g.spec_path, owner->pos, owner->name,
         what + " needs " + features_text(size) + " values, over the limit of " + std::to_string(limit) +
             " (the largest buffer, " + big->name + ", holds " + std::to_string(big->size) + "); " + hint);
  };
  too_big(g.step_plan.arena, ir::sat_mul(g.batch, g.input_features()), g.limits.workspace,
          "the Workspace of batch " + std::to_string(g.batch) + " and its inputs",
          "use a smaller batch or fewer units (limit 'workspace')");
  too_big(g.forward_plan.arena, 0, g.limits.stack, "forward() for one sample", "use fewer or narrower layers (limit 'stack')");
}

}  // namespace castnet::passes
