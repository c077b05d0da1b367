// Checks the losses against hand-computed values, their gradients against central finite
// differences of the loss itself in double, the zeroed padding rows of a short batch, and that
// logits of ±1000 give finite, correct losses and gradients.
#include <castnet/kernels/losses.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace cl = castnet::losses;

namespace {

template <class T>
using LossFn = T (*)(const T*, const T*, T*, std::size_t);

// dL/dy[k] for every row below n against (L(y + h·e_k) - L(y - h·e_k)) / 2h.
template <std::size_t B, std::size_t N>
void check_gradient(LossFn<double> loss, std::vector<double> y, const std::vector<double>& target, std::size_t n) {
  std::vector<double> dy(B * N, 99.0);
  loss(y.data(), target.data(), dy.data(), n);
  constexpr double h = 1e-6;
  for (std::size_t k = 0; k < n * N; ++k) {
    const double saved = y[k];
    y[k] = saved + h;
    const double up = loss(y.data(), target.data(), nullptr, n);
    y[k] = saved - h;
    const double down = loss(y.data(), target.data(), nullptr, n);
    y[k] = saved;
    INFO("element " << k);
    REQUIRE(dy[k] == Approx((up - down) / (2 * h)).epsilon(1e-6).margin(1e-9));
  }
  for (std::size_t k = n * N; k < B * N; ++k) REQUIRE(dy[k] == 0.0);
}

std::vector<double> random_values(std::size_t count, double lo, double hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(count);
  for (auto& e : v) e = dist(rng);
  return v;
}

}  // namespace

TEST_CASE("losses: mse values") {
  // rows 0-1 real, row 2 padding: differences 1, -2, 0.5, 0 -> (1 + 4 + 0.25 + 0)/4
  const std::vector<float> y = {1.f, 0.f, 2.f, 3.f, 50.f, 50.f};
  const std::vector<float> t = {0.f, 2.f, 1.5f, 3.f, 0.f, 0.f};
  std::vector<float> dy(6, 99.f);
  CHECK(cl::mse<float, 3, 2>(y.data(), t.data(), dy.data(), 2) == Approx(1.3125f));
  CHECK(dy == std::vector<float>{0.5f, -1.f, 0.25f, 0.f, 0.f, 0.f});  // 2(y - t)/4
  CHECK(cl::mse<float, 3, 2>(y.data(), t.data(), nullptr, 2) == Approx(1.3125f));
}

TEST_CASE("losses: binary_cross_entropy values") {
  // Per element max(z, 0) - z·t + log(1 + e^-|z|):
  //   z = 0:             log 2 whatever t
  //   z = 2,  t = 1:     log(1 + e^-2)
  //   z = -3, t = 0.25:  0.75 + log(1 + e^-3)
  //   z = 7,  t = 0:     7 + log(1 + e^-7)
  // The third row is padding and must not count.
  const std::vector<double> z = {0.0, 2.0, -3.0, 7.0, 100.0, -100.0};
  const std::vector<double> t = {1.0, 1.0, 0.25, 0.0, 0.0, 1.0};
  std::vector<double> dy(6, 99.0);
  const double want =
      (std::log(2.0) + std::log1p(std::exp(-2.0)) + 0.75 + std::log1p(std::exp(-3.0)) + 7.0 + std::log1p(std::exp(-7.0))) /
      4.0;
  CHECK(cl::binary_cross_entropy<double, 3, 2>(z.data(), t.data(), dy.data(), 2) == Approx(want).epsilon(1e-14));
  CHECK(dy[0] == Approx((0.5 - 1.0) / 4.0));  // (σ(z) - t)/4
  CHECK(dy[3] == Approx((1.0 / (1.0 + std::exp(-7.0))) / 4.0));
  CHECK(dy[4] == 0.0);
  CHECK(dy[5] == 0.0);
}

TEST_CASE("losses: softmax_cross_entropy values") {
  // Row 0: uniform logits over 3 classes -> log 3. Row 1: logits (0, ln 2, 0), class 1 -> log 2.
  const std::vector<double> z = {5.0, 5.0, 5.0, 0.0, std::log(2.0), 0.0, 9.0, 9.0, 9.0};
  const std::vector<double> t = {2.0, 1.0, 0.0};
  std::vector<double> dy(9, 99.0);
  CHECK(cl::softmax_cross_entropy<double, 3, 3>(z.data(), t.data(), dy.data(), 2) ==
        Approx((std::log(3.0) + std::log(2.0)) / 2.0).epsilon(1e-14));
  CHECK(dy[0] == Approx(1.0 / 6.0));
  CHECK(dy[2] == Approx((1.0 / 3.0 - 1.0) / 2.0));
  CHECK(dy[4] == Approx((0.5 - 1.0) / 2.0));
  CHECK(dy[3] == Approx(0.25 / 2.0));
  for (std::size_t k = 6; k < 9; ++k) CHECK(dy[k] == 0.0);
}

TEST_CASE("losses: gradients match finite differences") {
  constexpr std::size_t B = 5, N = 7;
  const auto y = random_values(B * N, -3.0, 3.0, 1);
  const auto t_real = random_values(B * N, -1.0, 1.0, 2);
  const auto t_prob = random_values(B * N, 0.0, 1.0, 3);
  std::vector<double> t_class(B);
  for (std::size_t r = 0; r < B; ++r) t_class[r] = static_cast<double>((3 * r + 1) % N);
  for (const std::size_t n : {std::size_t{1}, std::size_t{3}, B}) {
    INFO("n = " << n);
    check_gradient<B, N>(cl::mse<double, B, N>, y, t_real, n);
    check_gradient<B, N>(cl::binary_cross_entropy<double, B, N>, y, t_prob, n);
    check_gradient<B, N>(cl::softmax_cross_entropy<double, B, N>, y, t_class, n);
  }
}

TEST_CASE("losses: float gradients agree with double") {
  constexpr std::size_t B = 4, N = 6;
  const auto y = random_values(B * N, -4.0, 4.0, 5);
  const auto t = random_values(B * N, 0.0, 1.0, 6);
  const std::vector<double> cls = {0.0, 5.0, 2.0, 3.0};
  const std::vector<float> y_f(y.begin(), y.end()), t_f(t.begin(), t.end()), cls_f(cls.begin(), cls.end());
  std::vector<double> dy(B * N);
  std::vector<float> dy_f(B * N);
  const auto compare = [&](double l, float l_f) {
    REQUIRE(l_f == Approx(l).epsilon(1e-6));
    for (std::size_t k = 0; k < B * N; ++k) REQUIRE(dy_f[k] == Approx(dy[k]).epsilon(1e-5).margin(1e-7));
  };
  compare(cl::mse<double, B, N>(y.data(), t.data(), dy.data(), 3),
          cl::mse<float, B, N>(y_f.data(), t_f.data(), dy_f.data(), 3));
  compare(cl::binary_cross_entropy<double, B, N>(y.data(), t.data(), dy.data(), 3),
          cl::binary_cross_entropy<float, B, N>(y_f.data(), t_f.data(), dy_f.data(), 3));
  compare(cl::softmax_cross_entropy<double, B, N>(y.data(), cls.data(), dy.data(), 3),
          cl::softmax_cross_entropy<float, B, N>(y_f.data(), cls_f.data(), dy_f.data(), 3));
}

TEST_CASE("losses: stable for logits of +-1000") {
  const std::vector<float> z = {1000.f, -1000.f, -1000.f, 1000.f};
  std::vector<float> dy(4);

  const std::vector<float> t = {1.f, 0.f, 1.f, 0.f};  // two confident hits, two confident misses
  const float bce = cl::binary_cross_entropy<float, 1, 4>(z.data(), t.data(), dy.data(), 1);
  CHECK(bce == Approx(500.f));  // (0 + 0 + 1000 + 1000)/4
  CHECK(dy == std::vector<float>{0.f, 0.f, -0.25f, 0.25f});

  // Row 0 = (1000, -1000) names the wrong class by 2000; row 1 = (-1000, 1000) the right one.
  const std::vector<float> cls = {1.f, 1.f};
  std::vector<float> dy2(4);
  const float ce = cl::softmax_cross_entropy<float, 2, 2>(z.data(), cls.data(), dy2.data(), 2);
  CHECK(ce == Approx(1000.f));  // (2000 + 0)/2
  CHECK(dy2 == std::vector<float>{0.5f, -0.5f, 0.f, 0.f});

  const float ce_tied = cl::softmax_cross_entropy<float, 1, 4>(z.data(), cls.data(), dy.data(), 1);
  CHECK(std::isfinite(ce_tied));
  CHECK(ce_tied == Approx(std::log(2.f) + 2000.f));  // class 1 is at -1000, two logits tie at 1000
}

TEST_CASE("losses: padding rows and empty batches") {
  const std::vector<double> y(6, 1.0), t(6, 0.0);
  std::vector<double> dy(6, 99.0);
  CHECK(cl::mse<double, 3, 2>(y.data(), t.data(), dy.data(), 0) == 0.0);
  CHECK(dy == std::vector<double>(6, 0.0));
  dy.assign(6, 99.0);
  CHECK(cl::binary_cross_entropy<double, 3, 2>(y.data(), t.data(), dy.data(), 1) ==
        Approx(1.0 + std::log1p(std::exp(-1.0))));
  for (std::size_t k = 2; k < 6; ++k) CHECK(dy[k] == 0.0);
}

TEST_CASE("losses: out-of-range class indices are clamped") {
  const std::vector<double> z = {1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0};
  const std::vector<double> bad = {-4.0, 17.0, NAN};
  const std::vector<double> clamped = {0.0, 2.0, 0.0};
  std::vector<double> dy_bad(9), dy_clamped(9);
  const double l_bad = cl::softmax_cross_entropy<double, 3, 3>(z.data(), bad.data(), dy_bad.data(), 3);
  const double l_clamped = cl::softmax_cross_entropy<double, 3, 3>(z.data(), clamped.data(), dy_clamped.data(), 3);
  CHECK(l_bad == l_clamped);
  CHECK(dy_bad == dy_clamped);
}
