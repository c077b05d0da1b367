// Data-parallel training (data_parallel.hpp) through the trainer: a batch shared among threads,
// and among ranks (threads of this process standing in for MPI processes, support/local_job.hpp),
// ends with the weights of the single-thread run of the same global batch, to float rounding, and
// the same split gives the same bits every time. The models are the specs planned for a worker's
// shard (numeric.cmake: edge_dropout_b3 and _b2 hold 3 and 2 of edge_dropout's 6 rows, so dropout
// masks, partial batches and workers with no rows are all exercised; train_bars_b8 is a ConvNet).
#include <catch2/catch.hpp>

#include <castnet/train/data_parallel.hpp>
#include <castnet/train/init.hpp>
#include <castnet/train/trainer.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "support/local_job.hpp"
#include "support/process.hpp"

#include "edge_dropout.hpp"
#include "edge_dropout_b2.hpp"
#include "edge_dropout_b3.hpp"
#include "train_bars.hpp"
#include "train_bars_b8.hpp"

namespace {

namespace fs = std::filesystem;

// `rows` random inputs in [-1, 1] with a class each (of `classes`).
castnet::Dataset<float> labelled_noise(std::size_t rows, std::size_t inputs, std::size_t classes) {
  castnet::Dataset<float> d;
  d.rows = rows;
  d.inputs = inputs;
  d.targets = 1;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (std::size_t i = 0; i < rows * inputs; ++i) d.x.push_back(u(rng));
  for (std::size_t r = 0; r < rows; ++r) d.t.push_back(static_cast<float>(r % classes));
  return d;
}

// Every setting that touches the step: dropout (in the spec), input noise, L2, clipping, a schedule.
castnet::TrainConfig settings(castnet::OptimizerConfig::Kind kind) {
  castnet::TrainConfig c;
  c.epochs = 3;
  c.seed = 7;
  c.optimizer.kind = kind;
  c.optimizer.lr = kind == castnet::OptimizerConfig::Kind::lbfgs ? 0.5 : 0.05;
  c.input_noise = 0.05;
  c.l2 = 1e-3;
  c.clip_norm = 5.0;
  c.schedule.kind = castnet::ScheduleConfig::Kind::cosine;
  return c;
}

// The parameters, flat, after training M from seed `c.seed` with `parallel`.
template <class M>
std::vector<std::vector<float>> trained(const castnet::Dataset<float>& data, const castnet::TrainConfig& c,
                           const castnet::Parallel& parallel, const fs::path& dir) {
  castnet::TrainOutput out;
  out.dir = dir;
  out.save_every = 0;
  auto p = std::make_unique<typename M::Params>();
  castnet::init_params<M>(*p, c.seed);
  std::ostringstream log;
  castnet::train<M>(*p, data, nullptr, c, out, log, parallel);
  std::vector<std::vector<float>> tensors;
  const auto t = M::tensors(static_cast<const typename M::Params&>(*p));
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) tensors.emplace_back(t[i], t[i] + M::kTensors[i].size);
  return tensors;
}

// The largest difference of any tensor, relative to that tensor's largest value: a bias is not
// measured against a weight matrix.
double difference(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    REQUIRE(a[k].size() == b[k].size());
    double largest = 0, scale = 1e-6;
    for (std::size_t i = 0; i < a[k].size(); ++i) {
      REQUIRE(std::isfinite(a[k][i]));
      REQUIRE(std::isfinite(b[k][i]));
      largest = std::max(largest, std::abs(static_cast<double>(a[k][i]) - static_cast<double>(b[k][i])));
      scale = std::max(scale, std::abs(static_cast<double>(a[k][i])));
    }
    worst = std::max(worst, largest / scale);
  }
  return worst;
}

template <class Full, class Shard>
void threads_match(std::size_t threads, castnet::OptimizerConfig::Kind kind, std::size_t rows) {
  static_assert(Full::kInputs == Shard::kInputs && Full::kParams == Shard::kParams);
  const auto data = labelled_noise(rows, Full::kInputs, Full::kOutputs);
  const auto c = settings(kind);
  castnet::test::TempDir d1, d2, d3;
  const auto single = trained<Full>(data, c, {}, d1.path());
  const castnet::Parallel parallel{Full::kBatch, threads, nullptr};
  const auto shared = trained<Shard>(data, c, parallel, d2.path());
  INFO(Full::kName << " on " << threads << " threads");
  CHECK(difference(single, shared) < 2e-5);
  CHECK(trained<Shard>(data, c, parallel, d3.path()) == shared);  // deterministic: the same bits
  // The weights moved: a run that ignored the shards would not match by accident.
  auto initial = std::make_unique<typename Full::Params>();
  castnet::init_params<Full>(*initial, c.seed);
  CHECK(std::memcmp(Full::tensors(*initial)[0], single[0].data(), sizeof(float) * Full::kTensors[0].size) != 0);
}

}  // namespace

TEST_CASE("data-parallel: threads end with the single-thread weights, and the same bits each time") {
  using Kind = castnet::OptimizerConfig::Kind;
  // 27 rows: batches of 6 end with 3 rows, so the last worker(s) of the last batch have none.
  SECTION("dropout net, 2 threads of 3 rows, momentum") { threads_match<edge_dropout::Model, edge_dropout_b3::Model>(2, Kind::momentum, 27); }
  SECTION("dropout net, 3 threads of 2 rows, adam") { threads_match<edge_dropout::Model, edge_dropout_b2::Model>(3, Kind::adam, 27); }
  SECTION("dropout net, 2 threads, L-BFGS") { threads_match<edge_dropout::Model, edge_dropout_b3::Model>(2, Kind::lbfgs, 27); }
  SECTION("ConvNet, 2 threads of 8 rows, rmsprop") { threads_match<train_bars::Model, train_bars_b8::Model>(2, Kind::rmsprop, 40); }
}

TEST_CASE("data-parallel: ranks end with the single-process weights, and rank 0 alone writes") {
  using Full = edge_dropout::Model;
  const auto data = labelled_noise(27, Full::kInputs, Full::kOutputs);
  const auto c = settings(castnet::OptimizerConfig::Kind::momentum);
  castnet::test::TempDir single_dir;
  const auto single = trained<Full>(data, c, {}, single_dir.path());

  auto run_job = [&](std::size_t threads, auto shard) {
    using Shard = decltype(shard);
    castnet::test::LocalJob job(2);
    castnet::test::TempDir dir0, dir1;
    std::vector<std::vector<float>> w0, w1;
    std::thread other([&] { w1 = trained<Shard>(data, c, {Full::kBatch, threads, &job.rank(1)}, dir1.path()); });
    w0 = trained<Shard>(data, c, {Full::kBatch, threads, &job.rank(0)}, dir0.path());
    other.join();
    INFO("2 ranks x " << threads << " threads");
    CHECK(w0 == w1);  // the replicas are identical
    CHECK(difference(single, w0) < 2e-5);
    CHECK(fs::exists(castnet::weights_file(dir0.path())));
    CHECK(fs::is_empty(dir1.path()));
  };
  SECTION("2 ranks x 1 thread of 3 rows") { run_job(1, edge_dropout_b3::Model{}); }
  SECTION("2 ranks x 2 threads of 2 rows") { run_job(2, edge_dropout_b2::Model{}); }
}

TEST_CASE("data-parallel: a runner's shards too small for the batch are refused") {
  // Three workers of 2 rows cannot hold 7.
  REQUIRE_THROWS_WITH((castnet::DataParallelStep<edge_dropout_b2::Model>(7, 3, nullptr)),
                      Catch::Matchers::Contains("3 workers (3 threads x 1 processes) of 2 rows cannot hold the batch of 7"));
}

TEST_CASE("data-parallel: ranks whose weights differ are named, on every rank") {
  using M = edge_dropout::Model;
  castnet::test::LocalJob job(3);
  std::vector<std::string> messages(3);
  auto check = [&](std::size_t r) {
    auto p = std::make_unique<M::Params>();
    castnet::init_params<M>(*p, r == 2 ? 9 : 1);  // rank 2 started from other weights
    try {
      castnet::check_replicas<M>(job.rank(r), *p, 4);
    } catch (const castnet::Error& e) {
      messages[r] = e.what();
    }
  };
  std::thread a(check, 1), b(check, 2);
  check(0);
  a.join();
  b.join();
  for (const auto& m : messages) {
    CHECK_THAT(m, Catch::Matchers::Contains("after epoch 4 the weights of rank(s) 2 differ from rank 0's"));
  }
}
