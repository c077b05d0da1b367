// Round trip with PyTorch through the castnet CLI (DESIGN.md: "a torch.nn twin of a spec, loaded
// with castnet's weights, must give castnet's loss"). For each of three small specs, an MLP
// classifier, an MLP regressor and a ConvNet with binary cross-entropy, that between them use the
// three losses, every element-wise activation (fused and standalone, with alpha and beta), prelu,
// the trainable activations and kan (modules the twin writes out),
// add, conv2d with padding and stride, both pools and both normalisations:
//   castnet -> torch  castnet trains 2 epochs; tests/e2e/torch_twin.py loads weights.safetensors
//                     with load_state_dict(strict=True), normalises inputs from its metadata, and
//                     prints what `castnet predict` prints and the loss `castnet eval` reports
//   torch -> castnet  the twin initialises its weights from a torch seed, trains a few Adam
//                     steps and writes safetensors (with its normalisation in castnet's metadata);
//                     `castnet eval` on them reports the twin's loss
// DESIGN.md's second contract, trained from the same weights on the same batches, torch ends with
// castnet's weights: see "replay" below.
// The twin runs under $CASTNET_PYTHON, else /usr/bin/python3 (Debian's python3-torch, which
// ./castnet test installs). Where that cannot import torch the cases fail: the setup is broken.
#include <catch2/catch.hpp>

#include <castnet/data/csv.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/train/metrics.hpp>

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

// castnet args... in the sandbox, which must succeed; its stdout.
std::string castnet_in(const castnet::test::CliSandbox& cli, const std::vector<std::string>& args) {
  const auto r = cli(args);
  INFO("castnet " << args[0] << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// torch_twin.py args... in the sandbox, which must succeed; its stdout.
std::string twin_in(const castnet::test::CliSandbox& cli, std::vector<std::string> args) {
  args.insert(args.begin(), {python(), std::string(CASTNET_SOURCE_DIR) + "/tests/e2e/torch_twin.py"});
  const auto r = castnet::test::run(args, cli.dir.path());
  INFO("torch_twin.py " << args[2] << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Both directions for the spec `spec_text` trained on `data` (the spec reads data.csv), in one
// sequence with no sections, so that the runner is compiled once into this sandbox's cache.
void round_trip(const std::string& spec_text, const std::string& data) {
  require_torch();
  castnet::test::CliSandbox cli;  // its own compile cache
  write_file(cli / "net.toml", spec_text);
  write_file(cli / "data.csv", data);
  const auto run_castnet = [&](const std::vector<std::string>& args) { return castnet_in(cli, args); };
  const auto run_twin = [&](const std::vector<std::string>& args) { return twin_in(cli, args); };
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


// The labels of a 6x6 image's values: whether its top half outweighs its bottom, and its left half
// its right (the ConvNet cases).
std::string top_left_labels(const std::vector<double>& x) {
  double top = 0, left = 0;
  for (std::size_t i = 0; i < 36; ++i) {
    top += i < 18 ? x[i] : -x[i];
    left += i % 6 < 3 ? x[i] : -x[i];
  }
  return std::to_string(top > 0) + ',' + std::to_string(left > 0);
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

// The trainable activations and the KAN layer, whose torch modules the twin writes out (torch has
// none): trainable_swish, basis_activation with Gaussians and with B-splines (ranges the values
// leave, so the linear extensions count), and kan. 41 rows in batches of 4.
TEST_CASE("torch twin: an MLP regressor with trainable_swish, rbf and bspline basis activations and a kan layer") {
  round_trip(R"(name = "twin_trainable"
input = [3]
batch = 4

[[layer]]
type = "dense"
units = 8

[[layer]]
name = "swish"
type = "trainable_swish"

[[layer]]
type = "dense"
units = 6

[[layer]]
name = "gauss"
type = "basis_activation"
basis = "rbf"
count = 6
range = [-1.0, 1.0]

[[layer]]
name = "kolmo"
type = "kan"
units = 4
grid = 6
range = [-1.5, 1.5]

[[layer]]
name = "spline"
type = "basis_activation"
basis = "bspline"
count = 5
range = [-0.5, 0.5]

[[layer]]
type = "dense"
units = 2

[loss]
type = "mse"

[optimizer]
type = "sgd"
lr = 0.05

[train]
epochs = 2
seed = 3

[data]
train = "data.csv"
labels = ["a", "b"]
normalize = "scale"
)",
             table(41, 3, "a,b", [](const std::vector<double>& x) {
               std::ostringstream s;
               s << std::sin(x[0]) * x[1] << ',' << std::exp(-x[2] * x[2]);
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
             table(47, 36, "top,left", top_left_labels));
}

// ---- replay: DESIGN.md's "trained from the same weights on the same batches, it must end with
// castnet's weights (to float rounding)" ----
// The twin writes torch-initialised weights; castnet trains each variant of a network from them
// (`train --init`), and the twin's `replay` trains the same variants in torch: the same optimizer
// formulas, l2, clipping, schedule and warm-up, batches in file order (`shuffle = false`) with the
// last one partial. Compared per variant: every tensor of the final weights, what `predict` prints
// with them, and each epoch's training loss and learning rate in castnet's metrics.csv. The
// variants of a network differ only in [optimizer], so that one runner, compiled into the
// sandbox's cache, can serve them all (the runner cache is keyed on the network's structure).

namespace {

// Float rounding, compounded. Both sides compute in float (24-bit mantissa, 6e-8) in different
// summation orders (castnet's kernels against ATen's), so a step's gradient differs by a few
// 1e-7 relative; each of the 12 to 15 steps adds that to every weight's update and carries the earlier
// differences forward, through optimizer states that damp them or (adam, rmsprop: g / sqrt(v))
// renormalise small gradients. Measured on an AVX-512 Xeon: weights at most 1.4e-6 of their
// tensor's largest (adam with clipping on the ConvNet), losses 1.0e-7, outputs 1.4e-7. A wrong
// formula shows by orders of magnitude more: the twin's warm-up off by one step moved the weights
// by 5% to 10% of their largest.
constexpr double kReplayWeightTolerance = 1e-5;  // max |castnet - torch| / max |torch| per tensor
constexpr double kReplayLossTolerance = 1e-5;    // |castnet - torch| / |torch| per epoch
constexpr double kReplayOutputTolerance = 1e-5;  // as kOutputTolerance
// Learning rates: both in double, closed forms (castnet) against torch's recursive schedulers.
constexpr double kLrTolerance = 1e-12;           // relative

struct Variant {
  std::string name;       // its spec file's stem: <name>.toml, trained into <name>/
  std::string optimizer;  // the [optimizer] table's keys
  bool clips = false;     // clip_norm is set: the twin must have clipped at least one step
};

// max |a - b| / max |b| over one tensor's values (max |a - b| where b is all zeros).
double tensor_difference(const castnet::io::TensorData& a, const castnet::io::TensorData& b) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(a.values[i]) - b.values[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b.values[i])));
  }
  return scale > 0 ? worst / scale : worst;
}

// `network` is a spec without [optimizer] and [train] that reads data.csv; each variant adds its
// optimizer and 3 epochs in file order.
void replay(const std::string& network, const std::string& data, const std::vector<Variant>& variants) {
  require_torch();
  castnet::test::CliSandbox cli;  // its own compile cache
  write_file(cli / "data.csv", data);
  std::vector<std::string> twin_args = {"replay"};
  for (const Variant& v : variants) {
    write_file(cli / (v.name + ".toml"),
               network + "\n[optimizer]\n" + v.optimizer + "\n\n[train]\nepochs = 3\nshuffle = false\n");
    twin_args.push_back(v.name + ".toml");
  }
  // torch's own initialisation (no steps), from which both sides train.
  twin_in(cli, {"train", variants[0].name + ".toml", "--data", "data.csv", "--out", "init.safetensors", "--steps", "0",
                "--seed", "11"});
  for (const Variant& v : variants)
    castnet_in(cli, {"train", v.name + ".toml", "--init", "init.safetensors", "--out", v.name});
  twin_args.insert(twin_args.end(), {"--init", "init.safetensors", "--data", "data.csv", "--out", "twin"});
  twin_in(cli, twin_args);

  for (const Variant& v : variants) {
    INFO("variant " << v.name << ": [optimizer] " << v.optimizer);
    const auto ours = castnet::io::read_safetensors(cli / (v.name + "/weights.safetensors"));
    const auto theirs = castnet::io::read_safetensors(cli / ("twin/" + v.name + ".safetensors"));
    REQUIRE(ours.tensors.size() == theirs.tensors.size());
    for (const auto& tensor : ours.tensors) {
      INFO("tensor " << tensor.name);
      const auto* twin_tensor = theirs.find(tensor.name);
      REQUIRE(twin_tensor);
      REQUIRE(tensor.shape == twin_tensor->shape);
      CHECK(tensor_difference(tensor, *twin_tensor) <= kReplayWeightTolerance);
    }

    write_file(cli / (v.name + ".predict.csv"),
               castnet_in(cli, {"predict", v.name + ".toml", "--weights", v.name + "/weights.safetensors", "--input",
                                "data.csv"}));
    CHECK(max_difference(cli / (v.name + ".predict.csv"), cli / ("twin/" + v.name + ".predict.csv")) <=
          kReplayOutputTolerance);

    // metrics.csv against the twin's epoch,loss,lr,clipped rows.
    const auto metrics = castnet::MetricsLog::parse(castnet::test::read_file(cli / (v.name + "/metrics.csv")));
    const auto twin = castnet::io::read_csv(cli / ("twin/" + v.name + ".metrics.csv"));
    REQUIRE(twin.header == std::vector<std::string>{"epoch", "loss", "lr", "clipped"});
    REQUIRE(metrics.epochs().size() == 3);
    REQUIRE(twin.rows() == 3);
    double clipped = 0;
    for (std::size_t e = 0; e < 3; ++e) {
      INFO("epoch " << e + 1);
      const auto& stats = metrics.epochs()[e];
      CHECK(relative_difference(stats.loss, twin.cells[4 * e + 1]) <= kReplayLossTolerance);
      CHECK(relative_difference(stats.lr, twin.cells[4 * e + 2]) <= kLrTolerance);
      clipped += twin.cells[4 * e + 3];
    }
    if (v.clips) CHECK(clipped > 0);
  }
}

}  // namespace

// 30 rows in batches of 8 (the last of each epoch has 6), standardised inputs, 3 epochs: every
// optimizer form once with l2 and once with clipping, each with one of the schedules (every kind,
// by name and as a table, with and without warm-up, whole and fractional).
TEST_CASE("torch twin replay: every optimizer with l2 and with clipping, every schedule and warm-up, mse") {
  const std::vector<std::string> schedules = {
      "",  // constant
      "schedule = { type = \"step\", step_size = 2, gamma = 0.5 }",
      "schedule = { type = \"exponential\", gamma = 0.7, warmup = 0.5 }",
      "schedule = { type = \"inverse_time\", decay = 0.5 }",
      "schedule = { type = \"cosine\", lr_min = 0.001, warmup = 1.5 }",
      "schedule = { type = \"constant\", warmup = 1 }",
      "schedule = \"exponential\"",
      "schedule = { type = \"step\", step_size = 1, gamma = 0.5, warmup = 2.5 }",
      "schedule = \"cosine\"",
      "schedule = { type = \"inverse_time\", decay = 1.0, warmup = 1 }",
  };
  const std::vector<std::pair<std::string, std::string>> optimizers = {
      {"sgd", "type = \"sgd\"\nlr = 0.1"},
      {"momentum", "type = \"momentum\"\nlr = 0.05\nmomentum = 0.8"},
      {"ema", "type = \"momentum\"\nform = \"ema\"\nlr = 0.2"},
      {"classic", "type = \"momentum\"\nform = \"classic\"\nlr = 0.05"},
      {"nesterov", "type = \"nesterov\"\nlr = 0.05"},
      {"rmsprop", "type = \"rmsprop\"\nlr = 0.01\nalpha = 0.9"},
      {"adam", "type = \"adam\"\nlr = 0.02\nbeta1 = 0.8\nbeta2 = 0.99\neps = 1e-7"},
      {"adamw", "type = \"adamw\"\nlr = 0.02\nweight_decay = 0.1"},
  };
  std::vector<Variant> variants;
  for (const auto& [name, optimizer] : optimizers) {
    const std::string& l2_schedule = schedules[variants.size() % schedules.size()];
    variants.push_back({name + "_l2", optimizer + "\nl2 = 0.05\n" + l2_schedule});
    const std::string& clip_schedule = schedules[variants.size() % schedules.size()];
    variants.push_back({name + "_clip", optimizer + "\nclip_norm = 0.05\n" + clip_schedule, true});
  }
  replay(R"(name = "twin_replay_mlp"
input = [3]
batch = 8

[[layer]]
type = "dense"
units = 6
activation = "tanh"

[[layer]]
type = "dense"
units = 4
activation = "softplus"

[[layer]]
type = "dense"
units = 2

[loss]
type = "mse"

[data]
train = "data.csv"
labels = ["a", "b"]
normalize = "standardize"
)",
         table(30, 3, "a,b", [](const std::vector<double>& x) {
           std::ostringstream s;
           s << 0.5 + 0.4 * std::sin(x[0] - x[2]) << ',' << std::cos(x[1]);
           return s.str();
         }),
         variants);
}

// 23 rows of 1x6x6 images in batches of 5 (the last has 3); the labels of the ConvNet above.
TEST_CASE("torch twin replay: a ConvNet with both pools and binary cross-entropy") {
  replay(R"(name = "twin_replay_convnet"
input = [1, 6, 6]
batch = 5

[[layer]]
type = "conv2d"
filters = 3
kernel = 3
padding = "same"
activation = "tanh"

[[layer]]
type = "maxpool2d"
size = 2

[[layer]]
type = "conv2d"
filters = 4
kernel = 2
activation = "elu"

[[layer]]
type = "avgpool2d"
size = 2

[[layer]]
type = "flatten"

[[layer]]
type = "dense"
units = 2

[loss]
type = "binary_cross_entropy"

[data]
train = "data.csv"
labels = ["top", "left"]
)",
         table(23, 36, "top,left", top_left_labels),
         {{"momentum_l2_step", "type = \"momentum\"\nlr = 0.05\nl2 = 0.01\nschedule = { type = \"step\", step_size = 1, gamma = 0.5 }"},
          {"adam_clip_cosine", "type = \"adam\"\nlr = 0.01\nclip_norm = 0.1\nschedule = { type = \"cosine\", warmup = 1 }", true}});
}

// 26 rows in batches of 6 (the last has 2); a residual add around a glu, prelu, layernorm, and a
// concat of the result with the raw input.
TEST_CASE("torch twin replay: a graph with a residual add, glu, prelu, layernorm and concat, softmax cross-entropy") {
  replay(R"(name = "twin_replay_graph"
input = [4]
batch = 6

[[layer]]
name = "h"
type = "dense"
units = 5
activation = "tanh"

[[layer]]
name = "gate"
type = "glu"
units = 5

[[layer]]
name = "res"
type = "add"
inputs = ["h", "gate"]

[[layer]]
name = "slope"
type = "prelu"

[[layer]]
name = "norm"
type = "layernorm"

[[layer]]
name = "both"
type = "concat"
inputs = ["norm", "input"]

[[layer]]
name = "out"
type = "dense"
units = 3

[loss]
type = "softmax_cross_entropy"

[data]
train = "data.csv"
labels = ["y"]
)",
         table(26, 4, "y", [](const std::vector<double>& x) {
           return std::to_string((x[0] > 0.3) + (x[2] + x[3] > 2.5));
         }),
         {{"adamw_clip", "type = \"adamw\"\nlr = 0.02\nclip_norm = 0.2", true},
          {"rmsprop_l2_exponential", "type = \"rmsprop\"\nlr = 0.01\nl2 = 0.02\nschedule = { type = \"exponential\", gamma = 0.8 }"}});
}
