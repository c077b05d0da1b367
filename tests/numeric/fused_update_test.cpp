// train_step_update (the update applied as the gradients are made) against train_step followed by
// the optimizer's own pass (optimizer.hpp), over several steps, for sgd, momentum and nesterov, on
// every graph case (dense kernel and straight-line layers, conv, pooling, dropout, merges, glu,
// prelu) and the MNIST ConvNet: the weights, the velocity and the losses must agree to rounding,
// and nothing may be written outside the buffers.
#include <catch2/catch.hpp>

#include <castnet/train/optimizer.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "mnist_cnn.hpp"
#include "numeric_models.hpp"
#include "residual_mlp.hpp"
#include "support/model_testing.hpp"

namespace {

using castnet::OptimizerConfig;
using Kind = OptimizerConfig::Kind;

template <class M>
void check_tensors(typename M::Params& got, typename M::Params& want, const std::string& what) {
  const auto a = M::tensors(got);
  const auto b = M::tensors(want);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    const auto m = castnet::test::relative_error(a[i], b[i], M::kTensors[i].size);
    INFO(what << " " << M::kTensors[i].name << ": " << castnet::test::describe(m));
    CHECK(m.rel <= 1e-5);
  }
}

template <class M>
void fused_matches(Kind kind) {
  using real = typename M::real;
  OptimizerConfig config;
  config.kind = kind;
  config.momentum = 0.9;
  castnet::Optimizer<M> separate(config), fused(config);
  REQUIRE(fused.fusable());
  castnet::test::ModelState<M> a(7, 0.5), b(7, 0.5);
  // The last row is padding: rows from n on must not reach the weights either way.
  const std::size_t n = M::kBatch > 1 ? M::kBatch - 1 : 1;
  for (int step = 0; step < 3; ++step) {
    const double lr = 0.05 / (1 + step);  // a schedule: each step's own rate
    const std::uint64_t key = 11 + static_cast<std::uint64_t>(step);
    const real want = M::train_step(*a.params, *a.ws, a.x.data(), a.target.data(), *a.grads, n, key, 0);
    separate.step(*a.params, *a.grads, lr);
    const real got = M::train_step_update(*b.params, *b.ws, b.x.data(), b.target.data(), *b.grads, fused.velocity(),
                                          fused.fused(lr), n, key, 0);
    fused.finish_step();
    INFO("step " << step);
    // The losses after the first step come from weights that agree to rounding (checked below).
    CHECK(static_cast<double>(got) == Approx(static_cast<double>(want)).epsilon(1e-5));
    check_tensors<M>(*b.params, *a.params, "weights");
    if (kind != Kind::sgd) check_tensors<M>(*fused.velocity(), *separate.velocity(), "velocity");
  }
  CHECK(b.guards_intact());
}

template <class M>
void fused_matches_every_rule() {
  SECTION("sgd") { fused_matches<M>(Kind::sgd); }
  SECTION("momentum") { fused_matches<M>(Kind::momentum); }
  SECTION("nesterov") { fused_matches<M>(Kind::nesterov); }
}

TEST_CASE("fused update: only the rules that need nothing but each value's gradient") {
  OptimizerConfig config;
  for (const Kind k : {Kind::rmsprop, Kind::adam, Kind::adamw}) {
    config.kind = k;
    CHECK_FALSE(castnet::Optimizer<edge_single::Model>(config).fusable());
  }
  config.kind = Kind::momentum;
  config.form = OptimizerConfig::MomentumForm::ema;
  CHECK_FALSE(castnet::Optimizer<edge_single::Model>(config).fusable());
}

TEST_CASE("fused update: a loss that is not finite updates nothing") {
  using M = edge_single::Model;
  OptimizerConfig config;
  castnet::Optimizer<M> opt(config);
  castnet::test::ModelState<M> s(3);
  s.x[0] = std::numeric_limits<float>::quiet_NaN();
  const auto before = std::make_unique<M::Params>(*s.params);
  const float loss = M::train_step_update(*s.params, *s.ws, s.x.data(), s.target.data(), *s.grads, nullptr,
                                          opt.fused(0.1), M::kBatch, 0, 0);
  CHECK(std::isnan(loss));
  check_tensors<M>(*s.params, *before, "weights");
}

TEST_CASE("fused update: MLP with a kernel and a straight-line layer") { fused_matches_every_rule<act_relu::Model>(); }
TEST_CASE("fused update: wide layers") { fused_matches_every_rule<edge_wide::Model>(); }
TEST_CASE("fused update: batch of one") { fused_matches_every_rule<edge_narrow_batch1::Model>(); }
TEST_CASE("fused update: dropout") { fused_matches_every_rule<edge_dropout::Model>(); }
TEST_CASE("fused update: double") { fused_matches_every_rule<act_tanh_f64::Model>(); }
TEST_CASE("fused update: MNIST ConvNet") { fused_matches_every_rule<mnist_cnn::Model>(); }
TEST_CASE("fused update: residual MLP") { fused_matches_every_rule<residual_mlp::Model>(); }

#define CASTNET_FUSED_CASE(name, tolerance) \
  TEST_CASE("fused update: " #name) { fused_matches_every_rule<name::Model>(); }
CASTNET_GRAPH_CASES(CASTNET_FUSED_CASE)
#undef CASTNET_FUSED_CASE

}  // namespace
