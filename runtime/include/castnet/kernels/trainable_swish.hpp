// Trainable Swish with one (a, b, c, d) per channel: x is Rows × C × S, S values per channel (the
// pixels of a [C, H, W] sample, or 1 for a flat [C] vector), and with g = σ(a·x + b), l = c·x + d:
//   out   = g·l
//   dx    = dout·(g·(1 - g)·a·l + g·c)
//   da[c] = Σ dout·g·(1 - g)·l·x,  db[c] = Σ dout·g·(1 - g)·l,  dc[c] = Σ dout·g·x,  dd[c] = Σ dout·g
// (sums over rows and the channel's positions). a = 1, b = 0, c = 1, d = 0 is SiLU.
// With S == 1 the channels are contiguous and the parameters load as vectors alongside x; otherwise
// each channel's S values are contiguous and share broadcast parameters. Partial vectors load as
// zeros: a zero dout adds nothing to the sums.
#pragma once

#include <cstddef>
#include <type_traits>

#include "castnet/kernels/activation.hpp"
#include "castnet/kernels/simd.hpp"

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace swish_detail {

// f(at, width) for the vectors covering N values: whole ones, then a partial one of N % lanes.
template <class T, std::size_t N, class F>
inline void chunks(F f) noexcept {
  constexpr std::size_t L = simd::lanes<T>;
  constexpr std::size_t full = N / L * L;
  for (std::size_t k = 0; k < full; k += L) f(k, std::integral_constant<std::size_t, L>{});
  if constexpr (N != full) f(full, std::integral_constant<std::size_t, N - full>{});
}

// The four parameters of the channels a vector covers (S == 1) or of one channel (broadcast).
template <class V>
struct Params {
  V a, b, c, d;
};

template <class T, std::size_t W, class V = simd::vec<T>>
inline Params<V> params_at(const T* a, const T* b, const T* c, const T* d, std::size_t at) noexcept {
  return {simd::load_n<T, W>(a + at), simd::load_n<T, W>(b + at), simd::load_n<T, W>(c + at), simd::load_n<T, W>(d + at)};
}

}  // namespace swish_detail

// out = σ(a·x + b)·(c·x + d); out may be x.
template <class T, std::size_t Rows, std::size_t C, std::size_t S>
void trainable_swish_forward(const T* x, const T* a, const T* b, const T* c, const T* d, T* out) noexcept {
  using V = simd::vec<T>;
  const auto f = [](V xv, const swish_detail::Params<V>& p) {
    return activation_detail::stable_sigmoid<T>(simd::fma(p.a, xv, p.b)) * simd::fma(p.c, xv, p.d);
  };
  if constexpr (S == 1) {
    swish_detail::chunks<T, C>([&](std::size_t at, auto width) {
      constexpr std::size_t W = decltype(width)::value;
      const auto p = swish_detail::params_at<T, W>(a, b, c, d, at);
      for (std::size_t r = 0; r < Rows; ++r)
        simd::store_n<T, W>(out + r * C + at, f(simd::load_n<T, W>(x + r * C + at), p));
    });
  } else {
    for (std::size_t ch = 0; ch < C; ++ch) {
      const swish_detail::Params<V> p{V(a[ch]), V(b[ch]), V(c[ch]), V(d[ch])};
      for (std::size_t r = 0; r < Rows; ++r) {
        const std::size_t at = (r * C + ch) * S;
        activation_detail::map<T, S>([&](V xv) { return f(xv, p); }, out + at, x + at);
      }
    }
  }
}

// da, db, dc, dd as above (overwritten).
template <class T, std::size_t Rows, std::size_t C, std::size_t S>
void trainable_swish_backward_params(const T* x, const T* a, const T* b, const T* c, const T* d, const T* dout,
                                     T* da, T* db, T* dc, T* dd) noexcept {
  using V = simd::vec<T>;
  // Adds one vector's terms to the four sums.
  const auto add = [](V xv, V dv, const swish_detail::Params<V>& p, swish_detail::Params<V>& acc) {
    const V g = activation_detail::stable_sigmoid<T>(simd::fma(p.a, xv, p.b));
    const V l = simd::fma(p.c, xv, p.d);
    const V dg = dv * g;                      // dout·g
    const V dpre = dg * (V(T(1)) - g) * l;    // dout·g·(1 - g)·l: dLoss/d(a·x + b)
    acc.a = simd::fma(dpre, xv, acc.a);
    acc.b += dpre;
    acc.c = simd::fma(dg, xv, acc.c);
    acc.d += dg;
  };
  if constexpr (S == 1) {
    swish_detail::chunks<T, C>([&](std::size_t at, auto width) {
      constexpr std::size_t W = decltype(width)::value;
      const auto p = swish_detail::params_at<T, W>(a, b, c, d, at);
      swish_detail::Params<V> acc{V(T(0)), V(T(0)), V(T(0)), V(T(0))};
      for (std::size_t r = 0; r < Rows; ++r)
        add(simd::load_n<T, W>(x + r * C + at), simd::load_n<T, W>(dout + r * C + at), p, acc);
      simd::store_n<T, W>(da + at, acc.a);
      simd::store_n<T, W>(db + at, acc.b);
      simd::store_n<T, W>(dc + at, acc.c);
      simd::store_n<T, W>(dd + at, acc.d);
    });
  } else {
    for (std::size_t ch = 0; ch < C; ++ch) {
      const swish_detail::Params<V> p{V(a[ch]), V(b[ch]), V(c[ch]), V(d[ch])};
      swish_detail::Params<V> acc{V(T(0)), V(T(0)), V(T(0)), V(T(0))};
      for (std::size_t r = 0; r < Rows; ++r) {
        const std::size_t at = (r * C + ch) * S;
        swish_detail::chunks<T, S>([&](std::size_t k, auto width) {
          constexpr std::size_t W = decltype(width)::value;
          add(simd::load_n<T, W>(x + at + k), simd::load_n<T, W>(dout + at + k), p, acc);
        });
      }
      da[ch] = simd::hadd(acc.a);
      db[ch] = simd::hadd(acc.b);
      dc[ch] = simd::hadd(acc.c);
      dd[ch] = simd::hadd(acc.d);
    }
  }
}

// dx = dout·(g·(1 - g)·a·l + g·c); dx may be dout.
template <class T, std::size_t Rows, std::size_t C, std::size_t S>
void trainable_swish_backward_input(const T* x, const T* a, const T* b, const T* c, const T* d, const T* dout,
                                    T* dx) noexcept {
  using V = simd::vec<T>;
  const auto f = [](V xv, V dv, const swish_detail::Params<V>& p) {
    const V g = activation_detail::stable_sigmoid<T>(simd::fma(p.a, xv, p.b));
    const V l = simd::fma(p.c, xv, p.d);
    return dv * g * simd::fma((V(T(1)) - g) * p.a, l, p.c);
  };
  if constexpr (S == 1) {
    swish_detail::chunks<T, C>([&](std::size_t at, auto width) {
      constexpr std::size_t W = decltype(width)::value;
      const auto p = swish_detail::params_at<T, W>(a, b, c, d, at);
      for (std::size_t r = 0; r < Rows; ++r)
        simd::store_n<T, W>(dx + r * C + at, f(simd::load_n<T, W>(x + r * C + at), simd::load_n<T, W>(dout + r * C + at), p));
    });
  } else {
    for (std::size_t ch = 0; ch < C; ++ch) {
      const swish_detail::Params<V> p{V(a[ch]), V(b[ch]), V(c[ch]), V(d[ch])};
      for (std::size_t r = 0; r < Rows; ++r) {
        const std::size_t at = (r * C + ch) * S;
        activation_detail::map<T, S>([&](V xv, V dv) { return f(xv, dv, p); }, dx + at, x + at, dout + at);
      }
    }
  }
}

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
