// The graph IR as text, the same way every time: what `castnet check --ir` prints after the
// passes, and what the IR goldens lock. Debugging aid: shows every decision the passes made.
#pragma once

#include <string>

#include "ir/graph.hpp"

namespace castnet::ir {

std::string print_ir(const Graph& g);

}  // namespace castnet::ir
