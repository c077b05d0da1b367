// Checks the pooling kernels against naive loops over the windows: square and non-square windows,
// strides equal to, smaller than (overlapping windows) and larger than the window, floor division
// of a partial last window, one and several channels and samples, rows of 2x2 windows longer than
// one vector run (16 windows) with a shorter last run; and max pooling's tie rule: the gradient
// goes to the first maximum of a window in row-major order.
#include <castnet/kernels/pool2d.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "support/kernel_testing.hpp"

namespace {

using castnet::Conv2dShape;
using castnet::test::nan_vector;
using castnet::test::random_vector;

// Relative to 1 + |want|.
template <class T>
void require_close(const std::vector<T>& got, const std::vector<double>& want) {
  std::vector<double> scale(want.size());
  for (std::size_t i = 0; i < want.size(); ++i) scale[i] = 1 + std::abs(want[i]);
  castnet::test::require_close(got, want, scale, std::is_same_v<T, float> ? 1e-6 : 1e-14);
}

template <class T, std::size_t B, class S>
void check_pool(bool with_ties) {
  INFO("B=" << B << " C=" << S::c << " H=" << S::h << " W=" << S::w << " K=" << S::kh << "x" << S::kw
            << " stride=" << S::sh << "," << S::sw << " ties=" << with_ties << " sizeof(T)=" << sizeof(T));
  constexpr std::size_t X = B * S::in_size, Y = B * S::out_size, OH = S::oh, OW = S::ow;
  std::mt19937 rng(static_cast<unsigned>(B * 131 + S::c * 31 + S::h * 7 + S::kh + S::sw));
  auto x = random_vector<T>(X, rng);
  // Values from a small set make ties common.
  if (with_ties)
    for (auto& v : x) v = static_cast<T>(std::round(v * 2));
  const auto dy = random_vector<T>(Y, rng);
  auto y_max = nan_vector<T>(Y), y_avg = nan_vector<T>(Y), dx_max = nan_vector<T>(X), dx_avg = nan_vector<T>(X);
  castnet::kernels::maxpool2d_forward<T, B, S>(x.data(), y_max.data());
  castnet::kernels::maxpool2d_backward<T, B, S>(x.data(), dy.data(), dx_max.data());
  castnet::kernels::avgpool2d_forward<T, B, S>(x.data(), y_avg.data());
  castnet::kernels::avgpool2d_backward<T, B, S>(dy.data(), dx_avg.data());

  std::vector<double> y_max_ref(Y), y_avg_ref(Y), dx_max_ref(X, 0.0), dx_avg_ref(X, 0.0);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < S::c; ++c)
      for (std::size_t oy = 0; oy < OH; ++oy)
        for (std::size_t ox = 0; ox < OW; ++ox) {
          const std::size_t yi = ((b * S::c + c) * OH + oy) * OW + ox;
          std::size_t arg = 0;
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          for (std::size_t ky = 0; ky < S::kh; ++ky)
            for (std::size_t kx = 0; kx < S::kw; ++kx) {
              const std::size_t xi = ((b * S::c + c) * S::h + oy * S::sh + ky) * S::w + ox * S::sw + kx;
              if (x[xi] > best) {
                best = x[xi];
                arg = xi;
              }
              sum += x[xi];
            }
          y_max_ref[yi] = best;
          y_avg_ref[yi] = sum / static_cast<double>(S::kh * S::kw);
          dx_max_ref[arg] += dy[yi];
          for (std::size_t ky = 0; ky < S::kh; ++ky)
            for (std::size_t kx = 0; kx < S::kw; ++kx)
              dx_avg_ref[((b * S::c + c) * S::h + oy * S::sh + ky) * S::w + ox * S::sw + kx] +=
                  static_cast<double>(dy[yi]) / static_cast<double>(S::kh * S::kw);
        }
  {
    INFO("maxpool forward");
    require_close(y_max, y_max_ref);
  }
  {
    INFO("maxpool backward");
    require_close(dx_max, dx_max_ref);
  }
  {
    INFO("avgpool forward");
    require_close(y_avg, y_avg_ref);
  }
  {
    INFO("avgpool backward");
    require_close(dx_avg, dx_avg_ref);
  }
}

//                             c   h   w   f kh kw sh sw ph pw
using mnist1    = Conv2dShape<32, 28, 28, 32, 2, 2, 2, 2, 0, 0>;
using odd_2x2   = Conv2dShape< 3,  7,  9,  3, 2, 2, 2, 2, 0, 0>;  // floor: the last row and column are dropped
using k3s2      = Conv2dShape< 2,  9,  8,  2, 3, 3, 2, 2, 0, 0>;  // overlapping windows
using k3s1      = Conv2dShape< 1,  5,  6,  1, 3, 3, 1, 1, 0, 0>;  // heavily overlapping, C = 1
using k2x3      = Conv2dShape< 4,  6,  7,  4, 2, 3, 1, 2, 0, 0>;  // non-square window, mixed strides
using gaps      = Conv2dShape< 2,  7,  7,  2, 2, 2, 3, 3, 0, 0>;  // stride > window: some inputs unused
using global    = Conv2dShape< 5,  4,  3,  5, 4, 3, 1, 1, 0, 0>;  // one window covering the plane
// 2x2 windows with stride 2 over rows of more than 16 windows: whole runs of 16 and a shorter one.
using wide_2x2  = Conv2dShape< 2,  4, 70,  2, 2, 2, 2, 2, 0, 0>;  // 35 windows a row
using odd_wide  = Conv2dShape< 1,  5, 37,  1, 2, 2, 2, 2, 0, 0>;  // 18 windows a row, odd sizes

template <class T>
void check_all() {
  for (const bool ties : {false, true}) {
    check_pool<T, 2, mnist1>(ties);
    check_pool<T, 3, odd_2x2>(ties);
    check_pool<T, 3, k3s2>(ties);
    check_pool<T, 1, k3s1>(ties);
    check_pool<T, 3, k2x3>(ties);
    check_pool<T, 3, gaps>(ties);
    check_pool<T, 2, global>(ties);
    check_pool<T, 2, wide_2x2>(ties);
    check_pool<T, 3, odd_wide>(ties);
  }
}

}  // namespace

TEST_CASE("pool: kernels match naive loops (float)", "[pool]") { check_all<float>(); }

TEST_CASE("pool: kernels match naive loops (double)", "[pool]") { check_all<double>(); }

TEST_CASE("pool: max pooling sends the gradient to the first maximum of a window", "[pool]") {
  // One 1x4x4 sample, 2x2 windows, stride 2, every window with a tied maximum:
  //   window 0 (top left)     5 5 / 1 0: 5 at x[0], x[1]          -> x[0]
  //   window 1 (top right)    1 2 / 3 3: 3 at x[6], x[7]          -> x[6]
  //   window 2 (bottom left)  0 7 / 7 7: 7 at x[9], x[12], x[13]  -> x[9]
  //   window 3 (bottom right) 4 1 / 4 4: 4 at x[10], x[14], x[15] -> x[10]
  using S = Conv2dShape<1, 4, 4, 1, 2, 2, 2, 2, 0, 0>;
  const std::vector<float> x = {5, 5, 1, 2,  //
                                1, 0, 3, 3,  //
                                0, 7, 4, 1,  //
                                7, 7, 4, 4};
  const std::vector<float> dy = {1, 10, 100, 1000};
  std::vector<float> y(4), dx(16, -1.0f);
  castnet::kernels::maxpool2d_forward<float, 1, S>(x.data(), y.data());
  castnet::kernels::maxpool2d_backward<float, 1, S>(x.data(), dy.data(), dx.data());
  CHECK(y == std::vector<float>{5, 3, 7, 4});
  const std::vector<float> want = {1, 0, 0, 0,     //
                                   0, 0, 10, 0,    //
                                   0, 100, 1000, 0,  //
                                   0, 0, 0, 0};
  CHECK(dx == want);
}

TEST_CASE("pool: overlapping max windows add their gradients", "[pool]") {
  // A single 1x1x3 row, windows of 1x2 with stride 1: the middle maximum wins both windows.
  using S = Conv2dShape<1, 1, 3, 1, 1, 2, 1, 1, 0, 0>;
  const std::vector<double> x = {1, 9, 2}, dy = {0.5, 0.25};
  std::vector<double> y(2), dx(3, 42.0);
  castnet::kernels::maxpool2d_forward<double, 1, S>(x.data(), y.data());
  castnet::kernels::maxpool2d_backward<double, 1, S>(x.data(), dy.data(), dx.data());
  CHECK(y == std::vector<double>{9, 9});
  CHECK(dx == std::vector<double>{0, 0.75, 0});
}
