// Data sets as the runner loads them: CSV or IDX (told apart by the file's first bytes), the
// validation split, and autoencoder targets.
#pragma once

#include <castnet/data/dataset.hpp>
#include <castnet/error.hpp>
#include <castnet/data/idx_dataset.hpp>
#include <castnet/data/csv.hpp>
#include <castnet/model.hpp>
#include <castnet/rng.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace castnet {

inline constexpr std::uint64_t kValidationStream = std::uint64_t{4} << 32;
inline constexpr std::uint64_t kSubsetStream = std::uint64_t{5} << 32;
inline constexpr std::uint64_t kLabelNoiseStream = std::uint64_t{6} << 32;

// IDX files start with two zero bytes, a type code and a dimension count; no CSV header does.
inline bool looks_like_idx(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[4] = {1, 1, 0, 0};
  in.read(reinterpret_cast<char*>(magic), 4);
  const unsigned char type = magic[2];
  return in.gcount() == 4 && magic[0] == 0 && magic[1] == 0 &&
         (type == 0x08 || type == 0x09 || type == 0x0B || type == 0x0C || type == 0x0D || type == 0x0E);
}

// What a data set must fit: the model's loss, inputs and outputs.
struct DataShape {
  Loss loss = Loss::mse;
  std::size_t inputs = 0, outputs = 0;
};

// Training or evaluation data for a model of that shape: inputs and targets (an autoencoder's
// inputs only: its targets are set after normalisation by use_inputs_as_targets). IDX images take
// their labels from `idx_labels`; a CSV's labels are the `label_columns`. The CLI calls this too,
// to check the data before it compiles a runner.
// `trained_inputs`: a CSV's input columns are taken by these names (dataset_from_csv).
template <std::floating_point real>
Dataset<real> load_dataset(const std::filesystem::path& data, const std::filesystem::path& idx_labels,
                           const std::vector<std::string>& label_columns, bool autoencoder, const DataShape& m,
                           const std::vector<std::string>& trained_inputs = {}) {
  // An autoencoder's targets are its inputs: they must fit the model's targets (Batch::t).
  if (autoencoder && (m.loss == Loss::softmax_cross_entropy || m.outputs != m.inputs))
    throw Error("error: --autoencoder 1 needs a model with as many outputs as inputs, trained with mse or "
                "binary_cross_entropy: this one has " + std::to_string(m.inputs) + " inputs and " +
                std::to_string(m.outputs) + " outputs");
  if (looks_like_idx(data)) {
    if (autoencoder) return inputs_from_idx<real>(data, m.inputs);
    if (idx_labels.empty())
      throw Error(data.string() + ": error: IDX images need their labels: give the labels file ([data] "
                  "train_labels / test_labels, or --data-labels)");
    return dataset_from_idx<real>(data, idx_labels, m.loss, m.inputs, m.outputs);
  }
  if (!idx_labels.empty())
    throw Error(idx_labels.string() + ": error: an IDX labels file goes with IDX images, but " + data.string() +
                " is not an IDX file");
  const io::CsvTable table = io::read_csv(data);
  if (autoencoder) return inputs_from_csv<real>(table, label_columns, m.inputs, trained_inputs);
  if (label_columns.empty())
    throw Error(data.string() + ": error: the spec's [data] names no label columns: set [data] labels "
                "(or give --labels COLUMN[,COLUMN...])");
  return dataset_from_csv<real>(table, label_columns, m.loss, m.inputs, m.outputs, trained_inputs);
}

// The same for model M.
template <GeneratedModel M>
Dataset<typename M::real> load_dataset(const std::filesystem::path& data, const std::filesystem::path& idx_labels,
                                       const std::vector<std::string>& label_columns, bool autoencoder,
                                       const std::vector<std::string>& trained_inputs = {}) {
  return load_dataset<typename M::real>(data, idx_labels, label_columns, autoencoder,
                                        {M::kLoss, M::kInputs, M::kOutputs}, trained_inputs);
}

// An autoencoder learns to reproduce its (normalised, noise-free) inputs.
template <class T>
void use_inputs_as_targets(Dataset<T>& data) {
  data.targets = data.inputs;
  data.t = data.x;
}

// Rows `rows` of `data`, in that order.
template <class T>
Dataset<T> select_rows(const Dataset<T>& data, const std::vector<std::size_t>& rows) {
  Dataset<T> out;
  out.rows = rows.size();
  out.inputs = data.inputs;
  out.targets = data.targets;
  out.input_names = data.input_names;
  out.x.reserve(rows.size() * data.inputs);
  out.t.reserve(rows.size() * data.targets);
  for (const std::size_t r : rows) {
    out.x.insert(out.x.end(), data.x.begin() + static_cast<std::ptrdiff_t>(r * data.inputs),
                 data.x.begin() + static_cast<std::ptrdiff_t>((r + 1) * data.inputs));
    out.t.insert(out.t.end(), data.t.begin() + static_cast<std::ptrdiff_t>(r * data.targets),
                 data.t.begin() + static_cast<std::ptrdiff_t>((r + 1) * data.targets));
  }
  return out;
}

// Holds out round(rows * fraction) rows, drawn by the seed (stream kValidationStream), keeping file
// order within each part: {training, validation}. Throws castnet::Error when a part would be empty.
template <class T>
std::pair<Dataset<T>, Dataset<T>> split_validation(const Dataset<T>& all, double fraction, std::uint64_t seed,
                                                   const std::filesystem::path& file) {
  const auto held = static_cast<std::size_t>(std::llround(static_cast<double>(all.rows) * fraction));
  if (held == 0 || held >= all.rows)
    throw Error(file.string() + ": error: validation = " + std::to_string(fraction) + " of " +
                std::to_string(all.rows) + " rows leaves " + (held == 0 ? "no validation rows" : "no training rows"));
  std::vector<std::size_t> order(all.rows);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng::shuffle(order, seed, kValidationStream);
  std::vector<std::size_t> val(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(held));
  std::vector<std::size_t> train(order.begin() + static_cast<std::ptrdiff_t>(held), order.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {select_rows(all, train), select_rows(all, val)};
}


// [data] subset: the first `n` rows of a shuffle drawn by the seed (stream kSubsetStream), kept in
// file order as split_validation keeps its parts. n = 0 keeps every row.
template <class T>
Dataset<T> take_subset(const Dataset<T>& all, std::size_t n, std::uint64_t seed, const std::filesystem::path& file) {
  if (n == 0) return all;
  if (n > all.rows)
    throw Error(file.string() + ": error: [data] subset = " + std::to_string(n) + " is more than the " +
                std::to_string(all.rows) + " rows of the training data");
  std::vector<std::size_t> order(all.rows);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng::shuffle(order, seed, kSubsetStream);
  order.resize(n);
  std::sort(order.begin(), order.end());
  return select_rows(all, order);
}

// [data] label_noise: round(rows * fraction) rows, drawn by the seed (stream kLabelNoiseStream),
// get a class drawn uniformly from the `classes` - 1 others, as in Nakkiran et al. 2019 ("Deep
// Double Descent"): an exact count, so the fraction of wrong labels is the fraction asked for.
// `data` holds class indices (one target per row). Returns the number of labels changed.
template <class T>
std::size_t add_label_noise(Dataset<T>& data, double fraction, std::size_t classes, std::uint64_t seed) {
  if (fraction <= 0 || data.rows == 0) return 0;
  if (data.targets != 1 || classes < 2)
    throw Error("error: [data] label_noise swaps class labels: it needs a classifier with two classes or more");
  const auto changed = static_cast<std::size_t>(std::llround(static_cast<double>(data.rows) * fraction));
  std::vector<std::size_t> order(data.rows);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng::shuffle(order, seed, kLabelNoiseStream);
  rng::Xoshiro256ss draw(seed, kLabelNoiseStream + 1);
  for (std::size_t i = 0; i < changed; ++i) {
    T& label = data.t[order[i]];
    const auto old = static_cast<std::uint64_t>(label);
    const std::uint64_t other = draw.below(classes - 1);  // skips the old class
    label = static_cast<T>(other >= old ? other + 1 : other);
  }
  return changed;
}

}  // namespace castnet
