// Checks the dense kernels against naive triple loops evaluated in double. The shapes cover the
// blocking edge cases: a single sample (its own kernel, gemv), sample counts and row counts that
// leave partial tiles, and In/Out below, at, and just past multiples of every vector width (SSE2
// to AVX-512). Also checks lane_sums, the reduction gemv and the batch forward rely on.
#include <castnet/kernels/dense.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <type_traits>
#include <vector>

#include "support/kernel_testing.hpp"

namespace {

using castnet::test::random_vector;

// Sums of K products of values in [-1, 1] have magnitude up to K, and cancellation makes the
// relative error of a small result meaningless, so the error is measured against the scale
// Σ|terms|, the quantity the rounding error is proportional to.
template <class T>
void require_close(const std::vector<T>& got, const std::vector<double>& want, const std::vector<double>& scale) {
  castnet::test::require_close(got, want, scale, std::is_same_v<T, float> ? 1e-5 : 1e-12);
}

template <class T, std::size_t B, std::size_t In, std::size_t Out>
void check_shape() {
  INFO("B=" << B << " In=" << In << " Out=" << Out << " sizeof(T)=" << sizeof(T));
  std::mt19937 rng(B * 1000003u + In * 1009u + Out);
  const auto x = random_vector<T>(B * In, rng);
  const auto w = random_vector<T>(Out * In, rng);
  const auto bias = random_vector<T>(Out, rng);
  const auto dy = random_vector<T>(B * Out, rng);

  // Outputs start as garbage: every kernel must overwrite, not accumulate.
  std::vector<T> y(B * Out, T(7)), dx(B * In, T(7)), dw(Out * In, T(7)), db(Out, T(7));
  castnet::kernels::dense_forward<T, B, In, Out>(x.data(), w.data(), bias.data(), y.data());
  castnet::kernels::dense_backward_input<T, B, In, Out>(dy.data(), w.data(), dx.data());
  castnet::kernels::dense_backward_params<T, B, In, Out>(x.data(), dy.data(), dw.data(), db.data());

  std::vector<double> y_ref(B * Out), y_scale(B * Out);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < Out; ++o) {
      double s = bias[o], a = std::abs(static_cast<double>(bias[o]));
      for (std::size_t i = 0; i < In; ++i) {
        const double p = static_cast<double>(x[b * In + i]) * w[o * In + i];
        s += p;
        a += std::abs(p);
      }
      y_ref[b * Out + o] = s;
      y_scale[b * Out + o] = a;
    }
  require_close(y, y_ref, y_scale);

  std::vector<double> dx_ref(B * In), dx_scale(B * In);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t i = 0; i < In; ++i) {
      double s = 0, a = 0;
      for (std::size_t o = 0; o < Out; ++o) {
        const double p = static_cast<double>(dy[b * Out + o]) * w[o * In + i];
        s += p;
        a += std::abs(p);
      }
      dx_ref[b * In + i] = s;
      dx_scale[b * In + i] = a;
    }
  require_close(dx, dx_ref, dx_scale);

  std::vector<double> dw_ref(Out * In), dw_scale(Out * In), db_ref(Out), db_scale(Out);
  for (std::size_t o = 0; o < Out; ++o) {
    for (std::size_t i = 0; i < In; ++i) {
      double s = 0, a = 0;
      for (std::size_t b = 0; b < B; ++b) {
        const double p = static_cast<double>(dy[b * Out + o]) * x[b * In + i];
        s += p;
        a += std::abs(p);
      }
      dw_ref[o * In + i] = s;
      dw_scale[o * In + i] = a;
    }
    double s = 0, a = 0;
    for (std::size_t b = 0; b < B; ++b) {
      s += dy[b * Out + o];
      a += std::abs(static_cast<double>(dy[b * Out + o]));
    }
    db_ref[o] = s;
    db_scale[o] = a;
  }
  require_close(dw, dw_ref, dw_scale);
  require_close(db, db_ref, db_scale);
}

template <class T>
void check_all_shapes() {
  // One sample: In and Out below, at and past the 2-, 4-, 8- and 16-lane widths (full row tiles,
  // partial ones, a single row), and the benchmark MLPs' layers.
  check_shape<T, 1, 1, 1>();
  check_shape<T, 1, 3, 5>();
  check_shape<T, 1, 2, 2>();
  check_shape<T, 1, 4, 4>();
  check_shape<T, 1, 7, 9>();
  check_shape<T, 1, 8, 32>();
  check_shape<T, 1, 9, 8>();
  check_shape<T, 1, 16, 15>();
  check_shape<T, 1, 17, 16>();
  check_shape<T, 1, 32, 32>();
  check_shape<T, 1, 32, 1>();
  check_shape<T, 1, 128, 10>();
  check_shape<T, 1, 784, 128>();
  check_shape<T, 1, 33, 17>();
  check_shape<T, 2, 16, 16>();
  check_shape<T, 3, 8, 4>();
  check_shape<T, 7, 2, 3>();
  check_shape<T, 7, 15, 9>();
  check_shape<T, 7, 17, 31>();
  check_shape<T, 7, 100, 10>();
  check_shape<T, 13, 65, 7>();
  check_shape<T, 64, 31, 1>();
  check_shape<T, 64, 64, 64>();
  check_shape<T, 64, 97, 33>();
  check_shape<T, 64, 200, 129>();
  check_shape<T, 25, 784, 37>();
  check_shape<T, 64, 784, 130>();
}

}  // namespace

TEST_CASE("kernels: dense kernels match a naive reference (float)") { check_all_shapes<float>(); }

TEST_CASE("kernels: dense kernels match a naive reference (double)") { check_all_shapes<double>(); }

// lane_sums(v)[i] = Σ_l v[i][l], for the single-sample vectors and the full-width ones (every lane
// of every input distinct, so a misplaced or dropped sum shows).
template <class T, class V>
void check_lane_sums() {
  constexpr std::size_t L = V::size;
  std::mt19937 rng(5);
  const auto values = random_vector<T>(L * L, rng);
  V v[L];
  for (std::size_t i = 0; i < L; ++i) v[i] = V::load_unaligned(values.data() + i * L);
  T got[L];
  castnet::simd::lane_sums(v).store_unaligned(got);
  for (std::size_t i = 0; i < L; ++i) {
    double want = 0;
    for (std::size_t l = 0; l < L; ++l) want += values[i * L + l];
    INFO("L=" << L << " i=" << i);
    const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
    REQUIRE(got[i] == Approx(want).epsilon(tol).margin(tol));
  }
}

TEST_CASE("simd: lane_sums puts each vector's sum in its lane") {
  check_lane_sums<float, castnet::simd::narrow_vec<float>>();
  check_lane_sums<double, castnet::simd::narrow_vec<double>>();
  check_lane_sums<float, castnet::simd::vec<float>>();
  check_lane_sums<double, castnet::simd::vec<double>>();
}

TEST_CASE("kernels: unaligned pointers") {
  // Offsetting every array by one element breaks any alignment the allocator happened to give.
  constexpr std::size_t B = 5, In = 37, Out = 19;
  std::mt19937 rng(42);
  const auto xs = random_vector<float>(B * In + 1, rng);
  const auto ws = random_vector<float>(Out * In + 1, rng);
  const auto bs = random_vector<float>(Out + 1, rng);
  std::vector<float> y(B * Out + 1);
  castnet::kernels::dense_forward<float, B, In, Out>(xs.data() + 1, ws.data() + 1, bs.data() + 1, y.data() + 1);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < Out; ++o) {
      double s = bs[1 + o];
      for (std::size_t i = 0; i < In; ++i) s += static_cast<double>(xs[1 + b * In + i]) * ws[1 + o * In + i];
      REQUIRE(y[1 + b * Out + o] == Approx(s).epsilon(1e-5).margin(1e-5));
    }
}
