// Initialisation and the random numbers under it: reference vectors of the generators, accuracy of
// the hand-written log and cos, determinism, per-tensor streams, the distributions' parameters.
#include <castnet/train/init.hpp>
#include <castnet/rng.hpp>

#include <catch2/catch.hpp>
#include <support/tiny_model.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

namespace {

using castnet::Init;
using castnet::Loss;

template <class M>
std::vector<unsigned char> bytes_of(const typename M::Params& p) {
  std::vector<unsigned char> out(sizeof p);
  std::memcpy(out.data(), &p, sizeof p);
  return out;
}

template <class M>
std::unique_ptr<typename M::Params> initialised(std::uint64_t seed) {
  auto p = std::make_unique<typename M::Params>();
  castnet::init_params<M>(*p, seed);
  return p;
}

}  // namespace

TEST_CASE("init: splitmix64 and xoshiro256** match reference implementations", "[init]") {
  castnet::rng::SplitMix64 sm(0);
  CHECK(sm.next() == 0xE220A8397B1DCDAFu);  // splitmix64.c (Vigna), seed 0
  // Outputs of an independent implementation (a few lines of Python following xoshiro256starstar.c
  // and splitmix64.c) for stream = seed ^ mix(stream) seeding, seed 42, streams 0 and 2^32 + 3.
  castnet::rng::Xoshiro256ss a(42, 0);
  CHECK(a.next() == 0x15780B2E0C2EC716u);
  CHECK(a.next() == 0x6104D9866D113A7Eu);
  CHECK(a.next() == 0xAE17533239E499A1u);
  castnet::rng::Xoshiro256ss b(42, castnet::rng::kShuffleStream + 3);
  CHECK(b.next() == 0x636F86B36B792048u);
  CHECK(b.next() == 0xDB3639F1E83B148Eu);
}

TEST_CASE("init: the hand-written log and cos agree with libm to about one ulp", "[init]") {
  castnet::rng::Xoshiro256ss draw(7, 0);
  for (int i = 0; i < 100000; ++i) {
    const double u = 1.0 - draw.uniform();
    const double t = draw.uniform();
    const double log_u = std::log(u);
    REQUIRE(std::abs(castnet::rng::detail::log(u) - log_u) <= 1e-15 * std::abs(log_u));
    REQUIRE(std::abs(castnet::rng::detail::cos_2pi(t) - std::cos(2 * M_PI * t)) <= 2e-15);
  }
  CHECK(castnet::rng::detail::log(1.0) == 0.0);
  CHECK(castnet::rng::detail::cos_2pi(0.0) == 1.0);
  CHECK(castnet::rng::detail::cos_2pi(0.5) == -1.0);
}

TEST_CASE("init: uniform, below and normal have the right ranges and moments", "[init]") {
  castnet::rng::Xoshiro256ss draw(1, 0);
  constexpr int kN = 200000;
  double sum = 0, sum2 = 0;
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < kN; ++i) {
    const double u = draw.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    const auto k = draw.below(3);
    REQUIRE(k < 3);
    ++counts[k];
    const double z = draw.normal();
    sum += z;
    sum2 += z * z;
  }
  for (const int c : counts) CHECK(std::abs(c - kN / 3) < kN / 100);
  CHECK(std::abs(sum / kN) < 0.01);
  CHECK(std::abs(sum2 / kN - 1.0) < 0.02);
}

TEST_CASE("init: the same seed gives identical bytes, another seed different ones", "[init]") {
  using M = castnet_test::LinearModel<16, 8, Loss::mse, Init::he_normal>;
  CHECK(bytes_of<M>(*initialised<M>(42)) == bytes_of<M>(*initialised<M>(42)));
  CHECK(bytes_of<M>(*initialised<M>(42)) != bytes_of<M>(*initialised<M>(43)));
}

TEST_CASE("init: values are pinned, so a change to the generators is noticed", "[init]") {
  // Changing these changes every model's initial weights: do it deliberately, never by accident.
  using M = castnet_test::LinearModel<4, 1, Loss::mse, Init::he_normal, double>;
  const auto p = initialised<M>(42);
  // Checked identical with g++ 12 and clang++ 14, with and without FMA (-march=native/x86-64).
  const std::array<double, 4> pinned{-0x1.b72bfcf86dc42p-3, 0x1.e683070add8d6p-1,
                                     0x1.15a7ef4f34f08p-2, 0x1.53377532865b8p-1};
  for (std::size_t i = 0; i < 4; ++i) CHECK(p->weight[i] == pinned[i]);
}

TEST_CASE("init: each tensor has its own stream, independent of the other tensors", "[init]") {
  using Small = castnet_test::LinearModel<16, 8, Loss::mse, Init::he_normal>;
  const auto p = initialised<Small>(5);
  // Tensor 0 filled alone from (seed 5, index 0) gives the bytes init_params gave it: its values
  // depend on nothing else in the model, so adding a later layer cannot change them.
  std::vector<float> alone(Small::kTensors[0].size);
  castnet::init_tensor(std::span(alone), Small::kTensors[0], 5, 0);
  CHECK(std::memcmp(alone.data(), p->weight.data(), alone.size() * sizeof(float)) == 0);
  // And a different index draws a different sequence.
  castnet::init_tensor(std::span(alone), Small::kTensors[0], 5, 1);
  CHECK(std::memcmp(alone.data(), p->weight.data(), alone.size() * sizeof(float)) != 0);
}

TEST_CASE("init: he_normal has mean 0 and std sqrt(2 / fan_in)", "[init]") {
  using M = castnet_test::LinearModel<256, 128, Loss::mse, Init::he_normal>;
  const auto p = initialised<M>(2024);
  double sum = 0, sum2 = 0;
  for (const float w : p->weight) {
    sum += w;
    sum2 += static_cast<double>(w) * w;
  }
  const double n = static_cast<double>(p->weight.size());
  const double mean = sum / n;
  const double std = std::sqrt(sum2 / n - mean * mean);
  const double expected = std::sqrt(2.0 / 256.0);
  CHECK(std::abs(mean) < 3 * expected / std::sqrt(n));
  CHECK(std::abs(std - expected) < 0.05 * expected);
}

TEST_CASE("init: glorot_uniform stays within +-sqrt(6 / (fan_in + fan_out)) and fills it",
          "[init]") {
  using M = castnet_test::LinearModel<64, 32, Loss::mse, Init::glorot_uniform>;
  const auto p = initialised<M>(9);
  const auto a = static_cast<float>(std::sqrt(6.0 / (64 + 32)));
  float low = 0, high = 0;
  for (const float w : p->weight) {
    REQUIRE(std::abs(w) <= a);
    low = std::min(low, w);
    high = std::max(high, w);
  }
  CHECK(low < -0.99f * a);
  CHECK(high > 0.99f * a);
}

TEST_CASE("init: zeros overwrites whatever was there", "[init]") {
  using M = castnet_test::TinyModel;
  auto p = std::make_unique<M::Params>();
  p->bias.fill(123.0f);
  castnet::init_params<M>(*p, 1);
  CHECK(p->bias[0] == 0.0f);
  CHECK(p->weight[0] != 0.0f);
}

// The basis activations start as SiLU: the fit, evaluated through the kernels' basis, is close to
// x·sigmoid(x) over the whole range, at points between the fitted samples too; every row of the
// tensor is the same fit. Past the range the activation goes on along its tangent, which for SiLU
// (nearly linear past ±3) stays close.
TEST_CASE("init: silu_rbf and silu_bspline fit SiLU over their range, the same for every feature", "[init]") {
  using castnet::basis::Kind;
  const auto check_fit = [](Init init, Kind kind, double tolerance, double outside_tolerance) {
    constexpr std::size_t kCount = 8, kFeatures = 3;
    castnet::TensorInfo info{"act.coef", {kFeatures, kCount, 0, 0}, 2, kFeatures * kCount, init, kCount, 1, -3.0, 3.0};
    std::vector<double> coef(kFeatures * kCount);
    castnet::init_tensor(std::span(coef), info, 1, 0);
    for (std::size_t i = kCount; i < coef.size(); ++i) REQUIRE(coef[i] == coef[i % kCount]);
    const double inv_h = castnet::basis::inverse_step(kind, kCount, -3.0, 3.0);
    double worst = 0, worst_outside = 0;
    for (int j = 0; j <= 800; ++j) {
      const double x = -4.0 + j * 0.01;
      double value[kCount], slope[kCount];
      const std::size_t k0 = kind == Kind::rbf ? castnet::basis::eval<Kind::rbf>(kCount, x, -3.0, inv_h, value, slope)
                                               : castnet::basis::eval<Kind::bspline>(kCount, x, -3.0, inv_h, value, slope);
      double f = 0;
      for (std::size_t k = 0; k < castnet::basis::width(kind, kCount); ++k) f += coef[k0 + k] * value[k];
      const double error = std::abs(f - x / (1 + std::exp(-x)));
      double& w = std::abs(x) <= 3.0 ? worst : worst_outside;
      w = std::max(w, error);
    }
    CHECK(worst < tolerance);
    CHECK(worst_outside < outside_tolerance);
  };
  SECTION("rbf") { check_fit(Init::silu_rbf, Kind::rbf, 0.005, 0.06); }
  SECTION("bspline") { check_fit(Init::silu_bspline, Kind::bspline, 0.005, 0.06); }
}

TEST_CASE("init: ones, uniform_fan_in and kan_spline", "[init]") {
  std::vector<float> v(4000);
  castnet::TensorInfo ones{"s.a", {4000, 0, 0, 0}, 1, 4000, Init::ones, 1, 1};
  castnet::init_tensor(std::span(v), ones, 3, 0);
  for (const float x : v) REQUIRE(x == 1.0f);
  // U(-a, a): within a and reaching near both ends.
  const auto check_uniform = [&](const castnet::TensorInfo& info, double a) {
    castnet::init_tensor(std::span(v), info, 3, 1);
    float low = 0, high = 0;
    for (const float x : v) {
      REQUIRE(std::abs(x) <= a);
      low = std::min(low, x);
      high = std::max(high, x);
    }
    CHECK(low < -0.99 * a);
    CHECK(high > 0.99 * a);
  };
  check_uniform({"k.base_weight", {40, 100, 0, 0}, 2, 4000, Init::uniform_fan_in, 100, 40}, 0.1);
  check_uniform({"k.spline_weight", {40, 10, 10, 0}, 3, 4000, Init::kan_spline, 10, 40}, 0.01);
}
