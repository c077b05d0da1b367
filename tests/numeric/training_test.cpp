// Training that actually learns, in-process with the generated models and the runtime's
// initialisation and optimizers: the course's XOR net (2-2-1 tanh) reaches 4/4, and a 1-32-32-1
// tanh net fits sin(x) on [-pi, pi] to an MSE below 1e-3. Both report how long it took.
#include <catch2/catch.hpp>

#include <castnet/init.hpp>
#include <castnet/optimizer.hpp>

#include <cmath>
#include <memory>
#include <numbers>
#include <random>

#include "sin_net.hpp"
#include "xor_net.hpp"

TEST_CASE("training: xor_net (2-2-1 tanh, momentum) gets all four cases right") {
  using M = xor_net::Model;
  auto p = std::make_unique<M::Params>();
  auto g = std::make_unique<M::Grads>();
  auto ws = std::make_unique<M::Workspace>();
  castnet::init_params<M>(*p, 1);  // specs/xor.toml's seed
  castnet::Optimizer<M> opt({castnet::OptimizerConfig::Kind::momentum, 0.5, 0.9});
  const float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, t[] = {0, 1, 1, 0};

  auto correct = [&] {
    int n = 0;
    for (int i = 0; i < 4; ++i) {
      float logit = 0;
      M::forward(*p, x + 2 * i, &logit);
      n += (logit > 0) == (t[i] > 0.5f);
    }
    return n;
  };
  int steps = 0;
  float loss = 1;
  while (steps < 1000 && (correct() < 4 || loss > 0.05f)) {
    loss = M::train_step(*p, *ws, x, t, *g);
    opt.step(*p, *g);
    ++steps;
  }
  WARN("xor_net: 4/4 correct and loss " << loss << " after " << steps << " full-batch steps");
  CHECK(correct() == 4);
  CHECK(loss <= 0.05f);
  CHECK(steps < 1000);
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
  castnet::Optimizer<M> opt({castnet::OptimizerConfig::Kind::momentum, 0.05, 0.9});

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
      opt.step(*p, *g);
    }
    if (++epoch % 10 == 0) err = mse();
  }
  err = mse();
  WARN("sin_net: MSE " << err << " after " << epoch << " epochs of " << kBatches << " steps");
  CHECK(err < 1e-3);
}
