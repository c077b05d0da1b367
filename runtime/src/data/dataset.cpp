// Building data sets from CSV tables: choosing columns, checking them against the model and the
// loss, converting cells to the model's real type. Out of line because the checks are the same for
// every model; instantiated for float and double, the two real types a model can have.
#include <castnet/data/dataset.hpp>
#include <castnet/error.hpp>
#include <castnet/train/loss_outputs.hpp>

#include <charconv>
#include <cmath>
#include <fstream>
#include <string_view>

namespace castnet {
namespace {

// Shortest text that reads back as the same double, so a message shows the cell as written.
std::string format_number(double v) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

std::string list_labels(const std::vector<std::string>& labels) {
  if (labels.empty()) return "(labels: none)";
  std::string text = "(labels: ";
  for (std::size_t i = 0; i < labels.size(); ++i) text += (i ? ", " : "") + labels[i];
  return text + ")";
}

std::string where(const io::CsvTable& table) { return table.path.string(); }

// The 1-based byte column where cell `col` of file line `line` starts, as read_csv reports
// columns; 0 if the file can no longer be read. CsvTable keeps no byte offsets (they would double
// its size), so this error-only path reads the line again.
std::size_t byte_column(const std::filesystem::path& path, std::size_t line, std::size_t col) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  for (std::size_t l = 0; l < line; ++l) {
    if (!std::getline(in, text)) return 0;
  }
  std::size_t at = 0;
  for (std::size_t c = 0; c < col; ++c) {
    at = text.find(',', at);
    if (at == std::string::npos) return 0;
    ++at;
  }
  while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;  // cells are trimmed
  return at + 1;
}

// "file:line:column" of one cell, or "file:line" if its column cannot be found.
std::string where(const io::CsvTable& table, std::size_t row, std::size_t col) {
  const std::size_t line = table.lines[row];
  const std::size_t column = byte_column(table.path, line, col);
  std::string text = where(table);
  text.append(":").append(std::to_string(line));
  if (column) text.append(":").append(std::to_string(column));
  return text;
}

// The columns that are not in `excluded`, in file order.
// The input columns: every column not `excluded`, in file order; or, given the names the model was
// trained on, those columns in that order, refusing a file that lacks one or has another.
std::vector<std::size_t> input_columns(const io::CsvTable& table, const std::vector<std::size_t>& excluded,
                                       const std::vector<std::string>& trained) {
  std::vector<std::size_t> columns;
  for (std::size_t c = 0; c < table.cols(); ++c) {
    if (std::find(excluded.begin(), excluded.end(), c) == excluded.end()) columns.push_back(c);
  }
  if (trained.empty()) return columns;
  std::vector<std::string> missing, unexpected;
  for (const std::size_t c : columns)
    if (std::find(trained.begin(), trained.end(), table.header[c]) == trained.end()) unexpected.push_back(table.header[c]);
  std::vector<std::size_t> ordered;
  for (const std::string& name : trained) {
    const auto it = std::find_if(columns.begin(), columns.end(), [&](std::size_t c) { return table.header[c] == name; });
    if (it == columns.end()) missing.push_back(name);
    else ordered.push_back(*it);
  }
  if (missing.empty() && unexpected.empty()) return ordered;
  const auto list = [](const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < 10; ++i) text += (i ? ", " : "") + names[i];
    if (names.size() > 10) text += ", ... (" + std::to_string(names.size()) + " in all)";
    return text;
  };
  std::string message = where(table) + ":" + std::to_string(table.header_line) +
                        ": error: the input columns are not those the weights were trained on:";
  if (!missing.empty()) message += " missing " + list(missing) + ";";
  if (!unexpected.empty()) message += " not trained on " + list(unexpected) + ";";
  throw Error(message + " trained on " + list(trained));
}

std::vector<std::string> names_of(const io::CsvTable& table, const std::vector<std::size_t>& columns) {
  std::vector<std::string> names;
  for (const std::size_t c : columns) names.push_back(table.header[c]);
  return names;
}

void check_input_count(const io::CsvTable& table, std::size_t found, std::size_t inputs,
                       const std::vector<std::string>& labels) {
  if (found != inputs) {
    throw Error(where(table) + ": error: " + std::to_string(found) +
                " input columns, the spec's input needs " + std::to_string(inputs) + " " +
                list_labels(labels));
  }
}

void check_label_count(const io::CsvTable& table, const std::vector<std::string>& labels,
                       Loss loss, std::size_t outputs) {
  const std::size_t needed = loss == Loss::softmax_cross_entropy ? 1 : outputs;
  if (labels.size() == needed) return;
  const std::string what = loss == Loss::softmax_cross_entropy
                               ? "exactly 1 label column (the class index)"
                               : std::to_string(outputs) + " label columns (one per output)";
  throw Error(where(table) + ": error: " + std::string(loss_name(loss)) + " needs " + what +
              ", got " + std::to_string(labels.size()) + " " + list_labels(labels));
}

// A label cell must be something the loss can learn from; mse takes any number.
void check_label_cell(const io::CsvTable& table, std::size_t row, std::size_t col, Loss loss,
                      std::size_t outputs) {
  const double v = table.at(row, col);
  const std::string cell = "label '" + table.header[col] + "' is " + format_number(v);
  switch (loss) {
    case Loss::mse:
      return;
    case Loss::binary_cross_entropy:
      if (!(v >= 0.0 && v <= 1.0)) {
        throw Error(where(table, row, col) + ": error: " + cell +
                    ", binary_cross_entropy targets lie in [0, 1]");
      }
      return;
    case Loss::softmax_cross_entropy:
      if (!(v >= 0.0 && v < static_cast<double>(outputs) && v == std::floor(v))) {
        throw Error(where(table, row, col) + ": error: " + cell + ", not a class index 0.." +
                    std::to_string(outputs - 1));
      }
      return;
  }
}

template <std::floating_point T>
void copy_columns(const io::CsvTable& table, const std::vector<std::size_t>& columns,
                  std::vector<T>& out) {
  out.resize(table.rows() * columns.size());
  for (std::size_t r = 0; r < table.rows(); ++r) {
    for (std::size_t j = 0; j < columns.size(); ++j) {
      out[r * columns.size() + j] = static_cast<T>(table.at(r, columns[j]));
    }
  }
}

}  // namespace

template <std::floating_point T>
Dataset<T> dataset_from_csv(const io::CsvTable& table, const std::vector<std::string>& labels,
                            Loss loss, std::size_t inputs, std::size_t outputs,
                            const std::vector<std::string>& trained_inputs) {
  std::vector<std::size_t> label_columns;
  for (const std::string& label : labels) {
    const std::size_t c = table.column(label);
    if (std::find(label_columns.begin(), label_columns.end(), c) != label_columns.end()) {
      throw Error(where(table) + ": error: label column '" + label + "' is named twice");
    }
    label_columns.push_back(c);
  }
  check_label_count(table, labels, loss, outputs);
  const std::vector<std::size_t> columns = input_columns(table, label_columns, trained_inputs);
  check_input_count(table, columns.size(), inputs, labels);
  // Row by row, so the first bad cell reported is the first one in the file.
  for (std::size_t r = 0; r < table.rows(); ++r) {
    for (const std::size_t c : label_columns) check_label_cell(table, r, c, loss, outputs);
  }

  Dataset<T> data;
  data.rows = table.rows();
  data.inputs = inputs;
  data.targets = label_columns.size();
  data.input_names = names_of(table, columns);
  copy_columns(table, columns, data.x);
  copy_columns(table, label_columns, data.t);
  return data;
}

template <std::floating_point T>
Dataset<T> inputs_from_csv(const io::CsvTable& table, const std::vector<std::string>& labels_to_ignore,
                           std::size_t inputs, const std::vector<std::string>& trained_inputs) {
  std::vector<std::size_t> ignored_columns;
  std::vector<std::string> ignored;
  for (const std::string& label : labels_to_ignore) {
    const auto it = std::find(table.header.begin(), table.header.end(), label);
    if (it == table.header.end()) continue;
    const auto c = static_cast<std::size_t>(it - table.header.begin());
    if (std::find(ignored_columns.begin(), ignored_columns.end(), c) != ignored_columns.end()) {
      continue;
    }
    ignored_columns.push_back(c);
    ignored.push_back(label);
  }
  const std::vector<std::size_t> columns = input_columns(table, ignored_columns, trained_inputs);
  check_input_count(table, columns.size(), inputs, ignored);

  Dataset<T> data;
  data.rows = table.rows();
  data.inputs = inputs;
  data.input_names = names_of(table, columns);
  copy_columns(table, columns, data.x);
  return data;
}

template Dataset<float> dataset_from_csv<float>(const io::CsvTable&, const std::vector<std::string>&, Loss,
                                                std::size_t, std::size_t, const std::vector<std::string>&);
template Dataset<double> dataset_from_csv<double>(const io::CsvTable&, const std::vector<std::string>&, Loss,
                                                  std::size_t, std::size_t, const std::vector<std::string>&);
template Dataset<float> inputs_from_csv<float>(const io::CsvTable&, const std::vector<std::string>&, std::size_t,
                                               const std::vector<std::string>&);
template Dataset<double> inputs_from_csv<double>(const io::CsvTable&, const std::vector<std::string>&, std::size_t,
                                                 const std::vector<std::string>&);

}  // namespace castnet
