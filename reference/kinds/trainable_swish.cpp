// trainable_swish: z = sigmoid(a[c] x + b[c]) (c[c] x + d[c]), one (a, b, c, d) per channel c of an
// input [C, H, W] (its H W positions share them) or per feature of an input [N].
#include <cmath>

#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const ir::Shape& s0 = c.in_shapes[0];
  require(s0.size() == 1 || s0.size() == 3, c.what + " needs an input [N] or [C, H, W], not " + ir::shape_text(s0));
  const ir::Shape per = {s0[0]};
  require(c.params_are({per, per, per, per}), c.what + " needs tensors a, b, c, d, each " + ir::shape_text(per));
  c.expect_out(s0);
}

template <class T>
T sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

template <class T>
void forward(const Forward<T>& p) {
  const std::vector<T>&a = p.params[0], &b = p.params[1], &cc = p.params[2], &d = p.params[3];
  const std::size_t channels = a.size(), positions = p.m_in / channels;
  for (std::size_t s = 0; s < p.n; s++)
    for (std::size_t c = 0; c < channels; c++)
      for (std::size_t q = 0; q < positions; q++) {
        const std::size_t i = s * p.m_in + c * positions + q;
        const T x = p.in[0][i];
        p.z[i] = sigmoid(a[c] * x + b[c]) * (cc[c] * x + d[c]);
      }
}

// z = g l with g = sigmoid(u), u = a x + b, l = c x + d, and dg/du = g (1 - g):
//   dz/dx = g (1 - g) a l + g c;  dz/da = g (1 - g) l x;  dz/db = g (1 - g) l;  dz/dc = g x;  dz/dd = g.
template <class T>
void backward(const Backward<T>& p) {
  const std::vector<T>&a = p.params[0], &b = p.params[1], &cc = p.params[2], &d = p.params[3];
  const std::size_t channels = a.size(), positions = p.m_in / channels;
  for (std::size_t s = 0; s < p.n; s++)
    for (std::size_t c = 0; c < channels; c++)
      for (std::size_t q = 0; q < positions; q++) {
        const std::size_t i = s * p.m_in + c * positions + q;
        const T x = p.in[0][i], dz = p.dz[i];
        const T g = sigmoid(a[c] * x + b[c]), l = cc[c] * x + d[c];
        const T gu = g * (T(1) - g);
        p.gin[0][i] += dz * (gu * a[c] * l + g * cc[c]);
        p.grads[0][c] += dz * gu * l * x;
        p.grads[1][c] += dz * gu * l;
        p.grads[2][c] += dz * g * x;
        p.grads[3][c] += dz * g;
      }
}

}  // namespace

template <class T>
Kind<T> trainable_swish() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> trainable_swish();
template Kind<double> trainable_swish();

}  // namespace castnet::interp::kinds
