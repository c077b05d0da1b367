// Exported by castnet 0.1.0 from xor.toml with the weights of ../weights/xor.safetensors. DO NOT EDIT.
// spec sha256: 55b6cef550ad6bd83055dffe545b516791575e5cd246c9397b829d8eb6374eb3
// weights sha256: d149b630b01f8833e6ce99feff884085a175da7c1d6f50ee3ab96780b479122a
// regenerate: castnet export xor.toml --weights ../weights/xor.safetensors -o <file>
//
// A standalone inference header: the weights are baked in as constant arrays, and the code is the
// code castnet trains with. predict() is the forward() of the training header castnet generates
// for this spec, predict_batch() its batched forward pass, over the kernels carried below (castnet
// 0.1.0's runtime/include/castnet/kernels/). Built for the same instruction set, their outputs
// equal `castnet predict`'s bit for bit. The header needs nothing but the C++ standard library
// (C++17 or later), allocates nothing (its buffers are on the stack: kStackBytes), throws nothing
// and runs no code before main.
//
// Vectors: with g++ and clang++, the compilers' vector extensions, as wide as the compile flags
// allow (-march=native, -mavx2 -mfma, ...); with any other compiler, or with
// CASTNET_EXPORT_SCALAR defined, plain scalar code. With CASTNET_USE_XSIMD defined and
// <xsimd/xsimd.hpp> available, xsimd, as castnet's training runs.
#pragma once

#pragma push_macro("CASTNET_BUNDLED_ACTIVATION_HPP")
#pragma push_macro("CASTNET_BUNDLED_MATH_HPP")
#pragma push_macro("CASTNET_BUNDLED_SIMD_HPP")
#pragma push_macro("CASTNET_BUNDLED_SIMD_SCALAR_HPP")
#pragma push_macro("CASTNET_BUNDLED_SIMD_BASE_HPP")
#pragma push_macro("CASTNET_SIMD_ISA")
#pragma push_macro("CASTNET_SIMD_TARGET")
#pragma push_macro("CASTNET_SIMD_BACKEND")
#pragma push_macro("CASTNET_SIMD_PASTE_")
#pragma push_macro("CASTNET_SIMD_PASTE")
#pragma push_macro("CASTNET_ONE_LANE_OPERATOR")
#pragma push_macro("CASTNET_BUNDLED_SIMD_VECEXT_HPP")
#pragma push_macro("CASTNET_BUNDLED_SIMD_X86_HPP")
#pragma push_macro("CASTNET_SIMD_X86_FMA")
#pragma push_macro("CASTNET_VECEXT_TYPE")
#pragma push_macro("CASTNET_VECEXT_OPERATOR")
#pragma push_macro("CASTNET_BUNDLED_SIMD_XSIMD_HPP")
#pragma push_macro("CASTNET_BUNDLED_SIMD_REDUCE_HPP")
#pragma push_macro("CASTNET_BUNDLED_OUTPUTS_HPP")
#pragma push_macro("castnet")
#pragma push_macro("CASTNET_SIMD_SCALAR")
#pragma push_macro("CASTNET_SIMD_VECEXT")
#pragma push_macro("CASTNET_EXPORT_XSIMD")
#undef CASTNET_BUNDLED_ACTIVATION_HPP
#undef CASTNET_BUNDLED_MATH_HPP
#undef CASTNET_BUNDLED_SIMD_HPP
#undef CASTNET_BUNDLED_SIMD_SCALAR_HPP
#undef CASTNET_BUNDLED_SIMD_BASE_HPP
#undef CASTNET_SIMD_ISA
#undef CASTNET_SIMD_TARGET
#undef CASTNET_SIMD_BACKEND
#undef CASTNET_SIMD_PASTE_
#undef CASTNET_SIMD_PASTE
#undef CASTNET_ONE_LANE_OPERATOR
#undef CASTNET_BUNDLED_SIMD_VECEXT_HPP
#undef CASTNET_BUNDLED_SIMD_X86_HPP
#undef CASTNET_SIMD_X86_FMA
#undef CASTNET_VECEXT_TYPE
#undef CASTNET_VECEXT_OPERATOR
#undef CASTNET_BUNDLED_SIMD_XSIMD_HPP
#undef CASTNET_BUNDLED_SIMD_REDUCE_HPP
#undef CASTNET_BUNDLED_OUTPUTS_HPP
#undef castnet
#undef CASTNET_SIMD_SCALAR
#undef CASTNET_SIMD_VECEXT
#undef CASTNET_EXPORT_XSIMD
// The kernels below live in this header's own namespace, so that they cannot meet another
// castnet header's (or another export's) of the same names.
#define castnet castnet_export_xor_net
#if defined(CASTNET_USE_XSIMD) && defined(__has_include)
#if __has_include(<xsimd/xsimd.hpp>)
#define CASTNET_EXPORT_XSIMD 1
#endif
#endif
#if !defined(CASTNET_EXPORT_XSIMD)
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CASTNET_EXPORT_SCALAR)
#define CASTNET_SIMD_VECEXT
#else
#define CASTNET_SIMD_SCALAR
#endif
#endif

// ---- castnet/kernels/activation.hpp ----
#ifndef CASTNET_BUNDLED_ACTIVATION_HPP
#define CASTNET_BUNDLED_ACTIVATION_HPP
// Activation functions and their backward passes for generated code, with PyTorch's definitions
// (including its choices at kinks and thresholds). Element-wise activations run over the flat
// Rows*Cols array in simd vectors; the last partial vector goes through a zero-padded buffer so it
// uses the same vector code (every f(0) and f'(0) is finite). Transcendental functions are
// math.hpp's. Softmax works per row. Each formula
// is arranged so no intermediate overflows: exponentials only see non-positive arguments, or
// arguments clamped where the result is discarded, so |z| up to 1e4 stays finite in float.
// The element-wise formulas are written for any vector type V: a single sample's forward pass
// uses simd::row_vec, the vector the batch-1 dense kernel that produced its input stored.

#include <cstddef>
#include <cstdint>
#include <type_traits>

// ---- castnet/kernels/math.hpp ----
#ifndef CASTNET_BUNDLED_MATH_HPP
#define CASTNET_BUNDLED_MATH_HPP
// castnet's vector math: simd::exp, expm1, log1p, erfc and tanh of a vector of any backend (vec<T>,
// narrow_vec<T>). The float versions are written here once, over the simd vocabulary, so that every
// backend computes them with the same operations: the xsimd and the vector-extension kernels agree
// bit for bit, and an exported header computes what training computed. Each is a Cephes-style
// range reduction and polynomial, branch-free, with the special values (±inf, NaN, underflow)
// selected at the end. The largest errors, in ulps of the exact result (the double-precision C
// library), over every float of each range, measured with FMA (AVX-512) and without (SSE2):
//   exp    [-86.98, 89]           1.18 ulp, 1.21 without FMA; below, results under 1.7e-38 flush to 0
//   expm1  [-20, 89]              1.44 ulp, 1.57 without FMA
//   log1p  (-1, FLT_MAX]          1.44 ulp
//   erfc   [-11, 10]              4.7 ulp, 7.0 without FMA (results from 2^-126 on; below, 0)
//   tanh   [-10, 10]              3.6e-7 relative, 5.7 ulp
// tests/unit/math_test.cpp checks every 97th float of those ranges against these bounds.
// No product feeds a sum except through simd::fma or fnma (or is exact: the doublings that end exp
// and expm1), so the results do not depend on whether the compiler contracts a·b + c into an FMA
// (-ffp-contract; GCC does across statements, Clang within one).
// The double versions are each backend's (simd::double_math): xsimd's, or the C library's.

#include <limits>
#include <type_traits>

// ---- castnet/kernels/simd.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_HPP
#define CASTNET_BUNDLED_SIMD_HPP
// castnet::simd, the vector vocabulary the kernels are written in, and the choice of its backend:
//   CASTNET_SIMD_SCALAR defined: simd_scalar.hpp, one lane, plain C++ (`castnet gen --arch scalar`);
//   CASTNET_SIMD_VECEXT defined: simd_vecext.hpp, GCC/Clang vector extensions and the standard
//                                library only (the exported header);
//   neither:                     simd_xsimd.hpp, xsimd 8.1 (training).
// Define the macro before the first castnet include of the translation unit. Given the same
// instruction set and flags, the two vector backends give the kernels the same bits (see
// simd_vecext.hpp); the scalar one agrees with them to rounding.
//
// The vocabulary, inside namespace castnet::CASTNET_SIMD_ISA::simd (simd_base.hpp names it):
//   vec<T>         the build's widest vector of T (float or double); lanes<T> its lane count
//   narrow_vec<T>  the vector of the single-sample kernels: 256-bit with AVX-512, else vec<T>;
//                  half_narrow_vec<T> its half (128-bit) where the build has AVX; row_vec<T, N>
//                  the one of the two that cuts a row of N values into whole vectors (below)
//   members        size, value_type, register_type, batch_bool_type (the mask of a comparison),
//                  a constructor broadcasting a T, load_unaligned, store_unaligned, + - * / (also
//                  with a T on either side; no unary minus), < <= > >= == != giving the mask
//   functions      fma(x, y, z) = x·y + z, fnma(x, y, z) = -x·y + z, select(mask, a, b), min, max
//                  (b where either is NaN), abs, copysign, hadd and lane_sums (simd_reduce.hpp),
//                  load_n and store_n (below), and exp, expm1, log1p, erfc, tanh (math.hpp)
// This header is the only one that includes what is outside the standard library: xsimd (that
// backend only) and, on x86, <immintrin.h> (the intrinsics of simd_reduce.hpp, of the vecext
// backend's FMA and of a few kernels' AVX-512 paths, which every backend compiles).

#include <cstddef>
#include <cstring>
#include <type_traits>

// GCC 12.0-12.2's AVX-512 intrinsics fill don't-care operands with _mm512_undefined_*(), which
// self-initialises a variable (`__m512 __Y = __Y;`); once inlined, -Wuninitialized and
// -Wmaybe-uninitialized report it (GCC bug 105593) and -Werror builds with -march=native fail on
// almost any intrinsic, xsimd's included. A diagnostic pragma is honoured when any function on the
// inlining chain lies inside it, so silencing the two warnings around these includes covers every
// intrinsic in the translation unit, without hiding warnings in code that does not go through them.
// That requires this to be their first inclusion: include castnet headers before xsimd.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if !defined(CASTNET_SIMD_SCALAR) && !defined(CASTNET_SIMD_VECEXT)
#include <xsimd/xsimd.hpp>
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#if defined(CASTNET_SIMD_SCALAR)
// ---- castnet/kernels/simd_scalar.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_SCALAR_HPP
#define CASTNET_BUNDLED_SIMD_SCALAR_HPP
// The scalar backend of castnet::simd (CASTNET_SIMD_SCALAR; `castnet gen --arch scalar`): one_lane<T>
// is a vector of one value, so the kernels compile unchanged into plain scalar C++. Standard library
// only. The vocabulary is simd.hpp's; each function keeps the contract of its vector counterparts:
// fma is fused (std::fma), min and max return their second operand when one is NaN (as x86's
// minps/maxps, which the vector backends follow), select picks per lane. Float math is castnet's own
// (math.hpp), as in the vector backends; double math is the C library's (double_math below).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

// ---- castnet/kernels/simd_base.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_BASE_HPP
#define CASTNET_BUNDLED_SIMD_BASE_HPP
// What every SIMD backend starts from (simd_xsimd.hpp, simd_vecext.hpp, simd_scalar.hpp).
//
// CASTNET_SIMD_ISA: the name of the inline namespace that holds everything compiled per instruction
// set (castnet::CASTNET_SIMD_ISA::simd, ::kernels and the layer kernels; the losses, dropout, outputs
// and castnet/rng.hpp; a generated model's functions, in <model>::CASTNET_SIMD_ISA). They are inline
// functions and templates: two translation units built for different instruction sets or backends
// (a scalar model beside an AVX-512 one, the xsimd kernels of training beside the vector-extension
// kernels of an exported header) would otherwise define the same function twice, differently, and
// the linker would keep one of them. The name is isa_<target>_<backend> (isa_avx512bw_xsimd,
// isa_fma3_avx2_vecext, ...), or isa_scalar. Units of one instruction set built with different extra
// flags (-march=native beside -mavx512f ...) still share names; their kernels are the same code at
// the same width.

#include <cstdint>

#if defined(CASTNET_SIMD_SCALAR)
#define CASTNET_SIMD_ISA isa_scalar
#else

#if defined(__AVX512BW__)
#define CASTNET_SIMD_TARGET avx512bw
#elif defined(__AVX512DQ__)
#define CASTNET_SIMD_TARGET avx512dq
#elif defined(__AVX512F__)
#define CASTNET_SIMD_TARGET avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define CASTNET_SIMD_TARGET fma3_avx2
#elif defined(__AVX2__)
#define CASTNET_SIMD_TARGET avx2
#elif defined(__AVX__)
#define CASTNET_SIMD_TARGET avx
#elif defined(__SSE4_2__)
#define CASTNET_SIMD_TARGET sse4_2
#elif defined(__SSE4_1__)
#define CASTNET_SIMD_TARGET sse4_1
#elif defined(__SSE2__)
#define CASTNET_SIMD_TARGET sse2
#elif defined(__aarch64__)
#define CASTNET_SIMD_TARGET neon64
#elif defined(__ARM_NEON)
#define CASTNET_SIMD_TARGET neon
#else
#define CASTNET_SIMD_TARGET other
#endif

#if defined(CASTNET_SIMD_VECEXT)
#define CASTNET_SIMD_BACKEND vecext
#else
#define CASTNET_SIMD_BACKEND xsimd
#endif

// Two levels, so that the arguments are expanded before they are pasted.
#define CASTNET_SIMD_PASTE_(target, backend) isa_##target##_##backend
#define CASTNET_SIMD_PASTE(target, backend) CASTNET_SIMD_PASTE_(target, backend)
#define CASTNET_SIMD_ISA CASTNET_SIMD_PASTE(CASTNET_SIMD_TARGET, CASTNET_SIMD_BACKEND)

#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// The math functions whose double versions each backend supplies, as simd::double_math<fn>(v);
// math.hpp computes the float versions itself, the same way in every backend.
enum class fn : std::uint8_t { exp, expm1, log1p, erfc, tanh };

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_BASE_HPP

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
#endif  // CASTNET_BUNDLED_SIMD_SCALAR_HPP
#elif defined(CASTNET_SIMD_VECEXT)
// ---- castnet/kernels/simd_vecext.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_VECEXT_HPP
#define CASTNET_BUNDLED_SIMD_VECEXT_HPP
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

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

// ---- castnet/kernels/simd_base.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_BASE_HPP
#define CASTNET_BUNDLED_SIMD_BASE_HPP
// What every SIMD backend starts from (simd_xsimd.hpp, simd_vecext.hpp, simd_scalar.hpp).
//
// CASTNET_SIMD_ISA: the name of the inline namespace that holds everything compiled per instruction
// set (castnet::CASTNET_SIMD_ISA::simd, ::kernels and the layer kernels; the losses, dropout, outputs
// and castnet/rng.hpp; a generated model's functions, in <model>::CASTNET_SIMD_ISA). They are inline
// functions and templates: two translation units built for different instruction sets or backends
// (a scalar model beside an AVX-512 one, the xsimd kernels of training beside the vector-extension
// kernels of an exported header) would otherwise define the same function twice, differently, and
// the linker would keep one of them. The name is isa_<target>_<backend> (isa_avx512bw_xsimd,
// isa_fma3_avx2_vecext, ...), or isa_scalar. Units of one instruction set built with different extra
// flags (-march=native beside -mavx512f ...) still share names; their kernels are the same code at
// the same width.

#include <cstdint>

#if defined(CASTNET_SIMD_SCALAR)
#define CASTNET_SIMD_ISA isa_scalar
#else

#if defined(__AVX512BW__)
#define CASTNET_SIMD_TARGET avx512bw
#elif defined(__AVX512DQ__)
#define CASTNET_SIMD_TARGET avx512dq
#elif defined(__AVX512F__)
#define CASTNET_SIMD_TARGET avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define CASTNET_SIMD_TARGET fma3_avx2
#elif defined(__AVX2__)
#define CASTNET_SIMD_TARGET avx2
#elif defined(__AVX__)
#define CASTNET_SIMD_TARGET avx
#elif defined(__SSE4_2__)
#define CASTNET_SIMD_TARGET sse4_2
#elif defined(__SSE4_1__)
#define CASTNET_SIMD_TARGET sse4_1
#elif defined(__SSE2__)
#define CASTNET_SIMD_TARGET sse2
#elif defined(__aarch64__)
#define CASTNET_SIMD_TARGET neon64
#elif defined(__ARM_NEON)
#define CASTNET_SIMD_TARGET neon
#else
#define CASTNET_SIMD_TARGET other
#endif

#if defined(CASTNET_SIMD_VECEXT)
#define CASTNET_SIMD_BACKEND vecext
#else
#define CASTNET_SIMD_BACKEND xsimd
#endif

// Two levels, so that the arguments are expanded before they are pasted.
#define CASTNET_SIMD_PASTE_(target, backend) isa_##target##_##backend
#define CASTNET_SIMD_PASTE(target, backend) CASTNET_SIMD_PASTE_(target, backend)
#define CASTNET_SIMD_ISA CASTNET_SIMD_PASTE(CASTNET_SIMD_TARGET, CASTNET_SIMD_BACKEND)

#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// The math functions whose double versions each backend supplies, as simd::double_math<fn>(v);
// math.hpp computes the float versions itself, the same way in every backend.
enum class fn : std::uint8_t { exp, expm1, log1p, erfc, tanh };

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_BASE_HPP
// ---- castnet/kernels/simd_x86.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_X86_HPP
#define CASTNET_BUNDLED_SIMD_X86_HPP
// What the vector backends share on x86 (simd.hpp includes <immintrin.h> first): the register type
// of each vector size, and the fused multiply-adds. xsimd 8.1 has no fma for AVX-512 (its generic
// x·y + z is fused only where the compiler contracts it: GCC does, after inlining, unless it has
// first merged x·y with an equal product elsewhere; Clang does not), so both backends call the
// intrinsics here wherever the target has them, and are fused in the same places.

#include <cstddef>

// ---- castnet/kernels/simd_base.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_BASE_HPP
#define CASTNET_BUNDLED_SIMD_BASE_HPP
// What every SIMD backend starts from (simd_xsimd.hpp, simd_vecext.hpp, simd_scalar.hpp).
//
// CASTNET_SIMD_ISA: the name of the inline namespace that holds everything compiled per instruction
// set (castnet::CASTNET_SIMD_ISA::simd, ::kernels and the layer kernels; the losses, dropout, outputs
// and castnet/rng.hpp; a generated model's functions, in <model>::CASTNET_SIMD_ISA). They are inline
// functions and templates: two translation units built for different instruction sets or backends
// (a scalar model beside an AVX-512 one, the xsimd kernels of training beside the vector-extension
// kernels of an exported header) would otherwise define the same function twice, differently, and
// the linker would keep one of them. The name is isa_<target>_<backend> (isa_avx512bw_xsimd,
// isa_fma3_avx2_vecext, ...), or isa_scalar. Units of one instruction set built with different extra
// flags (-march=native beside -mavx512f ...) still share names; their kernels are the same code at
// the same width.

#include <cstdint>

#if defined(CASTNET_SIMD_SCALAR)
#define CASTNET_SIMD_ISA isa_scalar
#else

#if defined(__AVX512BW__)
#define CASTNET_SIMD_TARGET avx512bw
#elif defined(__AVX512DQ__)
#define CASTNET_SIMD_TARGET avx512dq
#elif defined(__AVX512F__)
#define CASTNET_SIMD_TARGET avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define CASTNET_SIMD_TARGET fma3_avx2
#elif defined(__AVX2__)
#define CASTNET_SIMD_TARGET avx2
#elif defined(__AVX__)
#define CASTNET_SIMD_TARGET avx
#elif defined(__SSE4_2__)
#define CASTNET_SIMD_TARGET sse4_2
#elif defined(__SSE4_1__)
#define CASTNET_SIMD_TARGET sse4_1
#elif defined(__SSE2__)
#define CASTNET_SIMD_TARGET sse2
#elif defined(__aarch64__)
#define CASTNET_SIMD_TARGET neon64
#elif defined(__ARM_NEON)
#define CASTNET_SIMD_TARGET neon
#else
#define CASTNET_SIMD_TARGET other
#endif

#if defined(CASTNET_SIMD_VECEXT)
#define CASTNET_SIMD_BACKEND vecext
#else
#define CASTNET_SIMD_BACKEND xsimd
#endif

// Two levels, so that the arguments are expanded before they are pasted.
#define CASTNET_SIMD_PASTE_(target, backend) isa_##target##_##backend
#define CASTNET_SIMD_PASTE(target, backend) CASTNET_SIMD_PASTE_(target, backend)
#define CASTNET_SIMD_ISA CASTNET_SIMD_PASTE(CASTNET_SIMD_TARGET, CASTNET_SIMD_BACKEND)

#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// The math functions whose double versions each backend supplies, as simd::double_math<fn>(v);
// math.hpp computes the float versions itself, the same way in every backend.
enum class fn : std::uint8_t { exp, expm1, log1p, erfc, tanh };

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_BASE_HPP

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__FMA__) || defined(__AVX512F__))
#define CASTNET_SIMD_X86_FMA 1
#else
#define CASTNET_SIMD_X86_FMA 0
#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {
namespace x86 {

#if defined(__SSE2__)
// The x86 register type of T's vectors of Bytes bytes, where the build has that width.
template <class T, std::size_t Bytes>
struct register_of {};
template <>
struct register_of<float, 16> {
  using type = __m128;
};
template <>
struct register_of<double, 16> {
  using type = __m128d;
};
#if defined(__AVX__)
template <>
struct register_of<float, 32> {
  using type = __m256;
};
template <>
struct register_of<double, 32> {
  using type = __m256d;
};
#endif
#if defined(__AVX512F__)
template <>
struct register_of<float, 64> {
  using type = __m512;
};
template <>
struct register_of<double, 64> {
  using type = __m512d;
};
#endif
#endif

// Whether fused() below takes vectors of Bytes bytes: that width has FMA instructions in this build.
template <std::size_t Bytes>
inline constexpr bool has_fma =
#if defined(__FMA__)
    Bytes == 16 || Bytes == 32 ||
#endif
#if defined(__AVX512F__)
    Bytes == 64 ||
#endif
    false;

#if defined(__FMA__)
inline __m128 fmadd(__m128 a, __m128 b, __m128 c) noexcept { return _mm_fmadd_ps(a, b, c); }
inline __m128d fmadd(__m128d a, __m128d b, __m128d c) noexcept { return _mm_fmadd_pd(a, b, c); }
inline __m256 fmadd(__m256 a, __m256 b, __m256 c) noexcept { return _mm256_fmadd_ps(a, b, c); }
inline __m256d fmadd(__m256d a, __m256d b, __m256d c) noexcept { return _mm256_fmadd_pd(a, b, c); }
inline __m128 fnmadd(__m128 a, __m128 b, __m128 c) noexcept { return _mm_fnmadd_ps(a, b, c); }
inline __m128d fnmadd(__m128d a, __m128d b, __m128d c) noexcept { return _mm_fnmadd_pd(a, b, c); }
inline __m256 fnmadd(__m256 a, __m256 b, __m256 c) noexcept { return _mm256_fnmadd_ps(a, b, c); }
inline __m256d fnmadd(__m256d a, __m256d b, __m256d c) noexcept { return _mm256_fnmadd_pd(a, b, c); }
#endif
#if defined(__AVX512F__)
inline __m512 fmadd(__m512 a, __m512 b, __m512 c) noexcept { return _mm512_fmadd_ps(a, b, c); }
inline __m512d fmadd(__m512d a, __m512d b, __m512d c) noexcept { return _mm512_fmadd_pd(a, b, c); }
inline __m512 fnmadd(__m512 a, __m512 b, __m512 c) noexcept { return _mm512_fnmadd_ps(a, b, c); }
inline __m512d fnmadd(__m512d a, __m512d b, __m512d c) noexcept { return _mm512_fnmadd_pd(a, b, c); }
#endif

#if CASTNET_SIMD_X86_FMA
// x·y + z (Negate: -x·y + z), rounded once, for a vector V of either backend whose width has_fma.
template <bool Negate, class V>
inline V fused(const V& x, const V& y, const V& z) noexcept {
  using R = typename V::register_type;
  using X = typename register_of<typename V::value_type, sizeof(R)>::type;
  const X a = X(R(x)), b = X(R(y)), c = X(R(z));
  if constexpr (Negate) {
    return V(R(fnmadd(a, b, c)));
  } else {
    return V(R(fmadd(a, b, c)));
  }
}
#endif

// The first N lanes of a vector of Bytes bytes of T, read or written by masked moves, the other
// lanes zero (read) or untouched (written). Staging a partial vector through a stack array instead
// costs a failed store-to-load forward at every layer of a one-sample pass whose width is not a
// multiple of the vector: 8-12-12-1 took 84 ns against 56 for 8-16-16-1 (Intel Xeon, AVX-512).
// AVX-512 has masked moves at every width (VL for 16 and 32 bytes); AVX, for 16 and 32 bytes.
template <class T, std::size_t Bytes>
inline constexpr bool has_masked_moves =
#if defined(__AVX512F__) && defined(__AVX512VL__)
    Bytes == 16 || Bytes == 32 || Bytes == 64 ||
#elif defined(__AVX512F__)
    Bytes == 64 ||
#endif
#if defined(__AVX__)
    Bytes == 16 || Bytes == 32 ||
#endif
    false;

#if defined(__AVX__) && !defined(__AVX512VL__)
// The lanes of a vmaskmov mask: element j of (kMaskLanes + 8 - n) is set for j < n.
alignas(32) inline constexpr int kMaskLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i mask256(std::size_t n) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskLanes + 8 - n));
}
inline __m128i mask128(std::size_t n) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMaskLanes + 8 - n));
}
#endif

template <std::size_t N, class V>
inline V load_first([[maybe_unused]] const typename V::value_type* p) noexcept {
  using T = typename V::value_type;
  using R = typename V::register_type;
  constexpr std::size_t bytes = sizeof(R);
  static_assert(has_masked_moves<T, bytes>);
#if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    if constexpr (sizeof(T) == 4) return V(R(_mm512_maskz_loadu_ps(__mmask16((1u << N) - 1), p)));
    else return V(R(_mm512_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  }
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) return V(R(_mm256_maskz_loadu_ps(__mmask8((1u << N) - 1), p)));
    else return V(R(_mm256_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) return V(R(_mm_maskz_loadu_ps(__mmask8((1u << N) - 1), p)));
    else return V(R(_mm_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  }
#elif defined(__AVX__)
  constexpr std::size_t words = N * sizeof(T) / 4;  // the mask's set 4-byte lanes
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) return V(R(_mm256_maskload_ps(p, mask256(words))));
    else return V(R(_mm256_maskload_pd(p, mask256(words))));
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) return V(R(_mm_maskload_ps(p, mask128(words))));
    else return V(R(_mm_maskload_pd(p, mask128(words))));
  }
#endif
}

template <std::size_t N, class V>
inline void store_first([[maybe_unused]] typename V::value_type* p, [[maybe_unused]] const V& v) noexcept {
  using T = typename V::value_type;
  using R = typename V::register_type;
  using X = typename register_of<T, sizeof(R)>::type;
  constexpr std::size_t bytes = sizeof(R);
  static_assert(has_masked_moves<T, bytes>);
  [[maybe_unused]] const X x = X(R(v));
#if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    if constexpr (sizeof(T) == 4) _mm512_mask_storeu_ps(p, __mmask16((1u << N) - 1), x);
    else _mm512_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  }
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_mask_storeu_ps(p, __mmask8((1u << N) - 1), x);
    else _mm256_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_mask_storeu_ps(p, __mmask8((1u << N) - 1), x);
    else _mm_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  }
#elif defined(__AVX__)
  constexpr std::size_t words = N * sizeof(T) / 4;
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_maskstore_ps(p, mask256(words), x);
    else _mm256_maskstore_pd(p, mask256(words), x);
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_maskstore_ps(p, mask128(words), x);
    else _mm_maskstore_pd(p, mask128(words), x);
  }
#endif
}

}  // namespace x86
}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_X86_HPP

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
#endif  // CASTNET_BUNDLED_SIMD_VECEXT_HPP
#else
// ---- castnet/kernels/simd_xsimd.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_XSIMD_HPP
#define CASTNET_BUNDLED_SIMD_XSIMD_HPP
// The xsimd backend of castnet::simd (the default; what training uses): vec<T> is xsimd 8.1's batch of
// the build's default architecture, and the vocabulary's free functions are xsimd's, except that
// float math is castnet's own (math.hpp) and horizontal sums are simd_reduce.hpp's, both shared with
// the vector-extension backend so the two give the same bits, and fma and fnma, which are
// simd_x86.hpp's on x86 like the other backend's. simd.hpp includes <xsimd/xsimd.hpp> before this
// header.

#include <cstdint>

// ---- castnet/kernels/simd_base.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_BASE_HPP
#define CASTNET_BUNDLED_SIMD_BASE_HPP
// What every SIMD backend starts from (simd_xsimd.hpp, simd_vecext.hpp, simd_scalar.hpp).
//
// CASTNET_SIMD_ISA: the name of the inline namespace that holds everything compiled per instruction
// set (castnet::CASTNET_SIMD_ISA::simd, ::kernels and the layer kernels; the losses, dropout, outputs
// and castnet/rng.hpp; a generated model's functions, in <model>::CASTNET_SIMD_ISA). They are inline
// functions and templates: two translation units built for different instruction sets or backends
// (a scalar model beside an AVX-512 one, the xsimd kernels of training beside the vector-extension
// kernels of an exported header) would otherwise define the same function twice, differently, and
// the linker would keep one of them. The name is isa_<target>_<backend> (isa_avx512bw_xsimd,
// isa_fma3_avx2_vecext, ...), or isa_scalar. Units of one instruction set built with different extra
// flags (-march=native beside -mavx512f ...) still share names; their kernels are the same code at
// the same width.

#include <cstdint>

#if defined(CASTNET_SIMD_SCALAR)
#define CASTNET_SIMD_ISA isa_scalar
#else

#if defined(__AVX512BW__)
#define CASTNET_SIMD_TARGET avx512bw
#elif defined(__AVX512DQ__)
#define CASTNET_SIMD_TARGET avx512dq
#elif defined(__AVX512F__)
#define CASTNET_SIMD_TARGET avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define CASTNET_SIMD_TARGET fma3_avx2
#elif defined(__AVX2__)
#define CASTNET_SIMD_TARGET avx2
#elif defined(__AVX__)
#define CASTNET_SIMD_TARGET avx
#elif defined(__SSE4_2__)
#define CASTNET_SIMD_TARGET sse4_2
#elif defined(__SSE4_1__)
#define CASTNET_SIMD_TARGET sse4_1
#elif defined(__SSE2__)
#define CASTNET_SIMD_TARGET sse2
#elif defined(__aarch64__)
#define CASTNET_SIMD_TARGET neon64
#elif defined(__ARM_NEON)
#define CASTNET_SIMD_TARGET neon
#else
#define CASTNET_SIMD_TARGET other
#endif

#if defined(CASTNET_SIMD_VECEXT)
#define CASTNET_SIMD_BACKEND vecext
#else
#define CASTNET_SIMD_BACKEND xsimd
#endif

// Two levels, so that the arguments are expanded before they are pasted.
#define CASTNET_SIMD_PASTE_(target, backend) isa_##target##_##backend
#define CASTNET_SIMD_PASTE(target, backend) CASTNET_SIMD_PASTE_(target, backend)
#define CASTNET_SIMD_ISA CASTNET_SIMD_PASTE(CASTNET_SIMD_TARGET, CASTNET_SIMD_BACKEND)

#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// The math functions whose double versions each backend supplies, as simd::double_math<fn>(v);
// math.hpp computes the float versions itself, the same way in every backend.
enum class fn : std::uint8_t { exp, expm1, log1p, erfc, tanh };

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_BASE_HPP
// ---- castnet/kernels/simd_x86.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_X86_HPP
#define CASTNET_BUNDLED_SIMD_X86_HPP
// What the vector backends share on x86 (simd.hpp includes <immintrin.h> first): the register type
// of each vector size, and the fused multiply-adds. xsimd 8.1 has no fma for AVX-512 (its generic
// x·y + z is fused only where the compiler contracts it: GCC does, after inlining, unless it has
// first merged x·y with an equal product elsewhere; Clang does not), so both backends call the
// intrinsics here wherever the target has them, and are fused in the same places.

#include <cstddef>

// ---- castnet/kernels/simd_base.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_BASE_HPP
#define CASTNET_BUNDLED_SIMD_BASE_HPP
// What every SIMD backend starts from (simd_xsimd.hpp, simd_vecext.hpp, simd_scalar.hpp).
//
// CASTNET_SIMD_ISA: the name of the inline namespace that holds everything compiled per instruction
// set (castnet::CASTNET_SIMD_ISA::simd, ::kernels and the layer kernels; the losses, dropout, outputs
// and castnet/rng.hpp; a generated model's functions, in <model>::CASTNET_SIMD_ISA). They are inline
// functions and templates: two translation units built for different instruction sets or backends
// (a scalar model beside an AVX-512 one, the xsimd kernels of training beside the vector-extension
// kernels of an exported header) would otherwise define the same function twice, differently, and
// the linker would keep one of them. The name is isa_<target>_<backend> (isa_avx512bw_xsimd,
// isa_fma3_avx2_vecext, ...), or isa_scalar. Units of one instruction set built with different extra
// flags (-march=native beside -mavx512f ...) still share names; their kernels are the same code at
// the same width.

#include <cstdint>

#if defined(CASTNET_SIMD_SCALAR)
#define CASTNET_SIMD_ISA isa_scalar
#else

#if defined(__AVX512BW__)
#define CASTNET_SIMD_TARGET avx512bw
#elif defined(__AVX512DQ__)
#define CASTNET_SIMD_TARGET avx512dq
#elif defined(__AVX512F__)
#define CASTNET_SIMD_TARGET avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define CASTNET_SIMD_TARGET fma3_avx2
#elif defined(__AVX2__)
#define CASTNET_SIMD_TARGET avx2
#elif defined(__AVX__)
#define CASTNET_SIMD_TARGET avx
#elif defined(__SSE4_2__)
#define CASTNET_SIMD_TARGET sse4_2
#elif defined(__SSE4_1__)
#define CASTNET_SIMD_TARGET sse4_1
#elif defined(__SSE2__)
#define CASTNET_SIMD_TARGET sse2
#elif defined(__aarch64__)
#define CASTNET_SIMD_TARGET neon64
#elif defined(__ARM_NEON)
#define CASTNET_SIMD_TARGET neon
#else
#define CASTNET_SIMD_TARGET other
#endif

#if defined(CASTNET_SIMD_VECEXT)
#define CASTNET_SIMD_BACKEND vecext
#else
#define CASTNET_SIMD_BACKEND xsimd
#endif

// Two levels, so that the arguments are expanded before they are pasted.
#define CASTNET_SIMD_PASTE_(target, backend) isa_##target##_##backend
#define CASTNET_SIMD_PASTE(target, backend) CASTNET_SIMD_PASTE_(target, backend)
#define CASTNET_SIMD_ISA CASTNET_SIMD_PASTE(CASTNET_SIMD_TARGET, CASTNET_SIMD_BACKEND)

#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// The math functions whose double versions each backend supplies, as simd::double_math<fn>(v);
// math.hpp computes the float versions itself, the same way in every backend.
enum class fn : std::uint8_t { exp, expm1, log1p, erfc, tanh };

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_BASE_HPP

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__FMA__) || defined(__AVX512F__))
#define CASTNET_SIMD_X86_FMA 1
#else
#define CASTNET_SIMD_X86_FMA 0
#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {
namespace x86 {

#if defined(__SSE2__)
// The x86 register type of T's vectors of Bytes bytes, where the build has that width.
template <class T, std::size_t Bytes>
struct register_of {};
template <>
struct register_of<float, 16> {
  using type = __m128;
};
template <>
struct register_of<double, 16> {
  using type = __m128d;
};
#if defined(__AVX__)
template <>
struct register_of<float, 32> {
  using type = __m256;
};
template <>
struct register_of<double, 32> {
  using type = __m256d;
};
#endif
#if defined(__AVX512F__)
template <>
struct register_of<float, 64> {
  using type = __m512;
};
template <>
struct register_of<double, 64> {
  using type = __m512d;
};
#endif
#endif

// Whether fused() below takes vectors of Bytes bytes: that width has FMA instructions in this build.
template <std::size_t Bytes>
inline constexpr bool has_fma =
#if defined(__FMA__)
    Bytes == 16 || Bytes == 32 ||
#endif
#if defined(__AVX512F__)
    Bytes == 64 ||
#endif
    false;

#if defined(__FMA__)
inline __m128 fmadd(__m128 a, __m128 b, __m128 c) noexcept { return _mm_fmadd_ps(a, b, c); }
inline __m128d fmadd(__m128d a, __m128d b, __m128d c) noexcept { return _mm_fmadd_pd(a, b, c); }
inline __m256 fmadd(__m256 a, __m256 b, __m256 c) noexcept { return _mm256_fmadd_ps(a, b, c); }
inline __m256d fmadd(__m256d a, __m256d b, __m256d c) noexcept { return _mm256_fmadd_pd(a, b, c); }
inline __m128 fnmadd(__m128 a, __m128 b, __m128 c) noexcept { return _mm_fnmadd_ps(a, b, c); }
inline __m128d fnmadd(__m128d a, __m128d b, __m128d c) noexcept { return _mm_fnmadd_pd(a, b, c); }
inline __m256 fnmadd(__m256 a, __m256 b, __m256 c) noexcept { return _mm256_fnmadd_ps(a, b, c); }
inline __m256d fnmadd(__m256d a, __m256d b, __m256d c) noexcept { return _mm256_fnmadd_pd(a, b, c); }
#endif
#if defined(__AVX512F__)
inline __m512 fmadd(__m512 a, __m512 b, __m512 c) noexcept { return _mm512_fmadd_ps(a, b, c); }
inline __m512d fmadd(__m512d a, __m512d b, __m512d c) noexcept { return _mm512_fmadd_pd(a, b, c); }
inline __m512 fnmadd(__m512 a, __m512 b, __m512 c) noexcept { return _mm512_fnmadd_ps(a, b, c); }
inline __m512d fnmadd(__m512d a, __m512d b, __m512d c) noexcept { return _mm512_fnmadd_pd(a, b, c); }
#endif

#if CASTNET_SIMD_X86_FMA
// x·y + z (Negate: -x·y + z), rounded once, for a vector V of either backend whose width has_fma.
template <bool Negate, class V>
inline V fused(const V& x, const V& y, const V& z) noexcept {
  using R = typename V::register_type;
  using X = typename register_of<typename V::value_type, sizeof(R)>::type;
  const X a = X(R(x)), b = X(R(y)), c = X(R(z));
  if constexpr (Negate) {
    return V(R(fnmadd(a, b, c)));
  } else {
    return V(R(fmadd(a, b, c)));
  }
}
#endif

// The first N lanes of a vector of Bytes bytes of T, read or written by masked moves, the other
// lanes zero (read) or untouched (written). Staging a partial vector through a stack array instead
// costs a failed store-to-load forward at every layer of a one-sample pass whose width is not a
// multiple of the vector: 8-12-12-1 took 84 ns against 56 for 8-16-16-1 (Intel Xeon, AVX-512).
// AVX-512 has masked moves at every width (VL for 16 and 32 bytes); AVX, for 16 and 32 bytes.
template <class T, std::size_t Bytes>
inline constexpr bool has_masked_moves =
#if defined(__AVX512F__) && defined(__AVX512VL__)
    Bytes == 16 || Bytes == 32 || Bytes == 64 ||
#elif defined(__AVX512F__)
    Bytes == 64 ||
#endif
#if defined(__AVX__)
    Bytes == 16 || Bytes == 32 ||
#endif
    false;

#if defined(__AVX__) && !defined(__AVX512VL__)
// The lanes of a vmaskmov mask: element j of (kMaskLanes + 8 - n) is set for j < n.
alignas(32) inline constexpr int kMaskLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i mask256(std::size_t n) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskLanes + 8 - n));
}
inline __m128i mask128(std::size_t n) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMaskLanes + 8 - n));
}
#endif

template <std::size_t N, class V>
inline V load_first([[maybe_unused]] const typename V::value_type* p) noexcept {
  using T = typename V::value_type;
  using R = typename V::register_type;
  constexpr std::size_t bytes = sizeof(R);
  static_assert(has_masked_moves<T, bytes>);
#if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    if constexpr (sizeof(T) == 4) return V(R(_mm512_maskz_loadu_ps(__mmask16((1u << N) - 1), p)));
    else return V(R(_mm512_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  }
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) return V(R(_mm256_maskz_loadu_ps(__mmask8((1u << N) - 1), p)));
    else return V(R(_mm256_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) return V(R(_mm_maskz_loadu_ps(__mmask8((1u << N) - 1), p)));
    else return V(R(_mm_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  }
#elif defined(__AVX__)
  constexpr std::size_t words = N * sizeof(T) / 4;  // the mask's set 4-byte lanes
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) return V(R(_mm256_maskload_ps(p, mask256(words))));
    else return V(R(_mm256_maskload_pd(p, mask256(words))));
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) return V(R(_mm_maskload_ps(p, mask128(words))));
    else return V(R(_mm_maskload_pd(p, mask128(words))));
  }
#endif
}

template <std::size_t N, class V>
inline void store_first([[maybe_unused]] typename V::value_type* p, [[maybe_unused]] const V& v) noexcept {
  using T = typename V::value_type;
  using R = typename V::register_type;
  using X = typename register_of<T, sizeof(R)>::type;
  constexpr std::size_t bytes = sizeof(R);
  static_assert(has_masked_moves<T, bytes>);
  [[maybe_unused]] const X x = X(R(v));
#if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    if constexpr (sizeof(T) == 4) _mm512_mask_storeu_ps(p, __mmask16((1u << N) - 1), x);
    else _mm512_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  }
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_mask_storeu_ps(p, __mmask8((1u << N) - 1), x);
    else _mm256_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_mask_storeu_ps(p, __mmask8((1u << N) - 1), x);
    else _mm_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  }
#elif defined(__AVX__)
  constexpr std::size_t words = N * sizeof(T) / 4;
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_maskstore_ps(p, mask256(words), x);
    else _mm256_maskstore_pd(p, mask256(words), x);
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_maskstore_ps(p, mask128(words), x);
    else _mm_maskstore_pd(p, mask128(words), x);
  }
#endif
}

}  // namespace x86
}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_X86_HPP

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

template <class T>
using vec = xsimd::batch<T>;

// The batch of the single-sample (latency-bound) kernels: 256-bit where the build has AVX-512. Zen 4
// executes a 512-bit operation as two 256-bit halves, so wider vectors buy no arithmetic, while
// reducing dot products costs one more shuffle level per doubling of the lanes and rows shorter
// than a vector need packing: a 32x32 matrix-vector product measured ~25% faster at 256 bits.
// Elsewhere it is the default batch.
#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
template <class T>
using narrow_vec = xsimd::batch<T, xsimd::fma3<xsimd::avx2>>;
#else
template <class T>
using narrow_vec = vec<T>;
#endif
// Half of narrow_vec where that is a whole SSE register (see simd.hpp's row_vec), else narrow_vec.
// (xsimd 8.1 has no fma3<sse4_2> batch; fma below fuses on any register where the build has FMA.)
#if defined(__AVX__)
template <class T>
using half_narrow_vec = xsimd::batch<T, xsimd::sse4_2>;
#else
template <class T>
using half_narrow_vec = narrow_vec<T>;
#endif

// x·y + z, rounded once where the target has FMA. On x86 through simd_x86.hpp: xsimd 8.1's AVX-512
// fma is an unfused x·y + z.
template <class T, class A>
inline xsimd::batch<T, A> fma(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y,
                              const xsimd::batch<T, A>& z) noexcept {
#if CASTNET_SIMD_X86_FMA
  if constexpr (x86::has_fma<sizeof(typename xsimd::batch<T, A>::register_type)>) return x86::fused<false>(x, y, z);
#endif
  return xsimd::fma(x, y, z);
}
// -x·y + z, rounded as fma is.
template <class T, class A>
inline xsimd::batch<T, A> fnma(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y,
                               const xsimd::batch<T, A>& z) noexcept {
#if CASTNET_SIMD_X86_FMA
  if constexpr (x86::has_fma<sizeof(typename xsimd::batch<T, A>::register_type)>) return x86::fused<true>(x, y, z);
#endif
  return xsimd::fnma(x, y, z);
}
template <class T, class A>
inline xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& m, const xsimd::batch<T, A>& a,
                                 const xsimd::batch<T, A>& b) noexcept {
  return xsimd::select(m, a, b);
}
// b where either is NaN (minps).
template <class T, class A>
inline xsimd::batch<T, A> min(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
  return xsimd::min(a, b);
}
// b where either is NaN (maxps).
template <class T, class A>
inline xsimd::batch<T, A> max(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
  return xsimd::max(a, b);
}
template <class T, class A>
inline xsimd::batch<T, A> abs(const xsimd::batch<T, A>& x) noexcept {
  return xsimd::abs(x);
}
// |x| with the sign of y.
template <class T, class A>
inline xsimd::batch<T, A> copysign(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y) noexcept {
  return xsimd::copysign(x, y);
}

// ---- primitives of math.hpp's float functions -------------------------------------------------

// 2^n for t = 1.5·2^23 + n, n in [-126, 127] (math.hpp's kRound): the exponent field n + 127 from
// t's low bits, in unsigned arithmetic (the bits above shift out).
template <class A>
inline xsimd::batch<float, A> pow2_biased(const xsimd::batch<float, A>& t) noexcept {
  const auto bits = xsimd::bitwise_cast<xsimd::batch<std::uint32_t, A>>(t);
  return xsimd::bitwise_cast<xsimd::batch<float, A>>((bits + 127u) << 23);
}

// x = m·2^e with m in [0.5, 1), for positive normal x: returns m, sets e.
template <class A>
inline xsimd::batch<float, A> frexp(const xsimd::batch<float, A>& x, xsimd::batch<float, A>& e) noexcept {
  const auto b = xsimd::bitwise_cast<xsimd::batch<std::int32_t, A>>(x);
  e = xsimd::to_float((b >> 23) - 126);
  return xsimd::bitwise_cast<xsimd::batch<float, A>>((b & 0x007FFFFF) | 0x3F000000);
}

// ---- double math: xsimd's ------------------------------------------------------------------------

template <fn F, class A>
inline xsimd::batch<double, A> double_math(const xsimd::batch<double, A>& x) noexcept {
  if constexpr (F == fn::exp) return xsimd::exp(x);
  if constexpr (F == fn::expm1) return xsimd::expm1(x);
  if constexpr (F == fn::log1p) return xsimd::log1p(x);
  if constexpr (F == fn::erfc) return xsimd::erfc(x);
  if constexpr (F == fn::tanh) return xsimd::tanh(x);
}

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_XSIMD_HPP
#endif
// ---- castnet/kernels/simd_reduce.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_REDUCE_HPP
#define CASTNET_BUNDLED_SIMD_REDUCE_HPP
// Horizontal sums, one implementation for every backend: hadd(v), the sum of v's lanes, and
// lane_sums(v), the vector whose lane i is hadd(v[i]). Both vector backends reach them, so the xsimd
// and the vector-extension kernels add in the same order and agree bit for bit. Each works on the
// backend's register_type: the x86 intrinsics of the register's width where there are (a vector
// extension type converts to __m128/__m256/__m512 as xsimd's batches do), a plain loop otherwise.
// Both orders are fixed:
// - hadd adds the upper half of the lanes to the lower half, then again, down to one lane: the
//   intrinsics do exactly what the loop does.
// - lane_sums is a transpose-and-add network: each level adds two vectors after moving their halves
//   (then quarters, ...) side by side, halving the lanes each input occupies; about 3 instructions
//   per vector, where an hadd of each takes about 7. The loop (no intrinsics for that width) is
//   hadd per vector.
// (xsimd 8.1's own haddp is not used: on AVX-512 it puts the sums of v[2..5] and v[10..13] in
// swapped lanes.)

#include <cstddef>
#include <type_traits>

// ---- castnet/kernels/simd_base.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_BASE_HPP
#define CASTNET_BUNDLED_SIMD_BASE_HPP
// What every SIMD backend starts from (simd_xsimd.hpp, simd_vecext.hpp, simd_scalar.hpp).
//
// CASTNET_SIMD_ISA: the name of the inline namespace that holds everything compiled per instruction
// set (castnet::CASTNET_SIMD_ISA::simd, ::kernels and the layer kernels; the losses, dropout, outputs
// and castnet/rng.hpp; a generated model's functions, in <model>::CASTNET_SIMD_ISA). They are inline
// functions and templates: two translation units built for different instruction sets or backends
// (a scalar model beside an AVX-512 one, the xsimd kernels of training beside the vector-extension
// kernels of an exported header) would otherwise define the same function twice, differently, and
// the linker would keep one of them. The name is isa_<target>_<backend> (isa_avx512bw_xsimd,
// isa_fma3_avx2_vecext, ...), or isa_scalar. Units of one instruction set built with different extra
// flags (-march=native beside -mavx512f ...) still share names; their kernels are the same code at
// the same width.

#include <cstdint>

#if defined(CASTNET_SIMD_SCALAR)
#define CASTNET_SIMD_ISA isa_scalar
#else

#if defined(__AVX512BW__)
#define CASTNET_SIMD_TARGET avx512bw
#elif defined(__AVX512DQ__)
#define CASTNET_SIMD_TARGET avx512dq
#elif defined(__AVX512F__)
#define CASTNET_SIMD_TARGET avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define CASTNET_SIMD_TARGET fma3_avx2
#elif defined(__AVX2__)
#define CASTNET_SIMD_TARGET avx2
#elif defined(__AVX__)
#define CASTNET_SIMD_TARGET avx
#elif defined(__SSE4_2__)
#define CASTNET_SIMD_TARGET sse4_2
#elif defined(__SSE4_1__)
#define CASTNET_SIMD_TARGET sse4_1
#elif defined(__SSE2__)
#define CASTNET_SIMD_TARGET sse2
#elif defined(__aarch64__)
#define CASTNET_SIMD_TARGET neon64
#elif defined(__ARM_NEON)
#define CASTNET_SIMD_TARGET neon
#else
#define CASTNET_SIMD_TARGET other
#endif

#if defined(CASTNET_SIMD_VECEXT)
#define CASTNET_SIMD_BACKEND vecext
#else
#define CASTNET_SIMD_BACKEND xsimd
#endif

// Two levels, so that the arguments are expanded before they are pasted.
#define CASTNET_SIMD_PASTE_(target, backend) isa_##target##_##backend
#define CASTNET_SIMD_PASTE(target, backend) CASTNET_SIMD_PASTE_(target, backend)
#define CASTNET_SIMD_ISA CASTNET_SIMD_PASTE(CASTNET_SIMD_TARGET, CASTNET_SIMD_BACKEND)

#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// The math functions whose double versions each backend supplies, as simd::double_math<fn>(v);
// math.hpp computes the float versions itself, the same way in every backend.
enum class fn : std::uint8_t { exp, expm1, log1p, erfc, tanh };

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_BASE_HPP
// ---- castnet/kernels/simd_x86.hpp ----
#ifndef CASTNET_BUNDLED_SIMD_X86_HPP
#define CASTNET_BUNDLED_SIMD_X86_HPP
// What the vector backends share on x86 (simd.hpp includes <immintrin.h> first): the register type
// of each vector size, and the fused multiply-adds. xsimd 8.1 has no fma for AVX-512 (its generic
// x·y + z is fused only where the compiler contracts it: GCC does, after inlining, unless it has
// first merged x·y with an equal product elsewhere; Clang does not), so both backends call the
// intrinsics here wherever the target has them, and are fused in the same places.

#include <cstddef>


#if (defined(__x86_64__) || defined(__i386__)) && (defined(__FMA__) || defined(__AVX512F__))
#define CASTNET_SIMD_X86_FMA 1
#else
#define CASTNET_SIMD_X86_FMA 0
#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {
namespace x86 {

#if defined(__SSE2__)
// The x86 register type of T's vectors of Bytes bytes, where the build has that width.
template <class T, std::size_t Bytes>
struct register_of {};
template <>
struct register_of<float, 16> {
  using type = __m128;
};
template <>
struct register_of<double, 16> {
  using type = __m128d;
};
#if defined(__AVX__)
template <>
struct register_of<float, 32> {
  using type = __m256;
};
template <>
struct register_of<double, 32> {
  using type = __m256d;
};
#endif
#if defined(__AVX512F__)
template <>
struct register_of<float, 64> {
  using type = __m512;
};
template <>
struct register_of<double, 64> {
  using type = __m512d;
};
#endif
#endif

// Whether fused() below takes vectors of Bytes bytes: that width has FMA instructions in this build.
template <std::size_t Bytes>
inline constexpr bool has_fma =
#if defined(__FMA__)
    Bytes == 16 || Bytes == 32 ||
#endif
#if defined(__AVX512F__)
    Bytes == 64 ||
#endif
    false;

#if defined(__FMA__)
inline __m128 fmadd(__m128 a, __m128 b, __m128 c) noexcept { return _mm_fmadd_ps(a, b, c); }
inline __m128d fmadd(__m128d a, __m128d b, __m128d c) noexcept { return _mm_fmadd_pd(a, b, c); }
inline __m256 fmadd(__m256 a, __m256 b, __m256 c) noexcept { return _mm256_fmadd_ps(a, b, c); }
inline __m256d fmadd(__m256d a, __m256d b, __m256d c) noexcept { return _mm256_fmadd_pd(a, b, c); }
inline __m128 fnmadd(__m128 a, __m128 b, __m128 c) noexcept { return _mm_fnmadd_ps(a, b, c); }
inline __m128d fnmadd(__m128d a, __m128d b, __m128d c) noexcept { return _mm_fnmadd_pd(a, b, c); }
inline __m256 fnmadd(__m256 a, __m256 b, __m256 c) noexcept { return _mm256_fnmadd_ps(a, b, c); }
inline __m256d fnmadd(__m256d a, __m256d b, __m256d c) noexcept { return _mm256_fnmadd_pd(a, b, c); }
#endif
#if defined(__AVX512F__)
inline __m512 fmadd(__m512 a, __m512 b, __m512 c) noexcept { return _mm512_fmadd_ps(a, b, c); }
inline __m512d fmadd(__m512d a, __m512d b, __m512d c) noexcept { return _mm512_fmadd_pd(a, b, c); }
inline __m512 fnmadd(__m512 a, __m512 b, __m512 c) noexcept { return _mm512_fnmadd_ps(a, b, c); }
inline __m512d fnmadd(__m512d a, __m512d b, __m512d c) noexcept { return _mm512_fnmadd_pd(a, b, c); }
#endif

#if CASTNET_SIMD_X86_FMA
// x·y + z (Negate: -x·y + z), rounded once, for a vector V of either backend whose width has_fma.
template <bool Negate, class V>
inline V fused(const V& x, const V& y, const V& z) noexcept {
  using R = typename V::register_type;
  using X = typename register_of<typename V::value_type, sizeof(R)>::type;
  const X a = X(R(x)), b = X(R(y)), c = X(R(z));
  if constexpr (Negate) {
    return V(R(fnmadd(a, b, c)));
  } else {
    return V(R(fmadd(a, b, c)));
  }
}
#endif

// The first N lanes of a vector of Bytes bytes of T, read or written by masked moves, the other
// lanes zero (read) or untouched (written). Staging a partial vector through a stack array instead
// costs a failed store-to-load forward at every layer of a one-sample pass whose width is not a
// multiple of the vector: 8-12-12-1 took 84 ns against 56 for 8-16-16-1 (Intel Xeon, AVX-512).
// AVX-512 has masked moves at every width (VL for 16 and 32 bytes); AVX, for 16 and 32 bytes.
template <class T, std::size_t Bytes>
inline constexpr bool has_masked_moves =
#if defined(__AVX512F__) && defined(__AVX512VL__)
    Bytes == 16 || Bytes == 32 || Bytes == 64 ||
#elif defined(__AVX512F__)
    Bytes == 64 ||
#endif
#if defined(__AVX__)
    Bytes == 16 || Bytes == 32 ||
#endif
    false;

#if defined(__AVX__) && !defined(__AVX512VL__)
// The lanes of a vmaskmov mask: element j of (kMaskLanes + 8 - n) is set for j < n.
alignas(32) inline constexpr int kMaskLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i mask256(std::size_t n) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskLanes + 8 - n));
}
inline __m128i mask128(std::size_t n) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(kMaskLanes + 8 - n));
}
#endif

template <std::size_t N, class V>
inline V load_first([[maybe_unused]] const typename V::value_type* p) noexcept {
  using T = typename V::value_type;
  using R = typename V::register_type;
  constexpr std::size_t bytes = sizeof(R);
  static_assert(has_masked_moves<T, bytes>);
#if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    if constexpr (sizeof(T) == 4) return V(R(_mm512_maskz_loadu_ps(__mmask16((1u << N) - 1), p)));
    else return V(R(_mm512_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  }
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) return V(R(_mm256_maskz_loadu_ps(__mmask8((1u << N) - 1), p)));
    else return V(R(_mm256_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) return V(R(_mm_maskz_loadu_ps(__mmask8((1u << N) - 1), p)));
    else return V(R(_mm_maskz_loadu_pd(__mmask8((1u << N) - 1), p)));
  }
#elif defined(__AVX__)
  constexpr std::size_t words = N * sizeof(T) / 4;  // the mask's set 4-byte lanes
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) return V(R(_mm256_maskload_ps(p, mask256(words))));
    else return V(R(_mm256_maskload_pd(p, mask256(words))));
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) return V(R(_mm_maskload_ps(p, mask128(words))));
    else return V(R(_mm_maskload_pd(p, mask128(words))));
  }
#endif
}

template <std::size_t N, class V>
inline void store_first([[maybe_unused]] typename V::value_type* p, [[maybe_unused]] const V& v) noexcept {
  using T = typename V::value_type;
  using R = typename V::register_type;
  using X = typename register_of<T, sizeof(R)>::type;
  constexpr std::size_t bytes = sizeof(R);
  static_assert(has_masked_moves<T, bytes>);
  [[maybe_unused]] const X x = X(R(v));
#if defined(__AVX512F__)
  if constexpr (bytes == 64) {
    if constexpr (sizeof(T) == 4) _mm512_mask_storeu_ps(p, __mmask16((1u << N) - 1), x);
    else _mm512_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  }
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_mask_storeu_ps(p, __mmask8((1u << N) - 1), x);
    else _mm256_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_mask_storeu_ps(p, __mmask8((1u << N) - 1), x);
    else _mm_mask_storeu_pd(p, __mmask8((1u << N) - 1), x);
  }
#elif defined(__AVX__)
  constexpr std::size_t words = N * sizeof(T) / 4;
  if constexpr (bytes == 32) {
    if constexpr (sizeof(T) == 4) _mm256_maskstore_ps(p, mask256(words), x);
    else _mm256_maskstore_pd(p, mask256(words), x);
  } else if constexpr (bytes == 16) {
    if constexpr (sizeof(T) == 4) _mm_maskstore_ps(p, mask128(words), x);
    else _mm_maskstore_pd(p, mask128(words), x);
  }
#endif
}

}  // namespace x86
}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_X86_HPP

// GCC 12's _mm512_shuffle_* and _mm512_extract* fill their don't-care operand with
// _mm512_undefined_*(), which self-initialises a variable; once inlined, -Wuninitialized and
// -Wmaybe-uninitialized report it (GCC bug 105593). See simd.hpp.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {
namespace reduce_detail {

// Whether the intrinsics below handle registers of T of Bytes bytes.
template <class T, std::size_t Bytes>
inline constexpr bool x86_register =
#if defined(__SSE2__)
    (std::is_same_v<T, float> || std::is_same_v<T, double>) &&
    (Bytes == 16
#if defined(__AVX__)
     || Bytes == 32
#endif
#if defined(__AVX512F__)
     || Bytes == 64
#endif
    );
#else
    false;
#endif

// The halving loop: what hadd computes, in that order.
template <class V>
inline typename V::value_type hadd_loop(const V& v) noexcept {
  using T = typename V::value_type;
  T a[V::size];
  v.store_unaligned(a);
  for (std::size_t w = V::size / 2; w >= 1; w /= 2) {
    for (std::size_t i = 0; i < w; ++i) a[i] += a[i + w];
  }
  return a[0];
}

#if defined(__SSE2__)
inline float hadd_x86(__m128 r) noexcept {
  const __m128 s = _mm_add_ps(r, _mm_movehl_ps(r, r));  // lanes 0, 1: a0 + a2, a1 + a3
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, _MM_SHUFFLE(1, 1, 1, 1))));
}
inline double hadd_x86(__m128d r) noexcept { return _mm_cvtsd_f64(_mm_add_sd(r, _mm_unpackhi_pd(r, r))); }
#endif
#if defined(__AVX__)
inline float hadd_x86(__m256 r) noexcept {
  return hadd_x86(_mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1)));
}
inline double hadd_x86(__m256d r) noexcept {
  return hadd_x86(_mm_add_pd(_mm256_castpd256_pd128(r), _mm256_extractf128_pd(r, 1)));
}
#endif
#if defined(__AVX512F__)
inline float hadd_x86(__m512 r) noexcept {
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r), 1));
  return hadd_x86(_mm256_add_ps(_mm512_castps512_ps256(r), hi));
}
inline double hadd_x86(__m512d r) noexcept {
  return hadd_x86(_mm256_add_pd(_mm512_castpd512_pd256(r), _mm512_extractf64x4_pd(r, 1)));
}
#endif

}  // namespace reduce_detail

// The sum of v's lanes.
template <class V>
inline typename V::value_type hadd(const V& v) noexcept {
#if defined(__SSE2__)
  using T = typename V::value_type;
  using R = typename V::register_type;
  if constexpr (reduce_detail::x86_register<T, sizeof(R)>) {
    using X = typename x86::register_of<T, sizeof(R)>::type;
    return reduce_detail::hadd_x86(X(R(v)));
  } else {
    return reduce_detail::hadd_loop(v);
  }
#else
  return reduce_detail::hadd_loop(v);
#endif
}

// Lane i of the result is the sum of the lanes of v[i], for V::size vectors v.
template <class V>
inline V lane_sums(const V* v) noexcept {
  using T = typename V::value_type;
  constexpr std::size_t L = V::size;
#if defined(__SSE2__)
  using R = typename V::register_type;
  if constexpr (reduce_detail::x86_register<T, sizeof(R)>) {
    using X = typename x86::register_of<T, sizeof(R)>::type;
    X r[L];
    for (std::size_t i = 0; i < L; ++i) r[i] = X(R(v[i]));
    constexpr bool single = std::is_same_v<T, float>;
    if constexpr (false) {
#if defined(__AVX512F__)
    } else if constexpr (sizeof(R) == 64 && single) {
      // b[i]: 128-bit blocks 0-1 hold v[2i]'s two half sums, blocks 2-3 v[2i+1]'s.
      __m512 b[8], c[4], d[2];
      for (int i = 0; i < 8; ++i) {
        b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
      }
      // c[j]: block q holds v[4j + q] summed down to 4 lanes.
      for (int j = 0; j < 4; ++j) {
        c[j] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
      }
      // d[m]: block q holds v[8m + q] in lanes 0-1 and v[8m + 4 + q] in lanes 2-3, 2 lanes each.
      for (int m = 0; m < 2; ++m) {
        d[m] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * m], c[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(c[2 * m], c[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)));
      }
      // Lane 4q + r: the sum of v[4r + q]; one permutation puts lane i at v[i].
      const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(3, 1, 3, 1)));
      const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
      return V(R(_mm512_permutexvar_ps(order, e)));
    } else if constexpr (sizeof(R) == 64) {
      // b[i]: 128-bit blocks 0-1 hold v[2i]'s two half sums, blocks 2-3 v[2i+1]'s.
      __m512d b[4], c[2];
      for (int i = 0; i < 4; ++i) {
        b[i] = _mm512_add_pd(_mm512_shuffle_f64x2(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f64x2(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
      }
      // c[j]: block q holds v[4j + q] summed down to 2 lanes.
      for (int j = 0; j < 2; ++j) {
        c[j] = _mm512_add_pd(_mm512_shuffle_f64x2(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f64x2(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(3, 1, 3, 1)));
      }
      // Lane 2q: the sum of v[q], lane 2q + 1 that of v[4 + q]; one permutation puts lane i at v[i].
      const __m512d e = _mm512_add_pd(_mm512_unpacklo_pd(c[0], c[1]), _mm512_unpackhi_pd(c[0], c[1]));
      return V(R(_mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), e)));
#endif
#if defined(__AVX__)
    } else if constexpr (sizeof(R) == 32 && single) {
      // b[i]: lanes 0-3 hold v[i]'s two halves added, lanes 4-7 v[i + 4]'s (a blend keeps one half
      // in place, so only the other half crosses lanes). With v[i] beside v[i + 4] first, the sums
      // end in lane order: no final permutation.
      __m256 b[4], c[2];
      for (int i = 0; i < 4; ++i) {
        b[i] = _mm256_add_ps(_mm256_blend_ps(r[i], r[i + 4], 0xF0), _mm256_permute2f128_ps(r[i], r[i + 4], 0x21));
      }
      // c[j]: lanes 0-1 hold v[2j] summed to 2 lanes, 2-3 v[2j + 1], 4-5 v[2j + 4], 6-7 v[2j + 5].
      for (int j = 0; j < 2; ++j) {
        c[j] = _mm256_add_ps(_mm256_blend_ps(b[2 * j], b[2 * j + 1], 0xCC),
                             _mm256_shuffle_ps(b[2 * j], b[2 * j + 1], _MM_SHUFFLE(1, 0, 3, 2)));
      }
      return V(R(_mm256_add_ps(_mm256_shuffle_ps(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                               _mm256_shuffle_ps(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)))));
    } else if constexpr (sizeof(R) == 32) {
      // b[i]: lanes 0-1 hold v[i]'s two halves added, lanes 2-3 v[i + 2]'s.
      __m256d b[2];
      for (int i = 0; i < 2; ++i) {
        b[i] = _mm256_add_pd(_mm256_blend_pd(r[i], r[i + 2], 0xC), _mm256_permute2f128_pd(r[i], r[i + 2], 0x21));
      }
      return V(R(_mm256_add_pd(_mm256_unpacklo_pd(b[0], b[1]), _mm256_unpackhi_pd(b[0], b[1]))));
#endif
    } else if constexpr (single) {
      // s: lanes hold v[0] and v[1] summed to 2 lanes, interleaved; t the same of v[2] and v[3].
      const __m128 s = _mm_add_ps(_mm_unpacklo_ps(r[0], r[1]), _mm_unpackhi_ps(r[0], r[1]));
      const __m128 t = _mm_add_ps(_mm_unpacklo_ps(r[2], r[3]), _mm_unpackhi_ps(r[2], r[3]));
      return V(R(_mm_add_ps(_mm_movelh_ps(s, t), _mm_movehl_ps(t, s))));
    } else {
      return V(R(_mm_add_pd(_mm_unpacklo_pd(r[0], r[1]), _mm_unpackhi_pd(r[0], r[1]))));
    }
  } else
#endif
  {
    T sums[L];
    for (std::size_t i = 0; i < L; ++i) sums[i] = simd::hadd(v[i]);
    return V::load_unaligned(sums);
  }
}

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // CASTNET_BUNDLED_SIMD_REDUCE_HPP

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

template <class T>
inline constexpr std::size_t lanes = vec<T>::size;

// Whether load_n and store_n move a partial vector V by masked moves (else through a stack array).
template <class V>
inline constexpr bool masked_moves =
#if defined(__x86_64__) || defined(__i386__)
    V::size > 1 && x86::has_masked_moves<typename V::value_type, sizeof(typename V::register_type)>;
#else
    false;
#endif

// Loads N <= V::size values; the lanes past N read as zero. A full-width load could run past the
// end of the array and fault, so the partial case uses a masked load where x86 has one
// (simd_x86.hpp), else goes through a stack buffer.
template <class T, std::size_t N, class V = vec<T>>
inline V load_n(const T* p) noexcept {
  if constexpr (N == V::size) {
    return V::load_unaligned(p);
#if defined(__x86_64__) || defined(__i386__)
  } else if constexpr (masked_moves<V>) {
    return x86::load_first<N, V>(p);
#endif
  } else {
    T buf[V::size] = {};
    std::memcpy(buf, p, N * sizeof(T));
    return V::load_unaligned(buf);
  }
}

// Stores the first N <= V::size values of v.
template <class T, std::size_t N, class V>
inline void store_n(T* p, const V& v) noexcept {
  if constexpr (N == V::size) {
    v.store_unaligned(p);
#if defined(__x86_64__) || defined(__i386__)
  } else if constexpr (masked_moves<V>) {
    x86::store_first<N>(p, v);
#endif
  } else {
    T buf[V::size];
    v.store_unaligned(buf);
    std::memcpy(p, buf, N * sizeof(T));
  }
}

// The vector of one sample's row of N values in the single-sample kernels: narrow_vec, or its half
// where N is a multiple of the half but not of narrow_vec (12 floats: three 128-bit vectors rather
// than 256 bits and a partial vector). A partial vector costs masked moves, and a load that spans
// two stores cannot take its value from them (store forwarding), so the kernel that writes a row
// and the one that reads it must cut it alike: this is the one place that decides.
template <class T, std::size_t N>
inline constexpr bool row_uses_half = half_narrow_vec<T>::size < narrow_vec<T>::size &&
                                      N % narrow_vec<T>::size != 0 && N % half_narrow_vec<T>::size == 0;
template <class T, std::size_t N>
using row_vec = std::conditional_t<row_uses_half<T, N>, half_narrow_vec<T>, narrow_vec<T>>;

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_SIMD_HPP

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {
namespace math_detail {

// 1.5·2^23: a float this large has no fraction bits, so adding it rounds to an integer (ties to
// even) for magnitudes below 2^22. The sum t = kRound + n holds n in its low mantissa bits, which
// simd::pow2_biased(t) turns into 2^n without a conversion (and without undefined behaviour when t
// is NaN); t - kRound is n, exactly.
constexpr float kRound = 12582912.0f;

// e^r - 1 for |r| <= ln2/2: r + r²·P(r), Cephes expf's polynomial (below 1 ulp).
template <class V>
inline V expm1_poly(const V& r) noexcept {
  V p = simd::fma(V(1.9875691500e-4f), r, V(1.3981999507e-3f));
  p = simd::fma(p, r, V(8.3334519073e-3f));
  p = simd::fma(p, r, V(4.1665795894e-2f));
  p = simd::fma(p, r, V(1.6666665459e-1f));
  p = simd::fma(p, r, V(5.0000001201e-1f));
  return simd::fma(p, r * r, r);
}

// x = n·ln2 + r, n an integer and |r| <= ln2/2: returns r, sets t = kRound + n. ln2 is split in
// two: n·0.693359375 is exact for |n| < 2^15, and the rest is small.
template <class V>
inline V reduce_ln2(const V& x, V& t) noexcept {
  t = simd::fma(x, V(1.44269504088896341f), V(kRound));
  const V n = t - V(kRound);
  return simd::fnma(n, V(-2.12194440e-4f), simd::fnma(n, V(0.693359375f), x));
}

// x clamped to [lo, hi], NaN kept (min and max return their second operand on NaN).
template <class V>
inline V clamp(const V& x, float lo, float hi) noexcept {
  return simd::min(V(hi), simd::max(V(lo), x));
}

// 2^n·e^r for t = kRound + n, an integer n in [-126, 128], and |r| <= ln2/2, computed as
// 2·(s + s·(e^r - 1)) with s = 2^(n-1): rounded once (the 2· is exact) and s <= 2^127 even where
// the result overflows. s is 0 for n = -126: results below 1.8e-38 (e^-86.99) flush to 0, as they
// do in xsimd's exp; subnormal floats would only slow down the arithmetic that reads them.
template <class V>
inline V exp_scaled(const V& t, const V& r) noexcept {
  const V s = simd::pow2_biased(t - V(1.0f));
  return V(2.0f) * simd::fma(s, expm1_poly(r), s);
}

// e^x = 2^n·e^r. Clamping x to [-87.5, 89] keeps n in [-126, 128] and changes no result: below, e^x
// flushes to 0 (see exp_scaled), above, it overflows.
template <class V>
inline V exp_float(const V& x) noexcept {
  V t;
  const V r = reduce_ln2(clamp(x, -87.5f, 89.0f), t);
  return exp_scaled(t, r);
}

// e^x - 1 = 2^n·(p + 1) - 1 with p = e^r - 1, computed as 2·(t·p + (t - 1/2)), t = 2^(n-1): rounded
// once (the 2· is exact), exact when n = 0 (t - 1/2 = 0), and t <= 2^127 even where the result
// overflows. Below -18, e^x - 1 rounds to -1, so x is clamped to [-18, 89].
template <class V>
inline V expm1_float(const V& x) noexcept {
  V t;
  const V p = expm1_poly(reduce_ln2(clamp(x, -18.0f, 89.0f), t));
  const V s = simd::pow2_biased(t - V(1.0f));
  return V(2.0f) * simd::fma(s, p, s - V(0.5f));
}

// log1p(x) = log u + (x - (u - 1))/u with u = 1 + x rounded (the second term is the correction of
// that rounding to first order), log u from u = m·2^e as Cephes logf computes it: m in [√½, √2),
// log m = f - f²/2 + f³·P(f) with f = m - 1, and e·ln2 in two parts.
template <class V>
inline V log1p_float(const V& x) noexcept {
  const V one(1.0f);
  const V u = one + x;
  V e;
  const V m = simd::frexp(u, e);  // m in [0.5, 1)
  const auto low = m < V(0.70710678118654752f);
  e = simd::select(low, e - one, e);
  const V f = simd::select(low, m + m, m) - one;
  const V z = f * f;
  V y = simd::fma(V(7.0376836292e-2f), f, V(-1.1514610310e-1f));
  y = simd::fma(y, f, V(1.1676998740e-1f));
  y = simd::fma(y, f, V(-1.2420140846e-1f));
  y = simd::fma(y, f, V(1.4249322787e-1f));
  y = simd::fma(y, f, V(-1.6668057665e-1f));
  y = simd::fma(y, f, V(2.0000714765e-1f));
  y = simd::fma(y, f, V(-2.4999993993e-1f));
  y = simd::fma(y, f, V(3.3333331174e-1f));
  y = simd::fma(e, V(-2.12194440e-4f), y * f * z);
  y = simd::fnma(V(0.5f), z, y);
  const V log_u = simd::fma(e, V(0.693359375f), f + y);
  const V r = log_u + (x - (u - one)) / u;
  // +inf and NaN pass through; -1 gives -inf, below -1 NaN.
  constexpr float inf = std::numeric_limits<float>::infinity();
  const V finite = simd::select(u < V(inf), r, u);
  return simd::select(x > V(-1.0f), finite, simd::select(x == V(-1.0f), V(-inf), V(std::numeric_limits<float>::quiet_NaN())));
}

// Cephes erfcf: below |x| = 1, 1 - erf(x) with erf(x) = x·T(x²); from there e^(-x²)/|x| times a
// polynomial in 1/x², P below |x| = 2, R above, and 2 minus that for negative x. 1 - erf(x) cancels
// towards x = 1 (erfc(1) = 0.157), so T's leading term, the largest, is applied apart from the
// rest and its coefficient in two parts: each product is then rounded once, on its own scale.
// e^(-x²) would carry the rounding error of x², relatively x² times larger, so x² is split as
// Cephes' expx2 does: x = m + f with m a multiple of 1/128, x² = m² + f·(2m + f), where m² is exact
// (m·128 < 2^11) and the rest small; e^(-m² - f·(2m + f)) is then reduced with m² exact. |x| is
// capped at 9.34, where e^(-x²) has flushed to 0 (exp_scaled) and erfc is a subnormal 8e-40, so
// that the exponent stays within exp_scaled's range.
template <class V>
inline V erfc_float(const V& x) noexcept {
  const V one(1.0f);
  const V x2 = x * x;
  V t = simd::fma(V(7.853861353153693e-5f), x2, V(-8.010193625184903e-4f));
  t = simd::fma(t, x2, V(5.188327685732524e-3f));
  t = simd::fma(t, x2, V(-2.685381193529856e-2f));
  t = simd::fma(t, x2, V(1.128358514861418e-1f));
  t = simd::fma(t, x2, V(-3.761262582423300e-1f));
  // 1 - x·(1.128379165726710 + x²·t), the constant as 1.1283791065216064 + 5.9205103042359042e-8.
  const V near = simd::fnma(x * x2, t, simd::fnma(x, V(5.9205103042359042e-8f), simd::fnma(x, V(1.1283791065216064f), one)));

  const V a = simd::min(V(9.34f), simd::abs(x));  // NaN kept
  const V m = (simd::fma(a, V(128.0f), V(kRound)) - V(kRound)) * V(0.0078125f);
  const V f = a - m, g = m + m + f, m2 = m * m;  // x² = m² + f·g
  const V biased = simd::fma(simd::fma(f, g, m2), V(-1.44269504088896341f), V(kRound));  // kRound + n
  const V n = biased - V(kRound);
  const V ex = exp_scaled(biased, simd::fnma(f, g, simd::fnma(n, V(-2.12194440e-4f), simd::fnma(n, V(0.693359375f), m2 * V(-1.0f)))));
  const V q = one / a;
  const V y = q * q;
  V p = simd::fma(V(2.326819970068386e-2f), y, V(-1.387039388740657e-1f));
  p = simd::fma(p, y, V(3.687424674597105e-1f));
  p = simd::fma(p, y, V(-5.824733027278666e-1f));
  p = simd::fma(p, y, V(6.210004621745983e-1f));
  p = simd::fma(p, y, V(-4.944515323274145e-1f));
  p = simd::fma(p, y, V(3.404879937665872e-1f));
  p = simd::fma(p, y, V(-2.741127028184656e-1f));
  p = simd::fma(p, y, V(5.638259427386472e-1f));
  V r = simd::fma(V(-1.047766399936249e1f), y, V(1.297719955372516e1f));
  r = simd::fma(r, y, V(-7.495518717768503f));
  r = simd::fma(r, y, V(2.921019019210786f));
  r = simd::fma(r, y, V(-1.015265279202700f));
  r = simd::fma(r, y, V(4.218463358204948e-1f));
  r = simd::fma(r, y, V(-2.820767439740514e-1f));
  r = simd::fma(r, y, V(5.641895067754075e-1f));
  const V eq = ex * q, pr = simd::select(a < V(2.0f), p, r);
  const V far = simd::select(x < V(0.0f), simd::fnma(eq, pr, V(2.0f)), eq * pr);
  return simd::select(a < one, near, far);
}

// tanh: Eigen 3.4's rational approximation x·P(x²)/Q(x²), P of degree 6 and Q of degree 3, on
// |x| <= 7.9988 (max relative error 3.6e-7 on a dense scan of the floats). Cheaper than an exp and a
// division: it took ~25% off an 8-32-32-1 tanh MLP's single-sample latency against xsimd::tanh.
// Estrin's scheme for P and starting x/Q as soon as Q is known shorten the dependency chain a single
// sample waits on. The clamped approximation ends at 1 - 1.8e-7, so |x| >= 9, where tanh rounds to
// ±1, is set exactly. A NaN stays NaN.
template <class V>
inline V tanh_float(const V& z) noexcept {
  const V x = clamp(z, -7.99881172180175781f, 7.99881172180175781f);
  const V t = x * x, t2 = t * t, t4 = t2 * t2;
  const V p_lo = simd::fma(simd::fma(V(5.12229709037114e-08f), t, V(1.48572235717979e-05f)), t2,
                     simd::fma(V(6.37261928875436e-04f), t, V(4.89352455891786e-03f)));
  const V p_hi = simd::fma(V(-2.76076847742355e-16f), t2, simd::fma(V(2.00018790482477e-13f), t, V(-8.60467152213735e-11f)));
  const V p = simd::fma(p_hi, t4, p_lo);
  const V q = simd::fma(simd::fma(V(1.19825839466702e-06f), t, V(1.18534705686654e-04f)), t2,
                  simd::fma(V(2.26843463243900e-03f), t, V(4.89352518554385e-03f)));
  return simd::select(simd::abs(z) >= V(9.0f), simd::copysign(V(1.0f), z), p * (x / q));
}

template <class V>
inline constexpr bool is_float = std::is_same_v<typename V::value_type, float>;

}  // namespace math_detail

// e^x
template <class V>
inline V exp(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::exp_float(x);
  } else {
    return double_math<fn::exp>(x);
  }
}

// e^x - 1, accurate near 0
template <class V>
inline V expm1(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::expm1_float(x);
  } else {
    return double_math<fn::expm1>(x);
  }
}

// log(1 + x), accurate near 0
template <class V>
inline V log1p(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::log1p_float(x);
  } else {
    return double_math<fn::log1p>(x);
  }
}

// 1 - erf(x), accurate where erf(x) is near 1
template <class V>
inline V erfc(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::erfc_float(x);
  } else {
    return double_math<fn::erfc>(x);
  }
}

template <class V>
inline V tanh(const V& x) noexcept {
  if constexpr (math_detail::is_float<V>) {
    return math_detail::tanh_float(x);
  } else {
    return double_math<fn::tanh>(x);
  }
}

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_MATH_HPP

namespace castnet {

enum class Act : std::uint8_t {
  identity, relu, leaky_relu, elu, gelu, silu, tanh, sigmoid, softplus, softmax
};

}  // namespace castnet

namespace castnet {
inline namespace CASTNET_SIMD_ISA {

namespace activation_detail {

// f and dz = da·f'(z) for one vector V; `a` is f(z), `alpha` the activation's parameter.
template <Act A, class V>
struct elementwise;

// σ(z) = 1/(1 + e^-z), computed from e^-|z| ∈ (0, 1] so neither branch can overflow.
template <class T, class V>
inline V stable_sigmoid(const V& z) noexcept {
  const V e = simd::exp(V(T(0)) - simd::abs(z));
  const V r = V(T(1)) / (V(T(1)) + e);
  return simd::select(z >= V(T(0)), r, e * r);
}

// f(z) = z;  f'(z) = 1
template <class V>
struct elementwise<Act::identity, V> {
  using T = typename V::value_type;
  static V forward(V z, V) noexcept { return z; }
  static V backward(V, V, V da, V) noexcept { return da; }
};

// f(z) = max(z, 0);  f'(z) = [z > 0]  (0 at z = 0, as torch)
template <class V>
struct elementwise<Act::relu, V> {
  using T = typename V::value_type;
  static V forward(V z, V) noexcept { return simd::max(z, V(T(0))); }
  static V backward(V z, V, V da, V) noexcept { return simd::select(z > V(T(0)), da, V(T(0))); }
};

// f(z) = z > 0 ? z : αz;  f'(z) = z > 0 ? 1 : α
template <class V>
struct elementwise<Act::leaky_relu, V> {
  using T = typename V::value_type;
  static V forward(V z, V alpha) noexcept { return simd::select(z > V(T(0)), z, alpha * z); }
  static V backward(V z, V, V da, V alpha) noexcept { return simd::select(z > V(T(0)), da, alpha * da); }
};

// f(z) = z > 0 ? z : α(e^z - 1);  f'(z) = z > 0 ? 1 : αe^z
// expm1 keeps precision near 0; min(z, 0) keeps the discarded positive branch from overflowing.
template <class V>
struct elementwise<Act::elu, V> {
  using T = typename V::value_type;
  static V forward(V z, V alpha) noexcept {
    return simd::select(z > V(T(0)), z, alpha * simd::expm1(simd::min(z, V(T(0)))));
  }
  static V backward(V z, V, V da, V alpha) noexcept {
    return simd::select(z > V(T(0)), da, da * alpha * simd::exp(simd::min(z, V(T(0)))));
  }
};

// f(z) = z/2·(1 + erf(z/√2)) = z/2·erfc(-z/√2);  f'(z) = erfc(-z/√2)/2 + z·e^(-z²/2)/√(2π)
// The erfc form is exact algebra but keeps full precision in the left tail, where 1 + erf cancels.
template <class V>
struct elementwise<Act::gelu, V> {
  using T = typename V::value_type;
  static constexpr T inv_sqrt2 = T(0.70710678118654752440);
  static constexpr T inv_sqrt_2pi = T(0.39894228040143267794);
  static V forward(V z, V) noexcept { return T(0.5) * z * simd::erfc(z * V(-inv_sqrt2)); }
  static V backward(V z, V, V da, V) noexcept {
    const V cdf = T(0.5) * simd::erfc(z * V(-inv_sqrt2));
    const V pdf = V(inv_sqrt_2pi) * simd::exp(T(-0.5) * z * z);
    return da * simd::fma(z, pdf, cdf);
  }
};

// f(z) = z·σ(z);  f'(z) = σ(z)·(1 + z·(1 - σ(z)))
template <class V>
struct elementwise<Act::silu, V> {
  using T = typename V::value_type;
  static V forward(V z, V) noexcept { return z * stable_sigmoid<T>(z); }
  static V backward(V z, V, V da, V) noexcept {
    const V s = stable_sigmoid<T>(z);
    return da * s * simd::fma(z, V(T(1)) - s, V(T(1)));
  }
};

// f(z) = tanh z;  f'(z) = 1 - a²
template <class V>
struct elementwise<Act::tanh, V> {
  using T = typename V::value_type;
  static V forward(V z, V) noexcept { return simd::tanh(z); }
  static V backward(V, V a, V da, V) noexcept { return da * simd::fnma(a, a, V(T(1))); }
};

// f(z) = σ(z) = 1/(1 + e^-z);  f'(z) = a(1 - a)
template <class V>
struct elementwise<Act::sigmoid, V> {
  using T = typename V::value_type;
  static V forward(V z, V) noexcept { return stable_sigmoid<T>(z); }
  static V backward(V, V a, V da, V) noexcept { return da * a * (V(T(1)) - a); }
};

// With β = alpha: f(z) = βz > 20 ? z : log(1 + e^(βz))/β;  f'(z) = βz > 20 ? 1 : σ(βz)
// (torch's threshold 20). The exponent is clamped to 20 so the discarded branch cannot overflow.
template <class V>
struct elementwise<Act::softplus, V> {
  using T = typename V::value_type;
  static constexpr T threshold = T(20);
  static V forward(V z, V beta) noexcept {
    const V bz = beta * z;
    return simd::select(bz > V(threshold), z, simd::log1p(simd::exp(simd::min(bz, V(threshold)))) / beta);
  }
  static V backward(V z, V, V da, V beta) noexcept {
    const V bz = beta * z;
    return simd::select(bz > V(threshold), da, da * stable_sigmoid<T>(bz));
  }
};

// out[k] = f(in0[k], in1[k], ...) for k < N, one vector V at a time. Each vector of inputs is read
// before its result is written, so out may be the same array as any input.
template <class T, std::size_t N, class V = simd::vec<T>, class F, class... In>
inline void map(F f, T* out, const In*... in) noexcept {
  constexpr std::size_t L = V::size;
  constexpr std::size_t full = N / L * L;
  for (std::size_t k = 0; k < full; k += L) f(V::load_unaligned(in + k)...).store_unaligned(out + k);
  if constexpr (N != full) simd::store_n<T, N - full>(out + full, f(simd::load_n<T, N - full, V>(in + full)...));
}

// Largest value of a row.
template <class T, std::size_t Cols>
inline T row_max(const T* z) noexcept {
  using V = simd::vec<T>;
  constexpr std::size_t L = simd::lanes<T>;
  constexpr std::size_t full = Cols / L * L;
  T m = z[0];
  if constexpr (full != 0) {
    V mv = V::load_unaligned(z);
    for (std::size_t j = L; j < full; j += L) mv = simd::max(mv, V::load_unaligned(z + j));
    T lane[L];
    mv.store_unaligned(lane);
    for (const T v : lane) m = v > m ? v : m;
  }
  for (std::size_t j = full; j < Cols; ++j) m = z[j] > m ? z[j] : m;
  return m;
}

// a = e^(z - max) / Σ e^(z - max) per row: subtracting the max keeps every exponent ≤ 0, so the
// sum lies in [1, Cols] and nothing overflows.
template <class T, std::size_t Rows, std::size_t Cols>
inline void softmax_forward(const T* z, T* a) noexcept {
  using V = simd::vec<T>;
  constexpr std::size_t L = simd::lanes<T>;
  constexpr std::size_t full = Cols / L * L;
  for (std::size_t r = 0; r < Rows; ++r) {
    const T* zr = z + r * Cols;
    T* ar = a + r * Cols;
    const T m = row_max<T, Cols>(zr);
    V sum_v(T(0));
    for (std::size_t j = 0; j < full; j += L) {
      const V e = simd::exp(V::load_unaligned(zr + j) - V(m));
      e.store_unaligned(ar + j);
      sum_v += e;
    }
    T sum = simd::hadd(sum_v);
    if constexpr (Cols != full) {
      // The lanes past the row are not stored, nor summed.
      const V e = simd::exp(simd::load_n<T, Cols - full>(zr + full) - V(m));
      T tail[L];
      e.store_unaligned(tail);
      for (std::size_t j = 0; j < Cols - full; ++j) sum += tail[j];
      simd::store_n<T, Cols - full>(ar + full, e);
    }
    map<T, Cols>([&](V e) { return e / V(sum); }, ar, ar);
  }
}

// dz = a·(da - Σ_row da·a): the softmax Jacobian diag(a) - a·aᵀ applied to da. The row's dot
// product is complete before any dz is written, so dz may alias da.
template <class T, std::size_t Rows, std::size_t Cols>
inline void softmax_backward(const T* a, const T* da, T* dz) noexcept {
  using V = simd::vec<T>;
  constexpr std::size_t L = simd::lanes<T>;
  constexpr std::size_t full = Cols / L * L;
  for (std::size_t r = 0; r < Rows; ++r) {
    const T* ar = a + r * Cols;
    const T* dar = da + r * Cols;
    V dot_v(T(0));
    for (std::size_t j = 0; j < full; j += L) {
      dot_v = simd::fma(V::load_unaligned(dar + j), V::load_unaligned(ar + j), dot_v);
    }
    T dot = simd::hadd(dot_v);
    for (std::size_t j = full; j < Cols; ++j) dot += dar[j] * ar[j];
    map<T, Cols>([&](V av, V dav) { return av * (dav - V(dot)); }, dz + r * Cols, ar, dar);
  }
}

}  // namespace activation_detail

// a = f(z) elementwise over Rows*Cols values (row-major); softmax normalises each row of Cols
// (max-subtracted, stable). z and a may alias. `alpha`: leaky_relu negative slope, elu alpha,
// softplus beta (must be non-zero); ignored otherwise.
template <Act A, class T, std::size_t Rows, std::size_t Cols>
void activation_forward(const T* z, T* a, T alpha) noexcept {
  if constexpr (A == Act::softmax) {
    activation_detail::softmax_forward<T, Rows, Cols>(z, a);
  } else {
    // One sample (forward()) reads its dense layer's output at the width gemv stored it with
    // (simd::row_vec): 512-bit loads of 256-bit stores made an 8-32-32-1 tanh MLP 10-20% slower.
    using V = std::conditional_t<Rows == 1, simd::row_vec<T, Cols>, simd::vec<T>>;
    const V alpha_v(alpha);
    const auto forward = [&](V zv) { return activation_detail::elementwise<A, V>::forward(zv, alpha_v); };
    activation_detail::map<T, Rows * Cols, V>(forward, a, z);
  }
}

// dz = da * f'(z), using z and a == f(z) as convenient; softmax: dz = a * (da - sum_row(da * a)).
// dz may alias da.
template <Act A, class T, std::size_t Rows, std::size_t Cols>
void activation_backward(const T* z, const T* a, const T* da, T* dz, T alpha) noexcept {
  if constexpr (A == Act::softmax) {
    activation_detail::softmax_backward<T, Rows, Cols>(a, da, dz);
  } else {
    using V = simd::vec<T>;
    const V alpha_v(alpha);
    const auto backward = [&](V zv, V av, V dav) {
      return activation_detail::elementwise<A, V>::backward(zv, av, dav, alpha_v);
    };
    activation_detail::map<T, Rows * Cols>(backward, dz, z, a, da);
  }
}

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_ACTIVATION_HPP
// ---- castnet/kernels/outputs.hpp ----
#ifndef CASTNET_BUNDLED_OUTPUTS_HPP
#define CASTNET_BUNDLED_OUTPUTS_HPP
// What a network's outputs mean to its user, one sample at a time: `castnet predict` prints these
// and an exported header's predict() returns them, from one definition. Under mse the outputs are
// the prediction; the cross-entropies take logits (as PyTorch's losses do), so binary
// cross-entropy's probabilities are their sigmoids and softmax cross-entropy's their softmax. In
// double, shifted by the maximum or split by sign so that exp never overflows.

#include <cmath>
#include <cstddef>


// In the instruction set's namespace (simd_base.hpp): an export compiled twice, for two
// instruction sets, must not share these.
namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace outputs {

// σ(z) from e^-|z| ∈ (0, 1], so neither sign of z can overflow.
inline double stable_sigmoid(double z) noexcept {
  const double e = std::exp(-std::abs(z));
  return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

template <class T>
void identity(const T* y, std::size_t n, T* out) noexcept {
  for (std::size_t k = 0; k < n; ++k) out[k] = y[k];
}

template <class T>
void sigmoid(const T* y, std::size_t n, T* out) noexcept {
  for (std::size_t k = 0; k < n; ++k) out[k] = static_cast<T>(stable_sigmoid(static_cast<double>(y[k])));
}

template <class T>
void softmax(const T* y, std::size_t n, T* out) noexcept {
  T top = y[0];
  for (std::size_t k = 1; k < n; ++k) top = y[k] > top ? y[k] : top;
  // One exp per value (it is most of a small network's predict_batch): kept in out, rounded to T,
  // while the sum adds it unrounded; then each is scaled by 1 / sum rounded to T. No value goes
  // from T to double and back: GCC 12's vectorizer (-O2 and up) was seen to drop that round trip
  // when n is a compile-time constant, and predict (n known at run time) and an export (n a
  // constant) must give the same bits.
  double sum = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const double e = std::exp(static_cast<double>(y[k]) - static_cast<double>(top));
    sum += e;
    out[k] = static_cast<T>(e);
  }
  const T scale = static_cast<T>(1.0 / sum);
  for (std::size_t k = 0; k < n; ++k) out[k] *= scale;
}

}  // namespace outputs
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
#endif  // CASTNET_BUNDLED_OUTPUTS_HPP


#include <cstdint>
#include <cstring>

// In the instruction set's namespace, as the kernels above: this header compiled for two instruction
// sets in one program (for a choice at run time) keeps two copies of these inline functions apart.
namespace xor_net {
inline namespace CASTNET_SIMD_ISA {

using real = float;

inline constexpr const char* kName = "xor_net";
inline constexpr const char* kSpecSha256 = "55b6cef550ad6bd83055dffe545b516791575e5cd246c9397b829d8eb6374eb3";
inline constexpr std::size_t kInputs = 2;    // values of one sample
inline constexpr std::size_t kOutputs = 1;  // probabilities (sigmoid of each logit)
inline constexpr std::size_t kParams = 9;    // baked-in weights
inline constexpr std::size_t kBatch = 4;      // the rows predict_batch runs at once
inline constexpr std::size_t kStackBytes = 128;  // predict()'s or predict_batch()'s buffers on the stack, at most

// layer                type               output               params   FLOPs/sample
// hidden               dense+tanh         (2)                       6             10
// out                  dense              (1)                       3              5
// total                                                             9             15

namespace detail {

// The weights carry no input normalisation: the layers read x as it is.

// The rows' inputs (as they are) in `staged`, kBatch rows of them, zeros past the last; or x
// itself when it holds kBatch rows on a 64-byte boundary and needs no normalisation.
inline const real* stage_rows(const real* x, std::size_t rows, real* staged) noexcept {
  if (rows == kBatch && reinterpret_cast<std::uintptr_t>(x) % 64 == 0) return x;
  std::memcpy(staged, x, rows * kInputs * sizeof(real));
  std::memset(staged + rows * kInputs, 0, (kBatch - rows) * kInputs * sizeof(real));
  return staged;
}

// y (kOutputs values per row) from the network's last values z, as `castnet predict` prints them: the sigmoid of each logit.
inline void outputs(const real* z, real* y, std::size_t rows) noexcept {
  for (std::size_t r = 0; r < rows; ++r) castnet::outputs::sigmoid(z + r * kOutputs, kOutputs, y + r * kOutputs);
}

// The weights, in PyTorch's layouts, as the training header's Params holds them.
struct Params {
  // hidden.weight [2, 2] (out, in)
  alignas(64) static constexpr real hidden_weight[4] = {
      2.5f, 2.5f, -2.5f, -2.5f
  };
  // hidden.bias [2] (out)
  alignas(64) static constexpr real hidden_bias[2] = {
      -1.25f, 3.75f
  };
  // out.weight [1, 2] (out, in)
  alignas(64) static constexpr real out_weight[2] = {
      3.0f, 3.0f
  };
  // out.bias [1] (out)
  alignas(64) static constexpr real out_bias[1] = {
      -3.0f
  };
};

// One sample: x (kInputs) -> the network's outputs z (kOutputs). The training header's forward().
inline void forward([[maybe_unused]] const Params& p, const real* x, real* y) noexcept {
  alignas(64) real buf[16];  // the planned arena of the layers below

  // hidden: dense 2 -> 2, tanh, straight-line  (xor.toml:6)
  real* const hidden_out = buf + 0;  // (2)
  for (std::size_t b = 0; b < 1; ++b) {
    const real* xb = x + b * 2;
    real* zb = hidden_out + b * 2;
    zb[0] = p.hidden_bias[0] + p.hidden_weight[0] * xb[0] + p.hidden_weight[1] * xb[1];
    zb[1] = p.hidden_bias[1] + p.hidden_weight[2] * xb[0] + p.hidden_weight[3] * xb[1];
  }
  castnet::activation_forward<castnet::Act::tanh, real, 1, 2>(hidden_out, hidden_out, real(0.0));

  // out: dense 2 -> 1, straight-line  (xor.toml:12)
  for (std::size_t b = 0; b < 1; ++b) {
    const real* xb = hidden_out + b * 2;
    real* zb = y + b * 1;
    zb[0] = p.out_bias[0] + p.out_weight[0] * xb[0] + p.out_weight[1] * xb[1];
  }
}

// `rows` <= kBatch samples through the batched forward pass (the training header's forward_batch,
// over kBatch rows: the rest are zeros) -> their outputs y, as `castnet predict` prints them.
inline void forward_rows([[maybe_unused]] const Params& p, const real* x, std::size_t rows, real* y) noexcept {
  alignas(64) real buf[32];  // the planned arena of the layers below

  const real* const input = stage_rows(x, rows, buf + 0);  // the rows' inputs: x, or a copy with zeros past the last

  // hidden: dense 2 -> 2, tanh, straight-line  (xor.toml:6)
  real* const hidden_out = buf + 16;  // (batch, 2)
  for (std::size_t b = 0; b < 4; ++b) {
    const real* xb = input + b * 2;
    real* zb = hidden_out + b * 2;
    zb[0] = p.hidden_bias[0] + p.hidden_weight[0] * xb[0] + p.hidden_weight[1] * xb[1];
    zb[1] = p.hidden_bias[1] + p.hidden_weight[2] * xb[0] + p.hidden_weight[3] * xb[1];
  }
  castnet::activation_forward<castnet::Act::tanh, real, 4, 2>(hidden_out, hidden_out, real(0.0));

  // out: dense 2 -> 1, straight-line  (xor.toml:12)
  real* const out_out = buf + 0;  // (batch, 1)
  for (std::size_t b = 0; b < 4; ++b) {
    const real* xb = hidden_out + b * 2;
    real* zb = out_out + b * 1;
    zb[0] = p.out_bias[0] + p.out_weight[0] * xb[0] + p.out_weight[1] * xb[1];
  }

  detail::outputs(out_out, y, rows);
}

}  // namespace detail

// One sample: x (kInputs values, as the training data had them) -> y (kOutputs: probabilities).
inline void predict(const float* x, float* y) noexcept {
  real z[kOutputs];
  detail::forward(detail::Params{}, x, z);
  detail::outputs(z, y, 1);
}

// n samples, row-major: x (n, kInputs) -> y (n, kOutputs), kBatch at a time.
inline void predict_batch(const float* x, float* y, std::size_t n) noexcept {
  for (std::size_t first = 0; first < n; first += kBatch)
    detail::forward_rows(detail::Params{}, x + first * kInputs, n - first < kBatch ? n - first : kBatch, y + first * kOutputs);
}
}  // namespace CASTNET_SIMD_ISA
}  // namespace xor_net

#pragma pop_macro("CASTNET_BUNDLED_ACTIVATION_HPP")
#pragma pop_macro("CASTNET_BUNDLED_MATH_HPP")
#pragma pop_macro("CASTNET_BUNDLED_SIMD_HPP")
#pragma pop_macro("CASTNET_BUNDLED_SIMD_SCALAR_HPP")
#pragma pop_macro("CASTNET_BUNDLED_SIMD_BASE_HPP")
#pragma pop_macro("CASTNET_SIMD_ISA")
#pragma pop_macro("CASTNET_SIMD_TARGET")
#pragma pop_macro("CASTNET_SIMD_BACKEND")
#pragma pop_macro("CASTNET_SIMD_PASTE_")
#pragma pop_macro("CASTNET_SIMD_PASTE")
#pragma pop_macro("CASTNET_ONE_LANE_OPERATOR")
#pragma pop_macro("CASTNET_BUNDLED_SIMD_VECEXT_HPP")
#pragma pop_macro("CASTNET_BUNDLED_SIMD_X86_HPP")
#pragma pop_macro("CASTNET_SIMD_X86_FMA")
#pragma pop_macro("CASTNET_VECEXT_TYPE")
#pragma pop_macro("CASTNET_VECEXT_OPERATOR")
#pragma pop_macro("CASTNET_BUNDLED_SIMD_XSIMD_HPP")
#pragma pop_macro("CASTNET_BUNDLED_SIMD_REDUCE_HPP")
#pragma pop_macro("CASTNET_BUNDLED_OUTPUTS_HPP")
#pragma pop_macro("castnet")
#pragma pop_macro("CASTNET_SIMD_SCALAR")
#pragma pop_macro("CASTNET_SIMD_VECEXT")
#pragma pop_macro("CASTNET_EXPORT_XSIMD")
