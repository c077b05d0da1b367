// Memory plans: where each buffer of a pass lives in one arena (ir/plan.hpp: the passes and what
// their layers read and write). Buffers whose lifetimes do not overlap share memory.
#pragma once

#include <array>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace castnet::ir {

inline constexpr std::size_t kNoLayer = std::numeric_limits<std::size_t>::max();

struct Buffer {
  std::string name;     // an identifier: the Workspace accessor or the stack pointer's name
  std::string comment;  // what it holds, for the generated code
  std::size_t size = 0; // values
  // Steps of the pass during which it holds data, each [first, last] inclusive.
  std::vector<std::array<std::size_t, 2>> live;
  std::size_t offset = 0;  // values from the arena's start; filled by assign_offsets
  std::size_t layer = kNoLayer;  // the layer it belongs to (diagnostics blame it), if any
};

struct MemoryPlan {
  std::vector<Buffer> buffers;
  std::size_t size = 0;  // values of the arena
  const Buffer* find(const std::string& name) const {
    for (const auto& b : buffers)
      if (b.name == name) return &b;
    return nullptr;
  }
};

// Whether two buffers are live at a common step.
bool overlap(const Buffer& a, const Buffer& b);

// Places every buffer (largest first, each at the lowest offset, a multiple of `align` values,
// where it overlaps no buffer already placed that is live at a common step) and sets plan.size.
void assign_offsets(MemoryPlan& plan, std::size_t align);

}  // namespace castnet::ir
