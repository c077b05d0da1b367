// The command line of a model's runner program (what `castnet train|eval|predict` execute after
// compiling a spec). The CLI builds it with train_arguments() from the spec's settings, so every
// training setting has exactly one spelling, parsed and printed by one table (run_options.cpp).
// The defaults only matter when a runner is started by hand.
#pragma once

#include <castnet/train/config.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace castnet {

// A malformed command line: the runner prints the message and the usage, and exits with code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --threads at most this (a sanity bound: each thread has its own workspace).
inline constexpr std::size_t kMaxThreads = 1024;

struct RunOptions {
  enum class Verb { train, eval, predict, landscape, help };
  // --format: what goes to stdout. text: for people; json: train one JSON line per epoch and a
  // summary object, eval and predict one object; quiet: nothing (errors still go to stderr).
  enum class Format { text, json, quiet };
  Verb verb = Verb::help;
  Format format = Format::text;
  std::filesystem::path data;         // train, eval: --data (CSV or IDX images)
  std::filesystem::path data_labels;  // --data-labels: IDX labels beside IDX images
  std::filesystem::path test;         // train: --test, evaluated after training
  std::filesystem::path test_labels;  // train: --test-labels
  std::filesystem::path input;        // predict: --input
  std::filesystem::path weights;      // eval, predict: --weights
  std::filesystem::path out;          // train: --out
  std::filesystem::path init;         // train: --init (empty: initialise from the seed)
  std::string spec_sha256;            // train: --spec-sha256, for a runner's model (weights.hpp)
  std::string network_sha256;         // train: --network-sha256, a runner's header's (weights.hpp)
  std::filesystem::path images;       // eval: --images PNG of inputs beside outputs (autoencoders)
  std::vector<std::string> labels;    // --labels a,b (CSV label columns)
  TrainConfig train;                  // train: every training setting
  double save_every = 1.0;            // --save-every: seconds between saves; 0: every epoch (trainer.hpp)
  bool resume = false;                // --resume 1: continue from --out's checkpoint
  std::size_t threads = 1;            // --threads: share each batch among this many threads
                                      // (landscape: evaluate this many grid points at once)
  std::size_t steps = 41;             // landscape: --steps, grid points per direction
  double span = 1.0;                  // landscape: --span, the grid covers [-span, span]^2
};

// Parses argv[1..argc). Throws UsageError for an unknown verb or option, an option the verb does
// not take, an option given twice, a missing value or a malformed one, and a missing required
// option (train: --data --out; eval: --weights --data; predict: --weights --input; landscape:
// --weights --data --out).
// `help`, `--help` and `-h` give Verb::help.
RunOptions parse_run_options(int argc, const char* const* argv);

// The options that spell out `config` (every setting, defaults included), for a train command line.
std::vector<std::string> train_arguments(const TrainConfig& config);

// Each setting train_arguments prints but --epochs, named without its "--", with its value: what a
// resumed run must share with the run that wrote the checkpoint (run_identity.hpp).
std::vector<std::pair<std::string, std::string>> training_settings(const TrainConfig& config);

// The usage text, naming the program as `program`.
std::string run_usage(std::string_view program);

}  // namespace castnet
