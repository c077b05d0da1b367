// castnet::Optimizer against torch.optim.SGD's update rules written out by hand for three steps,
// on the hand-written linear model (double precision, so the expected values are computed with
// the very same operations and must agree to the last bits).
#include <castnet/optimizer.hpp>

#include <catch2/catch.hpp>
#include <support/tiny_model.hpp>

#include <array>
#include <memory>

namespace {

using Model = castnet_test::LinearModel<2, 1, castnet::Loss::mse, castnet::Init::glorot_uniform,
                                        double>;

constexpr std::size_t kValues = 3;  // fc.weight (2) then fc.bias (1)

struct State {
  std::unique_ptr<Model::Params> params = std::make_unique<Model::Params>();
  std::unique_ptr<Model::Grads> grads = std::make_unique<Model::Grads>();
};

void set(Model::Params& p, const std::array<double, kValues>& v) {
  p.weight = {v[0], v[1]};
  p.bias = {v[2]};
}
void set(Model::Grads& g, const std::array<double, kValues>& v) {
  g.weight = {v[0], v[1]};
  g.bias = {v[2]};
}
std::array<double, kValues> values(const Model::Params& p) {
  return {p.weight[0], p.weight[1], p.bias[0]};
}

// Gradients of three steps: signs and magnitudes vary so that a wrong rule cannot match by luck.
constexpr std::array<std::array<double, kValues>, 3> kGrads{{
    {0.5, -1.25, 2.0},
    {-0.75, 0.125, 1.5},
    {0.25, 3.0, -0.5},
}};
constexpr std::array<double, kValues> kStart{1.0, -2.0, 0.5};

}  // namespace

TEST_CASE("optimizer: sgd is p -= lr * g", "[optimizer]") {
  const double lr = 0.1;
  State s;
  set(*s.params, kStart);
  castnet::Optimizer<Model> opt({castnet::OptimizerConfig::Kind::sgd, lr, 0.0});
  std::array<double, kValues> expected = kStart;
  for (const auto& g : kGrads) {
    set(*s.grads, g);
    opt.step(*s.params, *s.grads);
    for (std::size_t j = 0; j < kValues; ++j) expected[j] = expected[j] - lr * g[j];
    const auto got = values(*s.params);
    for (std::size_t j = 0; j < kValues; ++j) CHECK(got[j] == Approx(expected[j]).epsilon(1e-15));
  }
}

TEST_CASE("optimizer: momentum follows torch.optim.SGD (v = g, then v = mu v + g)",
          "[optimizer]") {
  const double lr = 0.05, mu = 0.9;
  State s;
  set(*s.params, kStart);
  castnet::Optimizer<Model> opt({castnet::OptimizerConfig::Kind::momentum, lr, mu});
  // Step by step, as the torch documentation writes it.
  std::array<double, kValues> v1, v2, v3, p1, p2, p3;
  for (std::size_t j = 0; j < kValues; ++j) {
    v1[j] = kGrads[0][j];
    p1[j] = kStart[j] - lr * v1[j];
    v2[j] = mu * v1[j] + kGrads[1][j];
    p2[j] = p1[j] - lr * v2[j];
    v3[j] = mu * v2[j] + kGrads[2][j];
    p3[j] = p2[j] - lr * v3[j];
  }
  const std::array<std::array<double, kValues>, 3> expected{p1, p2, p3};
  for (std::size_t step = 0; step < 3; ++step) {
    set(*s.grads, kGrads[step]);
    opt.step(*s.params, *s.grads);
    const auto got = values(*s.params);
    for (std::size_t j = 0; j < kValues; ++j) {
      INFO("step " << step + 1 << " value " << j);
      CHECK(got[j] == Approx(expected[step][j]).epsilon(1e-15));
    }
  }
}

TEST_CASE("optimizer: momentum 0 is plain sgd", "[optimizer]") {
  State a, b;
  set(*a.params, kStart);
  set(*b.params, kStart);
  castnet::Optimizer<Model> sgd({castnet::OptimizerConfig::Kind::sgd, 0.2, 0.0});
  castnet::Optimizer<Model> momentum({castnet::OptimizerConfig::Kind::momentum, 0.2, 0.0});
  for (const auto& g : kGrads) {
    set(*a.grads, g);
    set(*b.grads, g);
    sgd.step(*a.params, *a.grads);
    momentum.step(*b.params, *b.grads);
  }
  CHECK(values(*a.params) == values(*b.params));
}

TEST_CASE("optimizer: a float model rounds lr to float, like torch", "[optimizer]") {
  using FloatModel = castnet_test::TinyModel;
  auto p = std::make_unique<FloatModel::Params>();
  auto g = std::make_unique<FloatModel::Grads>();
  p->weight = {1.0f, -2.0f};
  p->bias = {0.5f};
  g->weight = {0.3f, 0.7f};
  g->bias = {-0.1f};
  castnet::Optimizer<FloatModel> opt({castnet::OptimizerConfig::Kind::sgd, 0.1, 0.0});
  opt.step(*p, *g);
  // One ulp of slack: with FMA contraction p - lr * g may be computed with a single rounding.
  const float lr = 0.1f;
  CHECK_THAT(p->weight[0], Catch::Matchers::WithinULP(1.0f - lr * 0.3f, 1));
  CHECK_THAT(p->weight[1], Catch::Matchers::WithinULP(-2.0f - lr * 0.7f, 1));
  CHECK_THAT(p->bias[0], Catch::Matchers::WithinULP(0.5f - lr * -0.1f, 1));
}
