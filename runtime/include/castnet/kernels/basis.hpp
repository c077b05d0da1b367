// The fixed basis functions of basis_activation and kan, on a uniform grid over [lo, hi], with
// u = (x - lo) / h the position in grid steps:
//   rbf      Count Gaussians centred on the grid points lo + (k - 1) h, k = 0 .. Count - 1, with
//            h = (hi - lo) / (Count - 3) (one centre past each end, so that the edges of [lo, hi]
//            are as well covered as its middle), each as wide as the spacing: psi_k(x) =
//            exp(-(u - k + 1)^2)
//   bspline  Count cubic B-splines on uniform knots lo + (j - 3) h, j = 0 .. Count + 3, with
//            h = (hi - lo) / (Count - 3): Count - 3 intervals over [lo, hi], where the Count
//            functions sum to 1; on the interval [lo + i h, lo + (i + 1) h] only B_i .. B_i+3 are
//            not zero (the knot spans past lo and hi hold the three extra functions' other pieces)
// Outside [lo, hi] every function goes on as the line tangent to it at the nearer end, so a
// combination sum_k c_k psi_k(x) extends linearly with its slope at the boundary.
// eval() gives, for one x, the first function that may be non-zero, k0, and the Width values
// psi_k0..k0+width-1(x) and their slopes d/dx (rbf: width = Count, k0 = 0; bspline: width = 4).
// Plain scalar code: each value picks its own functions, which vectors without gathers cannot do.
#pragma once

#include <cmath>
#include <cstddef>

#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace basis {

enum class Kind { rbf, bspline };

// The values eval() gives per x.
constexpr std::size_t width(Kind k, std::size_t count) noexcept { return k == Kind::rbf ? count : 4; }

// Grid steps over [lo, hi] (count >= 4: the spec's rule); both kinds use the same grid.
constexpr std::size_t steps(Kind, std::size_t count) noexcept { return count - 3; }

// k0, and value[j], slope[j] of function k0 + j at x; inv_h = 1 / h. The count is an argument (the
// kernels pass a constant, which the compiler folds) so that the initialisation can share it.
template <Kind K, class T>
inline std::size_t eval(std::size_t count, T x, T lo, T inv_h, T* value, T* slope) noexcept {
  const T last = T(steps(K, count));
  // Every a*b + c below is an explicit std::fma: left to the compiler's contraction
  // (-ffp-contract=fast, GCC's default), the same code fused differently in different builds and
  // inlining contexts, and an exported header lost bit-equality with `castnet predict`. u itself is
  // an fma, so no later subtraction can be fused into its product.
  const T u = std::fma(x - lo, inv_h, T(0));
  // uc: u clamped to the grid; e: how far past its end x lies, in steps (0 inside)
  const T uc = u < T(0) ? T(0) : (u > last ? last : u);
  const T e = u - uc;
  if constexpr (K == Kind::rbf) {
    for (std::size_t k = 0; k < count; ++k) {
      const T r = uc - T(k) + T(1);
      const T g = std::exp(-r * r);
      const T dg = T(-2) * r * g;  // d/du
      value[k] = std::fma(dg, e, g);
      slope[k] = dg * inv_h;
    }
    return 0;
  } else {
    std::size_t i = static_cast<std::size_t>(uc);
    if (i > steps(K, count) - 1) i = steps(K, count) - 1;  // u at hi: the last interval's end
    const T t = uc - T(i), s = T(1) - t;
    const T t2 = t * t;
    // The four pieces on [0, 1] and their derivatives d/dt, in Horner form:
    // (t^3 - ...) as ((3t - 6) t^2 + 4) / 6, (((-3t + 3) t + 3) t + 1) / 6; (3t - 4) t / 2,
    // ((-3t + 2) t + 1) / 2.
    const T b[4] = {s * s * s / T(6), std::fma(std::fma(T(3), t, T(-6)), t2, T(4)) / T(6),
                    std::fma(std::fma(std::fma(T(-3), t, T(3)), t, T(3)), t, T(1)) / T(6), t2 * t / T(6)};
    const T d[4] = {-(s * s) / T(2), std::fma(T(3), t, T(-4)) * t / T(2), std::fma(std::fma(T(-3), t, T(2)), t, T(1)) / T(2),
                    t2 / T(2)};
    for (std::size_t j = 0; j < 4; ++j) {
      value[j] = std::fma(d[j], e, b[j]);
      slope[j] = d[j] * inv_h;
    }
    return i;
  }
}

// 1 / h for count functions of kind k over [lo, hi].
template <class T>
constexpr T inverse_step(Kind k, std::size_t count, T lo, T hi) noexcept {
  return T(steps(k, count)) / (hi - lo);
}

}  // namespace basis
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
