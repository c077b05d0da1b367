// layernorm: each sample's N features normalised to mean 0 and variance 1, then scaled and shifted
// per feature (torch.nn.LayerNorm(N, eps), elementwise affine):
//   x̂ = (x - mean) / sqrt(var + eps) (var: the biased variance), z = x̂·w + b.
#include <cmath>

#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const ir::Shape& s0 = c.in_shapes[0];
  require(s0.size() == 1, c.what + " needs an input [N] (features), not " + ir::shape_text(s0));
  require(c.params_are({{s0[0]}, {s0[0]}}), c.what + " needs a weight and a bias " + ir::shape_text({s0[0]}));
  require(c.layer.settings.count("eps") == 1 && c.layer.setting("eps") > 0, c.what + " needs a setting eps > 0");
  c.expect_out(s0);
}

// The sample's mean and 1 / sqrt(var + eps).
template <class T>
std::pair<T, T> stats(const T* x, std::size_t m, T eps) {
  T mean = 0, var = 0;
  for (std::size_t i = 0; i < m; i++) mean += x[i];
  mean /= static_cast<T>(m);
  for (std::size_t i = 0; i < m; i++) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<T>(m);
  return {mean, T(1) / std::sqrt(var + eps)};
}

template <class T>
void forward(const Forward<T>& p) {
  const T eps = static_cast<T>(p.layer.setting("eps"));
  for (std::size_t s = 0; s < p.n; s++) {
    const T* x = p.in[0] + s * p.m_in;
    const auto [mean, r] = stats(x, p.m_in, eps);
    for (std::size_t i = 0; i < p.m_in; i++) p.z[s * p.m_in + i] = (x[i] - mean) * r * p.params[0][i] + p.params[1][i];
  }
}

// With g = dz·w: dw += dz·x̂, db += dz, dx += r (g - mean(g) - x̂ mean(g x̂)).
template <class T>
void backward(const Backward<T>& p) {
  const T eps = static_cast<T>(p.layer.setting("eps"));
  const std::size_t m = p.m_in;
  for (std::size_t s = 0; s < p.n; s++) {
    const T* x = p.in[0] + s * m;
    const T* dz = p.dz + s * m;
    const auto [mean, r] = stats(x, m, eps);
    T mg = 0, mgx = 0;
    for (std::size_t i = 0; i < m; i++) {
      const T xh = (x[i] - mean) * r, g = dz[i] * p.params[0][i];
      p.grads[0][i] += dz[i] * xh;
      p.grads[1][i] += dz[i];
      mg += g;
      mgx += g * xh;
    }
    mg /= static_cast<T>(m);
    mgx /= static_cast<T>(m);
    for (std::size_t i = 0; i < m; i++) {
      const T xh = (x[i] - mean) * r;
      p.gin[0][s * m + i] += r * (dz[i] * p.params[0][i] - mg - xh * mgx);
    }
  }
}

}  // namespace

template <class T>
Kind<T> layernorm() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> layernorm();
template Kind<double> layernorm();

}  // namespace castnet::interp::kinds
