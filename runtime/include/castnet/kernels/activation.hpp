// Activation functions and their backward passes for generated code, with PyTorch's definitions
// (including its choices at kinks and thresholds). Element-wise activations run over the flat
// Rows*Cols array in simd vectors; the last partial vector goes through a zero-padded buffer so it
// uses the same vector code (every f(0) and f'(0) is finite). Transcendental functions are
// math.hpp's. Softmax works per row. Each formula
// is arranged so no intermediate overflows: exponentials only see non-positive arguments, or
// arguments clamped where the result is discarded, so |z| up to 1e4 stays finite in float.
// The element-wise formulas are written for any vector type V: a single sample's forward pass
// uses simd::row_vec, the vector the batch-1 dense kernel that produced its input stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "castnet/kernels/math.hpp"
#include "castnet/kernels/simd.hpp"

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
