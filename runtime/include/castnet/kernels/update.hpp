// Optimizer updates that a generated train_step_update applies where the gradients are made: the
// dense weight gradient's GEMM puts each finished vector of dW straight into the weights (and the
// velocity) instead of storing dW for a later pass over it, dW, the weights and the velocity,
// as the hand-written W3 baseline did. Training only (not bundled into exported headers).
//
// The rules are optimizer.hpp's, in its operation order, for the optimizers whose update of a
// value needs only that value's gradient (no clipping, L2 or cross-worker sum of the whole
// gradient first):
//   sgd       p <- p - lr * g
//   momentum  v <- g on the first step, then v <- v * mu + g;  p <- p - lr * v   (torch's form)
//   nesterov  v as momentum;                                    p <- p - lr * (g + mu * v)
// A value may differ from optimizer.hpp's by an ulp where one side's compiler contracts a * b + c
// into an FMA and the other's does not.
#pragma once

#include <cstddef>

#include "castnet/kernels/dense.hpp"
#include "castnet/kernels/gemm.hpp"
#include "castnet/kernels/simd.hpp"
#include "castnet/kernels/update_rule.hpp"

namespace castnet {

inline namespace CASTNET_SIMD_ISA {
namespace kernels {
namespace detail {

// An axpy_gemm Put (gemm.hpp) that applies u to the tensor p the GEMM's c walks, with the
// velocity v beside it (null for sgd): the sum at c is the gradient of p's value at c.
template <class T>
struct PutUpdate {
  const Update<T>& u;
  T* p;  // the tensor's first value: c's index into it is the velocity's
  T* v;

  template <std::size_t W, std::size_t Skip, class V>
  void store(T* c, const V& g) const noexcept {
    V w = load_n<T, W>(c);
    V vel = g;  // sgd keeps no velocity
    T* const vc = v ? v + (c - p) : nullptr;
    if (u.rule != UpdateRule::sgd && !u.first) vel = simd::fma(load_n<T, W>(vc), V(u.momentum), g);
    switch (u.rule) {
      case UpdateRule::sgd: w = simd::fnma(V(u.lr), g, w); break;
      case UpdateRule::momentum: w = simd::fnma(V(u.lr), vel, w); break;
      case UpdateRule::nesterov: w = simd::fnma(V(u.lr), simd::fma(V(u.momentum), vel, g), w); break;
    }
    if constexpr (Skip != 0) {
      // The first Skip values were updated by the vector before: write them back as they are.
      const auto fresh = last_lanes<T, V::size - Skip, V>();
      w = simd::select(fresh, w, load_n<T, W>(c));
      if (vc) vel = simd::select(fresh, vel, load_n<T, W>(vc));
    }
    store_n<T, W>(c, w);
    if (vc) store_n<T, W>(vc, vel);
  }
};

}  // namespace detail

// u applied to the N values of p given their gradient g (and velocity v, null for sgd).
template <class T, std::size_t N>
void apply_update(T* p, const T* g, T* v, const Update<T>& u) noexcept {
  using detail::load_n;
  using detail::vec;
  constexpr std::size_t L = detail::lanes<T>;
  const detail::PutUpdate<T> put{u, p, v};
  std::size_t i = 0;
  for (; i + L <= N; i += L) put.template store<L, 0>(p + i, vec<T>::load_unaligned(g + i));
  if constexpr (N % L != 0) put.template store<N % L, 0>(p + i, load_n<T, N % L>(g + i));
}

// dense_backward_params (dense.hpp) with u applied to w and bias as their gradients are made; vw
// and vb are their velocities (null for sgd). Call it after the layer's dense_backward_input,
// which reads w as it was.
template <class T, std::size_t B, std::size_t In, std::size_t Out>
void dense_backward_params_update(const T* x, const T* dy, T* w, T* bias, T* vw, T* vb, const Update<T>& u) noexcept {
  detail::axpy_gemm<T, Out, In, B, 1, Out>(dy, x, w, detail::PutUpdate<T>{u, w, vw});
  alignas(64) T db[Out];
  detail::column_sums<T, B, Out>(dy, db);
  apply_update<T, Out>(bias, db, vb, u);
}

}  // namespace kernels
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
