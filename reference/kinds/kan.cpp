// kan: y_o = sum_i (W[o][i] silu(x_i) + sum_k C[o][i][k] B_k(x_i)), the efficient-kan form of a
// Kolmogorov-Arnold layer, on a flat input [N]: B_k are `grid` cubic B-splines on uniform knots
// lo + (j - 3) h, h = (hi - lo) / (grid - 3), each its tangent line past the range's ends. The
// B-spline is written out here from its definition (the Cox-de Boor recursion on the knots), not
// taken from the kernels' piecewise polynomials.
#include <cmath>

#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const ir::Shape& s0 = c.in_shapes[0];
  require(s0.size() == 1, c.what + " needs a flat input [N], not " + ir::shape_text(s0));
  const auto grid = static_cast<std::size_t>(c.layer.setting("grid"));
  require(grid >= 4, c.what + " needs at least 4 basis functions");
  require(c.layer.setting("lo") < c.layer.setting("hi"), c.what + " needs lo < hi");
  const std::size_t in = c.layer.in_features, out = c.layer.out_features;
  require(c.params_are({{out, in}, {out, in, grid}}), c.what + " needs base_weight [out, in] = " +
                                                         ir::shape_text({out, in}) + " and spline_weight [out, in, grid] = " +
                                                         ir::shape_text({out, in, grid}));
}

// B_{k,p}(x) on knots t: Cox-de Boor, B_{k,0} = [t_k <= x < t_k+1].
double cox_de_boor(const std::vector<double>& t, std::size_t k, int p, double x) {
  if (p == 0) return t[k] <= x && x < t[k + 1] ? 1.0 : 0.0;
  const double left = (x - t[k]) / (t[k + p] - t[k]) * cox_de_boor(t, k, p - 1, x);
  const double right = (t[k + p + 1] - x) / (t[k + p + 1] - t[k + 1]) * cox_de_boor(t, k + 1, p - 1, x);
  return left + right;
}

// d/dx B_{k,3}(x) = 3 (B_{k,2}(x) / (t_k+3 - t_k) - B_{k+1,2}(x) / (t_k+4 - t_k+1)).
double cox_de_boor_slope(const std::vector<double>& t, std::size_t k, double x) {
  return 3.0 * (cox_de_boor(t, k, 2, x) / (t[k + 3] - t[k]) - cox_de_boor(t, k + 1, 2, x) / (t[k + 4] - t[k + 1]));
}

struct Splines {
  std::size_t grid;
  double lo, hi;
  std::vector<double> knots;
  explicit Splines(const ir::Layer& l)
      : grid(static_cast<std::size_t>(l.setting("grid"))), lo(l.setting("lo")), hi(l.setting("hi")) {
    const double h = (hi - lo) / static_cast<double>(grid - 3);
    for (std::size_t j = 0; j < grid + 4; ++j) knots.push_back(lo + (static_cast<double>(j) - 3.0) * h);
  }
  // B_k and B_k' at x (the knots run 3 steps past hi, so the half-open pieces hold hi too); past
  // the range's ends, each is its tangent line there.
  void at(std::size_t k, double x, double& value, double& slope) const {
    const double end = x < lo ? lo : (x > hi ? hi : x);
    value = cox_de_boor(knots, k, 3, end);
    slope = cox_de_boor_slope(knots, k, end);
    value += slope * (x - end);
  }
};

template <class T>
T silu(T x) {
  return x / (T(1) + std::exp(-x));
}

template <class T>
void forward(const Forward<T>& p) {
  const Splines s(p.layer);
  const std::vector<T>&w = p.params[0], &c = p.params[1];
  const std::size_t in = p.m_in, out = p.m_out;
  for (std::size_t n = 0; n < p.n; n++) {
    for (std::size_t o = 0; o < out; o++) p.z[n * out + o] = 0;
    for (std::size_t i = 0; i < in; i++) {
      const T x = p.in[0][n * in + i];
      for (std::size_t o = 0; o < out; o++) p.z[n * out + o] += w[o * in + i] * silu(x);
      for (std::size_t k = 0; k < s.grid; k++) {
        double value, slope;
        s.at(k, static_cast<double>(x), value, slope);
        for (std::size_t o = 0; o < out; o++) p.z[n * out + o] += c[(o * in + i) * s.grid + k] * T(value);
      }
    }
  }
}

// dz_o/dW[o][i] = silu(x_i);  dz_o/dC[o][i][k] = B_k(x_i);
// dz_o/dx_i = W[o][i] silu'(x_i) + sum_k C[o][i][k] B_k'(x_i), silu'(x) = s (1 + x (1 - s)).
template <class T>
void backward(const Backward<T>& p) {
  const Splines s(p.layer);
  const std::vector<T>&w = p.params[0], &c = p.params[1];
  std::vector<T>&dw = p.grads[0], &dc = p.grads[1];
  const std::size_t in = p.m_in, out = p.m_out;
  for (std::size_t n = 0; n < p.n; n++)
    for (std::size_t i = 0; i < in; i++) {
      const T x = p.in[0][n * in + i];
      const T sg = T(1) / (T(1) + std::exp(-x));
      T dx = 0;
      for (std::size_t o = 0; o < out; o++) {
        const T dz = p.dz[n * out + o];
        dw[o * in + i] += dz * silu(x);
        dx += dz * w[o * in + i] * sg * (T(1) + x * (T(1) - sg));
      }
      for (std::size_t k = 0; k < s.grid; k++) {
        double value, slope;
        s.at(k, static_cast<double>(x), value, slope);
        for (std::size_t o = 0; o < out; o++) {
          const T dz = p.dz[n * out + o];
          dc[(o * in + i) * s.grid + k] += dz * T(value);
          dx += dz * c[(o * in + i) * s.grid + k] * T(slope);
        }
      }
      p.gin[0][n * in + i] += dx;
    }
}

}  // namespace

template <class T>
Kind<T> kan() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> kan();
template Kind<double> kan();

}  // namespace castnet::interp::kinds
