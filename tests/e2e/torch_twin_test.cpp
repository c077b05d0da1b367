// Round trip with PyTorch through the castnet CLI (DESIGN.md: "a torch.nn twin of a spec, loaded
// with castnet's weights, must give castnet's loss"). For each of three small specs, an MLP
// classifier, an MLP regressor and a ConvNet with binary cross-entropy, that between them use the
// three losses, every element-wise activation (fused and standalone, with alpha and beta), prelu,
// add, conv2d with padding and stride, both pools and both normalisations:
//   castnet -> torch  castnet trains 2 epochs; tests/e2e/torch_twin.py loads weights.safetensors
//                     with load_state_dict(strict=True), normalises inputs from its metadata, and
//                     prints what `castnet predict` prints and the loss `castnet eval` reports
//   torch -> castnet  the twin initialises its weights from a torch seed, trains a few Adam
//                     steps and writes safetensors (with its normalisation in castnet's metadata);
//                     `castnet eval` on them reports the twin's loss
// The twin runs under $CASTNET_PYTHON, else /usr/bin/python3 (Debian's python3-torch, which
// ./castnet test installs). Where that cannot import torch the cases fail: the setup is broken.
#include <catch2/catch.hpp>

#include <castnet/data/csv.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

using castnet::test::write_file;

namespace {

// Outputs: float forward passes that sum in other orders, printed with 9 digits by the twin and in
// shortest form by castnet. Losses: castnet eval prints 6 significant digits (%.6g), which alone
// may differ by 5e-6 relative.
constexpr double kOutputTolerance = 1e-5;  // |castnet - torch| / max(1, |torch|)
constexpr double kLossTolerance = 1e-5;    // |castnet - torch| / |torch|

std::string python() {
  const char* p = std::getenv("CASTNET_PYTHON");
  return p && *p ? p : "/usr/bin/python3";
}

// Fails the case unless python() can run the twin (torch, and tomllib from Python 3.11).
void require_torch() {
  const auto r = castnet::test::run({python(), "-c", "import tomllib, torch"});
  INFO(python() << " cannot import torch and tomllib (./castnet test installs python3-torch; or set "
                   "CASTNET_PYTHON): "
                << r.err);
  REQUIRE(r.exit_code == 0);
}

// "loss L" on the first line of castnet eval's or the twin's output.
double loss_in(const std::string& out) {
  INFO(out);
  REQUIRE(out.rfind("loss ", 0) == 0);
  return std::stod(out.substr(5));
}

// |castnet - torch| / |torch|
double relative_difference(double castnet, double torch) { return std::abs(castnet - torch) / std::abs(torch); }

// The largest |a - b| / max(1, |b|) over two outputs of predict (a header row, then rows of
// numbers), which must have the same columns and rows.
double max_difference(const std::filesystem::path& castnet, const std::filesystem::path& torch) {
  const auto a = castnet::io::read_csv(castnet), b = castnet::io::read_csv(torch);
  REQUIRE(a.header == b.header);
  REQUIRE(a.rows() == b.rows());
  double worst = 0;
  for (std::size_t i = 0; i < a.cells.size(); ++i)
    worst = std::max(worst, std::abs(a.cells[i] - b.cells[i]) / std::max(1.0, std::abs(b.cells[i])));
  return worst;
}

// Both directions for the spec `spec_text` trained on `data` (the spec reads data.csv), in one
// sequence with no sections, so that the runner is compiled once into this sandbox's cache.
void round_trip(const std::string& spec_text, const std::string& data) {
  require_torch();
  castnet::test::CliSandbox cli;  // its own compile cache
  write_file(cli / "net.toml", spec_text);
  write_file(cli / "data.csv", data);
  const auto run_castnet = [&](const std::vector<std::string>& args) {
    const auto r = cli(args);
    INFO("castnet " << args[0] << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const auto run_twin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {python(), std::string(CASTNET_SOURCE_DIR) + "/tests/e2e/torch_twin.py"});
    const auto r = castnet::test::run(args, cli.dir.path());
    INFO("torch_twin.py " << args[2] << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const auto both = [&](const std::vector<std::string>& args) {
    return std::pair{run_castnet(args), run_twin(args)};
  };
  const auto check_loss = [&](const std::string& weights) {
    INFO("the loss on data.csv with " << weights);
    const auto [ours, theirs] = both({"eval", "net.toml", "--weights", weights, "--data", "data.csv"});
    CHECK(relative_difference(loss_in(ours), loss_in(theirs)) <= kLossTolerance);
  };

  // castnet -> torch: castnet's weights in the twin give castnet's outputs and loss. data.csv is
  // predict's input too: both ignore its label columns.
  run_castnet({"train", "net.toml", "--out", "run"});
  const auto [ours, theirs] = both({"predict", "net.toml", "--weights", "run/weights.safetensors", "--input", "data.csv"});
  write_file(cli / "castnet.csv", ours);
  write_file(cli / "torch.csv", theirs);
  CHECK(max_difference(cli / "castnet.csv", cli / "torch.csv") <= kOutputTolerance);
  check_loss("run/weights.safetensors");

  // torch -> castnet: weights trained in PyTorch give the twin's loss in castnet.
  run_twin({"train", "net.toml", "--data", "data.csv", "--out", "torch.safetensors", "--seed", "7", "--steps", "25"});
  check_loss("torch.safetensors");
}

// Rows of `inputs` columns x0.. from sines of the row and column, then the label columns that
// `labels` appends to each row given its inputs.
template <class Labels>
std::string table(int rows, int inputs, const std::string& label_header, Labels labels) {
  std::ostringstream csv;
  for (int j = 0; j < inputs; ++j) csv << 'x' << j << ',';
  csv << label_header << '\n';
  csv.precision(6);
  for (int r = 0; r < rows; ++r) {
    std::vector<double> x(static_cast<std::size_t>(inputs));
    for (int j = 0; j < inputs; ++j) {
      x[static_cast<std::size_t>(j)] = std::sin(0.61 * r * (j + 1) + 0.3 * j) * (1 + j % 3) + 0.5 * j;
      csv << x[static_cast<std::size_t>(j)] << ',';
    }
    csv << labels(x) << '\n';
  }
  return csv.str();
}

}  // namespace

// 61 rows in batches of 8: eval's last batch is partial.
TEST_CASE("torch twin: an MLP classifier with standardised inputs, gelu, elu, leaky_relu, prelu and add") {
  round_trip(R"(name = "twin_classifier"
input = [5]
batch = 8

[[layer]]
name = "h1"
type = "dense"
units = 8
activation = "gelu"

[[layer]]
name = "h2"
type = "dense"
units = 8
activation = "leaky_relu"
alpha = 0.2

[[layer]]
name = "skip"
type = "add"
inputs = ["h1", "h2"]

[[layer]]
type = "elu"
alpha = 0.7

[[layer]]
type = "dense"
units = 6

[[layer]]
type = "prelu"

[[layer]]
name = "out"
type = "dense"
units = 3

[loss]
type = "softmax_cross_entropy"

[optimizer]
type = "adam"
lr = 0.01

[train]
epochs = 2
seed = 5

[data]
train = "data.csv"
labels = ["y"]
normalize = "standardize"
)",
             table(61, 5, "y", [](const std::vector<double>& x) {
               return std::to_string((x[0] + x[1] > 1.5) + (x[3] > 1.8));
             }));
}

TEST_CASE("torch twin: an MLP regressor with scaled inputs, softplus, silu, tanh, hardtanh and sigmoid") {
  round_trip(R"(name = "twin_regressor"
input = [3]
batch = 4

[[layer]]
type = "dense"
units = 7
activation = "softplus"
beta = 2.0

[[layer]]
type = "dense"
units = 7
activation = "silu"

[[layer]]
type = "tanh"

[[layer]]
type = "dense"
units = 5
activation = "relu"

[[layer]]
type = "hardtanh"
min_val = -0.5
max_val = 0.8

[[layer]]
type = "dense"
units = 2
activation = "sigmoid"

[loss]
type = "mse"

[optimizer]
type = "sgd"
lr = 0.1

[train]
epochs = 2
seed = 9

[data]
train = "data.csv"
labels = ["a", "b"]
normalize = "scale"
)",
             table(30, 3, "a,b", [](const std::vector<double>& x) {
               std::ostringstream s;
               s << 0.5 + 0.4 * std::sin(x[0] - x[2]) << ',' << 1.0 / (1.0 + std::exp(x[1] - 1.0));
               return s.str();
             }));
}

// Images of 1x6x6 flattened into 36 columns; two labels: is the top half brighter, is the left
// half brighter. No normalisation: the weights carry no castnet metadata.
TEST_CASE("torch twin: a ConvNet with padding, stride, max and average pooling and binary cross-entropy") {
  round_trip(R"(name = "twin_convnet"
input = [1, 6, 6]
batch = 5

[[layer]]
name = "c1"
type = "conv2d"
filters = 3
kernel = 3
padding = "same"
activation = "relu"

[[layer]]
type = "maxpool2d"
size = 2

[[layer]]
name = "c2"
type = "conv2d"
filters = 4
kernel = [2, 3]
stride = [1, 2]
padding = [1, 1]
activation = "tanh"

[[layer]]
type = "avgpool2d"
size = [2, 1]
stride = 1

[[layer]]
type = "flatten"

[[layer]]
name = "out"
type = "dense"
units = 2

[loss]
type = "binary_cross_entropy"

[optimizer]
type = "momentum"
lr = 0.05

[train]
epochs = 2
seed = 3

[data]
train = "data.csv"
labels = ["top", "left"]
)",
             table(47, 36, "top,left", [](const std::vector<double>& x) {
               double top = 0, left = 0;
               for (std::size_t i = 0; i < 36; ++i) {
                 top += i < 18 ? x[i] : -x[i];
                 left += i % 6 < 3 ? x[i] : -x[i];
               }
               return std::to_string(top > 0) + ',' + std::to_string(left > 0);
             }));
}
