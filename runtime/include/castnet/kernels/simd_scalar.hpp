// The scalar backend of castnet::simd (CASTNET_SIMD_SCALAR; `castnet gen --arch scalar`): one_lane<T>
// is a vector of one value, so the kernels compile unchanged into plain scalar C++. Standard library
// only. The vocabulary is simd.hpp's; each function keeps the contract of its vector counterparts:
// fma is fused (std::fma), min and max return their second operand when one is NaN (as x86's
// minps/maxps, which the vector backends follow), select picks per lane. Float math is castnet's own
// (math.hpp), as in the vector backends; double math is the C library's (double_math below).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "castnet/kernels/simd_base.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// The mask of one lane: comparisons of one_lane return it, select takes it.
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
  // Both conversions are implicit, as the vector backends' broadcast and register conversions are.
  one_lane(T v) noexcept : v_(v) {}
  operator T() const noexcept { return v_; }

  static one_lane load_unaligned(const T* p) noexcept { return *p; }
  static one_lane load_aligned(const T* p) noexcept { return *p; }
  void store_unaligned(T* p) const noexcept { *p = v_; }
  void store_aligned(T* p) const noexcept { *p = v_; }

  // No unary minus, as in vecext (simd_vecext.hpp says why).
  one_lane& operator+=(one_lane o) noexcept {
    v_ += o.v_;
    return *this;
  }
  one_lane& operator-=(one_lane o) noexcept {
    v_ -= o.v_;
    return *this;
  }
  one_lane& operator*=(one_lane o) noexcept {
    v_ *= o.v_;
    return *this;
  }
  one_lane& operator/=(one_lane o) noexcept {
    v_ /= o.v_;
    return *this;
  }

// With a plain T on either side too: an exact match, where T op one_lane would otherwise be
// ambiguous between this operator and the built-in one (each converting one operand).
#define CASTNET_ONE_LANE_OPERATOR(op, R)                                            \
  friend R operator op(one_lane a, one_lane b) noexcept { return R{a.v_ op b.v_}; } \
  friend R operator op(T a, one_lane b) noexcept { return R{a op b.v_}; }           \
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

template <class T>
using vec = one_lane<T>;
template <class T>
using narrow_vec = one_lane<T>;
template <class T>
using half_narrow_vec = one_lane<T>;

// x·y + z, rounded once.
template <class T>
inline one_lane<T> fma(one_lane<T> x, one_lane<T> y, one_lane<T> z) noexcept {
  return std::fma(T(x), T(y), T(z));
}
// -x·y + z, rounded once.
template <class T>
inline one_lane<T> fnma(one_lane<T> x, one_lane<T> y, one_lane<T> z) noexcept {
  return std::fma(-T(x), T(y), T(z));
}
template <class T>
inline one_lane<T> select(one_lane_bool c, one_lane<T> a, one_lane<T> b) noexcept {
  return c.value ? a : b;
}
template <class T>
inline one_lane<T> min(one_lane<T> a, one_lane<T> b) noexcept {
  return T(a) < T(b) ? a : b;
}
template <class T>
inline one_lane<T> max(one_lane<T> a, one_lane<T> b) noexcept {
  return T(a) > T(b) ? a : b;
}
template <class T>
inline one_lane<T> abs(one_lane<T> x) noexcept {
  return std::abs(T(x));
}
template <class T>
inline one_lane<T> copysign(one_lane<T> x, one_lane<T> y) noexcept {
  return std::copysign(T(x), T(y));
}

// ---- primitives of math.hpp's float functions -------------------------------------------------

// 2^n for t = 1.5·2^23 + n, n in [-126, 127] (math.hpp's kRound): the exponent field n + 127 from
// t's low bits, in unsigned arithmetic (the bits above shift out).
inline one_lane<float> pow2_biased(one_lane<float> t) noexcept {
  const float tf = t;
  std::uint32_t bits;
  std::memcpy(&bits, &tf, sizeof bits);
  bits = (bits + 127u) << 23;
  float r;
  std::memcpy(&r, &bits, sizeof r);
  return r;
}

// x = m·2^e with m in [0.5, 1), for positive normal x: returns m, sets e.
inline one_lane<float> frexp(one_lane<float> x, one_lane<float>& e) noexcept {
  const float xf = x;
  std::uint32_t bits;
  std::memcpy(&bits, &xf, sizeof bits);
  e = static_cast<float>(static_cast<std::int32_t>(bits >> 23) - 126);
  bits = (bits & 0x007FFFFFu) | 0x3F000000u;
  float m;
  std::memcpy(&m, &bits, sizeof m);
  return m;
}

// ---- double math: the C library's --------------------------------------------------------------

template <fn F>
inline one_lane<double> double_math(one_lane<double> x) noexcept {
  const double v = x;
  if constexpr (F == fn::exp) return std::exp(v);
  if constexpr (F == fn::expm1) return std::expm1(v);
  if constexpr (F == fn::log1p) return std::log1p(v);
  if constexpr (F == fn::erfc) return std::erfc(v);
  if constexpr (F == fn::tanh) return std::tanh(v);
}

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
