// basis_activation: z = sum_k coef[c][k] psi_k(x), one row of coefficients per channel c of an input
// [C, H, W] (its H W positions share it) or per feature of an input [N]. The basis is written out
// here again from its definition (specs/README.md), not taken from the kernels:
//   rbf      psi_k(x) = exp(-(u - k + 1)^2), u = (x - lo) / h, h = (hi - lo) / (count - 3): centres
//            lo - h, lo, ..., hi, hi + h
//   bspline  psi_k(x) = B((x - t_k) / h), the cubic B-spline on knots t_j = lo + (j - 3) h,
//            h = (hi - lo) / (count - 3), B the uniform cubic B-spline on [0, 4]
// and outside [lo, hi] each psi_k is its tangent line at the nearer end.
#include <cmath>

#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const ir::Shape& s0 = c.in_shapes[0];
  require(s0.size() == 1 || s0.size() == 3, c.what + " needs an input [N] or [C, H, W], not " + ir::shape_text(s0));
  const auto count = static_cast<std::size_t>(c.layer.setting("count"));
  require(count >= 4, c.what + " needs at least 4 basis functions");
  require(c.layer.setting("lo") < c.layer.setting("hi"), c.what + " needs lo < hi");
  require(c.params_are({{s0[0], count}}), c.what + " needs a coef [C, count] = " + ir::shape_text({s0[0], count}));
  c.expect_out(s0);
}

// The uniform cubic B-spline on [0, 4] (knots 0 .. 4) and its derivative, piece by piece.
template <class T>
T cubic_bspline(T v) {
  if (v <= T(0) || v >= T(4)) return T(0);
  if (v < T(1)) return v * v * v / T(6);
  if (v < T(2)) return (T(-3) * std::pow(v - T(1), 3) + T(3) * std::pow(v - T(1), 2) + T(3) * (v - T(1)) + T(1)) / T(6);
  if (v < T(3)) return (T(3) * std::pow(v - T(2), 3) - T(6) * std::pow(v - T(2), 2) + T(4)) / T(6);
  return std::pow(T(4) - v, 3) / T(6);
}

template <class T>
T cubic_bspline_slope(T v) {
  if (v <= T(0) || v >= T(4)) return T(0);
  if (v < T(1)) return v * v / T(2);
  if (v < T(2)) return (T(-9) * std::pow(v - T(1), 2) + T(6) * (v - T(1)) + T(3)) / T(6);
  if (v < T(3)) return (T(9) * std::pow(v - T(2), 2) - T(12) * (v - T(2))) / T(6);
  return -std::pow(T(4) - v, 2) / T(2);
}

struct Grid {
  bool bspline;
  std::size_t count;
  double lo, hi, h;
  explicit Grid(const ir::Layer& l)
      : bspline(l.setting("basis") != 0.0), count(static_cast<std::size_t>(l.setting("count"))),
        lo(l.setting("lo")), hi(l.setting("hi")),
        h((hi - lo) / static_cast<double>(count - 3)) {}

  // psi_k and d psi_k / dx at x, on [lo, hi].
  template <class T>
  void inside(std::size_t k, T x, T& value, T& slope) const {
    if (bspline) {
      const T v = (x - T(lo)) / T(h) - T(k) + T(3);  // (x - t_k) / h
      value = cubic_bspline(v);
      slope = cubic_bspline_slope(v) / T(h);
    } else {
      const T r = (x - T(lo)) / T(h) - T(k) + T(1);
      value = std::exp(-r * r);
      slope = T(-2) * r * value / T(h);
    }
  }

  // psi_k and its slope at any x: past an end, the tangent line there.
  template <class T>
  void at(std::size_t k, T x, T& value, T& slope) const {
    const T end = x < T(lo) ? T(lo) : (x > T(hi) ? T(hi) : x);
    inside(k, end, value, slope);
    value += slope * (x - end);
  }
};

template <class T>
void forward(const Forward<T>& p) {
  const Grid grid(p.layer);
  const std::vector<T>& coef = p.params[0];
  const std::size_t channels = coef.size() / grid.count, positions = p.m_in / channels;
  for (std::size_t s = 0; s < p.n; s++)
    for (std::size_t c = 0; c < channels; c++)
      for (std::size_t q = 0; q < positions; q++) {
        const std::size_t i = s * p.m_in + c * positions + q;
        T z = 0;
        for (std::size_t k = 0; k < grid.count; k++) {
          T value, slope;
          grid.at(k, p.in[0][i], value, slope);
          z += coef[c * grid.count + k] * value;
        }
        p.z[i] = z;
      }
}

// z = sum_k coef[c][k] psi_k(x)  =>  dx = dz sum_k coef[c][k] psi_k'(x);  dcoef[c][k] = sum dz psi_k(x).
template <class T>
void backward(const Backward<T>& p) {
  const Grid grid(p.layer);
  const std::vector<T>& coef = p.params[0];
  const std::size_t channels = coef.size() / grid.count, positions = p.m_in / channels;
  for (std::size_t s = 0; s < p.n; s++)
    for (std::size_t c = 0; c < channels; c++)
      for (std::size_t q = 0; q < positions; q++) {
        const std::size_t i = s * p.m_in + c * positions + q;
        for (std::size_t k = 0; k < grid.count; k++) {
          T value, slope;
          grid.at(k, p.in[0][i], value, slope);
          p.gin[0][i] += p.dz[i] * coef[c * grid.count + k] * slope;
          p.grads[0][c * grid.count + k] += p.dz[i] * value;
        }
      }
}

}  // namespace

template <class T>
Kind<T> basis_activation() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> basis_activation();
template Kind<double> basis_activation();

}  // namespace castnet::interp::kinds
