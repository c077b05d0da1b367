// The one-lane batch of castnet's scalar backend (CASTNET_SIMD_SCALAR; `castnet gen --arch scalar`):
// the members and free functions of xsimd::batch that the kernels use, each on one value, so the
// kernels compile unchanged into plain scalar code (xsimd 8.1 has no scalar architecture). The
// kernels call the free functions qualified, as xsimd::fma(a, b, c), so the overloads for one_lane
// are declared in namespace xsimd beside xsimd's own; a qualified call has no argument-dependent
// lookup, so they must be declared before the kernels: simd_helpers.hpp includes this header right
// after xsimd, and only when CASTNET_SIMD_SCALAR is defined.
//
// Each function mirrors its xsimd counterpart's contract on x86: fma is fused (std::fma), min and
// max return their second operand when one is NaN (as minps/maxps), select picks per lane. The
// transcendental functions are the C library's, so their last bits differ from xsimd's vector
// approximations: a scalar model agrees with a vector one to rounding, not bit for bit.
#pragma once

#include <cmath>
#include <cstddef>

namespace castnet::inline CASTNET_SIMD_ISA::simd {

// The mask of one lane: comparisons of one_lane return it, xsimd::select takes it.
struct one_lane_bool {
  bool value;
};

template <class T>
class one_lane {
 public:
  using value_type = T;
  using register_type = T;  // kernels::detail::in_register keeps the value in a register of this type
  using batch_bool_type = one_lane_bool;
  static constexpr std::size_t size = 1;

  one_lane() noexcept = default;
  // Both conversions are implicit, as xsimd::batch's broadcast and register conversions are.
  one_lane(T v) noexcept : v_(v) {}
  operator T() const noexcept { return v_; }

  static one_lane load_unaligned(const T* p) noexcept { return *p; }
  static one_lane load_aligned(const T* p) noexcept { return *p; }
  void store_unaligned(T* p) const noexcept { *p = v_; }
  void store_aligned(T* p) const noexcept { *p = v_; }

  one_lane operator-() const noexcept { return -v_; }
  one_lane& operator+=(one_lane o) noexcept { v_ += o.v_; return *this; }
  one_lane& operator-=(one_lane o) noexcept { v_ -= o.v_; return *this; }
  one_lane& operator*=(one_lane o) noexcept { v_ *= o.v_; return *this; }
  one_lane& operator/=(one_lane o) noexcept { v_ /= o.v_; return *this; }

// With a plain T on either side too: an exact match, where T op one_lane would otherwise be
// ambiguous between this operator and the built-in one (each converting one operand).
#define CASTNET_ONE_LANE_OPERATOR(op, R)                                                    \
  friend R operator op(one_lane a, one_lane b) noexcept { return R{a.v_ op b.v_}; }          \
  friend R operator op(T a, one_lane b) noexcept { return R{a op b.v_}; }                    \
  friend R operator op(one_lane a, T b) noexcept { return R{a.v_ op b}; }
  CASTNET_ONE_LANE_OPERATOR(+, one_lane)
  CASTNET_ONE_LANE_OPERATOR(-, one_lane)
  CASTNET_ONE_LANE_OPERATOR(*, one_lane)
  CASTNET_ONE_LANE_OPERATOR(/, one_lane)
  CASTNET_ONE_LANE_OPERATOR(<, one_lane_bool)
  CASTNET_ONE_LANE_OPERATOR(<=, one_lane_bool)
  CASTNET_ONE_LANE_OPERATOR(>, one_lane_bool)
  CASTNET_ONE_LANE_OPERATOR(>=, one_lane_bool)
  CASTNET_ONE_LANE_OPERATOR(==, one_lane_bool)
  CASTNET_ONE_LANE_OPERATOR(!=, one_lane_bool)
#undef CASTNET_ONE_LANE_OPERATOR

 private:
  T v_;
};

}  // namespace castnet::inline CASTNET_SIMD_ISA::simd

namespace xsimd {

template <class T>
using castnet_lane = castnet::simd::one_lane<T>;

template <class T>
inline castnet_lane<T> fma(castnet_lane<T> x, castnet_lane<T> y, castnet_lane<T> z) noexcept {
  return std::fma(T(x), T(y), T(z));
}
// -x·y + z
template <class T>
inline castnet_lane<T> fnma(castnet_lane<T> x, castnet_lane<T> y, castnet_lane<T> z) noexcept {
  return std::fma(-T(x), T(y), T(z));
}
template <class T>
inline castnet_lane<T> select(castnet::simd::one_lane_bool c, castnet_lane<T> a, castnet_lane<T> b) noexcept {
  return c.value ? a : b;
}
template <class T>
inline castnet_lane<T> min(castnet_lane<T> a, castnet_lane<T> b) noexcept {
  return T(a) < T(b) ? a : b;
}
template <class T>
inline castnet_lane<T> max(castnet_lane<T> a, castnet_lane<T> b) noexcept {
  return T(a) > T(b) ? a : b;
}
template <class T>
inline T hadd(castnet_lane<T> x) noexcept {
  return x;
}
template <class T>
inline castnet_lane<T> abs(castnet_lane<T> x) noexcept {
  return std::abs(T(x));
}
template <class T>
inline castnet_lane<T> copysign(castnet_lane<T> x, castnet_lane<T> y) noexcept {
  return std::copysign(T(x), T(y));
}
template <class T>
inline castnet_lane<T> exp(castnet_lane<T> x) noexcept {
  return std::exp(T(x));
}
template <class T>
inline castnet_lane<T> expm1(castnet_lane<T> x) noexcept {
  return std::expm1(T(x));
}
template <class T>
inline castnet_lane<T> log1p(castnet_lane<T> x) noexcept {
  return std::log1p(T(x));
}
template <class T>
inline castnet_lane<T> tanh(castnet_lane<T> x) noexcept {
  return std::tanh(T(x));
}
template <class T>
inline castnet_lane<T> erfc(castnet_lane<T> x) noexcept {
  return std::erfc(T(x));
}

}  // namespace xsimd
