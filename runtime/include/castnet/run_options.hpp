// The command line of a model's runner program (what `castnet train|eval|predict` execute after
// compiling a spec). The CLI passes every option explicitly; the defaults below only matter when
// the runner is started by hand. Parsing is model-independent, so it lives in run_options.cpp.
#pragma once

#include <castnet/optimizer.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace castnet {

// A malformed command line: the runner prints the message and the usage, and exits with code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RunOptions {
  enum class Verb { train, eval, predict, help };
  Verb verb = Verb::help;
  std::filesystem::path data;     // train, eval: --data
  std::filesystem::path input;    // predict: --input
  std::filesystem::path weights;  // eval, predict: --weights
  std::filesystem::path out;      // train: --out
  std::filesystem::path init;     // train: --init (empty: initialise from the seed)
  std::vector<std::string> labels;  // --labels a,b
  std::size_t epochs = 1;
  OptimizerConfig optimizer{OptimizerConfig::Kind::sgd, 1e-3, 0.9};
  std::uint64_t seed = 0;
  bool shuffle = true;
  double save_every = 1.0;  // --save-every: seconds between weight saves (see trainer.hpp)
};

// Parses argv[1..argc). Throws UsageError for an unknown verb or option, an option the verb does
// not take, an option given twice, a missing value or a malformed one, and a missing required
// option (train: --data --labels --out; eval: --weights --data --labels; predict: --weights
// --input). `help`, `--help` and `-h` give Verb::help.
RunOptions parse_run_options(int argc, const char* const* argv);

// The usage text, one line per verb, naming the program as `program`.
std::string run_usage(std::string_view program);

}  // namespace castnet
