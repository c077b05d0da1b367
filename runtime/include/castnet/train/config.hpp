// How to train: the settings a spec's [optimizer], [train] and [data] tables hold (specs/README.md
// documents every key and default). Plain structs with no dependencies, shared by the spec parser
// (which fills them), the CLI (which passes them to a runner as options, run_options.hpp) and the
// runtime (optimizer.hpp, schedule.hpp, trainer.hpp, which apply them).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace castnet {

struct OptimizerConfig {
  enum class Kind { sgd, momentum, nesterov, rmsprop, adam, adamw, lbfgs };
  // The course's two momentum forms beside torch's (optimizer.hpp gives the formulas).
  enum class MomentumForm { torch, ema, classic };
  Kind kind = Kind::sgd;
  double lr = 1e-2;
  double momentum = 0.9;                    // momentum, nesterov
  MomentumForm form = MomentumForm::torch;  // momentum only
  double beta1 = 0.9, beta2 = 0.999;        // adam, adamw
  double eps = 1e-8;                        // adam, adamw, rmsprop
  double alpha = 0.99;                      // rmsprop's smoothing constant
  double weight_decay = 0.01;               // adamw's decoupled weight decay
  std::size_t history = 10;                 // lbfgs: (s, y) pairs kept
};

struct ScheduleConfig {
  enum class Kind { constant, step, exponential, inverse_time, cosine };
  Kind kind = Kind::constant;
  std::size_t step_size = 10;  // step: epochs between decays
  double gamma = 0.1;          // step: factor per step_size epochs; exponential: factor per epoch
  double decay = 0.0;          // inverse_time: k in lr0 / (1 + k t)
  double lr_min = 0.0;         // cosine: the floor
  double warmup = 0.0;         // epochs (may be fractional) of linear warm-up, counted in steps
};

// How inputs are scaled before training; the statistics come from the training rows and are
// saved in the weights' metadata, so eval and predict apply the same transformation.
enum class Normalize { none, scale, standardize };

struct TrainConfig {
  std::size_t epochs = 10;
  std::uint64_t seed = 42;          // shuffles, the validation split, dropout, input noise
  bool shuffle = true;              // reshuffle every epoch; false keeps file order
  double validation = 0.0;          // fraction of the training rows held out
  std::size_t early_stopping = 0;   // patience in epochs on the validation loss; 0: off
  double l2 = 0.0;                  // lambda of lambda/2 sum ||W||^2 (weights, not biases)
  double clip_norm = 0.0;           // gradient clipping by global norm; 0: off
  double input_noise = 0.0;         // std of Gaussian noise added to inputs in training (denoising)
  Normalize normalize = Normalize::none;
  bool autoencoder = false;         // the targets are the (normalised, noise-free) inputs
  std::size_t subset = 0;           // train on this many rows of a seeded shuffle of the file; 0: all
  double label_noise = 0.0;         // fraction of training labels swapped for another class (data.hpp)
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
};

// The spelling of each enumerator in specs and on runner command lines, in declaration order.
template <class E>
struct EnumNames;
template <>
struct EnumNames<OptimizerConfig::Kind> {
  static constexpr std::array<std::string_view, 7> names = {
      "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "lbfgs"};
};
template <>
struct EnumNames<OptimizerConfig::MomentumForm> {
  static constexpr std::array<std::string_view, 3> names = {"torch", "ema", "classic"};
};
template <>
struct EnumNames<ScheduleConfig::Kind> {
  static constexpr std::array<std::string_view, 5> names = {"constant", "step", "exponential",
                                                            "inverse_time", "cosine"};
};
template <>
struct EnumNames<Normalize> {
  static constexpr std::array<std::string_view, 3> names = {"none", "scale", "standardize"};
};

template <class E>
std::string_view name_of(E e) {
  return EnumNames<E>::names[static_cast<std::size_t>(e)];
}

// Sets `e` and returns true when `text` names one of E's enumerators.
template <class E>
bool parse_name(std::string_view text, E& e) {
  const auto& names = EnumNames<E>::names;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) {
      e = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

// "sgd, momentum, ...": for messages.
template <class E>
std::string name_list() {
  std::string s;
  for (const std::string_view n : EnumNames<E>::names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

}  // namespace castnet
