// The vector-extension backend of castnet::simd (CASTNET_SIMD_VECEXT): vecext<T, Bytes> wraps a GCC/Clang
// vector type, T __attribute__((vector_size(Bytes))), so the kernels need nothing but the compiler
// and the standard library; it is what the exported header uses. Its width follows the instruction
// set the translation unit is built for, as xsimd's default architecture does: 64 bytes with
// AVX-512, 32 with AVX, 16 otherwise.
//
// Given the same instruction set and flags, every operation gives the bits that the xsimd backend
// (simd_xsimd.hpp) gives, so that the kernels agree bit for bit whichever backend built them:
// - fma and fnma are fused exactly where the xsimd backend's are, on targets with FMA; the
//   compiler's own contraction of x·y + z cannot be relied on, so on x86 both backends call the FMA
//   intrinsics (simd_x86.hpp).
// - min(a, b) and max(a, b) return b when either is NaN, as minps/maxps.
// - There is no unary minus: xsimd negates a 512-bit vector as 0 - x, which turns -0 into +0 where
//   its narrower vectors flip the sign bit. Kernels multiply by -1 or subtract from 0 explicitly.
// The float math (exp, erfc, ...) is math.hpp's, shared with the other backends; double math is the
// C library's, lane by lane (double is trained, never exported).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "castnet/kernels/simd_base.hpp"
#include "castnet/kernels/simd_x86.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// Reinterprets the bits of one vector (or value) as another type of the same size.
template <class To, class From>
inline To bit_cast(const From& from) noexcept {
  static_assert(sizeof(To) == sizeof(From), "bit_cast: the sizes differ");
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}

// The vector extension type of T of Bytes bytes. Spelled out per type and size: GCC does not apply
// vector_size to a typedef of a template parameter inside a class template.
template <class T, std::size_t Bytes>
struct vector_type;
#define CASTNET_VECEXT_TYPE(T, Bytes)                       \
  template <>                                               \
  struct vector_type<T, Bytes> {                            \
    typedef T type __attribute__((vector_size(Bytes)));     \
  };
CASTNET_VECEXT_TYPE(float, 16)
CASTNET_VECEXT_TYPE(float, 32)
CASTNET_VECEXT_TYPE(float, 64)
CASTNET_VECEXT_TYPE(double, 16)
CASTNET_VECEXT_TYPE(double, 32)
CASTNET_VECEXT_TYPE(double, 64)
CASTNET_VECEXT_TYPE(std::uint32_t, 16)
CASTNET_VECEXT_TYPE(std::uint32_t, 32)
CASTNET_VECEXT_TYPE(std::uint32_t, 64)
#undef CASTNET_VECEXT_TYPE

// The mask of a vecext: what comparing two vectors gives, a vector of signed integers of T's size,
// all ones where true.
template <class T, std::size_t Bytes>
class vecext_mask {
  using values = typename vector_type<T, Bytes>::type;

 public:
  using register_type = decltype(values{} < values{});

  vecext_mask() noexcept = default;
  vecext_mask(register_type m) noexcept : m_(m) {}
  operator register_type() const noexcept { return m_; }

 private:
  register_type m_;
};

template <class T, std::size_t Bytes>
class vecext {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "vecext: float or double");
  static_assert(Bytes % sizeof(T) == 0 && Bytes >= 2 * sizeof(T), "vecext: whole lanes, at least two");

 public:
  using register_type = typename vector_type<T, Bytes>::type;
  using value_type = T;
  using batch_bool_type = vecext_mask<T, Bytes>;
  static constexpr std::size_t size = Bytes / sizeof(T);

  vecext() noexcept = default;
  // Both conversions are implicit, as xsimd::batch's broadcast and register conversions are.
  vecext(T x) noexcept : v_(broadcast(x, std::make_index_sequence<size>{})) {}
  vecext(register_type v) noexcept : v_(v) {}
  operator register_type() const noexcept { return v_; }

  static vecext load_unaligned(const T* p) noexcept {
    register_type v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static vecext load_aligned(const T* p) noexcept { return load_unaligned(p); }
  void store_unaligned(T* p) const noexcept { std::memcpy(p, &v_, sizeof v_); }
  void store_aligned(T* p) const noexcept { store_unaligned(p); }

  vecext& operator+=(const vecext& o) noexcept {
    v_ += o.v_;
    return *this;
  }
  vecext& operator-=(const vecext& o) noexcept {
    v_ -= o.v_;
    return *this;
  }
  vecext& operator*=(const vecext& o) noexcept {
    v_ *= o.v_;
    return *this;
  }
  vecext& operator/=(const vecext& o) noexcept {
    v_ /= o.v_;
    return *this;
  }

// With a plain T on either side too: T op vecext would otherwise be ambiguous between this operator
// and the vector type's built-in one (each converting one operand).
#define CASTNET_VECEXT_OPERATOR(op, R)                                                                    \
  friend R operator op(const vecext& a, const vecext& b) noexcept { return R(a.v_ op b.v_); }             \
  friend R operator op(T a, const vecext& b) noexcept { return R(vecext(a).v_ op b.v_); }                 \
  friend R operator op(const vecext& a, T b) noexcept { return R(a.v_ op vecext(b).v_); }
  CASTNET_VECEXT_OPERATOR(+, vecext)
  CASTNET_VECEXT_OPERATOR(-, vecext)
  CASTNET_VECEXT_OPERATOR(*, vecext)
  CASTNET_VECEXT_OPERATOR(/, vecext)
  CASTNET_VECEXT_OPERATOR(<, batch_bool_type)
  CASTNET_VECEXT_OPERATOR(<=, batch_bool_type)
  CASTNET_VECEXT_OPERATOR(>, batch_bool_type)
  CASTNET_VECEXT_OPERATOR(>=, batch_bool_type)
  CASTNET_VECEXT_OPERATOR(==, batch_bool_type)
  CASTNET_VECEXT_OPERATOR(!=, batch_bool_type)
#undef CASTNET_VECEXT_OPERATOR

 private:
  template <std::size_t... I>
  static register_type broadcast(T x, std::index_sequence<I...>) noexcept {
    return register_type{(static_cast<void>(I), x)...};
  }

  register_type v_;
};

#if defined(__AVX512F__)
template <class T>
using vec = vecext<T, 64>;
#elif defined(__AVX__)
template <class T>
using vec = vecext<T, 32>;
#else
template <class T>
using vec = vecext<T, 16>;
#endif

// The batch of the single-sample kernels: 256-bit where the build has AVX-512 (see simd_xsimd.hpp).
#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
template <class T>
using narrow_vec = vecext<T, 32>;
#else
template <class T>
using narrow_vec = vec<T>;
#endif
// Half of narrow_vec where that is a whole SSE register (see simd.hpp's row_vec), else narrow_vec.
#if defined(__AVX__)
template <class T>
using half_narrow_vec = vecext<T, 16>;
#else
template <class T>
using half_narrow_vec = narrow_vec<T>;
#endif

namespace vecext_detail {

// The lanes' bits, as the vector of signed integers of the mask type.
template <class T, std::size_t Bytes>
using bits = typename vecext_mask<T, Bytes>::register_type;

// The integer with the sign bit of T clear and every other bit set, in each lane.
template <class T, std::size_t Bytes>
inline bits<T, Bytes> magnitude_bits() noexcept {
  using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  return bits<T, Bytes>{} + std::numeric_limits<I>::max();
}

// r[i] = f(x[i]) lane by lane.
template <class T, std::size_t Bytes, class F>
inline vecext<T, Bytes> per_lane(F f, const vecext<T, Bytes>& x) noexcept {
  T v[vecext<T, Bytes>::size];
  x.store_unaligned(v);
  for (T& e : v) e = f(e);
  return vecext<T, Bytes>::load_unaligned(v);
}

}  // namespace vecext_detail

template <class T, std::size_t Bytes>
inline vecext<T, Bytes> select(const vecext_mask<T, Bytes>& m, const vecext<T, Bytes>& a,
                               const vecext<T, Bytes>& b) noexcept {
  using R = typename vecext<T, Bytes>::register_type;
  return typename vecext_mask<T, Bytes>::register_type(m) ? R(a) : R(b);
}

template <class T, std::size_t Bytes>
inline vecext<T, Bytes> min(const vecext<T, Bytes>& a, const vecext<T, Bytes>& b) noexcept {
  return select(a < b, a, b);
}

template <class T, std::size_t Bytes>
inline vecext<T, Bytes> max(const vecext<T, Bytes>& a, const vecext<T, Bytes>& b) noexcept {
  return select(a > b, a, b);
}

template <class T, std::size_t Bytes>
inline vecext<T, Bytes> abs(const vecext<T, Bytes>& x) noexcept {
  using R = typename vecext<T, Bytes>::register_type;
  using I = vecext_detail::bits<T, Bytes>;
  return bit_cast<R>(bit_cast<I>(R(x)) & vecext_detail::magnitude_bits<T, Bytes>());
}

// |x| with the sign of y.
template <class T, std::size_t Bytes>
inline vecext<T, Bytes> copysign(const vecext<T, Bytes>& x, const vecext<T, Bytes>& y) noexcept {
  using R = typename vecext<T, Bytes>::register_type;
  using I = vecext_detail::bits<T, Bytes>;
  const I magnitude = vecext_detail::magnitude_bits<T, Bytes>();
  return bit_cast<R>((bit_cast<I>(R(x)) & magnitude) | (bit_cast<I>(R(y)) & ~magnitude));
}

#if !CASTNET_SIMD_X86_FMA && defined(__FP_FAST_FMA)
namespace vecext_detail {

// x·y + z lane by lane with std::fma, which compiles to the FMA instruction where the target has one.
template <class T, std::size_t Bytes>
inline vecext<T, Bytes> fused_per_lane(const vecext<T, Bytes>& x, const vecext<T, Bytes>& y,
                                       const vecext<T, Bytes>& z) noexcept {
  constexpr std::size_t L = vecext<T, Bytes>::size;
  T a[L], b[L], c[L];
  x.store_unaligned(a);
  y.store_unaligned(b);
  z.store_unaligned(c);
  for (std::size_t l = 0; l < L; ++l) a[l] = std::fma(a[l], b[l], c[l]);
  return vecext<T, Bytes>::load_unaligned(a);
}

}  // namespace vecext_detail
#endif

// x·y + z, rounded once where the target has FMA (where xsimd's fma is fused: simd_x86.hpp on
// x86, std::fma lane by lane elsewhere, as xsimd's vfmaq on AArch64), else twice.
template <class T, std::size_t Bytes>
inline vecext<T, Bytes> fma(const vecext<T, Bytes>& x, const vecext<T, Bytes>& y, const vecext<T, Bytes>& z) noexcept {
#if CASTNET_SIMD_X86_FMA
  static_assert(x86::has_fma<Bytes>, "vecext: the build's vectors have FMA instructions");
  return x86::fused<false>(x, y, z);
#elif defined(__FP_FAST_FMA)
  return vecext_detail::fused_per_lane(x, y, z);
#else
  return x * y + z;
#endif
}

// -x·y + z, rounded as fma is.
template <class T, std::size_t Bytes>
inline vecext<T, Bytes> fnma(const vecext<T, Bytes>& x, const vecext<T, Bytes>& y, const vecext<T, Bytes>& z) noexcept {
#if CASTNET_SIMD_X86_FMA
  return x86::fused<true>(x, y, z);
#elif defined(__FP_FAST_FMA)
  return vecext_detail::fused_per_lane(T(-1) * x, y, z);
#else
  return z - x * y;
#endif
}

// ---- primitives of math.hpp's float functions -------------------------------------------------

// 2^n for t = 1.5·2^23 + n, n in [-126, 127] (math.hpp's kRound): the exponent field n + 127 from
// t's low bits, in unsigned arithmetic (the bits above shift out).
template <std::size_t Bytes>
inline vecext<float, Bytes> pow2_biased(const vecext<float, Bytes>& t) noexcept {
  using R = typename vecext<float, Bytes>::register_type;
  using U = typename vector_type<std::uint32_t, Bytes>::type;
  return bit_cast<R>((bit_cast<U>(R(t)) + 127u) << 23);
}

// x = m·2^e with m in [0.5, 1), for positive normal x: returns m, sets e.
template <std::size_t Bytes>
inline vecext<float, Bytes> frexp(const vecext<float, Bytes>& x, vecext<float, Bytes>& e) noexcept {
  using R = typename vecext<float, Bytes>::register_type;
  using I = vecext_detail::bits<float, Bytes>;
  const I b = bit_cast<I>(R(x));
  e = __builtin_convertvector((b >> 23) - 126, R);
  return bit_cast<R>((b & 0x007FFFFF) | 0x3F000000);
}

// ---- double math: the C library's, lane by lane -------------------------------------------------

template <fn F, std::size_t Bytes>
inline vecext<double, Bytes> double_math(const vecext<double, Bytes>& x) noexcept {
  return vecext_detail::per_lane(
      [](double v) {
        if constexpr (F == fn::exp) return std::exp(v);
        if constexpr (F == fn::expm1) return std::expm1(v);
        if constexpr (F == fn::log1p) return std::log1p(v);
        if constexpr (F == fn::erfc) return std::erfc(v);
        if constexpr (F == fn::tanh) return std::tanh(v);
      },
      x);
}

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
