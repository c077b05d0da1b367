// Small xsimd helpers shared by the header-only kernels (kernels.hpp, activations.hpp): the batch
// type of the build's default architecture and partial loads/stores for arrays shorter than a
// vector. This header is also where xsimd is included, see below.
#pragma once

#include <cstddef>
#include <cstring>

// GCC 12.0-12.2's AVX-512 intrinsics fill don't-care operands with _mm512_undefined_*(), which
// self-initialises a variable (`__m512 __Y = __Y;`); once inlined, -Wuninitialized and
// -Wmaybe-uninitialized report it (GCC bug 105593) and -Werror builds with -march=native fail on
// almost any xsimd call. A diagnostic pragma is honoured when any function on the inlining chain
// lies inside it, so silencing the two warnings around the xsimd include covers every use of xsimd
// in the translation unit, without hiding warnings in code that does not go through xsimd. That
// requires this to be the first inclusion of xsimd: include castnet headers before xsimd.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <xsimd/xsimd.hpp>
#pragma GCC diagnostic pop
#else
#include <xsimd/xsimd.hpp>
#endif

namespace castnet::simd {

template <class T>
using vec = xsimd::batch<T>;

template <class T>
inline constexpr std::size_t lanes = vec<T>::size;

// Loads N <= lanes values; the lanes past N read as zero. A full-width load could run past the end
// of the array and fault, so the partial case goes through a stack buffer.
template <class T, std::size_t N>
inline vec<T> load_n(const T* p) noexcept {
  if constexpr (N == lanes<T>) {
    return vec<T>::load_unaligned(p);
  } else {
    T buf[lanes<T>] = {};
    std::memcpy(buf, p, N * sizeof(T));
    return vec<T>::load_unaligned(buf);
  }
}

// Stores the first N <= lanes values of v.
template <class T, std::size_t N>
inline void store_n(T* p, const vec<T>& v) noexcept {
  if constexpr (N == lanes<T>) {
    v.store_unaligned(p);
  } else {
    T buf[lanes<T>];
    v.store_unaligned(buf);
    std::memcpy(p, buf, N * sizeof(T));
  }
}

}  // namespace castnet::simd
