// The runner end to end on hand-written linear models: run_model<M> driven through argv exactly as
// the CLI's runner program is, with its stdout/stderr captured; plus the trainer's batching and
// shuffling checked against a loop written out by hand.
#include <castnet/data/csv.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/train/init.hpp>
#include <castnet/train/runner.hpp>
#include <castnet/train/trainer.hpp>

#include <catch2/catch.hpp>
#include <support/process.hpp>
#include <support/runner_harness.hpp>
#include <support/tiny_model.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using castnet::Loss;
using castnet_test::TinyModel;
using Classifier = castnet_test::LinearModel<2, 2, Loss::softmax_cross_entropy>;
using Binary = castnet_test::LinearModel<2, 1, Loss::binary_cross_entropy>;

using castnet::test::Result;

template <class M>
Result run(std::vector<std::string> args) {
  return castnet::test::run_runner<M>(std::move(args));
}

using castnet::test::lines_of;
using castnet::test::read_metrics;

using castnet::test::grid_csv;
using castnet::test::regression_csv;

struct Fixture {
  castnet::test::TempDir dir;
  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
  // Writes a file into the test's directory and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    castnet::test::write_file(path(name), text);
    return path(name);
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "runner: train fits a linear regression with sgd and writes its files",
                 "[runner]") {
  const std::string data = write("data.csv", regression_csv());
  const Result r = run<TinyModel>({"train", "--data", data, "--labels", "y", "--out", path("out"),
                                   "--epochs", "50", "--optimizer", "sgd", "--lr", "0.1",
                                   "--seed", "7"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // What it trains on, one line per epoch (not a terminal), then where the files went.
  const auto progress = lines_of(r.out);
  REQUIRE(progress.size() == 53);
  CHECK(progress[0] == "training tiny_linear on 30 rows");
  CHECK(progress[3].starts_with("epoch  3/50  loss "));
  CHECK(progress[51] == "wrote " + path("out/weights.safetensors") + ", " + path("out/checkpoint.safetensors") + ",");
  CHECK(progress[52] == "      " + path("out/metrics.csv") + " and " + path("out/curves.svg"));
  CHECK(progress[3].find("samples/s ") != std::string::npos);
  CHECK(progress[3].find("accuracy") == std::string::npos);  // mse has none
  CHECK(progress[3].find("lr 0.1") != std::string::npos);

  // metrics.csv: the header, then one row per epoch; the loss falls below 1e-3.
  const auto metrics = read_metrics(path("out/metrics.csv"));
  REQUIRE(metrics.size() == 51);
  CHECK(metrics[0] == std::vector<std::string>{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
                                               "samples_per_s", "seconds"});
  for (const auto& row : metrics) REQUIRE(row.size() == 8);
  CHECK(metrics[50][0] == "50");
  CHECK(std::stod(metrics[50][1]) < 1e-3);
  CHECK(std::stod(metrics[50][1]) < std::stod(metrics[1][1]));
  CHECK(metrics[50][2].empty());  // no accuracy for mse
  CHECK(metrics[50][3].empty());  // no validation split
  CHECK(std::stod(metrics[50][5]) == 0.1);
  CHECK(std::stod(metrics[50][6]) > 0);
  CHECK(castnet::test::read_file(path("out/curves.svg")).starts_with("<svg"));

  // weights.safetensors: torch names and shapes, the learnt function, the metadata.
  const auto weights = castnet::io::read_safetensors(path("out/weights.safetensors"));
  REQUIRE(weights.tensors.size() == 2);
  CHECK(weights.tensors[0].name == "fc.weight");
  CHECK(weights.tensors[0].shape == std::vector<std::size_t>{1, 2});
  CHECK(weights.tensors[1].name == "fc.bias");
  CHECK(weights.tensors[1].shape == std::vector<std::size_t>{1});
  CHECK(weights.tensors[0].values[0] == Approx(2.0).margin(0.02));
  CHECK(weights.tensors[0].values[1] == Approx(-1.0).margin(0.02));
  CHECK(weights.tensors[1].values[0] == Approx(0.5).margin(0.02));
  CHECK(weights.metadata.at("epoch") == "50");
  CHECK(weights.metadata.at("castnet_model") == "tiny_linear");
  CHECK(weights.metadata.at("castnet_spec_sha256") == TinyModel::kSpecSha256);

  SECTION("eval reports the loss of the trained weights") {
    const Result e = run<TinyModel>(
        {"eval", "--weights", path("out/weights.safetensors"), "--data", data, "--labels", "y"});
    INFO(e.err);
    REQUIRE(e.exit_code == 0);
    const auto lines = lines_of(e.out);
    REQUIRE(lines.size() == 3);  // the loss, then MSE, MAE and R^2 of the one target
    REQUIRE(lines[0].starts_with("loss "));
    CHECK(std::stod(lines[0].substr(5)) < 1e-3);
    CHECK(lines[1] == "target       MSE       MAE       R^2");
    CHECK(lines[2].starts_with("     0"));
    CHECK(std::stod(lines[2].substr(26)) > 0.99);  // R^2 of a fitted line
  }
  SECTION("predict prints a header and one row per input row, ignoring the label column") {
    const Result p = run<TinyModel>({"predict", "--weights", path("out/weights.safetensors"),
                                     "--input", data, "--labels", "y"});
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const auto lines = lines_of(p.out);
    REQUIRE(lines.size() == 31);
    CHECK(lines[0] == "y0");
    // Row 1 is (x1, x2) = (-1, -1): y = 2 * -1 + 1 + 0.5 = -0.5.
    CHECK(std::stod(lines[1]) == Approx(-0.5).margin(0.05));
  }
  SECTION("--init continues from given weights") {
    const Result t = run<TinyModel>({"train", "--data", data, "--labels", "y", "--out",
                                     path("again"), "--epochs", "1", "--lr", "0.1", "--init",
                                     path("out/weights.safetensors")});
    INFO(t.err);
    REQUIRE(t.exit_code == 0);
    CHECK(std::stod(read_metrics(path("again/metrics.csv")).at(1).at(1)) < 1e-3);
  }
}

TEST_CASE_METHOD(Fixture, "runner: the same seed gives identical weight files, another seed not",
                 "[runner]") {
  const std::string data = write("data.csv", regression_csv());
  const auto train = [&](const std::string& out, const std::string& seed) {
    const Result r = run<TinyModel>({"train", "--data", data, "--labels", "y", "--out", path(out),
                                     "--epochs", "3", "--optimizer", "momentum", "--lr", "0.05",
                                     "--momentum", "0.9", "--seed", seed});
    REQUIRE(r.exit_code == 0);
    return castnet::test::read_file(path(out + "/weights.safetensors"));
  };
  const std::string a = train("a", "11");
  CHECK(a == train("b", "11"));
  CHECK(a != train("c", "12"));
}

TEST_CASE_METHOD(Fixture, "runner: a diverging loss stops training and keeps the last good weights",
                 "[runner]") {
  const std::string data = write("data.csv", regression_csv());
  const Result r = run<TinyModel>({"train", "--data", data, "--labels", "y", "--out", path("out"),
                                   "--epochs", "100", "--lr", "4", "--shuffle", "0",
                                   "--save-every", "0"});
  CHECK(r.exit_code == 1);
  INFO(r.err);
  REQUIRE(r.err.starts_with("error: loss is "));
  const auto weights = castnet::io::read_safetensors(path("out/weights.safetensors"));
  const std::string epoch = weights.metadata.at("epoch");
  CHECK(std::stoi(epoch) >= 1);
  CHECK(r.err.find("at epoch " + std::to_string(std::stoi(epoch) + 1) + " batch ") !=
        std::string::npos);
  CHECK(r.err.find("; the last good checkpoint is " + path("out/checkpoint.safetensors") + " (epoch " +
                   epoch + ", intact; continue with --resume)") != std::string::npos);
  for (const float v : weights.tensors[0].values) CHECK(std::isfinite(v));
  CHECK(read_metrics(path("out/metrics.csv")).size() == std::stoul(epoch) + 1);
}

TEST_CASE_METHOD(Fixture, "runner: divergence in the first epoch says no checkpoint was written",
                 "[runner]") {
  const std::string data = write("data.csv", regression_csv());
  const Result r = run<TinyModel>({"train", "--data", data, "--labels", "y", "--out", path("out"),
                                   "--lr", "1e8"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.starts_with("error: loss is "));
  CHECK(r.err.find("at epoch 1 batch ") != std::string::npos);
  CHECK(r.err.find("; no checkpoint was written") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path("out/weights.safetensors")));
}

// Text with its numbers taken out (the skeleton) and the numbers, to compare two outputs to rounding.
struct Numbers {
  std::string skeleton;
  std::vector<double> values;
};
Numbers numbers_of(const std::string& text) {
  Numbers n;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const bool starts = std::isdigit(static_cast<unsigned char>(c)) ||
                        ((c == '-' || c == '.') && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])));
    if (!starts) {
      n.skeleton += c;
      ++i;
      continue;
    }
    std::size_t used = 0;
    n.values.push_back(std::stod(text.substr(i), &used));
    n.skeleton += '#';
    i += used;
  }
  return n;
}

// A runner reaches the verbs through its model's ModelView (the verbs compiled once, into
// libcastnet_runtime); they must do what the verbs compiled for the model itself do. To rounding,
// not bit for bit: the two are separate compilations of the optimizer's loops, and where GCC fuses
// a * b + c into an FMA (its default) depends on how each was inlined (it differs under the
// sanitizers).
TEST_CASE_METHOD(Fixture, "runner: through its ModelView a model trains, evaluates and predicts as compiled for itself",
                 "[runner]") {
  using castnet::test::Path;
  const std::string data =
      write("data.csv", grid_csv([](double x1, double x2) { return x1 > x2 ? 1 : 0; }));
  for (const char* optimizer : {"adam", "lbfgs"}) {
    INFO(optimizer);
    struct Run {
      std::vector<castnet::io::TensorData> weights, checkpoint;  // the checkpoint adds the optimizer's state
      Numbers eval, predicted;
    };
    std::vector<Run> runs;
    for (const Path p : {Path::view, Path::direct}) {
      const std::string out = path(std::string(optimizer) + (p == Path::view ? "-view" : "-direct"));
      // Two threads share each batch (the gradients are summed); a tenth is held out, so the 27
      // training rows end in a partial batch; early stopping keeps the best weights.
      const Result t = castnet::test::run_runner<Classifier>(
          {"train", "--data", data, "--labels", "y", "--out", out, "--epochs", "12", "--optimizer", optimizer,
           "--lr", "0.1", "--threads", "2", "--validation", "0.1", "--early-stopping", "5", "--seed", "3"},
          p);
      INFO(t.err);
      REQUIRE(t.exit_code == 0);
      const Result e = castnet::test::run_runner<Classifier>(
          {"eval", "--weights", out + "/weights.safetensors", "--data", data, "--labels", "y"}, p);
      const Result pr = castnet::test::run_runner<Classifier>(
          {"predict", "--weights", out + "/weights.safetensors", "--input", data, "--labels", "y"}, p);
      REQUIRE(e.exit_code == 0);
      REQUIRE(pr.exit_code == 0);
      runs.push_back({castnet::io::read_safetensors(out + "/weights.safetensors").tensors,
                      castnet::io::read_safetensors(out + "/checkpoint.safetensors").tensors, numbers_of(e.out),
                      numbers_of(pr.out)});
    }
    const auto same_tensors = [](const std::vector<castnet::io::TensorData>& a,
                                 const std::vector<castnet::io::TensorData>& b) {
      REQUIRE(a.size() == b.size());
      // Against the file's largest value: a tensor near zero (the biases of this symmetric problem)
      // has no scale of its own.
      float largest = 0;
      for (const auto& t : a)
        for (const float v : t.values) largest = std::max(largest, std::abs(v));
      for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].name);
        CHECK(a[i].name == b[i].name);
        REQUIRE(a[i].values.size() == b[i].values.size());
        for (std::size_t j = 0; j < a[i].values.size(); ++j)
          CHECK(std::abs(a[i].values[j] - b[i].values[j]) <= 1e-5f * largest);
      }
    };
    same_tensors(runs[0].weights, runs[1].weights);
    same_tensors(runs[0].checkpoint, runs[1].checkpoint);
    for (const auto& [view, direct] : {std::pair(runs[0].eval, runs[1].eval), std::pair(runs[0].predicted, runs[1].predicted)}) {
      CHECK(view.skeleton == direct.skeleton);
      REQUIRE(view.values.size() == direct.values.size());
      for (std::size_t j = 0; j < view.values.size(); ++j) CHECK(view.values[j] == Approx(direct.values[j]).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEST_CASE_METHOD(Fixture, "runner: a softmax classifier reports accuracy and predicts probabilities",
                 "[runner]") {
  const std::string data =
      write("data.csv", grid_csv([](double x1, double x2) { return x1 > x2 ? 1 : 0; }));
  const Result t = run<Classifier>({"train", "--data", data, "--labels", "y", "--out",
                                    path("out"), "--epochs", "100", "--lr", "0.5"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  CHECK(lines_of(t.out).end()[-3].find("accuracy ") != std::string::npos);  // the last epoch, before "wrote ..."
  const auto metrics = castnet::MetricsLog::parse(castnet::test::read_file(path("out/metrics.csv")));
  CHECK(metrics.epochs().at(99).accuracy.value() >= 0.9);

  const Result e = run<Classifier>(
      {"eval", "--weights", path("out/weights.safetensors"), "--data", data, "--labels", "y"});
  REQUIRE(e.exit_code == 0);
  const auto eval_lines = lines_of(e.out);
  // loss, accuracy, the confusion matrix's title, header and 2 rows, then precision, recall and F1:
  // a header, 2 classes and their macro averages
  REQUIRE(eval_lines.size() == 10);
  CHECK(eval_lines[6] == " class precision    recall        F1   support");
  CHECK(eval_lines[9].starts_with(" macro"));
  CHECK(eval_lines[1].starts_with("accuracy "));
  CHECK(eval_lines[1].find("/30), error ") != std::string::npos);
  CHECK(eval_lines[2].starts_with("confusion matrix"));

  const Result p = run<Classifier>(
      {"predict", "--weights", path("out/weights.safetensors"), "--input", data, "--labels", "y"});
  REQUIRE(p.exit_code == 0);
  const auto lines = lines_of(p.out);
  REQUIRE(lines.size() == 31);
  CHECK(lines[0] == "p0,p1,class");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::istringstream row(lines[i]);
    double p0 = 0, p1 = 0;
    int cls = -1;
    char comma = 0;
    row >> p0 >> comma >> p1 >> comma >> cls;
    CHECK(p0 + p1 == Approx(1.0).margin(1e-6));
    CHECK(cls == (p1 > p0 ? 1 : 0));
  }
}

TEST_CASE_METHOD(Fixture, "runner: a binary classifier predicts sigmoid probabilities", "[runner]") {
  const std::string data =
      write("data.csv", grid_csv([](double x1, double x2) { return x1 + x2 > 0 ? 1 : 0; }));
  const Result t = run<Binary>({"train", "--data", data, "--labels", "y", "--out", path("out"),
                                "--epochs", "50", "--lr", "1"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const Result e = run<Binary>(
      {"eval", "--weights", path("out/weights.safetensors"), "--data", data, "--labels", "y"});
  REQUIRE(e.exit_code == 0);
  CHECK(lines_of(e.out).at(1).starts_with("accuracy "));
  const Result p = run<Binary>(
      {"predict", "--weights", path("out/weights.safetensors"), "--input", data, "--labels", "y"});
  REQUIRE(p.exit_code == 0);
  const auto lines = lines_of(p.out);
  REQUIRE(lines.size() == 31);
  CHECK(lines[0] == "p0");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const double v = std::stod(lines[i]);
    CHECK(v >= 0.0);
    CHECK(v <= 1.0);
  }
  CHECK(std::stod(lines[1]) < 0.5);   // (-1, -1): class 0
  CHECK(std::stod(lines[30]) > 0.5);  // (1, 1): class 1
}

TEST_CASE_METHOD(Fixture, "runner: usage errors exit with 2 and print the usage", "[runner]") {
  const std::string data = write("data.csv", regression_csv());
  const auto check_usage = [](const Result& r, const std::string& message) {
    CHECK(r.exit_code == 2);
    CHECK(r.err.starts_with("error: " + message + "\n"));
    CHECK(r.err.find("usage: runner train") != std::string::npos);
    CHECK(r.out.empty());
  };
  check_usage(run<TinyModel>({}), "missing verb (train, eval, predict, landscape)");
  check_usage(run<TinyModel>({"fit"}), "unknown verb 'fit' (train, eval, predict, landscape)");
  check_usage(run<TinyModel>({"train", "--data", data, "--labels", "y"}), "train needs --out");
  check_usage(run<TinyModel>({"train", "--data", data, "--labels", "y", "--out", path("o"),
                              "--bogus", "1"}),
              "unknown option '--bogus'");
  check_usage(run<TinyModel>({"eval", "--weights", "w", "--data", data, "--labels", "y",
                              "--epochs", "3"}),
              "--epochs does not apply to eval");
  check_usage(run<TinyModel>({"train", "--data", data, "--labels", "y", "--out", path("o"),
                              "--epochs", "ten"}),
              "--epochs: 'ten' is not a positive integer");
  check_usage(run<TinyModel>({"train", "--data", data, "--labels", "y", "--out", path("o"),
                              "--lr", "-1"}),
              "--lr: '-1' is not a number > 0");
  check_usage(run<TinyModel>({"train", "--data", data, "--labels", "y", "--out", path("o"),
                              "--save-every", "-1"}),
              "--save-every: '-1' is not a number >= 0");
  check_usage(run<TinyModel>({"train", "--data", data, "--labels", "y,", "--out", path("o")}),
              "--labels: 'y,' is not a comma-separated list of column names");
  check_usage(run<TinyModel>({"train", "--data", data, "--data", data}), "--data given twice");
  check_usage(run<TinyModel>({"predict", "--weights"}), "--weights needs a value");
  check_usage(run<TinyModel>({"train", "--optimizer", "adams"}),
              "--optimizer: 'adams' is not one of sgd, momentum, nesterov, rmsprop, adam, adamw, lbfgs");
  check_usage(run<TinyModel>({"train", "--validation", "0.95"}), "--validation: '0.95' is not a number in [0, 0.9]");
  CHECK_FALSE(std::filesystem::exists(path("o")));

  const Result help = run<TinyModel>({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.starts_with("usage: runner train"));
}

TEST_CASE_METHOD(Fixture, "runner: user errors exit with 1 and name the file", "[runner]") {
  SECTION("a cell that is not a number") {
    const std::string bad = write("bad.csv", "x1,x2,y\n1,2,3\n4,abc,6\n");
    const Result r = run<TinyModel>({"train", "--data", bad, "--labels", "y", "--out", path("o")});
    CHECK(r.exit_code == 1);
    CHECK(r.err.starts_with(bad + ":3:3: error: "));
  }
  SECTION("a file with the wrong number of input columns") {
    const std::string bad = write("bad.csv", "x1,x2,x3,y\n1,2,3,4\n");
    const Result r = run<TinyModel>({"train", "--data", bad, "--labels", "y", "--out", path("o")});
    CHECK(r.exit_code == 1);
    CHECK(r.err == bad + ": error: 3 input columns, the spec's input needs 2 (labels: y)\n");
  }
  SECTION("a missing data file") {
    const Result r = run<TinyModel>(
        {"train", "--data", path("nope.csv"), "--labels", "y", "--out", path("o")});
    CHECK(r.exit_code == 1);
    CHECK(r.err.starts_with(path("nope.csv") + ": error: "));
  }
  SECTION("weights of another model name the tensor") {
    const std::string data = write("data.csv", regression_csv());
    castnet::io::write_safetensors(path("other.safetensors"),
                                   {{"fc.weight", {2, 2}, {1, 2, 3, 4}}, {"fc.bias", {1}, {0}}});
    const Result r = run<TinyModel>(
        {"eval", "--weights", path("other.safetensors"), "--data", data, "--labels", "y"});
    CHECK(r.exit_code == 1);
    CHECK(r.err == path("other.safetensors") +
                       ": error: tensor 'fc.weight' has shape [2, 2], the spec needs [1, 2]\n");
  }
}

TEST_CASE("trainer: shuffles are seeded permutations that change every epoch", "[trainer]") {
  std::vector<std::size_t> a(100), b(100), c(100);
  const auto shuffled = [](std::vector<std::size_t>& v, std::uint64_t seed, std::size_t epoch) {
    std::iota(v.begin(), v.end(), std::size_t{0});
    castnet::shuffle_rows(v, seed, epoch);
  };
  shuffled(a, 3, 1);
  shuffled(b, 3, 1);
  shuffled(c, 3, 2);
  CHECK(a == b);
  CHECK(a != c);
  std::vector<std::size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(100);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  CHECK(sorted == identity);
  CHECK(a != identity);
}

TEST_CASE("trainer: an epoch is the hand-written loop over batches, partial last batch included",
          "[trainer]") {
  using M = castnet_test::LinearModel<2, 1, Loss::mse, castnet::Init::glorot_uniform, double>;
  castnet::test::TempDir dir;
  castnet::Dataset<double> data;
  data.rows = 7;  // batches of 4 and 3
  data.inputs = 2;
  data.targets = 1;
  for (std::size_t i = 0; i < data.rows; ++i) {
    data.x.push_back(0.1 * static_cast<double>(i));
    data.x.push_back(1.0 - 0.2 * static_cast<double>(i));
    data.t.push_back(static_cast<double>(i % 3));
  }
  castnet::OptimizerConfig sgd;
  sgd.kind = castnet::OptimizerConfig::Kind::sgd;
  sgd.lr = 0.3;

  auto trained = std::make_unique<M::Params>();
  castnet::init_params<M>(*trained, 1);
  auto expected = std::make_unique<M::Params>(*trained);
  std::ostringstream progress;
  castnet::TrainConfig config;
  config.epochs = 1;
  config.seed = 5;
  config.optimizer = sgd;
  castnet::TrainOutput out;
  out.dir = dir.path();
  castnet::train<M>(*trained, data, nullptr, config, out, progress);

  std::vector<std::size_t> order(data.rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  castnet::shuffle_rows(order, 5, 1);
  auto ws = std::make_unique<M::Workspace>();
  auto grads = std::make_unique<M::Grads>();
  castnet::Optimizer<M> optimizer(sgd);
  double loss_sum = 0;
  for (std::size_t first = 0; first < data.rows; first += M::kBatch) {
    const std::size_t n = std::min(M::kBatch, data.rows - first);
    std::array<double, M::kBatch * 2> x{};
    std::array<double, M::kBatch> t{};
    for (std::size_t i = 0; i < n; ++i) {
      x[2 * i] = data.x[2 * order[first + i]];
      x[2 * i + 1] = data.x[2 * order[first + i] + 1];
      t[i] = data.t[order[first + i]];
    }
    loss_sum += M::train_step(*expected, *ws, x.data(), t.data(), *grads, n) * static_cast<double>(n);
    optimizer.step(*expected, *grads, 0.3);
  }
  CHECK(trained->weight == expected->weight);
  CHECK(trained->bias == expected->bias);
  CHECK(std::stod(read_metrics(dir.path() / "metrics.csv").at(1).at(1)) ==
        Approx(loss_sum / 7).epsilon(1e-12));
  CHECK(progress.str().starts_with("epoch 1/1  loss "));
}
