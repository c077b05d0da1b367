// What `castnet eval` prints after the loss and accuracy, from a model's outputs on a data set:
// for softmax cross-entropy the confusion matrix and each class's precision, recall and F1 with
// their macro averages; for binary cross-entropy, per output, the confusion counts at p >= 0.5,
// precision, recall, F1 and ROC AUC; for mse, per target, MSE, MAE and R^2, and their means. Rows
// per class, output or target only up to 20 of them.
#pragma once

#include <castnet/model.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace castnet {

// `outputs`: rows x `outputs_per_row` raw outputs (logits for the cross-entropies); `targets`:
// rows x (1 for softmax cross-entropy, else outputs_per_row).
std::string quality_report(Loss loss, std::size_t outputs_per_row, const std::vector<double>& outputs,
                           const std::vector<double>& targets);

}  // namespace castnet
