// dropout: inverted dropout, z = x * mask. In a training pass (a dropout key) the mask keeps each
// value with probability 1 - rate, scaled by 1 / (1 - rate), and zeroes the others; without a key
// it is all ones, the identity. The forward pass keeps the mask for the backward pass.
#include <castnet/rng.hpp>  // what a dropout mask is (a definition, not math under test)

#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const ir::Layer& layer = c.layer;
  require(layer.params.empty() && layer.in_features == layer.out_features && layer.rate >= 0 && layer.rate < 1,
          c.what + " must have no params, as many outputs as inputs and a rate in [0, 1)");
}

// z = x * mask; saved: the mask, (n, m_out), 0 or 1 / (1 - rate) per value, as
// castnet::rng::dropout_keep draws it for this layer's stream of the key.
template <class T>
void forward(const Forward<T>& p) {
  std::vector<T>& mask = p.saved;
  mask.assign(p.n * p.m_out, T(1));
  if (p.dropout_key) {
    const std::uint64_t base = rng::dropout_base(*p.dropout_key, p.index);
    const std::uint32_t threshold = rng::dropout_threshold(p.layer.rate);
    const T scale = static_cast<T>(1.0 / (1.0 - p.layer.rate));
    for (std::size_t i = 0; i < p.n * p.m_out; i++) mask[i] = rng::dropout_keep(base, i, threshold) ? scale : T(0);
  }
  for (std::size_t i = 0; i < p.n * p.m_out; i++) p.z[i] = p.in[0][i] * mask[i];
}

// z = x * mask  =>  dx = dz * mask
template <class T>
void backward(const Backward<T>& p) {
  const std::vector<T>& mask = p.saved;
  for (std::size_t i = 0; i < p.n * p.m_in; i++) p.gin[0][i] += p.dz[i] * mask[i];
}

}  // namespace

template <class T>
Kind<T> dropout() {
  return {.check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> dropout();
template Kind<double> dropout();

}  // namespace castnet::interp::kinds
