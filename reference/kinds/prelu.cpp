// prelu: z = x > 0 ? x : w[c] x, one learnt slope w[c] per channel c of an input [C, H, W] (its
// H W positions share it) or per feature of an input [N].
#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const ir::Shape& s0 = c.in_shapes[0];
  require(s0.size() == 1 || s0.size() == 3, c.what + " needs an input [N] or [C, H, W], not " + ir::shape_text(s0));
  require(c.params_are({{s0[0]}}), c.what + " needs a weight [C] = " + ir::shape_text({s0[0]}));
  c.expect_out(s0);
}

// z = x > 0 ? x : w[c] x, c the channel ([C, H, W]: S = H W positions each) or feature ([N]).
template <class T>
void forward(const Forward<T>& p) {
  const std::vector<T>& w = p.params[0];
  const std::size_t channels = w.size(), positions = p.m_in / channels;
  for (std::size_t s = 0; s < p.n; s++)
    for (std::size_t c = 0; c < channels; c++)
      for (std::size_t q = 0; q < positions; q++) {
        const std::size_t i = s * p.m_in + c * positions + q;
        p.z[i] = p.in[0][i] > T(0) ? p.in[0][i] : w[c] * p.in[0][i];
      }
}

// z = x > 0 ? x : w[c] x  =>  dx = x > 0 ? dz : w[c] dz; dw[c] = sum over samples and
// positions with x <= 0 of dz x.
template <class T>
void backward(const Backward<T>& p) {
  const std::vector<T>& w = p.params[0];
  std::vector<T>& dw = p.grads[0];
  const std::size_t channels = w.size(), positions = p.m_in / channels;
  for (std::size_t s = 0; s < p.n; s++)
    for (std::size_t c = 0; c < channels; c++)
      for (std::size_t q = 0; q < positions; q++) {
        const std::size_t i = s * p.m_in + c * positions + q;
        if (p.in[0][i] > T(0)) {
          p.gin[0][i] += p.dz[i];
        } else {
          p.gin[0][i] += w[c] * p.dz[i];
          dw[c] += p.dz[i] * p.in[0][i];
        }
      }
}

}  // namespace

template <class T>
Kind<T> prelu() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> prelu();
template Kind<double> prelu();

}  // namespace castnet::interp::kinds
