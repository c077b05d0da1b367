// Generated code against the plain interpreter on the same weights and inputs: batch-1 forward
// latency and one training step at the spec's batch. Outputs are checked equal before timing.
// The interpreter is the correctness reference, not a fair speed baseline (that is Eigen's and
// libtorch's role in the performance issue), so read these ratios as "what generation buys
// over a naive dynamic loop".
#include <benchmark/benchmark.h>

#include <castnet/init.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "generate.hpp"
#include "interpreter.hpp"
#include "w2_mlp.hpp"

namespace {

using M = w2_mlp::Model;

struct Fixture {
  std::unique_ptr<M::Params> params = std::make_unique<M::Params>();
  std::unique_ptr<M::Grads> grads = std::make_unique<M::Grads>();
  std::unique_ptr<M::Workspace> ws = std::make_unique<M::Workspace>();
  castnet::interp::Interpreter<float> interp{castnet::gen::load_graph(CASTNET_BENCH_SPECS "/w2_mlp.toml")};
  std::vector<float> x = std::vector<float>(M::kBatch * M::kInputs);
  std::vector<float> target = std::vector<float>(M::kBatch);

  Fixture() {
    castnet::init_params<M>(*params, 1);
    const auto t = M::tensors(*params);
    for (std::size_t i = 0; i < t.size(); ++i) interp.params()[i].assign(t[i], t[i] + M::kTensors[i].size);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (auto& v : x) v = u(rng);
    for (auto& v : target) v = static_cast<float>(rng() % M::kOutputs);
    check_agreement();
  }

  // Both implementations must give the same outputs before either is timed.
  void check_agreement() {
    float y[M::kOutputs], y_ref[M::kOutputs];
    M::forward(*params, x.data(), y);
    interp.forward(x.data(), 1, y_ref);
    for (std::size_t i = 0; i < M::kOutputs; ++i)
      if (std::abs(y[i] - y_ref[i]) > 1e-4f * (1.f + std::abs(y_ref[i]))) {
        std::fprintf(stderr, "generated and interpreter outputs differ at %zu: %g vs %g\n", i, y[i], y_ref[i]);
        std::exit(1);
      }
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOP/s"] = benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

// forward: 2 * (784*128 + 128*10) FLOP per sample
constexpr double kForwardFlops = 2.0 * (784 * 128 + 128 * 10);

void BM_forward_generated(benchmark::State& state) {
  auto& f = fixture();
  float y[M::kOutputs];
  for (auto _ : state) {
    M::forward(*f.params, f.x.data(), y);
    benchmark::DoNotOptimize(y);
    benchmark::ClobberMemory();
  }
  set_flops(state, kForwardFlops);
}

void BM_forward_interpreter(benchmark::State& state) {
  auto& f = fixture();
  float y[M::kOutputs];
  for (auto _ : state) {
    f.interp.forward(f.x.data(), 1, y);
    benchmark::DoNotOptimize(y);
    benchmark::ClobberMemory();
  }
  set_flops(state, kForwardFlops);
}

// train step at batch 64: forward, and the weight gradients of both layers plus the input
// gradient of the second: 3x the forward's multiply-adds but for layer 1's input gradient.
constexpr double kStepFlops = M::kBatch * 2.0 * (2 * 784 * 128 + 3 * 128 * 10);

void BM_train_step_generated(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) {
    benchmark::DoNotOptimize(M::train_step(*f.params, *f.ws, f.x.data(), f.target.data(), *f.grads));
    benchmark::ClobberMemory();
  }
  set_flops(state, kStepFlops);
}

void BM_train_step_interpreter(benchmark::State& state) {
  auto& f = fixture();
  std::vector<std::vector<float>> grads;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.interp.loss_and_grad(f.x.data(), f.target.data(), M::kBatch, grads, nullptr));
    benchmark::ClobberMemory();
  }
  set_flops(state, kStepFlops);
}

}  // namespace

BENCHMARK(BM_forward_generated);
BENCHMARK(BM_forward_interpreter);
BENCHMARK(BM_train_step_generated)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_train_step_interpreter)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
