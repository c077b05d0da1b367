// What a generated model provides to the runtime: the tensor table and the Model traits struct.
// Generated headers fill these in; runtime templates (optimizers, trainer, weight files) are
// written against the GeneratedModel concept, never against one model.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "castnet/kernels/update_rule.hpp"  // castnet::Update, which train_step_update takes

namespace castnet {

enum class Loss : std::uint8_t { mse, binary_cross_entropy, softmax_cross_entropy };
// ir::Init's values, in its order (train/init.hpp draws them).
enum class Init : std::uint8_t {
  zeros, he_normal, glorot_uniform, prelu_slope, ones, silu_rbf, silu_bspline, uniform_fan_in, kan_spline
};

// One trainable tensor as PyTorch names and shapes it; the i-th entry pairs with the i-th pointer
// returned by Model::tensors().
struct TensorInfo {
  std::string_view name;              // "fc1.weight"
  std::array<std::size_t, 4> shape;   // leading `rank` entries are used
  std::size_t rank;
  std::size_t size;                   // product of the shape
  Init init;
  std::size_t fan_in, fan_out;
  // silu_rbf, silu_bspline: the basis grid's range [lo, hi]; a header omits them for other inits.
  double lo = 0, hi = 0;
};

// A generated namespace's `struct Model` satisfies this.
template <class M>
concept GeneratedModel = requires(typename M::Params& p, const typename M::Params& cp,
                                  typename M::Grads& g, typename M::Workspace& ws,
                                  const typename M::real* x, typename M::real* y) {
  typename M::real;
  { M::kInputs } -> std::convertible_to<std::size_t>;
  { M::kOutputs } -> std::convertible_to<std::size_t>;
  { M::kTargets } -> std::convertible_to<std::size_t>;  // target values per sample
  { M::kBatch } -> std::convertible_to<std::size_t>;
  { M::kParams } -> std::convertible_to<std::size_t>;
  { M::kLoss } -> std::convertible_to<Loss>;
  { M::kName } -> std::convertible_to<std::string_view>;
  { M::kSpecSha256 } -> std::convertible_to<std::string_view>;
  M::kTensors.size();
  M::tensors(p);
  M::tensors(g);
  M::tensors(cp);
  M::tensors(static_cast<const typename M::Grads&>(g));
  M::forward(cp, x, y);
  M::forward_batch(cp, ws, x, y);
  { M::outputs(static_cast<const typename M::Workspace&>(ws)) } -> std::same_as<const typename M::real*>;
  { M::train_step(cp, ws, x, x, g, std::size_t{}, std::uint64_t{}, std::size_t{}) } -> std::same_as<typename M::real>;
};

// The whole of a model's Params or Grads as one array of reals, padding included (what the ranks of
// a data-parallel job sum). Generated structs hold only reals; a model seen through its ModelView
// (train/erased_model.hpp) says where its storage is.
template <GeneratedModel M, class T>
std::span<typename M::real> storage_of(T& tensors) noexcept {
  using real = typename M::real;
  if constexpr (requires { tensors.storage(); }) {
    return tensors.storage();
  } else {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % sizeof(real) == 0);
    return {reinterpret_cast<real*>(&tensors), sizeof(T) / sizeof(real)};
  }
}

}  // namespace castnet
