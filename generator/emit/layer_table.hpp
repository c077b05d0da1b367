// The layer table: name, type, output shape, parameters and FLOPs per sample, then totals.
// `castnet check` prints it; every generated header carries it as a comment.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::gen {

std::vector<std::string> layer_table(const ir::Graph& g);  // a header row, one row per layer, a total row

}  // namespace castnet::gen
