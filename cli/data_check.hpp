// The data a spec trains on, checked from the CLI as the runner will load it: before a runner is
// compiled (a misspelt path or label column costs no compile), and by `castnet check`, which also
// reports the rows and the classes' balance.
#pragma once

#include <castnet/model.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "spec/spec.hpp"

namespace castnet::cli {

// Where the data was named: a spec key (spec file, position, "[data] train"), or the command line
// (spec empty).
struct DataOrigin {
  std::string spec;
  ir::SourcePos pos;
  std::string key;
};

struct DataSummary {
  std::size_t rows = 0;
  // softmax_cross_entropy: rows per class; binary_cross_entropy: rows with target 1, per output;
  // mse: empty.
  std::vector<std::size_t> counts;
};

// Loads `data` (and, for IDX images, `idx_labels`) for the spec's model with the runtime's own
// loader. Throws castnet::Error with the loader's message (the data file, line:column) and, when the
// spec named the file, a second line pointing at the spec's key.
DataSummary check_data(const spec::Spec& s, const std::string& data, const std::string& idx_labels,
                       const std::vector<std::string>& columns, const DataOrigin& origin);

// The runtime's name for the graph's loss.
Loss runtime_loss(ir::LossKind k);

// A data set as files: the data (CSV, or IDX images) and, for IDX, the labels file.
struct DataFiles {
  std::string data, labels;
};

// `name` is a data name (mnist:train) or a path, from the command line (relative to the working
// directory) or from the spec (relative to the spec `relative_to`).
DataFiles resolve(const std::string& name, const std::string& labels, const std::string& relative_to);

// --labels's comma-separated column names, and back.
std::vector<std::string> split_labels(const std::string& joined);
std::string joined_labels(const std::vector<std::string>& labels);

// "61 rows; classes 0: 20 (32.8%), 1: 21 (34.4%), 2: 20 (32.8%)"
std::string describe(const DataSummary& d, const spec::Spec& s);

// A path written in the spec, relative to the spec's folder (absolute paths stay).
std::string spec_relative(const std::string& spec, const std::string& path);

}  // namespace castnet::cli
