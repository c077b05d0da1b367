// See layer_table.hpp.
#include "emit/layer_table.hpp"

#include <cstdio>

#include "ops/op_def.hpp"

namespace castnet::gen {
namespace {

std::string row(const std::string& name, const std::string& type, const std::string& output, const std::string& params,
                const std::string& flops) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-20s %-18s %-14s %12s %14s", name.c_str(), type.c_str(), output.c_str(),
                params.c_str(), flops.c_str());
  std::string s = buf;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

std::vector<LayerRow> layer_rows(const ir::Graph& g) {
  std::vector<LayerRow> rows;
  for (const auto& l : g.layers) {
    LayerRow r{l.name, ops::op_def(l.kind).type_label(l), l.out_shape, 0, l.flops};
    for (const auto& p : l.params) r.params += p.size;
    rows.push_back(r);
  }
  return rows;
}

std::vector<std::string> layer_table(const ir::Graph& g) {
  std::vector<std::string> rows = {row("layer", "type", "output", "params", "FLOPs/sample")};
  std::uint64_t flops = 0;
  for (const auto& l : layer_rows(g)) {
    flops = ir::sat_add(flops, l.flops);
    std::string shape;
    for (auto d : l.output) shape += (shape.empty() ? "(" : ", ") + std::to_string(d);
    rows.push_back(row(l.name, l.type, shape + ")", std::to_string(l.params), std::to_string(l.flops)));
  }
  rows.push_back(row("total", "", "", std::to_string(g.param_count()), std::to_string(flops)));
  return rows;
}

}  // namespace castnet::gen
