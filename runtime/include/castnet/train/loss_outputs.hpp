// What a model's raw outputs mean under each loss, for the runner's reports: the loss's name, the
// loss of a batch of outputs (castnet::losses, the functions generated train_step code uses),
// whether accuracy is defined, how a prediction is scored, and the probabilities `predict` prints.
// Outputs are logits for both cross-entropies (DESIGN.md: losses take logits, like PyTorch's).
//   mse                    no accuracy; outputs are the prediction
//   binary_cross_entropy   per element: correct when (logit > 0) == (target > 0.5); p = sigmoid
//   softmax_cross_entropy  per sample: correct when argmax(logits) == class; p = softmax
#pragma once

#include <castnet/kernels/losses.hpp>
#include <castnet/kernels/outputs.hpp>
#include <castnet/model.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>

namespace castnet {

constexpr std::string_view loss_name(Loss loss) {
  switch (loss) {
    case Loss::mse: return "mse";
    case Loss::binary_cross_entropy: return "binary_cross_entropy";
    case Loss::softmax_cross_entropy: return "softmax_cross_entropy";
  }
  __builtin_unreachable();  // every enumerator returns above; -Wswitch flags a new one
}

// The mean loss of the first n rows of outputs y (kBatch, kOutputs) against targets t
// (kBatch, kTargets), without gradients. A model seen through its ModelView brings this function
// compiled with its own sizes (erased_model.hpp).
template <GeneratedModel M>
typename M::real batch_loss(const typename M::real* y, const typename M::real* t, std::size_t n) {
  using real = typename M::real;
  if constexpr (requires { M::batch_loss(y, t, n); }) {
    return M::batch_loss(y, t, n);
  } else if constexpr (M::kLoss == Loss::mse) {
    return losses::mse<real, M::kBatch, M::kOutputs>(y, t, nullptr, n);
  } else if constexpr (M::kLoss == Loss::binary_cross_entropy) {
    return losses::binary_cross_entropy<real, M::kBatch, M::kOutputs>(y, t, nullptr, n);
  } else {
    return losses::softmax_cross_entropy<real, M::kBatch, M::kOutputs>(y, t, nullptr, n);
  }
}

constexpr bool has_accuracy(Loss loss) { return loss != Loss::mse; }

// The number of scored predictions in `n` samples: one per sample for softmax cross-entropy, one
// per output element for binary cross-entropy.
constexpr std::size_t scored_per_batch(Loss loss, std::size_t n, std::size_t outputs) {
  return loss == Loss::softmax_cross_entropy ? n : n * outputs;
}

template <class T>
std::size_t argmax(const T* values, std::size_t count) {
  return static_cast<std::size_t>(std::max_element(values, values + count) - values);
}

// Correct predictions among `n` samples of logits y (n, outputs) against targets t (n, targets).
template <class T>
std::size_t count_correct(Loss loss, const T* y, const T* t, std::size_t n, std::size_t outputs) {
  std::size_t correct = 0;
  switch (loss) {
    case Loss::mse:
      break;
    case Loss::binary_cross_entropy:
      for (std::size_t i = 0; i < n * outputs; ++i) correct += (y[i] > T{0}) == (t[i] > T{0.5});
      break;
    case Loss::softmax_cross_entropy:
      for (std::size_t i = 0; i < n; ++i) {
        correct += argmax(y + i * outputs, outputs) == static_cast<std::size_t>(t[i]);
      }
      break;
  }
  return correct;
}

// The values `predict` prints for one sample's outputs y: unchanged for mse, sigmoid for binary
// cross-entropy, softmax for softmax cross-entropy (castnet/kernels/outputs.hpp, which exported
// headers carry too).
template <class T>
void output_values(Loss loss, const T* y, std::size_t outputs, T* out) {
  switch (loss) {
    case Loss::mse: return castnet::outputs::identity(y, outputs, out);
    case Loss::binary_cross_entropy: return castnet::outputs::sigmoid(y, outputs, out);
    case Loss::softmax_cross_entropy: return castnet::outputs::softmax(y, outputs, out);
  }
}

}  // namespace castnet
