// The GEMM engine of the dense and conv2d kernels, with every size a template parameter, so all
// loop bounds, register blocks and tails are resolved at compile time; nothing touches the heap and
// any pointer may be unaligned. Each kernel is register-blocked: a small tile of the result lives in
// vector registers for a whole reduction, so every value loaded from memory feeds several FMAs.
// Blocking adapts to the register file (32 vector registers with AVX-512, 16 otherwise); the same
// code serves the SSE2 baseline build and the scalar backend.
//   dot_gemm   c = a·bmᵀ (+ bias, or += c): both operands contiguous along the reduction
//   gemv       y = w·x + bias for one sample: latency-minded, in the vector of its rows (row_vec)
//   axpy_gemm  c = a·bm, a read with any strides: broadcasts of a against rows of bm
// Also the tools of register tiles the conv2d kernels share: unroll, in_register, last_lanes.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "castnet/kernels/simd.hpp"

// The register tiles below are arrays of vectors driven by small lambdas; the arrays stay in
// registers only if every one of those calls is inlined. GCC's inliner stops at its growth limits
// once a translation unit instantiates a handful of kernels (a generated model instantiates many),
// and one call left out of line turns a register tile into memory at ~5x the cost, so the
// functions holding a tile are flattened: every call inside them is inlined, recursively.
// Not under AddressSanitizer (`./castnet test --sanitize`): there, flattening makes GCC 12 take
// tens of minutes on a translation unit of kernels, and what that build checks is not speed.
#if defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define CASTNET_FLATTEN __attribute__((flatten))
#else
#define CASTNET_FLATTEN
#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace kernels {
namespace detail {

using simd::lanes;
using simd::load_n;
using simd::store_n;
using simd::vec;

#if defined(__AVX512F__)
inline constexpr bool wide_register_file = true;
#else
inline constexpr bool wide_register_file = false;
#endif

// True in the last N lanes: selects the fresh part of a vector loaded so that it ends exactly at
// the end of a row, overlapping the previous vector by V::size - N values.
template <class T, std::size_t N, class V = vec<T>>
inline typename V::batch_bool_type last_lanes() noexcept {
  T index[V::size];
  for (std::size_t l = 0; l < V::size; ++l) index[l] = static_cast<T>(l);
  return V::load_unaligned(index) >= V(static_cast<T>(V::size - N));
}

template <class F, std::size_t... I>
inline void unroll_each(F& f, std::index_sequence<I...>) noexcept {
  (f(std::integral_constant<std::size_t, I>{}), ...);
}

// Calls f(0), ..., f(N-1) as straight-line code. Register tiles are arrays indexed by these
// counters; fully unrolled (and inlined, see CASTNET_FLATTEN), every index is a constant and the
// arrays live in registers at any optimisation level (a rolled loop would keep them in memory).
// Each counter is a std::integral_constant, which converts to std::size_t; f may also take it as
// `auto` and use it where a constant expression is needed.
template <std::size_t N, class F>
inline void unroll(F&& f) noexcept {
  unroll_each(f, std::make_index_sequence<N>{});
}

// Passes v through an empty asm that claims to modify it, so the value exists only in a register.
// Otherwise GCC folds a load shared by several FMAs into each of them as a memory operand: the
// dot-product tile then loads once per FMA instead of once per row and runs at a third the speed.
template <class V>
inline V in_register(const V& v) noexcept {
  typename V::register_type r = v;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+v"(r));
#endif
  return r;
}

// ---- dot GEMM: c[m][n] = (bias[n] +) Σ_k a[m·K + k] · bm[n·K + k], or c[m][n] += that sum -----
// Both operands run along k contiguously, so a tile of NM × NN accumulators sums lane-wise over K
// and is reduced once at the end. Serves the dense forward (a = x, bm = w, with a bias) and the
// conv parameter gradient (a = dz, bm = im2col, overwriting or accumulating over samples).
enum class Epilogue { overwrite, accumulate, bias };

template <class T, std::size_t K, std::size_t N, std::size_t NM, std::size_t NN, Epilogue E>
CASTNET_FLATTEN inline void dot_tile(const T* a, const T* bm, const T* bias, T* c) noexcept {
  constexpr std::size_t L = lanes<T>;
  vec<T> acc[NM * NN];
  unroll<NM * NN>([&](std::size_t i) { acc[i] = vec<T>(T(0)); });

  const auto step = [&](std::size_t k, auto load_a, auto load_b) {
    vec<T> av[NM];
    unroll<NM>([&](std::size_t m) { av[m] = in_register(load_a(a + m * K + k)); });
    unroll<NN>([&](std::size_t n) {
      const vec<T> bv = in_register(load_b(bm + n * K + k));
      unroll<NM>([&](std::size_t m) { acc[m * NN + n] = simd::fma(av[m], bv, acc[m * NN + n]); });
    });
  };
  constexpr auto load_full = [](const T* p) { return vec<T>::load_unaligned(p); };

  constexpr std::size_t full = K / L * L;
  for (std::size_t k = 0; k < full; k += L) step(k, load_full, load_full);
  if constexpr (K < L) {
    constexpr auto load_short = [](const T* p) { return load_n<T, K>(p); };
    step(0, load_short, load_short);
  } else if constexpr (K != full) {
    // The tail vector ends at K, overlapping the last full one; zeroing a's stale lanes keeps
    // those products out of the sums without touching memory past the row.
    const auto fresh = last_lanes<T, K - full>();
    const auto load_fresh = [&](const T* p) {
      return simd::select(fresh, vec<T>::load_unaligned(p), vec<T>(T(0)));
    };
    step(K - L, load_fresh, load_full);
  }

  const auto put = [&](std::size_t i, T sum) {
    T& dst = c[i / NN * N + i % NN];
    if constexpr (E == Epilogue::accumulate) {
      dst += sum;
    } else if constexpr (E == Epilogue::bias) {
      dst = bias[i % NN] + sum;
    } else {
      dst = sum;
    }
  };
  if constexpr (NM * NN % L == 0) {
    // Whole groups of L accumulators reduce at once (simd::lane_sums), several times cheaper than
    // an hadd each: each accumulator takes only K / L FMAs (13 for a conv over 14x14 pixels).
    unroll<NM * NN / L>([&](std::size_t g) {
      T sums[L];
      simd::lane_sums(acc + g * L).store_unaligned(sums);
      unroll<L>([&](std::size_t l) { put(g * L + l, sums[l]); });
    });
  } else {
    unroll<NM * NN>([&](std::size_t i) { put(i, simd::hadd(acc[i])); });
  }
}

// NN columns of c (rows of bm), all M rows of a; bm's NN rows stay in L1 while a streams.
template <class T, std::size_t M, std::size_t N, std::size_t K, std::size_t NM, std::size_t NN, Epilogue E>
inline void dot_columns(const T* a, const T* bm, const T* bias, T* c) noexcept {
  std::size_t m = 0;
  for (; m + NM <= M; m += NM) dot_tile<T, K, N, NM, NN, E>(a + m * K, bm, bias, c + m * N);
  if constexpr (M % NM != 0) dot_tile<T, K, N, M % NM, NN, E>(a + m * K, bm, bias, c + m * N);
}

// c is M × N; bias (Epilogue::bias only, else unused) has N entries.
template <class T, std::size_t M, std::size_t N, std::size_t K, Epilogue E>
inline void dot_gemm(const T* a, const T* bm, const T* bias, T* c) noexcept {
  // NM × NN accumulators, NM row vectors and a column vector: 21 of 32 registers, or all 16 (3 × 4
  // took the AVX2 forward of 64x784x512 from 93 to 108 GFLOP/s against 2 × 4, Intel Xeon).
  constexpr std::size_t NM = wide_register_file ? 4 : 3;
  constexpr std::size_t NN = 4;
  const auto bias_at = [&](std::size_t n) { return E == Epilogue::bias ? bias + n : nullptr; };
  std::size_t n = 0;
  for (; n + NN <= N; n += NN) dot_columns<T, M, N, K, NM, NN, E>(a, bm + n * K, bias_at(n), c + n);
  if constexpr (N % NN != 0) dot_columns<T, M, N, K, NM, N % NN, E>(a, bm + n * K, bias_at(n), c + n);
}

// ---- forward, one sample: gemv -----------------------------------------------------------
// y[o] = bias[o] + x·w[o,:] for R <= V::size consecutive rows. One sample has no reuse of w, and
// its latency is what counts: the R rows accumulate lane-wise in R vectors (the x chunk loaded once
// for all), then lane_sums turns them into the vector of their sums, which takes the bias and is
// stored whole. Missing rows are zero accumulators. V is gemv_vec (below).
template <class T, std::size_t In, std::size_t R, class V>
CASTNET_FLATTEN inline void gemv_tile(const T* x, const T* w, const T* bias, T* y) noexcept {
  constexpr std::size_t L = V::size;
  V acc[L];
  unroll<L>([&](std::size_t r) { acc[r] = V(T(0)); });

  const auto step = [&](std::size_t i, auto load_x, auto load_w) {
    const V xv = in_register(load_x(x + i));
    unroll<R>([&](std::size_t r) { acc[r] = simd::fma(load_w(w + r * In + i), xv, acc[r]); });
  };
  constexpr auto load_full = [](const T* p) { return V::load_unaligned(p); };

  constexpr std::size_t full = In / L * L;
  for (std::size_t i = 0; i < full; i += L) step(i, load_full, load_full);
  if constexpr (In < L) {
    constexpr auto load_short = [](const T* p) { return load_n<T, In, V>(p); };
    step(0, load_short, load_short);
  } else if constexpr (In != full) {
    // As in dot_tile: the tail vector ends at In, x's stale lanes zeroed.
    const auto fresh = last_lanes<T, In - full, V>();
    const auto load_fresh = [&](const T* p) { return simd::select(fresh, V::load_unaligned(p), V(T(0))); };
    step(In - L, load_fresh, load_full);
  }

  if constexpr (R == 1) {
    y[0] = bias[0] + simd::hadd(acc[0]);
  } else {
    store_n<T, R>(y, simd::lane_sums(acc) + load_n<T, R, V>(bias));
  }
}

// The vector of a gemv of In inputs and Out outputs: its output row's (simd::row_vec), so the next
// kernel loads whole stored vectors; or, for fewer outputs than a half vector (a last layer), its
// input row's.
template <class T, std::size_t In, std::size_t Out>
using gemv_vec = std::conditional_t<(Out < simd::half_narrow_vec<T>::size), simd::row_vec<T, In>, simd::row_vec<T, Out>>;

template <class T, std::size_t In, std::size_t Out>
inline void gemv(const T* x, const T* w, const T* bias, T* y) noexcept {
  using V = gemv_vec<T, In, Out>;
  constexpr std::size_t L = V::size;
  std::size_t o = 0;
  for (; o + L <= Out; o += L) gemv_tile<T, In, L, V>(x, w + o * In, bias + o, y + o);
  if constexpr (Out % L != 0) gemv_tile<T, In, Out % L, V>(x, w + o * In, bias + o, y + o);
}

// ---- backward: axpy form ------------------------------------------------------------------
// What an axpy tile does with a finished vector of c: Put::store<W, Skip>(p, sum) for the W values
// at p, of which the first Skip were already put by the vector before (an overlapping tail).
// Overwrite stores it; a put that reads c first (an optimizer's update, update.hpp) must leave
// those Skip values alone.
struct Overwrite {
  template <std::size_t W, std::size_t Skip, class T, class V>
  static void store(T* p, const V& sum) noexcept {
    store_n<T, W>(p, sum);
  }
};

// c[m][n] = Σ_k a[m·SAM + k·SAK] · bm[k][n] for a tile of M rows and NV vectors of columns (bm
// and c point at the tile's first column; rows are N apart). Broadcasting a scalar of `a` against
// contiguous rows of bm needs no horizontal reduction, and c is overwritten, so the last vector of
// a row may start Shift columns early (overlapping its neighbour) instead of needing a masked
// store. Rows shorter than one vector (N < lanes) use zero-padded loads instead: Shift == 0 then.
template <class T, std::size_t N, std::size_t K, std::size_t SAM, std::size_t SAK, std::size_t M,
          std::size_t NV, std::size_t Shift, class Put>
CASTNET_FLATTEN inline void axpy_tile(const T* a, const T* bm, T* c, const Put& put) noexcept {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t width = N < L ? N : L;  // valid lanes per vector
  // Signed: a lone tail vector (NV == 1) starts before the tile's first column, in the panel before.
  constexpr auto col = [](std::size_t v) {
    return static_cast<std::ptrdiff_t>(v * L) - static_cast<std::ptrdiff_t>(v + 1 == NV ? Shift : 0);
  };

  vec<T> acc[M][NV];
  unroll<M>([&](std::size_t m) {
    unroll<NV>([&](std::size_t v) { acc[m][v] = vec<T>(T(0)); });
  });

  for (std::size_t k = 0; k < K; ++k) {
    vec<T> bv[NV];
    // In registers (see in_register): folded into each FMA as a memory operand, every vector of
    // bm was loaded M times, and the AVX2 tile (16 registers) ran at 63% of the FMA peak instead
    // of 88-95% (AMD EPYC Zen 5, -mno-avx512f).
    unroll<NV>([&](std::size_t v) { bv[v] = in_register(load_n<T, width>(bm + k * N + col(v))); });
    unroll<M>([&](std::size_t m) {
      const vec<T> av(a[m * SAM + k * SAK]);
      unroll<NV>([&](std::size_t v) { acc[m][v] = simd::fma(av, bv[v], acc[m][v]); });
    });
  }

  unroll<M>([&](std::size_t m) {
    unroll<NV>([&](auto v) {
      constexpr std::size_t skip = v + 1 == NV ? Shift : 0;
      put.template store<width, skip>(c + m * N + col(v), acc[m][v]);
    });
  });
}

// One column panel of c, all M rows: the panel of bm (K × NV vectors) is reused by every m-tile.
template <class T, std::size_t M, std::size_t N, std::size_t K, std::size_t SAM, std::size_t SAK,
          std::size_t MT, std::size_t NV, std::size_t Shift, class Put>
inline void axpy_panel(const T* a, const T* bm, T* c, const Put& put) noexcept {
  std::size_t m = 0;
  for (; m + MT <= M; m += MT) {
    axpy_tile<T, N, K, SAM, SAK, MT, NV, Shift>(a + m * SAM, bm, c + m * N, put);
  }
  if constexpr (M % MT != 0) {
    axpy_tile<T, N, K, SAM, SAK, M % MT, NV, Shift>(a + m * SAM, bm, c + m * N, put);
  }
}

// c[M][N] = Σ_k a[m·SAM + k·SAK] · bm[k·N + n]: the shared engine of both backward kernels. Each
// value of c is put once, in order along its row, except the Skip values of an overlapping tail.
template <class T, std::size_t M, std::size_t N, std::size_t K, std::size_t SAM, std::size_t SAK, class Put = Overwrite>
inline void axpy_gemm(const T* a, const T* bm, T* c, const Put& put = {}) noexcept {
  constexpr std::size_t L = lanes<T>;
  // Tile = MT rows × NV vectors of accumulators, leaving registers for NV loads and a broadcast:
  // 29 of 32, or all 16 (4 × 3 gave the AVX2 backward of 64x512x512 103 GFLOP/s against 78 for
  // 3 × 3, and SSE4.2 10% more; 6 × 2 and 5 × 2 measured between them, Intel Xeon).
  constexpr std::size_t MT = wide_register_file ? 6 : 4;
  constexpr std::size_t NV = wide_register_file ? 4 : 3;
  if constexpr (N <= L) {
    axpy_panel<T, M, N, K, SAM, SAK, MT, 1, 0>(a, bm, c, put);
  } else {
    constexpr std::size_t panel = NV * L;
    std::size_t n = 0;
    for (; n + panel <= N; n += panel) {
      axpy_panel<T, M, N, K, SAM, SAK, MT, NV, 0>(a, bm + n, c + n, put);
    }
    constexpr std::size_t rest = N % panel;  // columns left after the whole panels
    if constexpr (rest != 0) {
      constexpr std::size_t rest_vectors = (rest + L - 1) / L;
      constexpr std::size_t shift = rest_vectors * L - rest;  // N > L, so the shift stays in the row
      axpy_panel<T, M, N, K, SAM, SAK, MT, rest_vectors, shift>(a, bm + n, c + n, put);
    }
  }
}

}  // namespace detail
}  // namespace kernels
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
