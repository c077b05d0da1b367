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
#pragma once

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
#include "castnet/kernels/simd_scalar.hpp"
#elif defined(CASTNET_SIMD_VECEXT)
#include "castnet/kernels/simd_vecext.hpp"
#else
#include "castnet/kernels/simd_xsimd.hpp"
#endif
#include "castnet/kernels/simd_reduce.hpp"

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
