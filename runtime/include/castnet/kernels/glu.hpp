// Gated linear unit (torch.nn.GLU(dim=-1)) on rows of 2U values: the first half is the value, the
// second half the gate,
//   out[r][j] = z[r][j] · σ(z[r][U + j])                        for j < U,
// and its backward pass, with s = σ(z[r][U + j]):
//   dz[r][j] = dout[r][j] · s,   dz[r][U + j] = dout[r][j] · z[r][j] · s · (1 - s).
// σ is activation.hpp's stable_sigmoid (no overflow for any z). Vectorised along j; the last
// partial vector of a row goes through zero-padded loads like activation.hpp's map.
#pragma once

#include <cstddef>

#include "castnet/kernels/activation.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {

// out (Rows × U) from z (Rows × 2U).
template <class T, std::size_t Rows, std::size_t U>
void glu_forward(const T* z, T* out) noexcept {
  using V = simd::vec<T>;
  for (std::size_t r = 0; r < Rows; ++r) {
    const T* zr = z + r * 2 * U;
    activation_detail::map<T, U>([](V value, V gate) { return value * activation_detail::stable_sigmoid<T>(gate); },
                                 out + r * U, zr, zr + U);
  }
}

// dz (Rows × 2U) from z (Rows × 2U) and dout (Rows × U). Each vector of z is read before the vector
// of dz at the same place is written, so dz may be z.
template <class T, std::size_t Rows, std::size_t U>
void glu_backward(const T* z, const T* dout, T* dz) noexcept {
  using V = simd::vec<T>;
  constexpr std::size_t L = simd::lanes<T>;
  constexpr std::size_t full = U / L * L;
  const auto step = [](const T* zr, const T* dr, T* gr, std::size_t j, auto load, auto store) {
    const V value = load(zr + j), gate = load(zr + U + j), d = load(dr + j);
    const V s = activation_detail::stable_sigmoid<T>(gate);
    store(gr + j, d * s);
    store(gr + U + j, d * value * s * (V(T(1)) - s));
  };
  constexpr auto load_full = [](const T* p) { return V::load_unaligned(p); };
  constexpr auto store_full = [](T* p, const V& v) { v.store_unaligned(p); };
  for (std::size_t r = 0; r < Rows; ++r) {
    const T* zr = z + r * 2 * U;
    const T* dr = dout + r * U;
    T* gr = dz + r * 2 * U;
    for (std::size_t j = 0; j < full; j += L) step(zr, dr, gr, j, load_full, store_full);
    if constexpr (U != full) {
      constexpr auto load_tail = [](const T* p) { return simd::load_n<T, U - full>(p); };
      constexpr auto store_tail = [](T* p, const V& v) { simd::store_n<T, U - full>(p, v); };
      step(zr, dr, gr, full, load_tail, store_tail);
    }
  }
}

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
