// Run-time dispatch's cost at batch 1 (README, "One binary for every CPU"): W1 (8-32-32-1) and W2
// (784-128-10) forward() through castnet_add_model(... ARCH dispatch), against the same models built
// for the one instruction set the dispatcher chose (ARCH avx512 or avx2, single.cpp), in one run,
// Google Benchmark's repetitions interleaved at random. Both compute with the same code and flags:
// their outputs are checked equal, bit for bit, before anything is timed.
// Run by `./castnet bench --dispatch` (CASTNET_ISA=avx2 holds the AVX2 build to its own).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dispatch/single.hpp"
#include "w1_dispatch.hpp"
#include "w2_dispatch.hpp"

namespace {

constexpr std::size_t kCalls = 1000;  // dependent calls per timed iteration

template <class M>
std::vector<float> random_params(std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  std::vector<float> flat;
  for (const auto& t : M::kTensors)
    for (std::size_t k = 0; k < t.size; ++k) flat.push_back(u(rng));
  return flat;
}

template <class M>
void set(typename M::Params& p, const std::vector<float>& flat) {
  const auto t = M::tensors(p);
  for (std::size_t i = 0, at = 0; i < t.size(); at += M::kTensors[i].size, ++i)
    std::memcpy(t[i], flat.data() + at, M::kTensors[i].size * sizeof(float));
}

template <class M>
struct Case {
  std::vector<float> x0;
  typename M::Params params;
  void (*single)(float*, float*, std::size_t);

  void dispatched(float* x, float* y, std::size_t n) const {
    for (std::size_t i = 0; i < n; ++i) {
      M::forward(params, x, y);
      x[0] = y[0];
    }
  }
};

template <class M>
void check_equal(const Case<M>& c, const char* name) {
  std::vector<float> xa = c.x0, xb = c.x0, ya(M::kOutputs), yb(M::kOutputs);
  c.dispatched(xa.data(), ya.data(), kCalls);
  c.single(xb.data(), yb.data(), kCalls);
  if (std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(float)) != 0) {
    std::fprintf(stderr, "dispatch bench: %s: the dispatching and the single-ISA model disagree\n", name);
    std::exit(1);
  }
}

template <class M, bool Dispatched>
void time(benchmark::State& state, const Case<M>* c) {
  std::vector<float> x = c->x0, y(M::kOutputs);
  for (auto _ : state) {
    if constexpr (Dispatched) c->dispatched(x.data(), y.data(), kCalls);
    else c->single(x.data(), y.data(), kCalls);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kCalls));
  state.counters["ns_per_call"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kCalls), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string isa(w1_dispatch::isa());
  SingleIsa single{};
  if (isa == "avx512") single = single_avx512();
  else if (isa == "avx2") single = single_avx2();
  else {
    std::fprintf(stderr, "dispatch bench: the dispatcher chose %s; single-ISA builds exist for avx512 and avx2 only\n", isa.c_str());
    return 1;
  }
  std::mt19937 rng(1);
  static Case<w1_dispatch::Model> w1;
  static Case<w2_dispatch::Model> w2;
  const auto p1 = random_params<w1_dispatch::Model>(rng), p2 = random_params<w2_dispatch::Model>(rng);
  set<w1_dispatch::Model>(w1.params, p1);
  set<w2_dispatch::Model>(w2.params, p2);
  single.set_w1(p1.data());
  single.set_w2(p2.data());
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  w1.x0.resize(w1_dispatch::kInputs);
  w2.x0.resize(w2_dispatch::kInputs);
  for (auto& v : w1.x0) v = u(rng);
  for (auto& v : w2.x0) v = u(rng);
  w1.single = single.loop_w1;
  w2.single = single.loop_w2;
  check_equal(w1, "W1");
  check_equal(w2, "W2");

  benchmark::RegisterBenchmark(("W1/" + isa + "/dispatch").c_str(), time<w1_dispatch::Model, true>, &w1);
  benchmark::RegisterBenchmark(("W1/" + isa + "/single").c_str(), time<w1_dispatch::Model, false>, &w1);
  benchmark::RegisterBenchmark(("W2/" + isa + "/dispatch").c_str(), time<w2_dispatch::Model, true>, &w2);
  benchmark::RegisterBenchmark(("W2/" + isa + "/single").c_str(), time<w2_dispatch::Model, false>, &w2);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
