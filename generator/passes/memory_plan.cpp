// The memory plans (passes.hpp): which buffers train_step and forward() use, when each holds data,
// and, through ir::assign_offsets, where each lives.
//
// train_step's steps: layer i's forward pass is step i, the loss step n, layer i's backward pass
// step 2n - i, and 2n + 1 stands for "after train_step". A forward buffer that a backward pass
// reads (OpDef::backward_reads) lives to the end, so backward() may run again on the same forward
// pass (with another dy) and outputs() still holds the network's output; one that only forward
// passes read lives to its last reader. A gradient buffer lives from the backward step of its
// layer's last consumer, which writes it first, to its layer's own; scratch only while its layer runs.
#include <algorithm>
#include <map>
#include <string>

#include "ops/op_def.hpp"
#include "passes/passes.hpp"

namespace castnet::passes {
namespace {

constexpr std::size_t kAlign = 16;  // values: 64 bytes of float, a cache line and an AVX-512 vector

const ops::OpDef& op(const ir::Layer& l) { return ops::op_def(l.kind); }

std::string shape_comment(std::size_t rows, const ir::Shape& s) {
  std::string t = rows == 1 ? "(" : "(batch, ";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + ")";
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

std::vector<std::vector<GradientWrite>> gradient_writes(const ir::Graph& g) {
  std::vector<std::vector<GradientWrite>> writes(g.layers.size());
  std::map<std::size_t, bool> written;  // producers whose gradient buffer holds data already
  for (std::size_t i = g.layers.size(); i-- > 0;) {
    const ir::Layer& l = g.layers[i];
    for (std::size_t k = 0; k < l.inputs.size(); ++k) {
      const std::size_t p = l.inputs[k];
      GradientWrite w;
      w.graph_input = p == ir::kGraphInput;
      w.target = w.graph_input ? "dx" : g.layers[p].name + "_grad";
      w.accumulate = written[p];
      if (w.accumulate) w.temp = l.name + "_dx" + std::to_string(k);
      written[p] = true;
      writes[i].push_back(w);
    }
  }
  return writes;
}

ir::MemoryPlan plan_workspace(const ir::Graph& g) {
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
  ir::MemoryPlan plan;
  const auto add = [&](std::string name, std::string comment, std::size_t size, std::vector<std::array<std::size_t, 2>> live) {
    plan.buffers.push_back({std::move(name), std::move(comment), size, std::move(live), 0});
  };
  const auto writes = gradient_writes(g);
  std::vector<std::size_t> first_write(n, 0);
  for (std::size_t j = n; j-- > 0;)
    for (std::size_t in : g.layers[j].inputs)
      if (in != ir::kGraphInput && first_write[in] == 0) first_write[in] = backward_step(j);

  for (std::size_t i = 0; i < n; ++i) {
    const ir::Layer& l = g.layers[i];
    const ops::OpDef& o = op(l);
    const ops::BackwardReads reads = o.backward_reads(l);
    const std::size_t pre = o.pre_features(l);
    if (!o.aliases_input(l)) {
      add(l.name + "_out", "the output " + shape_comment(b, l.out_shape), b * l.out_features, {{i, last_read[i]}});
      if (o.keeps_pre(l))
        add(l.name + "_pre", o.pre_comment(l) + " (batch, " + std::to_string(pre) + ")",
            b * pre, {{i, reads.pre ? end : i}});
      for (const auto& e : o.extra_buffers(l)) add(l.name + e.suffix, e.comment, b * l.out_features, {{i, end}});
    }
    if (const std::size_t s = o.scratch_values(l))
      add(l.name + "_scratch", "scratch of one sample", s, {{i, i}, {backward_step(i), backward_step(i)}});
    if (i + 1 < n)
      add(l.name + "_grad", "dLoss/d(output) " + shape_comment(b, l.out_shape), b * l.out_features,
          {{first_write[i], backward_step(i)}});
    if (o.needs_dz(l)) add(l.name + "_dz", "dLoss/d(pre-activation)", b * pre, {{backward_step(i), backward_step(i)}});
    for (std::size_t k = 0; k < l.inputs.size(); ++k)
      if (writes[i][k].accumulate)
        add(writes[i][k].temp, "dLoss/d(input " + std::to_string(k) + "), before it is added to " + writes[i][k].target,
            b * ir::elements(l.in_shapes[k]), {{backward_step(i), backward_step(i)}});
  }
  add("dy", "dLoss/dy of train_step", b * g.output_features(), {{n, n + 1}});
  ir::assign_offsets(plan, kAlign);
  return plan;
}

ir::MemoryPlan plan_one_sample(const ir::Graph& g) {
  const std::size_t n = g.layers.size();
  std::vector<std::size_t> last_read(n, 0);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t in : g.layers[j].inputs) {
      const std::size_t s = storage_of(g, in, true);
      if (s != ir::kGraphInput) last_read[s] = std::max(last_read[s], j);
    }
  ir::MemoryPlan plan;
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Layer& l = g.layers[i];
    const ops::OpDef& o = op(l);
    if (o.aliases_input(l) || o.identity_at_inference(l)) continue;
    // The last layer writes the caller's y; an activation runs in place unless its input is wider.
    if (i + 1 < n) plan.buffers.push_back({l.name + "_out", shape_comment(1, l.out_shape), l.out_features, {{i, std::max(i, last_read[i])}}, 0});
    if (o.keeps_pre(l) && o.pre_features(l) != l.out_features)
      plan.buffers.push_back({l.name + "_pre", o.pre_comment(l), o.pre_features(l), {{i, i}}, 0});
    if (const std::size_t s = o.scratch_values(l)) plan.buffers.push_back({l.name + "_scratch", "scratch", s, {{i, i}}, 0});
  }
  ir::assign_offsets(plan, kAlign);
  return plan;
}

}  // namespace castnet::passes
