// See memory_plan.hpp. Greedy by size: the large activations of a batch get placed first, so the
// small ones fill the gaps between them.
#include "ir/memory_plan.hpp"

#include <algorithm>

#include "ir/limits.hpp"

namespace castnet::ir {

bool overlap(const Buffer& a, const Buffer& b) {
  for (const auto& x : a.live)
    for (const auto& y : b.live)
      if (x[0] <= y[1] && y[0] <= x[1]) return true;
  return false;
}

void assign_offsets(MemoryPlan& plan, std::size_t align) {
  // Saturating: sizes past 64 bits make the plan's size the largest value, which no limit allows.
  const auto rounded = [align](std::size_t n) { return sat_add(n, align - 1) / align * align; };
  std::vector<std::size_t> order(plan.buffers.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Largest first; equal sizes in the order they were listed, so the plan is deterministic.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return plan.buffers[a].size > plan.buffers[b].size; });
  std::vector<std::size_t> placed;
  plan.size = 0;
  for (std::size_t i : order) {
    Buffer& b = plan.buffers[i];
    // Occupied ranges of the buffers live at the same time, by offset; take the first gap that fits.
    std::vector<std::array<std::size_t, 2>> taken;
    for (std::size_t j : placed)
      if (overlap(b, plan.buffers[j]))
        taken.push_back({plan.buffers[j].offset, sat_add(plan.buffers[j].offset, rounded(plan.buffers[j].size))});
    std::sort(taken.begin(), taken.end());
    std::size_t offset = 0;
    for (const auto& t : taken) {
      if (sat_add(offset, rounded(b.size)) <= t[0]) break;
      offset = std::max(offset, t[1]);
    }
    b.offset = offset;
    placed.push_back(i);
    plan.size = std::max(plan.size, sat_add(offset, rounded(b.size)));
  }
}

}  // namespace castnet::ir
