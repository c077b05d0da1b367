// Checks the graph-layer kernels (element-wise add and accumulate, the strided row copies of concat,
// GLU, PReLU) against their formulas evaluated naively in double, at sizes below, at and past
// multiples of every vector width, and the in-place uses their headers allow.
#include <castnet/kernels/merge.hpp>
#include <castnet/kernels/glu.hpp>
#include <castnet/kernels/prelu.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "support/kernel_testing.hpp"

namespace {

using castnet::test::nan_vector;
using castnet::test::random_vector;

// `scale` is the size of the terms the result was computed from, which bounds the rounding error.
template <class T>
void require_close(const std::vector<T>& got, const std::vector<double>& want, const std::vector<double>& scale) {
  castnet::test::require_close(got, want, scale, std::is_same_v<T, float> ? 1e-5 : 1e-13);
}

template <class T>
void require_close(const std::vector<T>& got, const std::vector<double>& want) {
  std::vector<double> scale(want.size());
  for (std::size_t i = 0; i < want.size(); ++i) scale[i] = std::abs(want[i]);
  require_close(got, want, scale);
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// ---- elementwise --------------------------------------------------------------------------

template <class T, std::size_t N>
void check_add() {
  INFO("N=" << N << " sizeof(T)=" << sizeof(T));
  std::mt19937 rng(N);
  const auto a = random_vector<T>(N, rng), b = random_vector<T>(N, rng);
  std::vector<double> want(N);
  for (std::size_t i = 0; i < N; ++i) want[i] = static_cast<double>(a[i]) + b[i];

  auto out = nan_vector<T>(N);
  castnet::add<T, N>(a.data(), b.data(), out.data());
  require_close(out, want);

  auto in_a = a;  // out aliasing either input
  castnet::add<T, N>(in_a.data(), b.data(), in_a.data());
  require_close(in_a, want);
  auto in_b = b;
  castnet::add<T, N>(a.data(), in_b.data(), in_b.data());
  require_close(in_b, want);

  auto dst = a;
  castnet::accumulate<T, N>(dst.data(), b.data());
  require_close(dst, want);
}

template <class T, std::size_t Rows, std::size_t N, std::size_t Stride, std::size_t Offset>
void check_rows() {
  INFO("Rows=" << Rows << " N=" << N << " Stride=" << Stride << " Offset=" << Offset);
  std::mt19937 rng(Rows * 100 + N);
  const auto src = random_vector<T>(Rows * N, rng);
  // Columns outside [Offset, Offset + N) must keep their values.
  auto wide = random_vector<T>(Rows * Stride, rng);
  auto want = wide;
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t i = 0; i < N; ++i) want[r * Stride + Offset + i] = src[r * N + i];
  castnet::copy_into_rows<T, Rows, N, Stride, Offset>(src.data(), wide.data());
  CHECK(wide == want);

  auto packed = nan_vector<T>(Rows * N);
  castnet::copy_from_rows<T, Rows, N, Stride, Offset>(wide.data(), packed.data());
  CHECK(packed == src);
}

// ---- GLU ----------------------------------------------------------------------------------

template <class T, std::size_t Rows, std::size_t U>
void check_glu(double z_scale) {
  INFO("Rows=" << Rows << " U=" << U << " |z| up to " << z_scale << " sizeof(T)=" << sizeof(T));
  std::mt19937 rng(Rows * 1000 + U);
  const auto z = random_vector<T>(Rows * 2 * U, rng, z_scale);
  const auto dout = random_vector<T>(Rows * U, rng);
  auto out = nan_vector<T>(Rows * U), dz = nan_vector<T>(Rows * 2 * U);
  castnet::glu_forward<T, Rows, U>(z.data(), out.data());
  castnet::glu_backward<T, Rows, U>(z.data(), dout.data(), dz.data());

  std::vector<double> out_ref(Rows * U), dz_ref(Rows * 2 * U);
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t j = 0; j < U; ++j) {
      const double value = z[r * 2 * U + j], s = sigmoid(z[r * 2 * U + U + j]), d = dout[r * U + j];
      out_ref[r * U + j] = value * s;
      dz_ref[r * 2 * U + j] = d * s;
      dz_ref[r * 2 * U + U + j] = d * value * s * (1 - s);
    }
  {
    INFO("glu_forward");
    require_close(out, out_ref);
  }
  {
    INFO("glu_backward");
    require_close(dz, dz_ref);
  }
  // dz may be z.
  auto in_place = z;
  castnet::glu_backward<T, Rows, U>(in_place.data(), dout.data(), in_place.data());
  INFO("glu_backward in place");
  require_close(in_place, dz_ref);
}

// ---- PReLU --------------------------------------------------------------------------------

template <class T, std::size_t Rows, std::size_t C, std::size_t S>
void check_prelu() {
  INFO("Rows=" << Rows << " C=" << C << " S=" << S << " sizeof(T)=" << sizeof(T));
  constexpr std::size_t N = Rows * C * S;
  std::mt19937 rng(Rows * 10007 + C * 101 + S);
  auto x = random_vector<T>(N, rng);
  x[0] = T(0);  // x == 0 takes the negative branch
  const auto w = random_vector<T>(C, rng), dout = random_vector<T>(N, rng);
  auto out = nan_vector<T>(N), dx = nan_vector<T>(N), dw = nan_vector<T>(C);
  castnet::prelu_forward<T, Rows, C, S>(x.data(), w.data(), out.data());
  castnet::prelu_backward_input<T, Rows, C, S>(x.data(), w.data(), dout.data(), dx.data());
  castnet::prelu_backward_params<T, Rows, C, S>(x.data(), dout.data(), dw.data());

  std::vector<double> out_ref(N), dx_ref(N), dw_ref(C, 0.0), dw_scale(C, 0.0);
  for (std::size_t r = 0; r < Rows; ++r)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t s = 0; s < S; ++s) {
        const std::size_t i = (r * C + c) * S + s;
        const double xi = x[i], d = dout[i];
        out_ref[i] = xi > 0 ? xi : w[c] * xi;
        dx_ref[i] = xi > 0 ? d : w[c] * d;
        if (!(xi > 0)) {
          dw_ref[c] += d * xi;
          dw_scale[c] += std::abs(d * xi);
        }
      }
  {
    INFO("prelu_forward");
    require_close(out, out_ref);
  }
  {
    INFO("prelu_backward_input");
    require_close(dx, dx_ref);
  }
  {
    INFO("prelu_backward_params");
    require_close(dw, dw_ref, dw_scale);
  }
  // out may be x, dx may be dout.
  auto x_in_place = x;
  castnet::prelu_forward<T, Rows, C, S>(x_in_place.data(), w.data(), x_in_place.data());
  auto d_in_place = dout;
  castnet::prelu_backward_input<T, Rows, C, S>(x.data(), w.data(), d_in_place.data(), d_in_place.data());
  INFO("in place");
  require_close(x_in_place, out_ref);
  require_close(d_in_place, dx_ref);
}

template <class T>
void check_all() {
  check_add<T, 1>();
  check_add<T, 3>();
  check_add<T, 16>();
  check_add<T, 17>();
  check_add<T, 100>();
  check_add<T, 6272>();

  check_rows<T, 1, 1, 1, 0>();
  check_rows<T, 3, 5, 12, 0>();
  check_rows<T, 3, 7, 12, 5>();
  check_rows<T, 4, 17, 40, 20>();

  for (const double z_scale : {4.0, 60.0}) {  // 60: e^60 overflows float, σ must not
    check_glu<T, 1, 1>(z_scale);
    check_glu<T, 3, 3>(z_scale);
    check_glu<T, 3, 16>(z_scale);
    check_glu<T, 2, 17>(z_scale);
    check_glu<T, 5, 33>(z_scale);
  }

  check_prelu<T, 1, 1, 1>();
  check_prelu<T, 3, 5, 1>();
  check_prelu<T, 3, 17, 1>();
  check_prelu<T, 64, 40, 1>();
  check_prelu<T, 3, 3, 49>();
  check_prelu<T, 2, 32, 196>();
  check_prelu<T, 3, 2, 7>();
  check_prelu<T, 1, 4, 16>();
}

}  // namespace

TEST_CASE("layer kernels: add, accumulate, row copies, GLU and PReLU match their formulas (float)",
          "[layer_kernels]") {
  check_all<float>();
}

TEST_CASE("layer kernels: add, accumulate, row copies, GLU and PReLU match their formulas (double)",
          "[layer_kernels]") {
  check_all<double>();
}
