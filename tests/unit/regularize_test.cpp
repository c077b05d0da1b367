// castnet::add_l2 and castnet::clip_grad_norm on the hand-written linear model.
#include <castnet/train/regularize.hpp>

#include <catch2/catch.hpp>
#include <support/tiny_model.hpp>

#include <cmath>
#include <memory>

namespace {

// fc.weight [2, 3] (rank 2) and fc.bias [2] (rank 1).
using Model = castnet_test::LinearModel<3, 2, castnet::Loss::mse, castnet::Init::glorot_uniform,
                                        double>;
using FloatModel = castnet_test::LinearModel<3, 2, castnet::Loss::mse>;

template <class Mod>
struct State {
  std::unique_ptr<typename Mod::Params> p = std::make_unique<typename Mod::Params>();
  std::unique_ptr<typename Mod::Grads> g = std::make_unique<typename Mod::Grads>();
  State() {
    p->weight = {1, -2, 3, 0.5, -0.25, 2};
    p->bias = {10, -20};  // large: a penalty that included them would be obvious
    g->weight = {0.1, 0.2, -0.3, 0.4, 0.0, -0.6};
    g->bias = {1.5, -2.5};
  }
};

}  // namespace

TEST_CASE("add_l2: lambda/2 sum W^2 over weights only, lambda W added to their gradient",
          "[regularize]") {
  State<Model> s;
  const double lambda = 0.01;
  const double sum_w2 = 1 + 4 + 9 + 0.25 + 0.0625 + 4;
  const double penalty = castnet::add_l2<Model>(*s.p, *s.g, lambda);
  CHECK(penalty == Approx(lambda / 2 * sum_w2).epsilon(1e-15));
  const std::array<double, 6> w{1, -2, 3, 0.5, -0.25, 2};
  const std::array<double, 6> g0{0.1, 0.2, -0.3, 0.4, 0.0, -0.6};
  for (std::size_t j = 0; j < 6; ++j) CHECK(s.g->weight[j] == Approx(g0[j] + lambda * w[j]));
  // The bias and its gradient are untouched.
  CHECK(s.g->bias[0] == 1.5);
  CHECK(s.g->bias[1] == -2.5);
  CHECK(s.p->bias[0] == 10);
  // The parameters themselves are untouched.
  CHECK(s.p->weight[2] == 3);
}

TEST_CASE("add_l2: lambda 0 adds nothing", "[regularize]") {
  State<Model> s;
  const auto before = *s.g;
  CHECK(castnet::add_l2<Model>(*s.p, *s.g, 0.0) == 0.0);
  CHECK(s.g->weight == before.weight);
  CHECK(s.g->bias == before.bias);
}

TEST_CASE("add_l2: a float model accumulates the penalty in double", "[regularize]") {
  State<FloatModel> s;
  const double penalty = castnet::add_l2<FloatModel>(*s.p, *s.g, 0.5);
  CHECK(penalty == Approx(0.25 * (1 + 4 + 9 + 0.25 + 0.0625 + 4)).epsilon(1e-15));
  CHECK(s.g->weight[0] == Approx(0.1f + 0.5f));
}

TEST_CASE("clip_grad_norm: scales every gradient to max_norm when the norm exceeds it",
          "[regularize]") {
  State<Model> s;
  const double norm = std::sqrt(0.01 + 0.04 + 0.09 + 0.16 + 0.36 + 2.25 + 6.25);
  const auto before = *s.g;
  const double max_norm = 1.0;
  CHECK(castnet::clip_grad_norm<Model>(*s.g, max_norm) == Approx(norm).epsilon(1e-15));
  const double coef = max_norm / (norm + 1e-6);  // torch.nn.utils.clip_grad_norm_
  for (std::size_t j = 0; j < 6; ++j) CHECK(s.g->weight[j] == Approx(before.weight[j] * coef));
  for (std::size_t j = 0; j < 2; ++j) CHECK(s.g->bias[j] == Approx(before.bias[j] * coef));
  // The clipped gradient's norm is max_norm (less torch's 1e-6 guard).
  double sum = 0;
  for (double x : s.g->weight) sum += x * x;
  for (double x : s.g->bias) sum += x * x;
  CHECK(std::sqrt(sum) == Approx(max_norm).epsilon(1e-5));
  CHECK(std::sqrt(sum) < max_norm);
}

TEST_CASE("clip_grad_norm: leaves gradients below max_norm alone", "[regularize]") {
  State<Model> s;
  const auto before = *s.g;
  const double norm = castnet::clip_grad_norm<Model>(*s.g, 100.0);
  CHECK(norm == Approx(std::sqrt(9.16)).epsilon(1e-15));
  CHECK(s.g->weight == before.weight);
  CHECK(s.g->bias == before.bias);
}

TEST_CASE("clip_grad_norm: a float model", "[regularize]") {
  State<FloatModel> s;
  const double norm = castnet::clip_grad_norm<FloatModel>(*s.g, 0.5);
  CHECK(norm == Approx(std::sqrt(9.16)).epsilon(1e-6));
  double sum = 0;
  for (float x : s.g->weight) sum += static_cast<double>(x) * x;
  for (float x : s.g->bias) sum += static_cast<double>(x) * x;
  CHECK(std::sqrt(sum) == Approx(0.5).epsilon(1e-5));
}
