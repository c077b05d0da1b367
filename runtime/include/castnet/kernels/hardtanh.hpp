// hardtanh (torch.nn.Hardtanh) over N values, elementwise, in whole vectors with a zero-padded
// last one (activation.hpp's map):
//   out = min(max(x, lo), hi)                         (a NaN stays NaN, as torch's clamp)
//   dx  = lo < out < hi ? dout : 0                    (0 at the edges, as torch)
// The backward pass reads the output: lo < out < hi exactly where lo < x < hi.
#pragma once

#include <cstddef>

#include "castnet/kernels/activation.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace kernels {

// out may be x.
template <class T, std::size_t N>
void hardtanh_forward(const T* x, T* out, T lo, T hi) noexcept {
  using V = simd::vec<T>;
  // min and max return their second operand where either is NaN: x goes second.
  activation_detail::map<T, N>([&](V xv) { return simd::min(V(hi), simd::max(V(lo), xv)); }, out, x);
}

// dx may be dout.
template <class T, std::size_t N>
void hardtanh_backward(const T* out, const T* dout, T* dx, T lo, T hi) noexcept {
  using V = simd::vec<T>;
  const auto f = [&](V ov, V dv) { return simd::select(ov > V(lo), simd::select(ov < V(hi), dv, V(T(0))), V(T(0))); };
  activation_detail::map<T, N>(f, dx, out, dout);
}

}  // namespace kernels
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
