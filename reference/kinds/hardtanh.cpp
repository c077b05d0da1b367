// hardtanh: z = min(max(x, min_val), max_val), each value on its own (torch.nn.Hardtanh).
#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  require(c.layer.params.empty(), c.what + " must have no params");
  require(c.layer.settings.count("min_val") == 1 && c.layer.settings.count("max_val") == 1 &&
              c.layer.setting("min_val") < c.layer.setting("max_val"),
          c.what + " needs settings min_val < max_val");
  c.expect_out(c.in_shapes[0]);
}

template <class T>
void forward(const Forward<T>& p) {
  const T lo = static_cast<T>(p.layer.setting("min_val")), hi = static_cast<T>(p.layer.setting("max_val"));
  for (std::size_t i = 0; i < p.n * p.m_in; i++) {
    const T x = p.in[0][i];
    p.z[i] = x < lo ? lo : x > hi ? hi : x;
  }
}

// z = x inside (min_val, max_val), constant outside  =>  dx = dz strictly inside, 0 elsewhere (at
// the edges too, as torch's hardtanh_backward).
template <class T>
void backward(const Backward<T>& p) {
  const T lo = static_cast<T>(p.layer.setting("min_val")), hi = static_cast<T>(p.layer.setting("max_val"));
  for (std::size_t i = 0; i < p.n * p.m_in; i++) {
    const T x = p.in[0][i];
    if (x > lo && x < hi) p.gin[0][i] += p.dz[i];
  }
}

}  // namespace

template <class T>
Kind<T> hardtanh() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> hardtanh();
template Kind<double> hardtanh();

}  // namespace castnet::interp::kinds
