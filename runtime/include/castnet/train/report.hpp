// What `castnet eval` reports after the loss and accuracy, from a model's outputs on a data set:
// for softmax cross-entropy the confusion matrix and each class's precision, recall and F1 with
// their macro averages; for binary cross-entropy, per output, the confusion counts at p >= 0.5,
// precision, recall, F1 and ROC AUC; for mse, per target, MSE, MAE and R^2, and their means.
// Undefined ratios (a class never predicted, a constant target) are empty, not zero. As text,
// rows per class, output or target only up to 20 of them; as JSON, all.
#pragma once

#include <castnet/model.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace castnet {

struct ClassFigures {
  std::optional<double> precision, recall, f1;
  std::size_t support = 0;  // rows of the class (macro: all rows)
};

struct BinaryFigures {
  std::size_t tp = 0, fp = 0, fn = 0, tn = 0;
  std::optional<double> precision, recall, f1, roc_auc;
};

struct TargetFigures {
  std::optional<double> mse, mae, r2;
};

struct QualityReport {
  Loss loss = Loss::mse;
  std::size_t outputs = 0;
  std::vector<std::size_t> confusion;  // softmax: outputs x outputs, rows true class, columns predicted
  std::vector<ClassFigures> classes;   // softmax
  ClassFigures macro;                  // softmax: the mean of each figure where defined
  std::vector<BinaryFigures> binary;   // binary cross-entropy, per output
  std::vector<TargetFigures> targets;  // mse, per target
  TargetFigures mean;                  // mse: the means over targets
};

// `outputs`: rows x `outputs_per_row` raw outputs (logits for the cross-entropies); `targets`:
// rows x (1 for softmax cross-entropy, else outputs_per_row).
QualityReport quality(Loss loss, std::size_t outputs_per_row, const std::vector<double>& outputs,
                      const std::vector<double>& targets);

std::string to_text(const QualityReport& r);
// One JSON object: {"confusion": [[...]], "classes": [...], "macro": {...}} for softmax,
// {"outputs": [...]} for binary, {"targets": [...], "mean": {...}} for mse.
std::string to_json(const QualityReport& r);

}  // namespace castnet
