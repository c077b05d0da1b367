// Data sets in memory, and the batch buffers the trainer fills from them. A CSV's label columns
// are the named ones and every other column is an input, in file order (DESIGN.md, Data). The
// checks that tie a file to a model (column counts, label values the loss accepts) happen here,
// once, so that training never meets a bad row; every error names the file, and line:column when
// one cell is at fault (file line and 1-based byte column, as read_csv reports them).
#pragma once

#include <castnet/aligned_buffer.hpp>
#include <castnet/data/csv.hpp>
#include <castnet/model.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace castnet {

template <std::floating_point T>
struct Dataset {
  std::size_t rows = 0;
  std::size_t inputs = 0;   // values per sample in x
  std::size_t targets = 0;  // values per sample in t: 1 (class index) for softmax cross-entropy,
                            // else one per output; 0 for prediction inputs
  std::vector<T> x;         // (rows, inputs)
  std::vector<T> t;         // (rows, targets)
  std::vector<std::string> input_names;  // a CSV's input column names, in x's order; else empty
};

// Training or evaluation data: inputs and targets for a model with `inputs` inputs and `outputs`
// outputs trained with `loss`. Throws castnet::Error when a label column is missing or named
// twice, when the number of label columns does not fit the loss (softmax_cross_entropy: exactly
// one, holding class indices 0..outputs-1; mse and binary_cross_entropy: exactly `outputs`), when
// the number of remaining columns is not `inputs`, and for a label cell the loss does not accept
// (not a class index; a binary_cross_entropy target outside [0, 1]).
// `trained_inputs`, when not empty, are the input column names the model was trained on (the
// weights' metadata): the inputs are taken by name in that order, and a file lacking one of them
// or holding another input column is refused, naming both.
template <std::floating_point T>
Dataset<T> dataset_from_csv(const io::CsvTable& table, const std::vector<std::string>& labels,
                            Loss loss, std::size_t inputs, std::size_t outputs,
                            const std::vector<std::string>& trained_inputs = {});

// Prediction input: every column except those of `labels_to_ignore` that the file has is an
// input (by name, given `trained_inputs`, as above). Throws castnet::Error when the number of input
// columns is not `inputs`.
template <std::floating_point T>
Dataset<T> inputs_from_csv(const io::CsvTable& table, const std::vector<std::string>& labels_to_ignore,
                           std::size_t inputs, const std::vector<std::string>& trained_inputs = {});

extern template Dataset<float> dataset_from_csv<float>(const io::CsvTable&, const std::vector<std::string>&, Loss,
                                                       std::size_t, std::size_t, const std::vector<std::string>&);
extern template Dataset<double> dataset_from_csv<double>(const io::CsvTable&, const std::vector<std::string>&, Loss,
                                                         std::size_t, std::size_t, const std::vector<std::string>&);
extern template Dataset<float> inputs_from_csv<float>(const io::CsvTable&, const std::vector<std::string>&, std::size_t,
                                                      const std::vector<std::string>&);
extern template Dataset<double> inputs_from_csv<double>(const io::CsvTable&, const std::vector<std::string>&,
                                                        std::size_t, const std::vector<std::string>&);

// One batch of a model, contiguous and 64-byte aligned as generated SIMD code may load it. Rows
// past the filled count keep earlier contents: they are padding, whose outputs nobody reads and
// which train_step leaves out of the loss and gradients.
template <GeneratedModel M>
struct Batch {
  using real = typename M::real;
  AlignedBuffer<real> x{M::kBatch * M::kInputs};   // (batch, inputs)
  AlignedBuffer<real> t{M::kBatch * M::kTargets};  // (batch, targets)
  AlignedBuffer<real> y{M::kBatch * M::kOutputs};  // (batch, outputs)

  // Copies the samples `rows` (at most kBatch indices into `data`) into x, and into t when the
  // data set has targets.
  void gather(const Dataset<real>& data, std::span<const std::size_t> rows) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto xs = data.x.begin() + static_cast<std::ptrdiff_t>(rows[i] * data.inputs);
      std::copy(xs, xs + static_cast<std::ptrdiff_t>(data.inputs), x.begin() + i * data.inputs);
      const auto ts = data.t.begin() + static_cast<std::ptrdiff_t>(rows[i] * data.targets);
      std::copy(ts, ts + static_cast<std::ptrdiff_t>(data.targets), t.begin() + i * data.targets);
    }
  }
};

}  // namespace castnet
