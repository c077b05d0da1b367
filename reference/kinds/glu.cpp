// glu: a gated linear unit of U units. h = x W^T + b with W [2U, in] and b [2U]; the first half of
// h is the value, the second the gate: z[j] = h[j] sigmoid(h[U + j]). The forward pass keeps h for
// the backward pass.
#include "reference/activations.hpp"
#include "reference/kind.hpp"
#include "reference/kinds/affine.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const std::size_t u = c.layer.units, in = c.layer.in_features;
  require(u > 0 && c.layer.out_features == u, c.what + " needs units >= 1 and as many outputs as units");
  require(c.params_are({{2 * u, in}, {2 * u}}), c.what + " needs a weight [2U, in] = " + ir::shape_text({2 * u, in}) +
                                                    " and a bias [2U] = " + ir::shape_text({2 * u}));
  c.expect_out({u});
}

// h = x W^T + b, z[j] = h[j] sigmoid(h[U + j]); saved: h, (n, 2U).
template <class T>
void forward(const Forward<T>& p) {
  const std::size_t u = p.layer.units;
  std::vector<T>& h = p.saved;
  h.resize(p.n * 2 * u);
  for (std::size_t s = 0; s < p.n; s++) {
    T* hs = &h[s * 2 * u];
    affine_forward(p.params[0], p.params[1], p.in[0] + s * p.m_in, p.m_in, 2 * u, hs);
    for (std::size_t j = 0; j < u; j++) p.z[s * p.m_out + j] = hs[j] * sigmoid(hs[u + j]);
  }
}

// z[j] = h[j] s(h[U + j]), s' = s (1 - s)  =>  dh[j] = dz[j] s(h[U + j]),
// dh[U + j] = dz[j] h[j] s(h[U + j]) (1 - s(h[U + j])); then h = x W^T + b as for dense.
template <class T>
void backward(const Backward<T>& p) {
  const std::size_t u = p.layer.units;
  std::vector<T> dh(2 * u);
  for (std::size_t s = 0; s < p.n; s++) {
    const T* hs = &p.saved[s * 2 * u];
    for (std::size_t j = 0; j < u; j++) {
      const T gate = sigmoid(hs[u + j]);
      const T d = p.dz[s * p.m_out + j];
      dh[j] = d * gate;
      dh[u + j] = d * hs[j] * gate * (T(1) - gate);
    }
    affine_backward(p.params[0], p.in[0] + s * p.m_in, dh.data(), p.m_in, 2 * u, p.grads[0], p.grads[1],
                    p.gin[0] + s * p.m_in);
  }
}

}  // namespace

template <class T>
Kind<T> glu() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> glu();
template Kind<double> glu();

}  // namespace castnet::interp::kinds
