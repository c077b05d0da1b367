// Checks every activation: forward against the textbook scalar formula in double (PyTorch's
// definitions), backward against central finite differences of the forward itself in double,
// softmax's normalisation and Jacobian, and that extreme inputs stay finite in float. Array
// lengths are chosen to leave partial vectors for every SIMD width.
#include <castnet/kernels/activation.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

using castnet::Act;

namespace {

constexpr std::size_t rows = 3;
constexpr std::size_t cols = 13;  // 39 values: full vectors plus a tail at every width
constexpr std::size_t count = rows * cols;

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// PyTorch's definitions, written directly.
double reference(Act act, double z, double alpha) {
  switch (act) {
    case Act::identity: return z;
    case Act::relu: return z > 0 ? z : 0.0;
    case Act::leaky_relu: return z > 0 ? z : alpha * z;
    case Act::elu: return z > 0 ? z : alpha * (std::exp(z) - 1.0);
    case Act::gelu: return 0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0)));
    case Act::silu: return z * sigmoid(z);
    case Act::tanh: return std::tanh(z);
    case Act::sigmoid: return sigmoid(z);
    case Act::softplus: return alpha * z > 20 ? z : std::log1p(std::exp(alpha * z)) / alpha;
    case Act::softmax: break;
  }
  return NAN;
}

// Points in [-6, 6] plus exact kinks and the softplus threshold neighbourhood.
std::vector<double> sample_points() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> dist(-6.0, 6.0);
  std::vector<double> z(count);
  for (auto& v : z) v = dist(rng);
  z[0] = 0.0;
  z[1] = -0.0;
  z[2] = 1e-7;
  z[3] = 9.9;  // βz just below 20 for β = 2
  z[4] = 10.1;  // just above
  return z;
}

// Rows = 3 runs on the default batch, Rows = 1 (one sample) on simd::narrow_vec: both are checked.
template <Act A, std::size_t Rows>
void check_forward_rows(double alpha) {
  INFO("rows = " << Rows);
  const auto z = sample_points();
  std::vector<double> a_d(count);
  castnet::activation_forward<A, double, Rows, count / Rows>(z.data(), a_d.data(), alpha);
  std::vector<float> z_f(z.begin(), z.end()), a_f(count);
  castnet::activation_forward<A, float, Rows, count / Rows>(z_f.data(), a_f.data(), static_cast<float>(alpha));
  for (std::size_t k = 0; k < count; ++k) {
    INFO("z = " << z[k]);
    const double want = reference(A, z[k], alpha);
    REQUIRE(a_d[k] == Approx(want).epsilon(1e-13).margin(1e-14));
    const double want_f = reference(A, static_cast<double>(z_f[k]), alpha);
    REQUIRE(a_f[k] == Approx(want_f).epsilon(2e-6).margin(2e-7));
  }
}

template <Act A>
void check_forward(double alpha) {
  check_forward_rows<A, rows>(alpha);
  check_forward_rows<A, 1>(alpha);
}

// Whether the forward is non-differentiable within h of z.
bool near_kink(Act act, double z, double alpha, double h) {
  switch (act) {
    case Act::relu:
    case Act::leaky_relu:
    case Act::elu: return std::abs(z) < h;
    case Act::softplus: return std::abs(alpha * z - 20.0) < alpha * h;
    default: return false;
  }
}

template <Act A>
void check_backward(double alpha) {
  const auto z = sample_points();
  std::vector<double> a(count), da(count), dz(count);
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (auto& v : da) v = dist(rng);
  castnet::activation_forward<A, double, rows, cols>(z.data(), a.data(), alpha);
  castnet::activation_backward<A, double, rows, cols>(z.data(), a.data(), da.data(), dz.data(), alpha);

  constexpr double h = 1e-6;
  for (std::size_t k = 0; k < count; ++k) {
    if (near_kink(A, z[k], alpha, 1e-3)) continue;
    std::vector<double> zp(z), zm(z), ap(count), am(count);
    zp[k] += h;
    zm[k] -= h;
    castnet::activation_forward<A, double, rows, cols>(zp.data(), ap.data(), alpha);
    castnet::activation_forward<A, double, rows, cols>(zm.data(), am.data(), alpha);
    const double slope = (ap[k] - am[k]) / (2 * h);
    INFO("z = " << z[k]);
    REQUIRE(dz[k] == Approx(da[k] * slope).epsilon(1e-6).margin(1e-8));
  }

  // The float instantiation agrees with the double one.
  std::vector<float> z_f(z.begin(), z.end()), da_f(da.begin(), da.end()), a_f(count), dz_f(count);
  castnet::activation_forward<A, float, rows, cols>(z_f.data(), a_f.data(), static_cast<float>(alpha));
  castnet::activation_backward<A, float, rows, cols>(z_f.data(), a_f.data(), da_f.data(), dz_f.data(),
                                                     static_cast<float>(alpha));
  for (std::size_t k = 0; k < count; ++k) {
    if (near_kink(A, z[k], alpha, 1e-3)) continue;
    INFO("z = " << z[k]);
    REQUIRE(dz_f[k] == Approx(dz[k]).epsilon(1e-5).margin(1e-6));
  }
}

template <Act A>
void check_activation(double alpha) {
  check_forward<A>(alpha);
  check_backward<A>(alpha);
}

// Every value of f and f' stays finite, in float, far outside any sane pre-activation range.
template <Act A>
void check_extremes(float alpha) {
  const std::vector<float> z = {80.f, -80.f, 1e4f, -1e4f, 88.f, -88.f, 100.f, -100.f, 0.f, 1e-30f, -1e-30f};
  constexpr std::size_t n = 11;
  std::vector<float> a(n), dz(n), da(n, 1.f);
  castnet::activation_forward<A, float, 1, n>(z.data(), a.data(), alpha);
  castnet::activation_backward<A, float, 1, n>(z.data(), a.data(), da.data(), dz.data(), alpha);
  for (std::size_t k = 0; k < n; ++k) {
    INFO("z = " << z[k]);
    REQUIRE(std::isfinite(a[k]));
    REQUIRE(std::isfinite(dz[k]));
  }
}

}  // namespace

TEST_CASE("activations: identity") { check_activation<Act::identity>(0.0); }
TEST_CASE("activations: relu") { check_activation<Act::relu>(0.0); }
TEST_CASE("activations: leaky_relu") { check_activation<Act::leaky_relu>(0.01); }
TEST_CASE("activations: elu") {
  check_activation<Act::elu>(1.0);
  check_activation<Act::elu>(0.5);
}
TEST_CASE("activations: gelu") { check_activation<Act::gelu>(0.0); }
TEST_CASE("activations: silu") { check_activation<Act::silu>(0.0); }
TEST_CASE("activations: tanh") { check_activation<Act::tanh>(0.0); }
TEST_CASE("activations: sigmoid") { check_activation<Act::sigmoid>(0.0); }
TEST_CASE("activations: softplus") {
  check_activation<Act::softplus>(1.0);
  check_activation<Act::softplus>(2.0);
}

TEST_CASE("activations: torch's choices at kinks and thresholds") {
  const std::vector<double> z = {0.0, 25.0, -2.0};
  std::vector<double> dz(3), a(3);
  const std::vector<double> da(3, 1.0);
  castnet::activation_backward<Act::relu, double, 1, 3>(z.data(), a.data(), da.data(), dz.data(), 0.0);
  CHECK(dz[0] == 0.0);  // relu'(0) = 0
  castnet::activation_forward<Act::softplus, double, 1, 3>(z.data(), a.data(), 1.0);
  CHECK(a[1] == 25.0);  // above the threshold softplus is the identity, exactly
  castnet::activation_backward<Act::softplus, double, 1, 3>(z.data(), a.data(), da.data(), dz.data(), 1.0);
  CHECK(dz[1] == 1.0);
  castnet::activation_forward<Act::leaky_relu, double, 1, 3>(z.data(), a.data(), 0.2);
  CHECK(a[2] == Approx(-0.4));
  castnet::activation_backward<Act::leaky_relu, double, 1, 3>(z.data(), a.data(), da.data(), dz.data(), 0.2);
  CHECK(dz[0] == 0.2);  // the negative branch owns z = 0
  castnet::activation_backward<Act::elu, double, 1, 3>(z.data(), a.data(), da.data(), dz.data(), 0.5);
  CHECK(dz[0] == 0.5);  // α·e^0
}

TEST_CASE("activations: in place (z and a, da and dz alias)") {
  auto z = sample_points();
  std::vector<double> a(count), da(count, 0.5), dz(count);
  castnet::activation_forward<Act::gelu, double, rows, cols>(z.data(), a.data(), 0.0);
  castnet::activation_backward<Act::gelu, double, rows, cols>(z.data(), a.data(), da.data(), dz.data(), 0.0);
  std::vector<double> buf = z;
  castnet::activation_forward<Act::gelu, double, rows, cols>(buf.data(), buf.data(), 0.0);
  CHECK(buf == a);
  buf = da;
  castnet::activation_backward<Act::gelu, double, rows, cols>(z.data(), a.data(), buf.data(), buf.data(), 0.0);
  CHECK(buf == dz);

  castnet::activation_forward<Act::softmax, double, rows, cols>(z.data(), a.data(), 0.0);
  castnet::activation_backward<Act::softmax, double, rows, cols>(z.data(), a.data(), da.data(), dz.data(), 0.0);
  buf = z;
  castnet::activation_forward<Act::softmax, double, rows, cols>(buf.data(), buf.data(), 0.0);
  CHECK(buf == a);
  buf = da;
  castnet::activation_backward<Act::softmax, double, rows, cols>(z.data(), a.data(), buf.data(), buf.data(), 0.0);
  CHECK(buf == dz);
}

TEST_CASE("activations: softmax rows are distributions") {
  const auto z = sample_points();
  std::vector<double> a(count);
  castnet::activation_forward<Act::softmax, double, rows, cols>(z.data(), a.data(), 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    double sum = 0, norm = 0, max_z = z[r * cols];
    for (std::size_t j = 0; j < cols; ++j) max_z = std::max(max_z, z[r * cols + j]);
    for (std::size_t j = 0; j < cols; ++j) norm += std::exp(z[r * cols + j] - max_z);
    for (std::size_t j = 0; j < cols; ++j) {
      REQUIRE(a[r * cols + j] == Approx(std::exp(z[r * cols + j] - max_z) / norm).epsilon(1e-13));
      sum += a[r * cols + j];
    }
    REQUIRE(sum == Approx(1.0).epsilon(1e-14));
  }
}

TEST_CASE("activations: softmax backward matches finite differences") {
  // With loss L = Σ c·softmax(z), dL/da = c, so backward(c) must equal the gradient of L.
  const auto z = sample_points();
  std::vector<double> c(count), a(count), dz(count);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (auto& v : c) v = dist(rng);
  const auto loss = [&](const std::vector<double>& zz) {
    std::vector<double> aa(count);
    castnet::activation_forward<Act::softmax, double, rows, cols>(zz.data(), aa.data(), 0.0);
    double s = 0;
    for (std::size_t k = 0; k < count; ++k) s += c[k] * aa[k];
    return s;
  };
  castnet::activation_forward<Act::softmax, double, rows, cols>(z.data(), a.data(), 0.0);
  castnet::activation_backward<Act::softmax, double, rows, cols>(z.data(), a.data(), c.data(), dz.data(), 0.0);
  constexpr double h = 1e-6;
  for (std::size_t k = 0; k < count; ++k) {
    auto zp = z, zm = z;
    zp[k] += h;
    zm[k] -= h;
    REQUIRE(dz[k] == Approx((loss(zp) - loss(zm)) / (2 * h)).epsilon(1e-6).margin(1e-9));
  }
}

TEST_CASE("activations: softmax of huge logits") {
  const std::vector<float> z = {1e4f, -1e4f, 80.f, 1e4f, 0.f, -80.f, 3.f, 1.f, 2.f, 88.f, -88.f, 0.f, 1e4f, 1e4f};
  constexpr std::size_t n = 14;
  std::vector<float> a(n);
  castnet::activation_forward<Act::softmax, float, 1, n>(z.data(), a.data(), 0.f);
  double sum = 0;
  for (const float v : a) {
    REQUIRE(std::isfinite(v));
    sum += v;
  }
  REQUIRE(sum == Approx(1.0).epsilon(1e-6));
  REQUIRE(a[0] == Approx(0.25f));  // four tied maxima share the mass
}

TEST_CASE("activations: extreme inputs stay finite (float)") {
  check_extremes<Act::identity>(0.f);
  check_extremes<Act::relu>(0.f);
  check_extremes<Act::leaky_relu>(0.01f);
  check_extremes<Act::elu>(1.f);
  check_extremes<Act::gelu>(0.f);
  check_extremes<Act::silu>(0.f);
  check_extremes<Act::tanh>(0.f);
  check_extremes<Act::sigmoid>(0.f);
  check_extremes<Act::softplus>(1.f);
  check_extremes<Act::softmax>(0.f);
}

TEST_CASE("activations: saturated values are exact") {
  const std::vector<float> z = {-1e4f, 1e4f, -80.f, 80.f};
  std::vector<float> a(4);
  castnet::activation_forward<Act::sigmoid, float, 1, 4>(z.data(), a.data(), 0.f);
  CHECK(a[0] == 0.f);
  CHECK(a[1] == 1.f);
  CHECK(a[2] > 0.f);  // e^-80 ≈ 1.8e-35 is a normal float: the stable form keeps it
  castnet::activation_forward<Act::tanh, float, 1, 4>(z.data(), a.data(), 0.f);
  CHECK(a[0] == -1.f);
  CHECK(a[1] == 1.f);
  castnet::activation_forward<Act::gelu, float, 1, 4>(z.data(), a.data(), 0.f);
  CHECK(a[0] == 0.f);
  CHECK(a[1] == 1e4f);
  castnet::activation_forward<Act::softplus, float, 1, 4>(z.data(), a.data(), 1.f);
  CHECK(a[0] == 0.f);
  CHECK(a[1] == 1e4f);
}

// The float tanh is a rational approximation (castnet/kernels/math.hpp): its relative error stays within
// 4e-7 (3.6e-7 on a dense scan of the floats, worst near 0.08), it is odd and it saturates to exactly
// ±1 from |z| = 9 on. Both widths (one sample, and a batch) are checked, on a dense sample of
// [0, 10] and a denser one of [0, 0.25], where the error peaks.
template <std::size_t Rows>
void check_float_tanh() {
  INFO("rows = " << Rows);
  constexpr std::size_t n = 1 << 16;
  for (const float range : {10.f, 0.25f}) {
    std::vector<float> z(n), a(n), neg(n), a_neg(n);
    for (std::size_t k = 0; k < n; ++k) {
      z[k] = range * static_cast<float>(k) / n;
      neg[k] = -z[k];
    }
    castnet::activation_forward<Act::tanh, float, Rows, n / Rows>(z.data(), a.data(), 0.f);
    castnet::activation_forward<Act::tanh, float, Rows, n / Rows>(neg.data(), a_neg.data(), 0.f);
    double worst = 0;
    for (std::size_t k = 1; k < n; ++k) {
      const double want = std::tanh(static_cast<double>(z[k]));
      worst = std::max(worst, std::abs(a[k] - want) / want);
      REQUIRE(a_neg[k] == -a[k]);
      if (z[k] >= 9.f) REQUIRE(a[k] == 1.f);
    }
    CHECK(worst <= 4e-7);
    CHECK(a[0] == 0.f);
  }
}

// Specials, as one sample (Rows = 1) and as a batch of single values.
template <std::size_t Rows>
void check_float_tanh_specials() {
  INFO("rows = " << Rows);
  const std::vector<float> z = {1e-30f, -1e-30f, 8.f, 9.f, std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
  std::vector<float> a(z.size());
  castnet::activation_forward<Act::tanh, float, Rows, 7 / Rows>(z.data(), a.data(), 0.f);
  CHECK(a[0] == Approx(1e-30).epsilon(2e-7));
  CHECK(a[1] == Approx(-1e-30).epsilon(2e-7));
  CHECK(a[2] == Approx(std::tanh(8.0)).epsilon(2e-7));
  CHECK(a[3] == 1.f);
  CHECK(a[4] == 1.f);
  CHECK(a[5] == -1.f);
  CHECK(std::isnan(a[6]));
}

TEST_CASE("activations: float tanh's rational approximation") {
  check_float_tanh<1>();
  check_float_tanh<4>();
  check_float_tanh_specials<1>();
  check_float_tanh_specials<7>();
}
