// See data_check.hpp.
#include "data_check.hpp"

#include <castnet/data/data.hpp>
#include <castnet/error.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "mnist.hpp"

namespace castnet::cli {

Loss runtime_loss(ir::LossKind k) {
  switch (k) {
    case ir::LossKind::mse: return Loss::mse;
    case ir::LossKind::binary_cross_entropy: return Loss::binary_cross_entropy;
    case ir::LossKind::softmax_cross_entropy: return Loss::softmax_cross_entropy;
  }
  return Loss::mse;
}

DataFiles resolve(const std::string& name, const std::string& labels, const std::string& relative_to) {
  if (is_mnist_name(name)) {
    const MnistFiles f = resolve_mnist(name, std::cerr);
    return {f.images.string(), f.labels.string()};
  }
  if (relative_to.empty()) return {name, labels};
  return {spec_relative(relative_to, name), spec_relative(relative_to, labels)};
}

std::vector<std::string> split_labels(const std::string& joined) {
  std::vector<std::string> labels;
  for (std::size_t start = 0; start < joined.size();) {
    const std::size_t end = std::min(joined.find(',', start), joined.size());
    labels.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return labels;
}

std::string joined_labels(const std::vector<std::string>& labels) {
  std::string s;
  for (const auto& l : labels) s += (s.empty() ? "" : ",") + l;
  return s;
}

DataSummary check_data(const spec::Spec& s, const std::string& data, const std::string& idx_labels,
                       const std::vector<std::string>& columns, const DataOrigin& origin) {
  const ir::Graph& g = s.graph;
  const DataShape shape{runtime_loss(g.loss.kind), g.input_features(), g.output_features()};
  Dataset<float> d;
  try {
    d = load_dataset<float>(data, idx_labels, columns, s.training.autoencoder, shape);
  } catch (const Error& e) {
    if (origin.spec.empty()) throw;
    throw Error(std::string(e.what()) + "\n" + origin.spec + ":" + std::to_string(origin.pos.line) + ":" +
                std::to_string(origin.pos.column) + ": note: " + origin.key + " names it");
  }
  DataSummary summary;
  summary.rows = d.rows;
  if (s.training.autoencoder) return summary;
  if (shape.loss == Loss::softmax_cross_entropy) {
    summary.counts.assign(shape.outputs, 0);
    for (std::size_t r = 0; r < d.rows; ++r) ++summary.counts[static_cast<std::size_t>(d.t[r])];
  } else if (shape.loss == Loss::binary_cross_entropy) {
    summary.counts.assign(shape.outputs, 0);
    for (std::size_t r = 0; r < d.rows; ++r)
      for (std::size_t k = 0; k < shape.outputs; ++k) summary.counts[k] += d.t[r * shape.outputs + k] >= 0.5f;
  }
  return summary;
}

std::string describe(const DataSummary& d, const spec::Spec& s) {
  std::string text = std::to_string(d.rows) + (d.rows == 1 ? " row" : " rows");
  const auto share = [&](std::size_t n) {
    char pct[32];
    std::snprintf(pct, sizeof pct, " (%.1f%%)", d.rows ? 100.0 * static_cast<double>(n) / static_cast<double>(d.rows) : 0.0);
    return std::to_string(n) + pct;
  };
  const bool softmax = s.graph.loss.kind == ir::LossKind::softmax_cross_entropy;
  for (std::size_t k = 0; k < d.counts.size(); ++k)
    text += (k ? ", " : softmax ? "; classes " : "; target 1 in output ") + std::to_string(k) + ": " + share(d.counts[k]);
  return text;
}

std::string spec_relative(const std::string& spec, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(spec).parent_path() / path).lexically_normal().string();
}

}  // namespace castnet::cli
