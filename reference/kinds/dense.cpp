// dense: z = x W^T + b, W [out, in] and b [out] as torch stores them; the activation fused into
// the layer follows (the interpreter applies it).
#include "reference/kind.hpp"
#include "reference/kinds/affine.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const std::size_t in = c.layer.in_features, out = c.layer.out_features;
  require(c.params_are({{out, in}, {out}}), c.what + " needs a weight [out, in] = " + ir::shape_text({out, in}) +
                                                " and a bias [out] = " + ir::shape_text({out}));
}

// z = x W^T + b
template <class T>
void forward(const Forward<T>& p) {
  for (std::size_t s = 0; s < p.n; s++)
    affine_forward(p.params[0], p.params[1], p.in[0] + s * p.m_in, p.m_in, p.m_out, p.z + s * p.m_out);
}

// z = x W^T + b  =>  dW = dz^T x, db = sum over samples of dz, dx = dz W.
template <class T>
void backward(const Backward<T>& p) {
  for (std::size_t s = 0; s < p.n; s++)
    affine_backward(p.params[0], p.in[0] + s * p.m_in, p.dz + s * p.m_out, p.m_in, p.m_out, p.grads[0], p.grads[1],
                    p.gin[0] + s * p.m_in);
}

}  // namespace

template <class T>
Kind<T> dense() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> dense();
template Kind<double> dense();

}  // namespace castnet::interp::kinds
