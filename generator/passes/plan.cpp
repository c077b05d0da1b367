// The pass plans (passes.hpp, ir/plan.hpp): which buffers each pass uses, when each holds data,
// where every layer reads and writes, and, through ir::assign_offsets, where each buffer lives.
//
// train_step's steps: layer i's forward pass is step i, the loss step n, layer i's backward pass
// step 2n - i, and 2n + 1 stands for "after train_step". A forward buffer that a backward pass
// reads (OpDef::backward_reads) lives to the end, so backward() may run again on the same forward
// pass (with another dy) and outputs() still holds the network's output; one that only forward
// passes read lives to its last reader. A gradient buffer lives from the backward step of its
// layer's last consumer, which writes it first, to its layer's own; scratch only while its layer
// runs. An inference pass has only the forward steps: layer i at step i.
#include <algorithm>
#include <map>
#include <string>

#include "ops/op_def.hpp"
#include "passes/passes.hpp"

namespace castnet::passes {
namespace {

using ir::Place;

constexpr std::size_t kAlign = 16;  // values: 64 bytes of float, a cache line and an AVX-512 vector

const ops::OpDef& op(const ir::Layer& l) { return ops::op_def(l.kind); }

std::string shape_comment(std::size_t rows, const ir::Shape& s) {
  std::string t = rows == 1 ? "(" : "(batch, ";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + ")";
}

// Appends a buffer to the arena and returns its place.
Place add(ir::PassPlan& plan, std::string name, std::string comment, std::size_t size,
          std::vector<std::array<std::size_t, 2>> live, std::size_t layer) {
  plan.arena.buffers.push_back({std::move(name), std::move(comment), size, std::move(live), 0, layer});
  return Place::arena(plan.arena.buffers.size() - 1);
}

// The places of layer i's inputs, given the places of the earlier layers' outputs.
std::vector<Place> inputs_of(const ir::Graph& g, const ir::PassPlan& plan, std::size_t i) {
  std::vector<Place> xs;
  for (std::size_t in : g.layers[i].inputs) xs.push_back(in == ir::kGraphInput ? plan.input : plan.layers[in].out);
  return xs;
}

}  // namespace

std::size_t storage_of(const ir::Graph& g, std::size_t i, bool inference) {
  while (i != ir::kGraphInput) {
    const ir::Layer& l = g.layers[i];
    const bool alias = op(l).aliases_input(l) || (inference && op(l).identity_at_inference(l));
    if (!alias) return i;
    i = l.inputs.front();
  }
  return i;
}

ir::PassPlan plan_training(const ir::Graph& g) {
  const std::size_t n = g.layers.size(), b = g.batch, end = 2 * n + 1;
  const auto backward_step = [n](std::size_t i) { return 2 * n - i; };
  // The last step at which each layer's output is read.
  std::vector<std::size_t> last_read(n, 0);
  for (std::size_t i = 0; i < n; ++i) last_read[i] = i;
  last_read[storage_of(g, n - 1, false)] = end;
  for (std::size_t j = 0; j < n; ++j) {
    const ir::Layer& l = g.layers[j];
    if (op(l).aliases_input(l)) continue;  // reads nothing itself: its consumers read through it
    const ops::BackwardReads reads = op(l).backward_reads(l);
    for (std::size_t in : l.inputs) {
      const std::size_t s = storage_of(g, in, false);
      if (s == ir::kGraphInput) continue;
      last_read[s] = std::max(last_read[s], reads.inputs ? end : j);
    }
    if (reads.out) last_read[j] = end;
  }
  // The backward step that first writes each layer's gradient: its last consumer's.
  std::vector<std::size_t> first_write(n, 0);
  for (std::size_t j = n; j-- > 0;)
    for (std::size_t in : g.layers[j].inputs)
      if (in != ir::kGraphInput && first_write[in] == 0) first_write[in] = backward_step(j);

  // Which input gradients add to one written already: in backward order, the first writer of a
  // producer's gradient overwrites it, later ones go through a temporary of their own and add.
  std::vector<std::vector<bool>> accumulates(n);
  {
    std::map<std::size_t, bool> written;
    for (std::size_t i = n; i-- > 0;)
      for (std::size_t p : g.layers[i].inputs) {
        accumulates[i].push_back(written[p]);
        written[p] = true;
      }
  }

  ir::PassPlan plan;
  plan.kind = ir::PassPlan::Kind::train;
  plan.rows = b;
  plan.input = Place::argument(Place::Kind::x);
  plan.layers.resize(n);
  std::vector<Place> grad(n);  // dLoss/d(output of layer i)
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Layer& l = g.layers[i];
    const ops::OpDef& o = op(l);
    const ops::BackwardReads reads = o.backward_reads(l);
    const std::size_t pre = o.pre_features(l);
    ir::LayerPlan& lp = plan.layers[i];
    lp.inputs = inputs_of(g, plan, i);
    if (o.aliases_input(l)) {
      lp.computes = false;
      lp.out = lp.pre = lp.inputs.front();
    } else {
      lp.out = add(plan, l.name + "_out", "the output " + shape_comment(b, l.out_shape), b * l.out_features,
                   {{i, last_read[i]}}, i);
      lp.pre = lp.out;
      if (o.keeps_pre(l))
        lp.pre = add(plan, l.name + "_pre", o.pre_comment(l) + " (batch, " + std::to_string(pre) + ")", b * pre,
                     {{i, reads.pre ? end : i}}, i);
      for (const auto& e : o.extra_buffers(l))
        lp.extras.push_back(add(plan, l.name + e.suffix, e.comment, b * l.out_features, {{i, end}}, i));
    }
    if (const std::size_t s = o.scratch_values(l) + b * o.scratch_values_per_row(l))
      lp.scratch = add(plan, l.name + "_scratch", o.scratch_values_per_row(l) ? "scratch of the batch" : "scratch of one sample", s,
                       {{i, i}, {backward_step(i), backward_step(i)}}, i);
    // The last layer's gradient is backward()'s argument dy.
    grad[i] = i + 1 < n ? add(plan, l.name + "_grad", "dLoss/d(output) " + shape_comment(b, l.out_shape), b * l.out_features,
                              {{first_write[i], backward_step(i)}}, i)
                        : Place::argument(Place::Kind::dy);
    lp.dout = grad[i];
    if (o.needs_dz(l)) lp.dz = add(plan, l.name + "_dz", "dLoss/d(pre-activation)", b * pre, {{backward_step(i), backward_step(i)}}, i);
    for (std::size_t k = 0; k < l.inputs.size(); ++k) {
      ir::GradientWrite w;
      w.to = l.inputs[k] == ir::kGraphInput ? Place::argument(Place::Kind::dx) : grad[l.inputs[k]];
      w.accumulate = accumulates[i][k];
      if (w.accumulate) {
        const std::string target = w.to.kind == Place::Kind::dx ? "dx" : plan.buffer(w.to).name;
        w.temp = add(plan, l.name + "_dx" + std::to_string(k), "dLoss/d(input " + std::to_string(k) + "), before it is added to " + target,
                     b * ir::elements(l.in_shapes[k]), {{backward_step(i), backward_step(i)}}, i);
      }
      lp.input_grads.push_back(w);
    }
  }
  plan.loss_grad = add(plan, "dy", "dLoss/dy of train_step", b * g.output_features(), {{n, n + 1}}, ir::kNoLayer);
  plan.result = plan.layers.back().out;
  ir::assign_offsets(plan.arena, kAlign);
  return plan;
}

ir::PassPlan plan_inference(const ir::Graph& g, std::size_t rows, const InferenceOptions& options) {
  const std::size_t n = g.layers.size();
  std::vector<std::size_t> last_read(n, 0);
  std::size_t last_input_read = 0;
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t in : g.layers[j].inputs) {
      const std::size_t s = storage_of(g, in, true);
      if (s != ir::kGraphInput) last_read[s] = std::max(last_read[s], j);
      if (s == ir::kGraphInput) last_input_read = std::max(last_input_read, j);
    }
  ir::PassPlan plan;
  plan.kind = ir::PassPlan::Kind::inference;
  plan.rows = rows;
  plan.output_to_y = options.output_to_y;
  // A staged input is written before the first layer runs (step 0, the first layer's: the two
  // must not share memory) and read by every reader of the network's input.
  plan.input = options.stage_input ? add(plan, "input", options.stage_comment, rows * g.input_features(),
                                         {{0, last_input_read}}, ir::kNoLayer)
                                   : Place::argument(Place::Kind::x);
  plan.layers.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Layer& l = g.layers[i];
    const ops::OpDef& o = op(l);
    ir::LayerPlan& lp = plan.layers[i];
    lp.inputs = inputs_of(g, plan, i);
    if (o.aliases_input(l) || o.identity_at_inference(l)) {
      lp.computes = false;
      lp.out = lp.pre = lp.inputs.front();
      continue;
    }
    // The last layer writes the caller's y (unless the pass keeps it); an activation runs in place
    // unless its input is wider.
    const bool last = i + 1 == n;
    lp.out = last && options.output_to_y
                 ? Place::argument(Place::Kind::y)
                 : add(plan, l.name + "_out", shape_comment(rows, l.out_shape), rows * l.out_features,
                       {{i, last ? n : std::max(i, last_read[i])}}, i);
    lp.pre = lp.out;
    if (o.keeps_pre(l) && o.pre_features(l) != l.out_features)
      lp.pre = add(plan, l.name + "_pre", o.pre_comment(l), rows * o.pre_features(l), {{i, i}}, i);
    if (const std::size_t s = o.scratch_values(l) + rows * o.scratch_values_per_row(l))
      lp.scratch = add(plan, l.name + "_scratch", "scratch", s, {{i, i}}, i);
  }
  plan.result = n == 0 ? plan.input : plan.layers.back().out;
  ir::assign_offsets(plan.arena, kAlign);
  return plan;
}

}  // namespace castnet::passes
