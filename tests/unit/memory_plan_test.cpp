// The generator's memory plans: buffers live at the same step never share memory, every offset is
// aligned, and buffers whose lifetimes do not overlap are reused (the arena is smaller than the sum
// of its buffers). Checked on the allocator alone with random lifetimes, and on the plans of real
// specs: a chain, a residual graph and the MNIST ConvNet.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <string>

#include "generate.hpp"
#include "ir/memory_plan.hpp"
#include "passes/passes.hpp"
#include "spec/parse_spec.hpp"

namespace {

using castnet::ir::Buffer;
using castnet::ir::MemoryPlan;

std::size_t rounded(std::size_t n) { return (n + 15) / 16 * 16; }

// Every pair of buffers live at a common step occupies disjoint memory; all lie inside the arena.
void check_plan(const MemoryPlan& plan, std::size_t align) {
  std::size_t sum = 0;
  for (std::size_t i = 0; i < plan.buffers.size(); ++i) {
    const Buffer& a = plan.buffers[i];
    sum += a.size;
    INFO(a.name << " at " << a.offset << ", " << a.size << " values");
    CHECK(a.offset % align == 0);
    CHECK(a.offset + a.size <= plan.size);
    for (std::size_t j = i + 1; j < plan.buffers.size(); ++j) {
      const Buffer& b = plan.buffers[j];
      if (!castnet::ir::overlap(a, b)) continue;
      INFO("and " << b.name << " at " << b.offset << ", " << b.size << " values, live at a common step");
      CHECK((a.offset + a.size <= b.offset || b.offset + b.size <= a.offset));
    }
  }
  CHECK(plan.size <= rounded(sum) + align * plan.buffers.size());
}

castnet::ir::Graph graph_of(const std::string& text) {
  castnet::ir::Graph g = castnet::spec::parse_spec_text(text, "test.toml").graph;
  castnet::passes::run_passes(g);
  return g;
}

}  // namespace

TEST_CASE("memory plan: random lifetimes never share memory while both are live", "[memory_plan]") {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    MemoryPlan plan;
    const int count = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < count; ++i) {
      Buffer b;
      b.name = "b" + std::to_string(i);
      b.size = 1 + rng() % 1000;
      const std::size_t first = rng() % 40;
      b.live.push_back({first, first + rng() % 10});
      if (rng() % 4 == 0) {  // a second interval, as scratch buffers have
        const std::size_t again = first + 12 + rng() % 20;
        b.live.push_back({again, again});
      }
      plan.buffers.push_back(b);
    }
    castnet::ir::assign_offsets(plan, 16);
    check_plan(plan, 16);
  }
}

TEST_CASE("memory plan: buffers with disjoint lifetimes share one place", "[memory_plan]") {
  MemoryPlan plan;
  plan.buffers.push_back({"early", "", 100, {{0, 2}}, 0});
  plan.buffers.push_back({"late", "", 100, {{3, 5}}, 0});
  plan.buffers.push_back({"always", "", 10, {{0, 5}}, 0});
  castnet::ir::assign_offsets(plan, 16);
  CHECK(plan.find("early")->offset == plan.find("late")->offset);
  CHECK(plan.size == 112 + 16);
}

TEST_CASE("memory plan: a chain's forward() ping-pongs between two buffers", "[memory_plan]") {
  const auto g = graph_of(R"(
name = "chain"
input = [32]
batch = 8
[[layer]]
type = "dense"
units = 64
activation = "relu"
[[layer]]
type = "dense"
units = 64
activation = "tanh"
[[layer]]
type = "dense"
units = 64
activation = "relu"
[[layer]]
type = "dense"
units = 64
[[layer]]
type = "dense"
units = 4
[loss]
type = "mse"
)");
  check_plan(g.forward_plan.arena, 16);
  check_plan(g.step_plan.arena, 16);
  // Four hidden outputs of 64 values for one sample, but only two are ever live at once.
  CHECK(g.forward_plan.arena.buffers.size() == 4);
  CHECK(g.forward_plan.arena.size == 2 * 64);
  // train_step keeps every activation for backward, but the gradients between layers reuse memory.
  std::size_t sum = 0;
  for (const auto& b : g.step_plan.arena.buffers) sum += b.size;
  CHECK(g.step_plan.arena.size < sum);
}

TEST_CASE("memory plan: residual graph and the MNIST ConvNet", "[memory_plan]") {
  const std::filesystem::path root = CASTNET_SOURCE_DIR;
  for (const auto& spec : {root / "tests/numeric/specs/graph_residual.toml", root / "specs/mnist_cnn.toml",
                           root / "specs/residual_mlp.toml"}) {
    const auto g = castnet::gen::load_graph(spec);
    INFO(spec.filename().string());
    check_plan(g.step_plan.arena, 16);
    check_plan(g.forward_plan.arena, 16);
    std::size_t sum = 0;
    for (const auto& b : g.step_plan.arena.buffers) sum += b.size;
    CHECK(g.step_plan.arena.size < sum);
    // A gradient buffer is live from its first writer's backward step to its own layer's.
    const std::size_t n = g.layers.size();
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const Buffer* grad = g.step_plan.arena.find(g.layers[i].name + "_grad");
      REQUIRE(grad != nullptr);
      CHECK(grad->live.back()[1] == 2 * n - i);
      for (std::size_t j = i + 1; j < n; ++j)
        for (std::size_t in : g.layers[j].inputs)
          if (in == i) CHECK(grad->live.front()[0] <= 2 * n - j);
    }
  }
  // The ConvNet's one-sample arena: conv1's output is dead once pool1 has read it.
  const auto cnn = castnet::gen::load_graph(root / "specs/mnist_cnn.toml");
  std::size_t sum = 0;
  for (const auto& b : cnn.forward_plan.arena.buffers) sum += b.size;
  CHECK(cnn.forward_plan.arena.size < sum);
}
