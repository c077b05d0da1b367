// Checks the conv2d kernels against the defining sums, evaluated naively in double, over geometries
// that reach every branch of im2col/col2im and of the GEMM blocking: 1x1 (pointwise and not),
// 3x3, 5x5 and non-square kernels, strides 1 and 2, paddings 0 to 2 (including rows and columns
// that lie entirely in the padding), one and several channels, filter counts that leave partial
// tiles, odd sizes, and output planes smaller than a vector. The direct kernels (channel counts in
// whole vectors) get their own geometries: partial pixel, filter and channel-vector tiles, strides,
// paddings up to KH-1, a channel count that is not a multiple of the lanes where only the forward
// pass goes direct. Every geometry also runs the kernels with a fused ReLU (forward, and the
// backward pair that derives dz from the output). The backward kernels are also checked against
// finite differences of the forward kernel.
#include <castnet/kernels/conv2d.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "support/kernel_testing.hpp"

namespace {

using castnet::Conv2dShape;
using castnet::test::random_vector;

// An array whose data starts `offset` elements into its storage (1 breaks any alignment the
// allocator gave), initialised to NaN so a kernel that reads an output before writing it shows.
template <class T>
struct Buffer {
  std::vector<T> storage;
  std::size_t offset;
  Buffer(std::size_t n, std::size_t off) : storage(n + off, std::numeric_limits<T>::quiet_NaN()), offset(off) {}
  Buffer(const std::vector<T>& v, std::size_t off) : storage(off, T(0)), offset(off) {
    storage.insert(storage.end(), v.begin(), v.end());
  }
  T* data() { return storage.data() + offset; }
  std::vector<T> values() const { return {storage.begin() + static_cast<std::ptrdiff_t>(offset), storage.end()}; }
};

template <class T>
void require_close(const std::vector<T>& got, const std::vector<double>& want, const std::vector<double>& scale) {
  castnet::test::require_close(got, want, scale, std::is_same_v<T, float> ? 1e-5 : 1e-12);
}

// Calls f(b, f, oy, ox, c, ky, kx, x index, y index, w index) for every term of every output.
template <std::size_t B, class S, class F>
void for_each_term(F&& f) {
  const std::size_t OH = S::oh, OW = S::ow;
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < S::f; ++o)
      for (std::size_t oy = 0; oy < OH; ++oy)
        for (std::size_t ox = 0; ox < OW; ++ox)
          for (std::size_t c = 0; c < S::c; ++c)
            for (std::size_t ky = 0; ky < S::kh; ++ky)
              for (std::size_t kx = 0; kx < S::kw; ++kx) {
                const long iy = static_cast<long>(oy * S::sh + ky) - static_cast<long>(S::ph);
                const long ix = static_cast<long>(ox * S::sw + kx) - static_cast<long>(S::pw);
                if (iy < 0 || ix < 0 || iy >= static_cast<long>(S::h) || ix >= static_cast<long>(S::w)) continue;
                const std::size_t xi = b * S::in_size + (c * S::h + static_cast<std::size_t>(iy)) * S::w +
                                       static_cast<std::size_t>(ix);
                const std::size_t yi = b * S::out_size + (o * OH + oy) * OW + ox;
                const std::size_t wi = ((o * S::c + c) * S::kh + ky) * S::kw + kx;
                f(xi, yi, wi);
              }
}

template <class T, std::size_t B, class S>
void check_conv(std::size_t offset) {
  INFO("B=" << B << " C=" << S::c << " H=" << S::h << " W=" << S::w << " F=" << S::f << " K=" << S::kh << "x" << S::kw
            << " stride=" << S::sh << "," << S::sw << " pad=" << S::ph << "," << S::pw << " sizeof(T)=" << sizeof(T)
            << " offset=" << offset);
  constexpr std::size_t X = B * S::in_size, Y = B * S::out_size, W = S::f * S::patch;
  std::mt19937 rng(static_cast<unsigned>(B * 7919 + S::c * 1009 + S::h * 101 + S::w * 31 + S::f * 7 + S::kh + S::sh));
  Buffer<T> x(random_vector<T>(X, rng), offset), w(random_vector<T>(W, rng), offset),
      bias(random_vector<T>(S::f, rng), offset), dy(random_vector<T>(Y, rng), offset);
  Buffer<T> y(Y, offset), y_relu(Y, offset), dx(X, offset), dw(W, offset), db(S::f, offset), scratch(S::scratch, offset);

  castnet::kernels::conv2d_forward<T, B, S>(x.data(), w.data(), bias.data(), y.data(), scratch.data());
  castnet::kernels::conv2d_forward<T, B, S, castnet::Act::relu>(x.data(), w.data(), bias.data(), y_relu.data(),
                                                                scratch.data());
  castnet::kernels::conv2d_backward_params<T, B, S>(x.data(), dy.data(), dw.data(), db.data(), scratch.data());
  castnet::kernels::conv2d_backward_input<T, B, S>(dy.data(), w.data(), dx.data(), scratch.data());
  // With the ReLU fused: dy is the gradient at the ReLU's output, y_relu.
  Buffer<T> dx_relu(X, offset), dw_relu(W, offset), db_relu(S::f, offset), relu_scratch(S::relu_scratch, offset);
  castnet::kernels::conv2d_relu_backward_params<T, B, S>(x.data(), y_relu.data(), dy.data(), dw_relu.data(),
                                                         db_relu.data(), relu_scratch.data());
  castnet::kernels::conv2d_relu_backward_input<T, B, S>(y_relu.data(), dy.data(), w.data(), dx_relu.data(),
                                                        relu_scratch.data());

  std::vector<double> y_ref(Y), y_scale(Y), dx_ref(X, 0.0), dx_scale(X, 0.0), dw_ref(W, 0.0), dw_scale(W, 0.0);
  const T* xv = x.data();
  const T* wv = w.data();
  const T* dyv = dy.data();
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < S::f; ++o)
      for (std::size_t p = 0; p < S::oh * S::ow; ++p) {
        const std::size_t yi = b * S::out_size + o * S::oh * S::ow + p;
        y_ref[yi] = bias.data()[o];
        y_scale[yi] = std::abs(static_cast<double>(bias.data()[o]));
      }
  for_each_term<B, S>([&](std::size_t xi, std::size_t yi, std::size_t wi) {
    const double fwd = static_cast<double>(xv[xi]) * wv[wi];
    y_ref[yi] += fwd;
    y_scale[yi] += std::abs(fwd);
    const double din = static_cast<double>(dyv[yi]) * wv[wi];
    dx_ref[xi] += din;
    dx_scale[xi] += std::abs(din);
    const double dpar = static_cast<double>(dyv[yi]) * xv[xi];
    dw_ref[wi] += dpar;
    dw_scale[wi] += std::abs(dpar);
  });
  std::vector<double> db_ref(S::f, 0.0), db_scale(S::f, 0.0);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < S::f; ++o)
      for (std::size_t p = 0; p < S::oh * S::ow; ++p) {
        const double d = dyv[b * S::out_size + o * S::oh * S::ow + p];
        db_ref[o] += d;
        db_scale[o] += std::abs(d);
      }
  // The fused ReLU's dz keeps dy where the kernel's own output is positive.
  std::vector<double> dz_ref(Y), dx_relu_ref(X, 0.0), dx_relu_scale(X, 0.0), dw_relu_ref(W, 0.0),
      dw_relu_scale(W, 0.0), db_relu_ref(S::f, 0.0), db_relu_scale(S::f, 0.0);
  for (std::size_t i = 0; i < Y; ++i) dz_ref[i] = y_relu.data()[i] > T(0) ? static_cast<double>(dyv[i]) : 0.0;
  for_each_term<B, S>([&](std::size_t xi, std::size_t yi, std::size_t wi) {
    dx_relu_ref[xi] += dz_ref[yi] * wv[wi];
    dx_relu_scale[xi] += std::abs(dz_ref[yi] * wv[wi]);
    dw_relu_ref[wi] += dz_ref[yi] * xv[xi];
    dw_relu_scale[wi] += std::abs(dz_ref[yi] * xv[xi]);
  });
  for (std::size_t i = 0; i < Y; ++i) {
    const std::size_t o = i / (S::oh * S::ow) % S::f;
    db_relu_ref[o] += dz_ref[i];
    db_relu_scale[o] += std::abs(dz_ref[i]);
  }

  {
    INFO("forward");
    require_close(y.values(), y_ref, y_scale);
  }
  {
    INFO("forward with the ReLU fused");
    std::vector<double> relu_ref(y_ref);
    for (auto& v : relu_ref) v = std::max(v, 0.0);
    require_close(y_relu.values(), relu_ref, y_scale);
  }
  {
    INFO("backward_input");
    require_close(dx.values(), dx_ref, dx_scale);
  }
  {
    INFO("backward_params: dw");
    require_close(dw.values(), dw_ref, dw_scale);
  }
  {
    INFO("backward_params: db");
    require_close(db.values(), db_ref, db_scale);
  }
  {
    INFO("relu_backward_input");
    require_close(dx_relu.values(), dx_relu_ref, dx_relu_scale);
  }
  {
    INFO("relu_backward_params: dw, db");
    require_close(dw_relu.values(), dw_relu_ref, dw_relu_scale);
    require_close(db_relu.values(), db_relu_ref, db_relu_scale);
  }
}

//                             c   h   w   f kh kw sh sw ph pw
using mnist1    = Conv2dShape< 1, 28, 28, 32, 3, 3, 1, 1, 1, 1>;
using mnist2    = Conv2dShape<32, 14, 14, 64, 3, 3, 1, 1, 1, 1>;
using k5_odd    = Conv2dShape< 3,  7,  9, 17, 5, 5, 1, 1, 2, 2>;
using k2x3      = Conv2dShape< 2,  5,  6,  3, 2, 3, 1, 1, 0, 0>;  // OH*OW = 16
using k3x2_mix  = Conv2dShape< 2,  4,  5,  3, 3, 2, 2, 1, 2, 1>;  // stride (2,1), pad (2,1)
using s2p1      = Conv2dShape< 4,  9,  7,  5, 3, 3, 2, 2, 1, 1>;
using s2p2      = Conv2dShape< 2,  6,  7,  9, 3, 3, 2, 2, 2, 2>;
using s2p0_tiny = Conv2dShape< 3,  5,  5,  7, 3, 3, 2, 2, 0, 0>;  // 2x2 output
using one_out   = Conv2dShape< 1,  3,  3,  2, 3, 3, 1, 1, 0, 0>;  // 1x1 output, C = 1
using pad_only  = Conv2dShape< 1,  1,  1,  4, 5, 5, 1, 1, 2, 2>;  // most taps in the padding
using pw_wide   = Conv2dShape< 3,  6,  5, 17, 1, 1, 1, 1, 0, 0>;  // pointwise, P = 30
using pw_tiny   = Conv2dShape< 2,  3,  3,  3, 1, 1, 1, 1, 0, 0>;  // pointwise, P = 9
using k1_s2     = Conv2dShape< 3,  7,  7,  5, 1, 1, 2, 2, 0, 0>;  // 1x1 strided: goes through im2col
using k1_p1     = Conv2dShape< 2,  3,  4,  3, 1, 1, 1, 1, 1, 1>;  // 1x1 padded: border rows are zero
using k5_wide   = Conv2dShape<16, 12, 12, 40, 5, 5, 1, 1, 0, 0>;
using k3_c17    = Conv2dShape<17,  6,  6, 33, 3, 3, 1, 1, 1, 1>;
// Direct kernels (with 4, 8 or 16 lanes): which of the three go direct is noted where not all do.
using d_k3x2    = Conv2dShape<32,  5,  6, 16, 3, 2, 1, 1, 2, 1>;  // non-square kernel, PH = KH-1
using d_f18     = Conv2dShape<16,  6,  6, 18, 3, 3, 1, 1, 1, 1>;  // gradients only: 18 filters
using d_c3      = Conv2dShape< 3, 11, 13, 32, 5, 5, 1, 1, 2, 2>;  // forward only: 3 channels
using d_pad0    = Conv2dShape<16,  8,  8, 16, 3, 3, 1, 1, 0, 0>;
using d_pad2    = Conv2dShape<16,  7,  7, 16, 3, 3, 1, 1, 2, 2>;  // dy needs no padding
using d_f80     = Conv2dShape<16, 20, 20, 80, 3, 3, 1, 1, 1, 1>;  // 5 (10) vectors of filters
using d_s2      = Conv2dShape<16, 17, 15, 16, 3, 3, 2, 2, 1, 1>;  // input gradient via im2col
using d_s21     = Conv2dShape<16, 13, 10, 16, 3, 3, 2, 1, 1, 0>;  // input gradient via im2col

template <class T>
void check_all() {
  check_conv<T, 1, mnist1>(0);
  check_conv<T, 2, mnist2>(1);
  check_conv<T, 3, k5_odd>(0);
  check_conv<T, 1, k5_odd>(1);
  check_conv<T, 3, k2x3>(1);
  check_conv<T, 3, k3x2_mix>(0);
  check_conv<T, 3, s2p1>(1);
  check_conv<T, 1, s2p2>(0);
  check_conv<T, 3, s2p0_tiny>(0);
  check_conv<T, 3, one_out>(1);
  check_conv<T, 3, pad_only>(0);
  check_conv<T, 3, pw_wide>(1);
  check_conv<T, 1, pw_tiny>(0);
  check_conv<T, 3, pw_tiny>(1);
  check_conv<T, 3, k1_s2>(0);
  check_conv<T, 3, k1_p1>(1);
  check_conv<T, 2, k5_wide>(0);
  check_conv<T, 3, k3_c17>(1);
  check_conv<T, 2, d_k3x2>(1);
  check_conv<T, 3, d_f18>(0);
  check_conv<T, 2, d_c3>(1);
  check_conv<T, 2, d_pad0>(0);
  check_conv<T, 2, d_pad2>(1);
  check_conv<T, 1, d_f80>(0);
  check_conv<T, 2, d_s2>(1);
  check_conv<T, 2, d_s21>(0);
}

}  // namespace

TEST_CASE("conv: Conv2dShape sizes", "[conv]") {
  using s = Conv2dShape<32, 14, 14, 64, 3, 3, 1, 1, 1, 1>;
  STATIC_REQUIRE(s::oh == 14);
  STATIC_REQUIRE(s::ow == 14);
  STATIC_REQUIRE(s::in_size == 32 * 14 * 14);
  STATIC_REQUIRE(s::out_size == 64 * 14 * 14);
  STATIC_REQUIRE(s::patch == 32 * 9);
  STATIC_REQUIRE(s::scratch == 32 * 9 * 14 * 14);
  STATIC_REQUIRE(s::relu_scratch == 32 * 9 * 14 * 14 + 64 * 14 * 14);
  // Floor division of the last partial step.
  using t = Conv2dShape<1, 8, 7, 1, 3, 2, 2, 3, 0, 1>;
  STATIC_REQUIRE(t::oh == 3);  // (8 - 3) / 2 + 1
  STATIC_REQUIRE(t::ow == 3);  // (7 + 2 - 2) / 3 + 1
}

TEST_CASE("conv: the shapes meant for the direct kernels take them", "[conv]") {
  // With any vector width the build may have (4 to 16 floats, 2 to 8 doubles).
  using namespace castnet::kernels::conv_detail;
  STATIC_REQUIRE(use_direct_forward<float, mnist2>);
  STATIC_REQUIRE(use_direct_params<float, mnist2>);
  STATIC_REQUIRE(use_direct_input<float, mnist2>);
  STATIC_REQUIRE(use_direct_forward<double, mnist2>);
  STATIC_REQUIRE(use_direct_params<double, mnist2>);
  STATIC_REQUIRE(use_direct_input<double, mnist2>);
  STATIC_REQUIRE(use_direct_forward<float, d_c3>);
  STATIC_REQUIRE(!use_direct_params<float, d_c3>);
  STATIC_REQUIRE(!use_direct_forward<float, d_f18>);
  STATIC_REQUIRE(use_direct_params<float, d_f18>);
  STATIC_REQUIRE(use_direct_input<float, d_f18>);
  STATIC_REQUIRE(use_direct_forward<float, d_s2>);
  STATIC_REQUIRE(use_direct_params<float, d_s2>);
  STATIC_REQUIRE(!use_direct_input<float, d_s2>);
  STATIC_REQUIRE(use_direct_input<float, d_pad2>);
  // conv1 of the MNIST nets: one channel, 9 taps against 32 filters, stays with im2col.
  STATIC_REQUIRE(!use_direct_forward<float, mnist1>);
  STATIC_REQUIRE(!use_direct_params<float, mnist1>);
}

TEST_CASE("conv: kernels match the defining sums (float)", "[conv]") { check_all<float>(); }

TEST_CASE("conv: kernels match the defining sums (double)", "[conv]") { check_all<double>(); }

TEST_CASE("conv: backward kernels match finite differences of the forward kernel", "[conv]") {
  // L = Σ dy·y is linear in each of x, w and bias, so central differences are exact up to rounding.
  using S = Conv2dShape<2, 5, 4, 3, 3, 3, 2, 1, 1, 1>;
  constexpr std::size_t B = 2, X = B * S::in_size, Y = B * S::out_size, W = S::f * S::patch;
  std::mt19937 rng(7);
  auto x = random_vector<double>(X, rng), w = random_vector<double>(W, rng), bias = random_vector<double>(S::f, rng);
  const auto dy = random_vector<double>(Y, rng);
  std::vector<double> y(Y), scratch(S::scratch), dx(X), dw(W), db(S::f);
  const auto loss = [&] {
    castnet::kernels::conv2d_forward<double, B, S>(x.data(), w.data(), bias.data(), y.data(), scratch.data());
    double l = 0;
    for (std::size_t i = 0; i < Y; ++i) l += dy[i] * y[i];
    return l;
  };
  castnet::kernels::conv2d_backward_params<double, B, S>(x.data(), dy.data(), dw.data(), db.data(), scratch.data());
  castnet::kernels::conv2d_backward_input<double, B, S>(dy.data(), w.data(), dx.data(), scratch.data());
  const double h = 1e-3;
  const auto check = [&](std::vector<double>& param, const std::vector<double>& grad, const char* name) {
    INFO(name);
    for (std::size_t i = 0; i < param.size(); ++i) {
      const double saved = param[i];
      param[i] = saved + h;
      const double up = loss();
      param[i] = saved - h;
      const double down = loss();
      param[i] = saved;
      INFO("index " << i);
      REQUIRE(grad[i] == Approx((up - down) / (2 * h)).margin(1e-9));
    }
  };
  check(x, dx, "dx");
  check(w, dw, "dw");
  check(bias, db, "db");
}
