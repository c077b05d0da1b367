// The layer table: name, type, output shape, parameters and FLOPs per sample, then totals.
// `castnet check` prints it; every generated header carries it as a comment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::gen {

// One layer's figures (castnet check --json prints these).
struct LayerRow {
  std::string name, type;
  std::vector<std::size_t> output;  // one sample's shape
  std::size_t params = 0;
  std::uint64_t flops = 0;  // per sample
};
std::vector<LayerRow> layer_rows(const ir::Graph& g);

std::vector<std::string> layer_table(const ir::Graph& g);  // a header row, one row per layer, a total row

}  // namespace castnet::gen
