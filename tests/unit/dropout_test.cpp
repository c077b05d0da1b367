// Dropout's runtime kernels: the share of dropped values is the rate, survivors are scaled by
// 1 / (1 - rate), the mask is a function of (key, layer, index) only, and backward applies it.
#include <catch2/catch.hpp>

#include <castnet/kernels/dropout.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

namespace {

constexpr std::size_t kN = 1 << 16;

double dropped_share(const std::vector<float>& mask) {
  std::size_t zeros = 0;
  for (float m : mask) zeros += m == 0.0f;
  return static_cast<double>(zeros) / static_cast<double>(mask.size());
}

}  // namespace

TEST_CASE("dropout: drops the rate's share and scales the rest by 1 / (1 - rate)", "[dropout]") {
  for (const double rate : {0.0, 0.1, 0.5, 0.9}) {
    std::vector<float> x(kN, 2.0f), out(kN), mask(kN);
    castnet::dropout_forward<float, kN>(x.data(), out.data(), mask.data(), rate, 42, 3);
    // binomial standard deviation at n = 65536 is at most 0.002
    CHECK(std::abs(dropped_share(mask) - rate) < 0.01);
    const float scale = static_cast<float>(1.0 / (1.0 - rate));
    for (std::size_t i = 0; i < kN; ++i) {
      REQUIRE((mask[i] == 0.0f || mask[i] == scale));
      REQUIRE(out[i] == 2.0f * mask[i]);
    }
  }
}

TEST_CASE("dropout: the mask depends on the key and the layer, and on nothing else", "[dropout]") {
  std::vector<float> x(kN, 1.0f), out(kN), a(kN), b(kN), c(kN), d(kN);
  castnet::dropout_forward<float, kN>(x.data(), out.data(), a.data(), 0.5, 7, 1);
  castnet::dropout_forward<float, kN>(x.data(), out.data(), b.data(), 0.5, 7, 1);
  castnet::dropout_forward<float, kN>(x.data(), out.data(), c.data(), 0.5, 8, 1);
  castnet::dropout_forward<float, kN>(x.data(), out.data(), d.data(), 0.5, 7, 2);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != d);
  // Masks of different keys are independent: they agree on about half the values.
  std::size_t same = 0;
  for (std::size_t i = 0; i < kN; ++i) same += a[i] == c[i];
  CHECK(std::abs(static_cast<double>(same) / kN - 0.5) < 0.01);
  // Consecutive step keys (the trainer's) give independent masks too.
  castnet::dropout_forward<float, kN>(x.data(), out.data(), c.data(), 0.5, castnet::rng::step_key(1, 0), 1);
  castnet::dropout_forward<float, kN>(x.data(), out.data(), d.data(), 0.5, castnet::rng::step_key(1, 1), 1);
  same = 0;
  for (std::size_t i = 0; i < kN; ++i) same += c[i] == d[i];
  CHECK(std::abs(static_cast<double>(same) / kN - 0.5) < 0.01);
}

TEST_CASE("dropout: backward multiplies by the mask, and inference is the identity with a mask of ones",
          "[dropout]") {
  std::array<double, 8> x{1, -2, 3, -4, 5, -6, 7, -8}, out{}, mask{}, dx{};
  castnet::dropout_forward<double, 8>(x.data(), out.data(), mask.data(), 0.5, 99, 0);
  const std::array<double, 8> dout{1, 1, 1, 1, 2, 2, 2, 2};
  castnet::dropout_backward<double, 8>(dout.data(), mask.data(), dx.data());
  for (std::size_t i = 0; i < 8; ++i) CHECK(dx[i] == dout[i] * mask[i]);
  castnet::dropout_identity<double, 8>(x.data(), out.data(), mask.data());
  CHECK(out == x);
  for (double m : mask) CHECK(m == 1.0);
}
