// Training that actually learns, in-process with the generated models and the runtime's
// initialisation, optimizers and trainer: the course's XOR net (2-2-1 tanh) reaches 4/4 with every
// optimizer, and a 1-32-32-1 tanh net fits sin(x) on [-pi, pi] to an MSE below 1e-3.
#include <catch2/catch.hpp>

#include <castnet/train/init.hpp>
#include <castnet/train/optimizer.hpp>
#include <castnet/train/trainer.hpp>

#include <cmath>
#include <memory>
#include <numbers>
#include <random>
#include <sstream>
#include <vector>

#include "support/process.hpp"

#include "sin_net.hpp"
#include "xor_net.hpp"

namespace {

castnet::OptimizerConfig optimizer(castnet::OptimizerConfig::Kind kind, double lr) {
  castnet::OptimizerConfig o;
  o.kind = kind;
  o.lr = lr;
  return o;
}

}  // namespace

// Every optimizer through the trainer (full batch: one step per epoch; L-BFGS one iteration).
TEST_CASE("training: every optimizer trains xor_net (2-2-1 tanh) to 4/4") {
  using M = xor_net::Model;
  using K = castnet::OptimizerConfig::Kind;
  using F = castnet::OptimizerConfig::MomentumForm;
  struct Case {
    const char* name;
    castnet::OptimizerConfig optimizer;
  };
  std::vector<Case> cases = {{"sgd", optimizer(K::sgd, 1.0)},
                             {"momentum", optimizer(K::momentum, 0.3)},
                             {"momentum ema", optimizer(K::momentum, 2.0)},
                             {"momentum classic", optimizer(K::momentum, 0.3)},
                             {"nesterov", optimizer(K::nesterov, 0.3)},
                             {"rmsprop", optimizer(K::rmsprop, 0.03)},
                             {"adam", optimizer(K::adam, 0.1)},
                             {"adamw", optimizer(K::adamw, 0.1)},
                             {"lbfgs", optimizer(K::lbfgs, 1.0)}};
  cases[2].optimizer.form = F::ema;
  cases[3].optimizer.form = F::classic;
  const float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, t[] = {0, 1, 1, 0};
  castnet::Dataset<float> data;
  data.rows = 4;
  data.inputs = 2;
  data.targets = 1;
  data.x.assign(x, x + 8);
  data.t.assign(t, t + 4);
  for (const Case& c : cases) {
    castnet::test::TempDir dir;
    castnet::TrainConfig config;
    config.epochs = 2000;
    // With two hidden units, some initialisations fall into XOR's local minimum (3/4 right, loss
    // ln(2)/2): the seed of specs/xor.toml (1) does for sgd and adam. Seed 2 starts every
    // optimizer in the global minimum's basin, so what fails here is the optimizer.
    config.seed = 2;
    config.shuffle = false;
    config.optimizer = c.optimizer;
    castnet::TrainOutput out;
    out.dir = dir.path();
    out.save_every = 1e9;  // only after the last epoch
    auto p = std::make_unique<M::Params>();
    castnet::init_params<M>(*p, config.seed);
    std::ostringstream log;
    castnet::train<M>(*p, data, nullptr, config, out, log);
    const castnet::Evaluation e = castnet::evaluate<M>(*p, data);
    INFO(c.name << ": loss " << e.loss << ", " << e.correct << "/4 correct");
    CHECK(e.correct == 4);
    CHECK(e.loss < 0.1);
  }
}

TEST_CASE("training: sin_net (1-32-32-1 tanh) fits sin(x) on [-pi, pi] to MSE < 1e-3") {
  using M = sin_net::Model;
  constexpr std::size_t kSamples = 256, kBatches = kSamples / M::kBatch;
  std::vector<float> xs(kSamples), ys(kSamples);
  for (std::size_t i = 0; i < kSamples; ++i) {
    xs[i] = static_cast<float>(-std::numbers::pi + 2 * std::numbers::pi * (i + 0.5) / kSamples);
    ys[i] = std::sin(xs[i]);
  }
  auto p = std::make_unique<M::Params>();
  auto g = std::make_unique<M::Grads>();
  auto ws = std::make_unique<M::Workspace>();
  castnet::init_params<M>(*p, 7);
  castnet::Optimizer<M> opt(optimizer(castnet::OptimizerConfig::Kind::momentum, 0.05));

  auto mse = [&] {
    double sum = 0;
    for (std::size_t i = 0; i < kSamples; ++i) {
      float y = 0;
      M::forward(*p, &xs[i], &y);
      sum += (y - ys[i]) * (y - ys[i]);
    }
    return sum / kSamples;
  };
  std::mt19937 rng(7);
  std::vector<std::size_t> order(kSamples);
  for (std::size_t i = 0; i < kSamples; ++i) order[i] = i;
  std::vector<float> bx(M::kBatch), by(M::kBatch);
  int epoch = 0;
  double err = mse();
  while (epoch < 3000 && err >= 1e-3) {
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t b = 0; b < kBatches; ++b) {
      for (std::size_t i = 0; i < M::kBatch; ++i) {
        bx[i] = xs[order[b * M::kBatch + i]];
        by[i] = ys[order[b * M::kBatch + i]];
      }
      M::train_step(*p, *ws, bx.data(), by.data(), *g);
      opt.step(*p, *g, 0.05);
    }
    if (++epoch % 10 == 0) err = mse();
  }
  err = mse();
  WARN("sin_net: MSE " << err << " after " << epoch << " epochs of " << kBatches << " steps");
  CHECK(err < 1e-3);
}
