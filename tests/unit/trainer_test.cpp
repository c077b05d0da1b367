// The trainer's features, in process on hand-written linear models (tests/support/tiny_model.hpp),
// mostly through run_model<M> driven by argv as the CLI's runner is: checkpoints and --resume
// (bit for bit, and refused when the data, workers, settings or model differ), the NaN guard, early stopping,
// the validation split, input normalisation, IDX data, autoencoders, input noise, L-BFGS,
// learning-rate schedules, and the runner options that carry every training setting.
#include <castnet/data/data.hpp>
#include <castnet/error.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/io/sha256.hpp>
#include <castnet/data/normalize.hpp>
#include <castnet/train/run_options.hpp>
#include <castnet/train/init.hpp>
#include <castnet/train/runner.hpp>
#include <castnet/train/trainer.hpp>

#include <catch2/catch.hpp>
#include <support/process.hpp>
#include <support/runner_harness.hpp>
#include <support/tiny_model.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using castnet::Loss;
using castnet::test::lines_of;
using castnet::test::read_file;
using castnet::test::read_metrics;
using castnet::test::Result;
using castnet_test::TinyModel;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using Classifier = castnet_test::LinearModel<2, 2, Loss::softmax_cross_entropy>;
using DoubleModel = castnet_test::LinearModel<2, 1, Loss::mse, castnet::Init::glorot_uniform, double>;
using Autoencoder = castnet_test::LinearModel<4, 4, Loss::mse>;

// TinyModel under another name and spec hash: its checkpoints are not TinyModel's.
struct OtherModel : TinyModel {
  static constexpr std::string_view kName = "other_linear";
  static constexpr std::string_view kSpecSha256 =
      "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
};

// TinyModel whose train_step first records the bytes of the file `watched` (when it exists): what
// the checkpoint held when the step began.
struct WatchingModel : TinyModel {
  static inline fs::path watched;
  static inline std::string seen;
  static real train_step(const Params& p, Workspace& ws, const real* x, const real* t, Grads& g, std::size_t n,
                         std::uint64_t key = 0, std::size_t first_row = 0) {
    if (!watched.empty() && fs::exists(watched)) seen = read_file(watched);
    return TinyModel::train_step(p, ws, x, t, g, n, key, first_row);
  }
};

static_assert(castnet::GeneratedModel<OtherModel>);
static_assert(castnet::GeneratedModel<WatchingModel>);

template <class M = TinyModel>
Result run(std::vector<std::string> args) {
  return castnet::test::run_runner<M>(std::move(args));
}

using castnet::test::grid_csv;
using castnet::test::regression_csv;

double number(const std::string& text) {
  double v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  REQUIRE(r.ec == std::errc{});
  REQUIRE(r.ptr == text.data() + text.size());
  return v;
}

// The first number after `key` in `text` ("loss 0.25" -> 0.25).
double number_after(const std::string& text, const std::string& key) {
  const auto at = text.find(key);
  REQUIRE(at != std::string::npos);
  return std::stod(text.substr(at + key.size()));
}

// metrics.csv without the timing columns (samples_per_s, seconds), which differ from run to run.
std::vector<std::vector<std::string>> metrics_without_timing(const fs::path& path) {
  auto rows = read_metrics(path);
  for (auto& row : rows) {
    REQUIRE(row.size() == 8);
    row.resize(6);
  }
  return rows;
}

// Every tensor of a safetensors file, exact (F64 tensors through their doubles).
struct Tensor {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float> values;
  std::vector<double> f64;
  bool operator==(const Tensor&) const = default;
};
std::vector<Tensor> tensors_of(const fs::path& path) {
  std::vector<Tensor> out;
  for (const auto& t : castnet::io::read_safetensors(path).tensors) out.push_back({t.name, t.shape, t.values, t.f64});
  return out;
}

// A checkpoint's metadata with its metrics' timing columns removed.
std::map<std::string, std::string> checkpoint_meta_without_timing(const fs::path& path) {
  auto meta = castnet::io::read_safetensors(path).metadata;
  std::string metrics;
  for (const std::string& line : lines_of(meta.at("metrics"))) {
    std::size_t cut = line.size();
    for (int k = 0; k < 2; ++k) cut = line.rfind(',', cut - 1);
    metrics += line.substr(0, cut) + '\n';
  }
  meta["metrics"] = metrics;
  return meta;
}

struct Fixture {
  castnet::test::TempDir dir;
  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    castnet::test::write_file(path(name), text);
    return path(name);
  }
};

// The header of an IDX file: magic 00 00 <type> <ndims>, then each dimension big-endian.
std::string idx_header(unsigned char type, const std::vector<std::uint32_t>& dims) {
  std::string h{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xff);
  return h;
}

castnet::Dataset<float> grid_dataset(double slope) {
  castnet::Dataset<float> d;
  d.inputs = 2;
  d.targets = 1;
  for (int i = 0; i < 30; ++i) {
    const float x1 = static_cast<float>(-1.0 + 0.4 * (i % 6)), x2 = static_cast<float>(-1.0 + 0.5 * (i / 6));
    d.x.insert(d.x.end(), {x1, x2});
    d.t.push_back(static_cast<float>(slope) * x1);
  }
  d.rows = 30;
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Resume

TEST_CASE_METHOD(Fixture, "trainer: a run stopped after K epochs and resumed ends bit-identical to an uninterrupted one",
                 "[trainer][resume]") {
  const std::string data = write("data.csv", regression_csv());
  for (const std::string optimizer : {"momentum", "adam"}) {
    for (const std::string save_every : {"1", "0"}) {
      INFO("optimizer " << optimizer << ", --save-every " << save_every);
      const std::string tag = optimizer + save_every;
      // Shuffled, with input noise, a step schedule, L2, clipping and a validation split watched
      // by early stopping (patience beyond the run): every piece of state a resume must restore.
      const auto train = [&](const std::string& out, const std::string& epochs, bool resume) {
        std::vector<std::string> args = {
            "train",        "--data",    data,  "--labels",    "y",   "--out",        path(out),
            "--epochs",     epochs,      "--optimizer",        optimizer, "--lr",     "0.05",
            "--seed",       "9",         "--shuffle", "1",     "--schedule", "step",  "--step-size", "4",
            "--gamma",      "0.5",       "--l2", "0.001",      "--clip-norm", "5",    "--input-noise", "0.05",
            "--validation", "0.2",       "--early-stopping", "50", "--save-every", save_every};
        if (resume) args.insert(args.end(), {"--resume", "1"});
        return run(args);
      };
      const Result whole = train("whole" + tag, "12", false);
      INFO(whole.err);
      REQUIRE(whole.exit_code == 0);
      const Result first = train("parts" + tag, "5", false);
      REQUIRE(first.exit_code == 0);
      const fs::path checkpoint = path("parts" + tag + "/checkpoint.safetensors");
      CHECK(castnet::io::read_safetensors(checkpoint).metadata.at("epoch") == "5");

      const Result rest = train("parts" + tag, "12", true);
      INFO(rest.err);
      REQUIRE(rest.exit_code == 0);
      const auto lines = lines_of(rest.out);
      REQUIRE(lines.size() == 2 + 7 + 2);  // training..., resuming..., epochs 6..12, wrote...
      CHECK(lines[0] == "training tiny_linear on 24 rows, validating on 6");
      CHECK(lines[1] == "resuming " + checkpoint.string() + " after epoch 5");
      CHECK_THAT(lines[2], StartsWith("epoch  6/12  loss "));

      CHECK(read_file(path("parts" + tag + "/weights.safetensors")) == read_file(path("whole" + tag + "/weights.safetensors")));
      const auto parts = tensors_of(checkpoint), whole_tensors = tensors_of(path("whole" + tag + "/checkpoint.safetensors"));
      CHECK(parts == whole_tensors);
      CHECK(checkpoint_meta_without_timing(checkpoint) ==
            checkpoint_meta_without_timing(path("whole" + tag + "/checkpoint.safetensors")));
      CHECK(metrics_without_timing(path("parts" + tag + "/metrics.csv")) ==
            metrics_without_timing(path("whole" + tag + "/metrics.csv")));
      // The optimizer's state is in the checkpoint, and it is not trivial.
      std::set<std::string> names;
      for (const Tensor& t : parts) {
        names.insert(t.name);
        if (t.name.starts_with("velocity/") || t.name.starts_with("adam_")) {
          CHECK(std::any_of(t.values.begin(), t.values.end(), [](float v) { return v != 0; }));
        }
      }
      const std::set<std::string> expected =
          optimizer == "adam"
              ? std::set<std::string>{"params/fc.weight", "params/fc.bias", "adam_m/fc.weight", "adam_m/fc.bias",
                                      "adam_v/fc.weight", "adam_v/fc.bias", "best/fc.weight", "best/fc.bias"}
              : std::set<std::string>{"params/fc.weight", "params/fc.bias", "velocity/fc.weight",
                                      "velocity/fc.bias", "best/fc.weight", "best/fc.bias"};
      CHECK(names == expected);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 3. The NaN guard

TEST_CASE_METHOD(Fixture, "trainer: a diverging run exits 1 naming epoch, batch and checkpoint, which it leaves untouched",
                 "[trainer][resume]") {
  const std::string data = write("data.csv", regression_csv());
  const fs::path checkpoint = path("out/checkpoint.safetensors");
  WatchingModel::watched = checkpoint;
  WatchingModel::seen.clear();
  const std::vector<std::string> args = {"train", "--data", data, "--labels", "y", "--out", path("out"),
                                         "--epochs", "100", "--lr", "4", "--shuffle", "0", "--save-every", "0",
                                         "--optimizer", "momentum"};
  const Result r = run<WatchingModel>(args);
  const std::string at_failure = WatchingModel::seen;  // the checkpoint when the diverging step began
  WatchingModel::watched.clear();
  INFO(r.err);
  REQUIRE(r.exit_code == 1);
  REQUIRE_THAT(r.err, StartsWith("error: loss is "));

  const auto file = castnet::io::read_safetensors(checkpoint);  // loadable
  const std::string epoch = file.metadata.at("epoch");
  REQUIRE(std::stoi(epoch) >= 1);
  CHECK_THAT(r.err, Contains("at epoch " + std::to_string(std::stoi(epoch) + 1) + " batch "));
  CHECK_THAT(r.err, Contains("; the last good checkpoint is " + checkpoint.string() + " (epoch " + epoch +
                             ", intact; continue with --resume)"));
  // Byte for byte what the last good save wrote.
  CHECK(!at_failure.empty());
  CHECK(read_file(checkpoint) == at_failure);
  for (const auto& t : file.tensors)
    for (const float v : t.values) CHECK(std::isfinite(v));

  // The weights beside it evaluate.
  const Result e = run({"eval", "--weights", path("out/weights.safetensors"), "--data", data, "--labels", "y"});
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  CHECK(std::isfinite(number_after(e.out, "loss ")));

  // Resuming with the same settings loads it and diverges at the same place, leaving it as it was.
  std::vector<std::string> again = args;
  again.insert(again.end(), {"--resume", "1"});
  const Result r2 = run(again);
  REQUIRE(r2.exit_code == 1);
  CHECK_THAT(r2.out, Contains("resuming " + checkpoint.string() + " after epoch " + epoch));
  CHECK(r2.err == r.err);
  CHECK(read_file(checkpoint) == at_failure);
}

// ---------------------------------------------------------------------------------------------
// 4. Resume refuses what it cannot continue

TEST_CASE_METHOD(Fixture, "trainer: --resume refuses other settings and another model's checkpoint",
                 "[trainer][resume]") {
  const std::string data = write("data.csv", regression_csv());
  const std::vector<std::string> base = {"train", "--data", data, "--labels", "y", "--out", path("out"),
                                         "--optimizer", "momentum"};
  const auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> a = base;
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  REQUIRE(run(with({"--epochs", "2", "--lr", "0.1"})).exit_code == 0);
  const fs::path checkpoint = path("out/checkpoint.safetensors");
  const std::string saved = read_file(checkpoint), weights = read_file(path("out/weights.safetensors"));

  // One line per difference, the checkpoint's value then the new one, and nothing else.
  const auto refused = [&](const Result& r, const std::string& lines, const fs::path& file = {}) {
    CHECK(r.exit_code == 1);
    CHECK(r.err == (file.empty() ? checkpoint : file).string() + ": error: --resume: the checkpoint was trained with other settings (then, and "
                                         "now):\n" + lines +
                       "resume with the same data, workers and settings (only --epochs may change, but for a cosine "
                       "schedule), or train into another --out directory\n");
  };
  SECTION("another learning rate") {
    refused(run(with({"--epochs", "4", "--lr", "0.2", "--resume", "1"})), "  lr: 0.1 now 0.2\n");
  }
  SECTION("another seed and another optimizer setting") {
    refused(run(with({"--epochs", "4", "--lr", "0.1", "--seed", "43", "--momentum", "0.8", "--resume", "1"})),
            "  seed: 42 now 43\n  momentum: 0.9 now 0.8\n");
  }
  SECTION("another normalisation") {
    refused(run(with({"--epochs", "4", "--lr", "0.1", "--normalize", "scale", "--resume", "1"})),
            "  normalize: none now scale\n");
  }
  SECTION("another thread count") {
    refused(run(with({"--epochs", "4", "--lr", "0.1", "--threads", "2", "--resume", "1"})), "  threads: 1 now 2\n");
  }
  SECTION("another data file, named by path, size and SHA-256") {
    const std::string other = write("other.csv", grid_csv([](double x1, double x2) { return x1 + x2; }));
    std::vector<std::string> a = with({"--epochs", "4", "--lr", "0.1", "--resume", "1"});
    a[std::find(a.begin(), a.end(), data) - a.begin()] = other;
    const auto described = [](const std::string& file) {
      return file + " (" + std::to_string(fs::file_size(file)) + " bytes, sha256 " + castnet::io::sha256_hex(read_file(file)) + ")";
    };
    refused(run(a), "  data train: " + described(data) + " now " + described(other) + "\n");
  }
  SECTION("the same bytes under another name resume") {
    const std::string moved = path("moved.csv");
    fs::copy_file(data, moved);
    std::vector<std::string> a = with({"--epochs", "3", "--lr", "0.1", "--resume", "1"});
    a[std::find(a.begin(), a.end(), data) - a.begin()] = moved;
    const Result r = run(a);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("after epoch 2"));
    return;
  }
  SECTION("more epochs resume, but not under a cosine schedule, whose period they are") {
    const auto cosine = [&](const std::string& out, const std::string& epochs) {
      std::vector<std::string> a = with({"--epochs", epochs, "--lr", "0.1", "--schedule", "cosine", "--resume", "1"});
      a[std::find(a.begin(), a.end(), path("out")) - a.begin()] = path(out);
      return run(a);
    };
    REQUIRE(cosine("cos", "2").exit_code == 0);
    refused(cosine("cos", "4"), "  epochs (the cosine schedule's period): 2 now 4\n", path("cos/checkpoint.safetensors"));
  }
  SECTION("a checkpoint of another model") {
    const Result r = run<OtherModel>(with({"--epochs", "4", "--lr", "0.1", "--resume", "1"}));
    CHECK(r.exit_code == 1);
    CHECK(r.err == checkpoint.string() +
                       ": error: this checkpoint is of model 'tiny_linear' (spec sha256 0123456789ab...), not of this "
                       "spec ('other_linear', fedcba987654...): train into another --out directory\n");
  }
  SECTION("a weights file where the checkpoint should be") {
    fs::copy_file(path("out/weights.safetensors"), checkpoint, fs::copy_options::overwrite_existing);
    const Result r = run(with({"--epochs", "4", "--lr", "0.1", "--resume", "1"}));
    CHECK(r.exit_code == 1);
    CHECK(r.err == checkpoint.string() + ": error: not a castnet checkpoint\n");
    return;
  }
  // Nothing was written over.
  CHECK(read_file(checkpoint) == saved);
  CHECK(read_file(path("out/weights.safetensors")) == weights);
}

// ---------------------------------------------------------------------------------------------
// 5. Early stopping

TEST_CASE("trainer: early stopping ends the run and keeps the best epoch's weights", "[trainer]") {
  castnet::test::TempDir dir;
  // The training targets are 4 x1, the validation targets 2 x1: as the weight of x1 climbs from its
  // initial value (below 1.5) towards 4, the validation loss falls until it passes 2, then rises.
  const castnet::Dataset<float> train = grid_dataset(4.0), validation = grid_dataset(2.0);
  castnet::TrainConfig config;
  config.epochs = 200;
  config.seed = 3;
  config.early_stopping = 3;
  config.optimizer.kind = castnet::OptimizerConfig::Kind::sgd;
  config.optimizer.lr = 0.02;
  castnet::TrainOutput out;
  out.dir = dir.path();
  auto params = std::make_unique<TinyModel::Params>();
  castnet::init_params<TinyModel>(*params, config.seed);
  REQUIRE(params->weight[0] < 1.5f);
  std::ostringstream log;
  const castnet::TrainResult result = castnet::train<TinyModel>(*params, train, &validation, config, out, log);
  INFO(log.str());

  CHECK(result.stopped_early);
  REQUIRE(result.best_epoch >= 2);
  CHECK(result.epochs == result.best_epoch + 3);
  CHECK(result.epochs < 200);
  CHECK_THAT(log.str(), Contains("early stopping: the validation loss has not improved for 3 epochs; keeping the weights of epoch " +
                                 std::to_string(result.best_epoch) + "\n"));

  // metrics.csv: every epoch run, the best one with the lowest validation loss.
  const auto metrics = castnet::MetricsLog::parse(read_file(castnet::metrics_file(dir.path()))).epochs();
  REQUIRE(metrics.size() == result.epochs);
  const auto best = std::min_element(metrics.begin(), metrics.end(),
                                     [](const auto& a, const auto& b) { return *a.val_loss < *b.val_loss; });
  CHECK(best->epoch == result.best_epoch);
  CHECK(*metrics.back().val_loss > *best->val_loss);

  // weights.safetensors holds that epoch's weights: the same validation loss, to the bit.
  auto loaded = std::make_unique<TinyModel::Params>();
  const auto meta = castnet::load_weights<TinyModel>(castnet::weights_file(dir.path()), *loaded);
  CHECK(meta.at("epoch") == std::to_string(result.best_epoch));
  CHECK(castnet::evaluate<TinyModel>(*loaded, validation).loss == *best->val_loss);
  CHECK(loaded->weight == params->weight);
  CHECK(loaded->bias == params->bias);
}

// ---------------------------------------------------------------------------------------------
// 6. The validation split

TEST_CASE("trainer: split_validation holds out round(rows * fraction) rows by the seed, in file order",
          "[trainer]") {
  const auto make = [](std::size_t rows) {
    castnet::Dataset<double> d;
    d.rows = rows;
    d.inputs = 2;
    d.targets = 1;
    for (std::size_t r = 0; r < rows; ++r) {
      d.x.insert(d.x.end(), {static_cast<double>(r), -static_cast<double>(r)});
      d.t.push_back(1000.0 + static_cast<double>(r));
    }
    return d;
  };
  // The row indices of a part, checking that its inputs and targets stayed together.
  const auto rows_of = [](const castnet::Dataset<double>& part) {
    std::vector<std::size_t> rows;
    REQUIRE(part.inputs == 2);
    REQUIRE(part.targets == 1);
    REQUIRE(part.x.size() == 2 * part.rows);
    REQUIRE(part.t.size() == part.rows);
    for (std::size_t i = 0; i < part.rows; ++i) {
      CHECK(part.x[2 * i + 1] == -part.x[2 * i]);
      CHECK(part.t[i] == 1000.0 + part.x[2 * i]);
      rows.push_back(static_cast<std::size_t>(part.x[2 * i]));
    }
    return rows;
  };
  struct Case {
    std::size_t rows;
    double fraction;
    std::size_t held;
  };
  for (const Case c : {Case{100, 0.1, 10}, Case{25, 0.1, 3}, Case{7, 0.5, 4}, Case{30, 0.2, 6}, Case{3, 0.2, 1}}) {
    INFO(c.rows << " rows, fraction " << c.fraction);
    const auto all = make(c.rows);
    const auto [train, validation] = castnet::split_validation(all, c.fraction, 7, "d.csv");
    CHECK(validation.rows == c.held);
    CHECK(train.rows == c.rows - c.held);
    const auto t = rows_of(train), v = rows_of(validation);
    CHECK(std::is_sorted(t.begin(), t.end()));
    CHECK(std::is_sorted(v.begin(), v.end()));
    std::vector<std::size_t> both = t;
    both.insert(both.end(), v.begin(), v.end());
    std::sort(both.begin(), both.end());
    std::vector<std::size_t> every(c.rows);
    std::iota(every.begin(), every.end(), std::size_t{0});
    CHECK(both == every);  // disjoint, and together all of them

    const auto [train2, validation2] = castnet::split_validation(all, c.fraction, 7, "d.csv");
    CHECK(rows_of(validation2) == v);
    CHECK(train2.x == train.x);
  }
  // Another seed holds out other rows (for 100 rows and 10 held out, surely).
  const auto all = make(100);
  CHECK(rows_of(castnet::split_validation(all, 0.1, 7, "d.csv").second) !=
        rows_of(castnet::split_validation(all, 0.1, 8, "d.csv").second));
  // Not the first rows, nor the last.
  const auto v = rows_of(castnet::split_validation(all, 0.1, 7, "d.csv").second);
  CHECK(v.back() - v.front() > 10);

  SECTION("a split that leaves a part empty is an error naming the file") {
    CHECK_THROWS_WITH(castnet::split_validation(make(4), 0.1, 7, "d.csv"),
                      StartsWith("d.csv: error: validation = ") && Contains("leaves no validation rows"));
    CHECK_THROWS_WITH(castnet::split_validation(make(1), 0.9, 7, "d.csv"),
                      StartsWith("d.csv: error: validation = ") && Contains("leaves no training rows"));
  }
}

TEST_CASE("trainer: take_subset keeps n rows of a seeded shuffle, in file order", "[trainer][data]") {
  castnet::Dataset<double> all;
  all.rows = 1000;
  all.inputs = 1;
  all.targets = 1;
  for (std::size_t r = 0; r < all.rows; ++r) {
    all.x.push_back(static_cast<double>(r));
    all.t.push_back(2.0 * static_cast<double>(r));
  }
  const auto sub = castnet::take_subset(all, 100, 7, "d.csv");
  REQUIRE(sub.rows == 100);
  REQUIRE(sub.x.size() == 100);
  REQUIRE(sub.t.size() == 100);
  for (std::size_t i = 0; i < sub.rows; ++i) CHECK(sub.t[i] == 2.0 * sub.x[i]);  // rows stay whole
  CHECK(std::is_sorted(sub.x.begin(), sub.x.end()));
  CHECK(std::adjacent_find(sub.x.begin(), sub.x.end()) == sub.x.end());  // no row twice
  CHECK(sub.x.back() - sub.x.front() > 500);  // drawn from the whole file, not its first rows
  CHECK(castnet::take_subset(all, 100, 7, "d.csv").x == sub.x);
  CHECK(castnet::take_subset(all, 100, 8, "d.csv").x != sub.x);
  CHECK(castnet::take_subset(all, 0, 7, "d.csv").rows == 1000);     // 0: every row
  CHECK(castnet::take_subset(all, 1000, 7, "d.csv").x == all.x);    // all of them, in file order
  CHECK_THROWS_WITH(castnet::take_subset(all, 1001, 7, "d.csv"),
                    "d.csv: error: [data] subset = 1001 is more than the 1000 rows of the training data");
}

TEST_CASE("trainer: add_label_noise swaps round(rows * p) labels for other classes, by the seed", "[trainer][data]") {
  constexpr std::size_t kClasses = 10;
  castnet::Dataset<float> clean;
  clean.rows = 20000;
  clean.inputs = 1;
  clean.targets = 1;
  for (std::size_t r = 0; r < clean.rows; ++r) {
    clean.x.push_back(static_cast<float>(r));
    clean.t.push_back(static_cast<float>(r % kClasses));
  }
  for (const double p : {0.0, 0.2, 0.5, 1.0}) {
    INFO("p = " << p);
    auto noisy = clean;
    const std::size_t changed = castnet::add_label_noise(noisy, p, kClasses, 11);
    CHECK(changed == static_cast<std::size_t>(std::llround(p * 20000)));
    std::size_t differ = 0;
    std::vector<std::size_t> per_class(kClasses);
    for (std::size_t r = 0; r < clean.rows; ++r) {
      REQUIRE(noisy.t[r] >= 0.0f);
      REQUIRE(noisy.t[r] < static_cast<float>(kClasses));
      REQUIRE(noisy.t[r] == std::floor(noisy.t[r]));
      if (noisy.t[r] != clean.t[r]) {
        ++differ;
        ++per_class[static_cast<std::size_t>(noisy.t[r])];
      }
    }
    CHECK(differ == changed);  // every swapped label is another class
    CHECK(noisy.x == clean.x);
    // The new classes are spread over all classes (each ~changed/10; far from 0 or all).
    if (changed > 0)
      for (const std::size_t n : per_class) CHECK(n > changed / 20);
    auto again = clean;
    castnet::add_label_noise(again, p, kClasses, 11);
    CHECK(again.t == noisy.t);
    if (p > 0 && p < 1) {
      auto other = clean;
      castnet::add_label_noise(other, p, kClasses, 12);
      CHECK(other.t != noisy.t);
    }
  }
}

TEST_CASE_METHOD(Fixture, "trainer: --label-noise needs a classifier; --subset trains on that many rows", "[trainer][data]") {
  const std::string data = write("data.csv", regression_csv());
  Result r = run({"train", "--data", data, "--labels", "y", "--out", path("out"), "--epochs", "1", "--subset", "12"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(lines_of(r.out).at(0) == "training tiny_linear on 12 rows");
  r = run({"train", "--data", data, "--labels", "y", "--out", path("out2"), "--epochs", "1", "--subset", "31"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("error: [data] subset = 31 is more than the 30 rows of the training data"));
  r = run({"train", "--data", data, "--labels", "y", "--out", path("out3"), "--epochs", "1", "--label-noise", "0.1"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("--label-noise swaps class labels: it needs a softmax_cross_entropy classifier"));
}

TEST_CASE_METHOD(Fixture, "trainer: the runner splits by --validation and reports both losses", "[trainer]") {
  const std::string data = write("data.csv", regression_csv());
  const Result r = run({"train", "--data", data, "--labels", "y", "--out", path("out"), "--epochs", "3",
                        "--validation", "0.25", "--seed", "4"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(lines_of(r.out).at(0) == "training tiny_linear on 22 rows, validating on 8");  // round(7.5) = 8
  CHECK_THAT(lines_of(r.out).at(1), Contains("  val_loss "));
  const auto metrics = castnet::MetricsLog::parse(read_file(path("out/metrics.csv"))).epochs();
  REQUIRE(metrics.size() == 3);
  CHECK(metrics[2].val_loss.has_value());
}

// ---------------------------------------------------------------------------------------------
// 7. Normalisation

TEST_CASE_METHOD(Fixture, "trainer: --normalize standardize is fitted on the training rows, saved, and applied by eval and predict",
                 "[trainer][normalize]") {
  // x1 around 1000 with a spread of 10, x2 within 0.01: unusable as they are for plain sgd.
  std::string csv = "x1,x2,y\n";
  std::vector<double> x1s, x2s, ys;
  for (int i = 0; i < 30; ++i) {
    const double x1 = 1000 + 2 * (i % 6), x2 = 0.002 * (i / 6), y = 0.5 * (x1 - 1000) - 300 * x2 + 1;
    x1s.push_back(x1);
    x2s.push_back(x2);
    ys.push_back(y);
    std::ostringstream row;
    row << x1 << ',' << x2 << ',' << y << '\n';
    csv += row.str();
  }
  const std::string data = write("data.csv", csv);
  const Result t = run({"train", "--data", data, "--labels", "y", "--out", path("out"), "--epochs", "150",
                        "--optimizer", "momentum", "--lr", "0.05", "--normalize", "standardize"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);

  // The metadata: per input, the training rows' mean and 1 / (population) standard deviation.
  const auto meta = castnet::io::read_safetensors(path("out/weights.safetensors")).metadata;
  CHECK(meta.at("castnet_normalize") == "standardize");
  const castnet::Normalization norm = castnet::Normalization::from_metadata(meta, 2, "w");
  REQUIRE(norm.kind == castnet::Normalize::standardize);
  REQUIRE(norm.offset.size() == 2);
  REQUIRE(norm.scale.size() == 2);
  const auto check_column = [](const std::vector<double>& xs, double offset, double scale) {
    double mean = 0, sq = 0;
    for (const double x : xs) mean += x / static_cast<double>(xs.size());
    for (const double x : xs) sq += (x - mean) * (x - mean) / static_cast<double>(xs.size());
    CHECK(offset == Approx(mean).epsilon(1e-6));
    CHECK(scale == Approx(1 / std::sqrt(sq)).epsilon(1e-4));
  };
  check_column(x1s, norm.offset[0], norm.scale[0]);
  check_column(x2s, norm.offset[1], norm.scale[1]);

  // eval and predict take raw inputs.
  const Result e = run({"eval", "--weights", path("out/weights.safetensors"), "--data", data, "--labels", "y"});
  REQUIRE(e.exit_code == 0);
  CHECK(number_after(e.out, "loss ") < 1e-4);
  const Result p = run({"predict", "--weights", path("out/weights.safetensors"), "--input", data, "--labels", "y"});
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  const auto lines = lines_of(p.out);
  REQUIRE(lines.size() == 31);
  // What predict prints is the model on the inputs as the trainer saw them, to the bit.
  auto params = std::make_unique<TinyModel::Params>();
  castnet::load_weights<TinyModel>(path("out/weights.safetensors"), *params);
  auto seen = castnet::inputs_from_csv<float>(castnet::io::read_csv(data), {"y"}, 2);
  norm.apply(seen);
  for (std::size_t i = 0; i < 30; ++i) {
    CHECK(number(lines[i + 1]) == Approx(ys[i]).margin(0.02));
    float y = 0;
    TinyModel::forward(*params, seen.x.data() + 2 * i, &y);
    char buf[32];
    CHECK(lines[i + 1] == std::string(buf, std::to_chars(buf, buf + sizeof buf, y).ptr));
  }
}

TEST_CASE_METHOD(Fixture, "trainer: --normalize scale maps the training inputs onto [0, 1] with one offset and scale",
                 "[trainer][normalize]") {
  // Pixel-like inputs 0..200; y = 2 (x1 / 200) - x2 / 200 + 0.5.
  std::string csv = "x1,x2,y\n";
  std::vector<double> ys;
  for (int i = 0; i < 30; ++i) {
    const double x1 = 25 * (i % 6) + 40, x2 = 50 * (i / 6), y = 2 * x1 / 200 - x2 / 200 + 0.5;
    ys.push_back(y);
    std::ostringstream row;
    row << x1 << ',' << x2 << ',' << y << '\n';
    csv += row.str();
  }
  const std::string data = write("data.csv", csv);
  const Result t = run({"train", "--data", data, "--labels", "y", "--out", path("out"), "--epochs", "300",
                        "--optimizer", "momentum", "--lr", "0.1", "--normalize", "scale"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const auto meta = castnet::io::read_safetensors(path("out/weights.safetensors")).metadata;
  CHECK(meta.at("castnet_normalize") == "scale");
  CHECK(meta.at("castnet_normalize_offset") == "0");      // the smallest input
  CHECK(meta.at("castnet_normalize_scale") == "0.005");   // 1 / (200 - 0)
  // In the scaled inputs the target is 2 z1 - z2 + 0.5 exactly: the weights say so.
  const auto w = castnet::io::read_safetensors(path("out/weights.safetensors"));
  CHECK(w.tensors[0].values[0] == Approx(2.0).margin(0.02));
  CHECK(w.tensors[0].values[1] == Approx(-1.0).margin(0.02));
  CHECK(w.tensors[1].values[0] == Approx(0.5).margin(0.02));
  const Result p = run({"predict", "--weights", path("out/weights.safetensors"), "--input", data, "--labels", "y"});
  REQUIRE(p.exit_code == 0);
  const auto lines = lines_of(p.out);
  REQUIRE(lines.size() == 31);
  for (std::size_t i = 0; i < 30; ++i) CHECK(number(lines[i + 1]) == Approx(ys[i]).margin(0.02));
}

TEST_CASE_METHOD(Fixture, "trainer: malformed normalisation metadata is an error naming the weights file",
                 "[trainer][normalize]") {
  using M = std::map<std::string, std::string>;
  const auto good = [] {
    return M{{"castnet_normalize", "standardize"}, {"castnet_normalize_offset", "1,2"}, {"castnet_normalize_scale", "0.5,0.25"}};
  };
  const castnet::Normalization n = castnet::Normalization::from_metadata(good(), 2, "w.safetensors");
  CHECK(n.offset == std::vector<double>{1, 2});
  CHECK(n.scale == std::vector<double>{0.5, 0.25});
  CHECK(castnet::Normalization::from_metadata(M{{"epoch", "3"}}, 2, "w").kind == castnet::Normalize::none);

  const std::string prefix = "w.safetensors: error: metadata castnet_normalize: ";
  struct Case {
    const char* key;
    const char* value;  // nullptr: remove the entry
    std::string message;
  };
  const Case cases[] = {
      {"castnet_normalize", "zscore", "unknown kind 'zscore'"},
      {"castnet_normalize", "none", "expected 2 offset and scale values for none"},
      {"castnet_normalize_offset", nullptr, "offset or scale missing"},
      {"castnet_normalize_scale", nullptr, "offset or scale missing"},
      {"castnet_normalize_offset", "1", "expected 2 offset and scale values for standardize"},
      {"castnet_normalize_offset", "1,2,3", "expected 2 offset and scale values for standardize"},
      {"castnet_normalize_scale", "0.5,abc", "expected 2 offset and scale values for standardize"},
      {"castnet_normalize_scale", "0.5,inf", "expected 2 offset and scale values for standardize"},
      {"castnet_normalize_scale", "0.5;0.25", "expected 2 offset and scale values for standardize"},
      {"castnet_normalize_offset", "", "expected 2 offset and scale values for standardize"},
  };
  for (const Case& c : cases) {
    M m = good();
    if (c.value) m[c.key] = c.value;
    else m.erase(c.key);
    INFO(c.key << " = " << (c.value ? c.value : "(missing)"));
    CHECK_THROWS_AS(castnet::Normalization::from_metadata(m, 2, "w.safetensors"), castnet::Error);
    CHECK_THROWS_WITH(castnet::Normalization::from_metadata(m, 2, "w.safetensors"), prefix + c.message);
  }
  // scale takes exactly one value of each.
  CHECK_THROWS_WITH(castnet::Normalization::from_metadata(M{{"castnet_normalize", "scale"}, {"castnet_normalize_offset", "0,0"},
                                                             {"castnet_normalize_scale", "1,1"}},
                                                           2, "w.safetensors"),
                    prefix + "expected 1 offset and scale values for scale");

  // eval and predict refuse such a file, naming it.
  const std::string data = write("data.csv", regression_csv());
  M bad = good();
  bad["castnet_normalize_offset"] = "1";
  castnet::io::write_safetensors(path("bad.safetensors"), {{"fc.weight", {1, 2}, {1, 2}}, {"fc.bias", {1}, {0}}}, bad);
  const Result e = run({"eval", "--weights", path("bad.safetensors"), "--data", data, "--labels", "y"});
  CHECK(e.exit_code == 1);
  CHECK(e.err == path("bad.safetensors") + ": error: metadata castnet_normalize: expected 2 offset and scale values for standardize\n");
  const Result p = run({"predict", "--weights", path("bad.safetensors"), "--input", data, "--labels", "y"});
  CHECK(p.exit_code == 1);
  CHECK_THAT(p.err, StartsWith(path("bad.safetensors") + ": error: metadata castnet_normalize: "));
}

// ---------------------------------------------------------------------------------------------
// 8. IDX data

TEST_CASE_METHOD(Fixture, "trainer: the runner trains and evaluates on IDX images and labels", "[trainer][idx]") {
  // 40 samples of two u8 "pixels"; class 1 when the first is the larger.
  std::string images = idx_header(0x08, {40, 2}), labels = idx_header(0x08, {40});
  int lo = 255, hi = 0;
  for (int i = 0; i < 40; ++i) {
    const int a = (i * 37 + 5) % 256, b = (i * 91 + 17) % 256;
    lo = std::min({lo, a, b});
    hi = std::max({hi, a, b});
    images += static_cast<char>(a);
    images += static_cast<char>(b);
    labels += static_cast<char>(a > b ? 1 : 0);
  }
  const std::string x = write("images.idx", images), y = write("labels.idx", labels);
  const Result t = run<Classifier>({"train", "--data", x, "--data-labels", y, "--out", path("out"), "--epochs", "100",
                                    "--lr", "0.5", "--normalize", "scale"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  CHECK(lines_of(t.out).at(0) == "training tiny_linear on 40 rows");
  // Fitted on the IDX values as they are (bytes), not on anything pre-scaled.
  const auto meta = castnet::io::read_safetensors(path("out/weights.safetensors")).metadata;
  CHECK(meta.at("castnet_normalize_offset") == std::to_string(lo));
  CHECK(meta.at("castnet_normalize_scale") == castnet::detail::exact_text(1.0 / (hi - lo)));

  const Result e = run<Classifier>({"eval", "--weights", path("out/weights.safetensors"), "--data", x, "--data-labels", y});
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  const auto lines = lines_of(e.out);
  REQUIRE(lines.size() == 10);  // loss, accuracy, confusion matrix (4 lines), precision/recall/F1 (4)
  CHECK_THAT(lines[1], StartsWith("accuracy "));
  CHECK_THAT(lines[1], Contains("/40), error "));
  CHECK(number_after(lines[1], "accuracy ") >= 90.0);
  CHECK(lines[2] == "confusion matrix (rows: true class, columns: predicted)");

  SECTION("IDX images without their labels") {
    const Result r = run<Classifier>({"train", "--data", x, "--out", path("o")});
    CHECK(r.exit_code == 1);
    CHECK(r.err == x + ": error: IDX images need their labels: give the labels file ([data] train_labels / test_labels, or --data-labels)\n");
    const Result r2 = run<Classifier>({"eval", "--weights", path("out/weights.safetensors"), "--data", x});
    CHECK(r2.exit_code == 1);
    CHECK_THAT(r2.err, StartsWith(x + ": error: IDX images need their labels"));
  }
  SECTION("an IDX labels file beside a CSV") {
    const std::string csv = write("data.csv", regression_csv());
    const Result r = run<Classifier>({"train", "--data", csv, "--data-labels", y, "--labels", "y", "--out", path("o")});
    CHECK(r.exit_code == 1);
    CHECK(r.err == y + ": error: an IDX labels file goes with IDX images, but " + csv + " is not an IDX file\n");
  }
}

// ---------------------------------------------------------------------------------------------
// 9. Autoencoders

TEST_CASE_METHOD(Fixture, "trainer: an autoencoder learns its normalised inputs, and eval draws them", "[trainer][autoencoder]") {
  // Four correlated-free columns with means 5, 3, -2, 10 and spreads 2, 1, 0.5, 3.
  std::string csv = "a,b,c,d\n";
  for (int i = 0; i < 40; ++i) {
    std::ostringstream row;
    row << 5 + 2 * std::sin(i) << ',' << 3 + std::cos(1.7 * i) << ',' << -2 + 0.5 * std::sin(2.3 * i + 1) << ','
        << 10 + 3 * std::cos(0.7 * i + 2) << '\n';
    csv += row.str();
  }
  const std::string data = write("data.csv", csv);
  const Result t = run<Autoencoder>({"train", "--data", data, "--out", path("out"), "--epochs", "150", "--optimizer",
                                     "momentum", "--lr", "0.05", "--autoencoder", "1", "--normalize", "standardize"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const auto metrics = castnet::MetricsLog::parse(read_file(path("out/metrics.csv"))).epochs();
  REQUIRE(metrics.size() == 150);
  CHECK(metrics.back().loss < metrics.front().loss / 100);
  CHECK(metrics.back().loss < 1e-4);
  // The targets were the standardised inputs, so the map learnt is the identity (raw targets would
  // need a bias of the means and weights of the spreads).
  const auto w = castnet::io::read_safetensors(path("out/weights.safetensors"));
  REQUIRE(w.tensors[0].values.size() == 16);
  for (std::size_t k = 0; k < 4; ++k) {
    for (std::size_t i = 0; i < 4; ++i) CHECK(w.tensors[0].values[k * 4 + i] == Approx(k == i ? 1.0 : 0.0).margin(0.02));
    CHECK(w.tensors[1].values[k] == Approx(0.0).margin(0.02));
  }

  const Result e = run<Autoencoder>({"eval", "--weights", path("out/weights.safetensors"), "--data", data,
                                     "--autoencoder", "1", "--images", path("recon.png")});
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  const auto lines = lines_of(e.out);
  REQUIRE(lines.size() == 2);
  CHECK(number_after(lines[0], "loss ") < 1e-4);
  CHECK(lines[1] == "wrote " + path("recon.png") + " (top: inputs, bottom: outputs)");
  const std::string png = read_file(path("recon.png"));
  REQUIRE(png.size() > 24);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(png.substr(12, 4) == "IHDR");
  // 4 samples (the batch) of 2 x 2 pixels with gaps of 2: 4 * (2 + 2) + 2 wide, 2 * (2 + 2) + 2 high.
  CHECK(png.substr(16, 8) == std::string("\0\0\0\x12\0\0\0\x0a", 8));

  SECTION("from IDX images, which need no labels") {
    std::string images = idx_header(0x08, {12, 2, 2});
    for (int i = 0; i < 48; ++i) images += static_cast<char>((i * 53) % 256);
    const std::string x = write("images.idx", images);
    const Result r = run<Autoencoder>({"train", "--data", x, "--out", path("idx"), "--epochs", "2", "--autoencoder", "1",
                                       "--normalize", "scale"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(lines_of(r.out).at(0) == "training tiny_linear on 12 rows");
  }
  SECTION("a model whose outputs are not its inputs cannot be one") {
    const std::string two = write("two.csv", regression_csv());
    // (--labels y: the two other columns fit the model's inputs, so nothing else stops it.)
    const Result r = run({"train", "--data", two, "--labels", "y", "--out", path("o"), "--epochs", "1", "--autoencoder", "1"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("error: --autoencoder 1 needs a model with as many outputs as inputs"));
    const Result r2 = run<Classifier>({"train", "--data", two, "--labels", "y", "--out", path("o"), "--epochs", "1",
                                       "--autoencoder", "1"});
    CHECK(r2.exit_code == 1);
    CHECK_THAT(r2.err, Contains("error: --autoencoder 1 needs a model with as many outputs as inputs"));
    REQUIRE(run({"train", "--data", two, "--labels", "y", "--out", path("lin"), "--epochs", "1"}).exit_code == 0);
    const Result r3 = run({"eval", "--weights", path("lin/weights.safetensors"), "--data", two, "--labels", "y",
                           "--autoencoder", "1"});
    CHECK(r3.exit_code == 1);
    CHECK_THAT(r3.err, Contains("error: --autoencoder 1 needs a model with as many outputs as inputs"));
    CHECK_FALSE(fs::exists(path("o/weights.safetensors")));
  }
  SECTION("--images needs square images") {
    const std::string two = write("two.csv", regression_csv());
    REQUIRE(run({"train", "--data", two, "--labels", "y", "--out", path("lin"), "--epochs", "1"}).exit_code == 0);
    const Result r = run({"eval", "--weights", path("lin/weights.safetensors"), "--data", two, "--labels", "y",
                          "--images", path("x.png")});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, StartsWith(path("x.png") + ": error: --images draws square images"));
    CHECK_FALSE(fs::exists(path("x.png")));
  }
}

// ---------------------------------------------------------------------------------------------
// 10. Input noise

TEST_CASE_METHOD(Fixture, "trainer: input noise changes training and is the same for the same seed", "[trainer]") {
  const std::string data = write("data.csv", regression_csv());
  const auto train = [&](const std::string& out, const std::string& noise) {
    const Result r = run({"train", "--data", data, "--labels", "y", "--out", path(out), "--epochs", "5", "--lr", "0.05",
                          "--seed", "5", "--input-noise", noise});
    REQUIRE(r.exit_code == 0);
    return read_file(path(out + "/weights.safetensors"));
  };
  const std::string noisy = train("a", "0.1");
  CHECK(noisy == train("b", "0.1"));
  CHECK(noisy != train("c", "0"));
  CHECK(noisy != train("d", "0.2"));
}

// ---------------------------------------------------------------------------------------------
// 11. Every setting through the runner's command line

TEST_CASE("trainer: train_arguments parses back to every setting", "[trainer][options]") {
  using K = castnet::OptimizerConfig::Kind;
  castnet::TrainConfig c;
  c.epochs = 77;
  c.seed = 12345678901234567890ull;
  c.shuffle = false;
  c.validation = 0.15;
  c.early_stopping = 7;
  c.l2 = 3e-4;
  c.clip_norm = 2.5;
  c.input_noise = 0.1 + 0.2;  // 0.30000000000000004: printed exactly
  c.normalize = castnet::Normalize::standardize;
  c.autoencoder = true;
  c.subset = 500;
  c.label_noise = 0.25;
  c.optimizer.kind = K::adamw;
  c.optimizer.lr = 1.0 / 3.0;
  c.optimizer.momentum = 0.85;
  c.optimizer.form = castnet::OptimizerConfig::MomentumForm::ema;
  c.optimizer.beta1 = 0.8;
  c.optimizer.beta2 = 0.995;
  c.optimizer.eps = 3e-9;
  c.optimizer.alpha = 0.95;
  c.optimizer.weight_decay = 0.02;
  c.optimizer.history = 7;
  c.schedule.kind = castnet::ScheduleConfig::Kind::cosine;
  c.schedule.step_size = 4;
  c.schedule.gamma = 0.7;
  c.schedule.decay = 0.01;
  c.schedule.lr_min = 1e-5;
  c.schedule.warmup = 1.5;

  std::vector<std::string> args = {"runner", "train", "--data", "d.csv", "--out", "o"};
  const auto settings = castnet::train_arguments(c);
  args.insert(args.end(), settings.begin(), settings.end());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  const castnet::RunOptions o = castnet::parse_run_options(static_cast<int>(argv.size()), argv.data());
  const castnet::TrainConfig& r = o.train;
  CHECK(o.verb == castnet::RunOptions::Verb::train);
  CHECK(r.epochs == c.epochs);
  CHECK(r.seed == c.seed);
  CHECK(r.shuffle == c.shuffle);
  CHECK(r.validation == c.validation);
  CHECK(r.early_stopping == c.early_stopping);
  CHECK(r.l2 == c.l2);
  CHECK(r.clip_norm == c.clip_norm);
  CHECK(r.input_noise == c.input_noise);
  CHECK(r.normalize == c.normalize);
  CHECK(r.autoencoder == c.autoencoder);
  CHECK(r.subset == c.subset);
  CHECK(r.label_noise == c.label_noise);
  CHECK(r.optimizer.kind == c.optimizer.kind);
  CHECK(r.optimizer.lr == c.optimizer.lr);
  CHECK(r.optimizer.momentum == c.optimizer.momentum);
  CHECK(r.optimizer.form == c.optimizer.form);
  CHECK(r.optimizer.beta1 == c.optimizer.beta1);
  CHECK(r.optimizer.beta2 == c.optimizer.beta2);
  CHECK(r.optimizer.eps == c.optimizer.eps);
  CHECK(r.optimizer.alpha == c.optimizer.alpha);
  CHECK(r.optimizer.weight_decay == c.optimizer.weight_decay);
  CHECK(r.optimizer.history == c.optimizer.history);
  CHECK(r.schedule.kind == c.schedule.kind);
  CHECK(r.schedule.step_size == c.schedule.step_size);
  CHECK(r.schedule.gamma == c.schedule.gamma);
  CHECK(r.schedule.decay == c.schedule.decay);
  CHECK(r.schedule.lr_min == c.schedule.lr_min);
  CHECK(r.schedule.warmup == c.schedule.warmup);
  // Every option is printed with a value other than its default, so none of the above held by
  // accident; and there are 28 of them (TrainConfig's fields): a new one needs a line above.
  const auto defaults = castnet::train_arguments(castnet::TrainConfig{});
  REQUIRE(settings.size() == 2 * 28);
  REQUIRE(defaults.size() == settings.size());
  for (std::size_t i = 0; i < settings.size(); i += 2) {
    INFO(settings[i] << ' ' << settings[i + 1]);
    CHECK(defaults[i] == settings[i]);
    CHECK(defaults[i + 1] != settings[i + 1]);
  }
  CHECK(castnet::training_settings(r) == castnet::training_settings(c));

  // What a resume must match: every setting but --epochs, which may grow.
  const auto settings_of = castnet::training_settings(c);
  REQUIRE(settings_of.size() == 27);
  CHECK(settings_of.front() == std::pair<std::string, std::string>("seed", "12345678901234567890"));
  castnet::TrainConfig longer = c;
  longer.epochs = 1000;
  CHECK(castnet::training_settings(longer) == settings_of);
  castnet::TrainConfig other = c;
  other.optimizer.beta2 = 0.99;
  CHECK(castnet::training_settings(other) != settings_of);
  other = c;
  other.schedule.warmup = 0;
  CHECK(castnet::training_settings(other) != settings_of);
}

// ---------------------------------------------------------------------------------------------
// 12. L-BFGS through the trainer

TEST_CASE_METHOD(Fixture, "trainer: L-BFGS solves a least-squares problem and resumes bit-identically", "[trainer][lbfgs]") {
  const std::string data = write("data.csv", regression_csv());
  const auto train = [&](const std::string& out, const std::string& epochs, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"train", "--data", data, "--labels", "y", "--out", path(out), "--epochs", epochs,
                                     "--optimizer", "lbfgs", "--lr", "1", "--history", "3", "--save-every", "0"};
    args.insert(args.end(), more.begin(), more.end());
    const Result r = run<DoubleModel>(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  };
  train("solve", "40");
  const Result e = run<DoubleModel>({"eval", "--weights", path("solve/weights.safetensors"), "--data", data, "--labels", "y"});
  REQUIRE(e.exit_code == 0);
  CHECK(number_after(e.out, "loss ") < 1e-6);
  const auto w = castnet::io::read_safetensors(path("solve/weights.safetensors"));
  CHECK(w.tensors[0].values[0] == Approx(2.0).margin(1e-3));
  CHECK(w.tensors[0].values[1] == Approx(-1.0).margin(1e-3));
  CHECK(w.tensors[1].values[0] == Approx(0.5).margin(1e-3));
  const auto metrics = castnet::MetricsLog::parse(read_file(path("solve/metrics.csv"))).epochs();
  CHECK(metrics.back().loss < 1e-6);
  CHECK(metrics.front().loss > 0.1);
  CHECK(metrics.back().lr == 1.0);

  // Stopped after 2 iterations and resumed to 5: the history pairs come back with the weights.
  train("whole", "5");
  train("parts", "2");
  const Result rest = train("parts", "5", {"--resume", "1"});
  CHECK_THAT(rest.out, Contains("resuming " + path("parts/checkpoint.safetensors") + " after epoch 2"));
  CHECK(read_file(path("parts/weights.safetensors")) == read_file(path("whole/weights.safetensors")));
  const auto parts = tensors_of(path("parts/checkpoint.safetensors"));
  CHECK(parts == tensors_of(path("whole/checkpoint.safetensors")));
  std::size_t pairs = 0;
  for (const Tensor& t : parts) {
    if (t.name == "params/fc.weight") CHECK(t.f64.size() == 2);  // a double model's checkpoint is exact
    if (t.name.starts_with("lbfgs_s") && std::any_of(t.f64.begin(), t.f64.end(), [](double v) { return v != 0; })) ++pairs;
  }
  CHECK(pairs >= 2);  // lbfgs_s0/fc.weight, lbfgs_s0/fc.bias at least

  // The history matters: continuing from the same weights without it (--init; a float model, whose
  // weight file is exact) ends elsewhere.
  const auto train_float = [&](const std::string& out, const std::string& epochs, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"train", "--data", data, "--labels", "y", "--out", path(out), "--epochs", epochs,
                                     "--optimizer", "lbfgs", "--lr", "1", "--history", "3"};
    args.insert(args.end(), more.begin(), more.end());
    REQUIRE(run(args).exit_code == 0);
    return read_file(path(out + "/weights.safetensors"));
  };
  const std::string whole_float = train_float("f5", "5");
  train_float("f2", "2");
  CHECK(train_float("f2", "5", {"--resume", "1"}) == whole_float);
  train_float("g2", "2");
  train_float("g3", "3", {"--init", path("g2/weights.safetensors")});
  CHECK(tensors_of(path("g3/weights.safetensors")) != tensors_of(path("f5/weights.safetensors")));
}

// ---------------------------------------------------------------------------------------------
// 13. Schedules

TEST_CASE_METHOD(Fixture, "trainer: the lr column of metrics.csv follows the schedule", "[trainer][schedule]") {
  const std::string data = write("data.csv", regression_csv());  // 30 rows: 8 steps per epoch
  const auto lrs = [&](const std::string& out, std::vector<std::string> schedule) {
    std::vector<std::string> args = {"train", "--data", data, "--labels", "y", "--out", path(out), "--epochs", "10",
                                     "--lr", "0.1"};
    args.insert(args.end(), schedule.begin(), schedule.end());
    const Result r = run(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<double> lr;
    const auto metrics = castnet::MetricsLog::parse(read_file(path(out + "/metrics.csv")));
    for (const auto& e : metrics.epochs()) lr.push_back(e.lr);
    REQUIRE(lr.size() == 10);
    return lr;
  };
  SECTION("step: halved every 3 epochs") {
    const auto lr = lrs("step", {"--schedule", "step", "--step-size", "3", "--gamma", "0.5"});
    CHECK(lr == std::vector<double>{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125});
  }
  SECTION("exponential") {
    const auto lr = lrs("exp", {"--schedule", "exponential", "--gamma", "0.9"});
    for (std::size_t e = 0; e < 10; ++e) CHECK(lr[e] == Approx(0.1 * std::pow(0.9, e)).epsilon(1e-12));
  }
  SECTION("cosine down to lr_min") {
    const auto lr = lrs("cos", {"--schedule", "cosine", "--lr-min", "0.01"});
    CHECK(lr[0] == 0.1);
    CHECK(lr[5] == Approx(0.055).epsilon(1e-12));  // halfway
    CHECK(std::is_sorted(lr.rbegin(), lr.rend()));
    CHECK(lr[9] > 0.01);
  }
  SECTION("warm-up over 2 epochs, counted in steps") {
    const auto lr = lrs("warm", {"--warmup", "2"});
    CHECK(lr[0] == Approx(0.05).epsilon(1e-12));  // the last step of epoch 1: step 8 of 16
    CHECK(lr[1] == 0.1);
    CHECK(lr[9] == 0.1);
  }
}
