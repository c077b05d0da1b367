// A generated model seen through plain data and function pointers, so that the trainer, the
// optimizers, L-BFGS, checkpoints and the runner's verbs are compiled once, into
// libcastnet_runtime, instead of once per model: a runner compiles only its model and this
// adapter. Each call behind a pointer is a whole pass (a batch's train_step, forward_batch), so
// the kernels stay inlined in the model's own translation unit and the indirection costs one call
// per batch. The runtime side is erased_model.hpp.
#pragma once

#include <castnet/kernels/update.hpp>
#include <castnet/model.hpp>
#include <castnet/train/loss_outputs.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>

namespace castnet {

// A model whose train_step_update applies an optimizer's update as it makes the gradients (every
// generated model; a hand-written one may lack it).
template <class M>
concept UpdatesInStep = requires(typename M::Params& p, typename M::Workspace& ws, const typename M::real* x,
                                 typename M::Grads& g, const Update<typename M::real>& u) {
  { M::train_step_update(p, ws, x, x, g, &p, u, std::size_t{}, std::uint64_t{}, std::size_t{}) }
      -> std::same_as<typename M::real>;
};

// Whether M can take train_step_update calls: it has the function, and a model seen through its
// view (erased_model.hpp) was given one.
template <class M>
bool updates_in_step() noexcept {
  if constexpr (!UpdatesInStep<M>) {
    return false;
  } else if constexpr (requires { M::view_updates_in_step(); }) {
    return M::view_updates_in_step();
  } else {
    return true;
  }
}

template <class real>
struct ModelView {
  // Params or Grads: their size in bytes, and where each tensor starts (bytes from the start, in
  // kTensors' order).
  struct Storage {
    std::size_t bytes;
    std::span<const std::size_t> offsets;
  };

  std::string_view name, spec_sha256;
  std::size_t inputs, outputs, targets, batch, params;
  Loss loss;
  std::span<const TensorInfo> tensors;
  Storage params_storage, grads_storage;
  std::size_t workspace_bytes;
  // The generated functions, over storage laid out as the model's Params, Grads and Workspace.
  void (*forward)(const void* params, const real* x, real* y);
  void (*forward_batch)(const void* params, void* workspace, const real* x, real* y);
  const real* (*outputs_of)(const void* workspace);
  real (*train_step)(const void* params, void* workspace, const real* x, const real* target, void* grads,
                     std::size_t n, std::uint64_t key, std::size_t first_row);
  // Null for a model without one (UpdatesInStep).
  real (*train_step_update)(void* params, void* workspace, const real* x, const real* target, void* grads,
                            void* velocity, const Update<real>& u, std::size_t n, std::uint64_t key,
                            std::size_t first_row);
  // The loss of outputs against targets without gradients (loss_outputs.hpp's batch_loss).
  real (*batch_loss)(const real* y, const real* target, std::size_t n);
};

namespace detail {

template <GeneratedModel M>
auto update_step() {
  using real = typename M::real;
  using F = real (*)(void*, void*, const real*, const real*, void*, void*, const Update<real>&, std::size_t,
                     std::uint64_t, std::size_t);
  if constexpr (UpdatesInStep<M>) {
    return static_cast<F>([](void* p, void* ws, const real* x, const real* t, void* g, void* v, const Update<real>& u,
                             std::size_t n, std::uint64_t key, std::size_t first_row) {
      using P = typename M::Params;
      return M::train_step_update(*static_cast<P*>(p), *static_cast<typename M::Workspace*>(ws), x, t,
                                  *static_cast<typename M::Grads*>(g), static_cast<P*>(v), u, n, key, first_row);
    });
  } else {
    return static_cast<F>(nullptr);
  }
}

// Where each tensor of a T (M's Params or Grads) starts, in bytes.
template <GeneratedModel M, class T>
std::array<std::size_t, M::kTensors.size()> tensor_offsets() {
  const auto object = std::make_unique<T>();
  const auto pointers = M::tensors(*object);
  std::array<std::size_t, M::kTensors.size()> offsets{};
  for (std::size_t i = 0; i < offsets.size(); ++i)
    offsets[i] = static_cast<std::size_t>(reinterpret_cast<const unsigned char*>(pointers[i]) -
                                          reinterpret_cast<const unsigned char*>(object.get()));
  return offsets;
}

}  // namespace detail

// Model M's view: made once, valid for the whole program.
template <GeneratedModel M>
const ModelView<typename M::real>& view_of() {
  using real = typename M::real;
  using P = typename M::Params;
  using G = typename M::Grads;
  using W = typename M::Workspace;
  // The runtime keeps these as 64-byte-aligned bytes, copies them as bytes and sums Grads as reals.
  static_assert(std::is_trivially_copyable_v<P> && std::is_trivially_copyable_v<G> && std::is_trivially_copyable_v<W>);
  static_assert(alignof(P) <= 64 && alignof(G) <= 64 && alignof(W) <= 64);
  static_assert(sizeof(P) % sizeof(real) == 0 && sizeof(G) % sizeof(real) == 0);
  static_assert(M::kTargets == (M::kLoss == Loss::softmax_cross_entropy ? 1 : M::kOutputs),
                "kTargets must be 1 (a class index) for softmax_cross_entropy, else kOutputs");
  static const auto params_offsets = detail::tensor_offsets<M, P>();
  static const auto grads_offsets = detail::tensor_offsets<M, G>();
  static const ModelView<real> view{
      M::kName,
      M::kSpecSha256,
      M::kInputs,
      M::kOutputs,
      M::kTargets,
      M::kBatch,
      M::kParams,
      M::kLoss,
      std::span<const TensorInfo>(M::kTensors.data(), M::kTensors.size()),
      {sizeof(P), params_offsets},
      {sizeof(G), grads_offsets},
      sizeof(W),
      [](const void* p, const real* x, real* y) { M::forward(*static_cast<const P*>(p), x, y); },
      [](const void* p, void* ws, const real* x, real* y) {
        M::forward_batch(*static_cast<const P*>(p), *static_cast<W*>(ws), x, y);
      },
      [](const void* ws) { return M::outputs(*static_cast<const W*>(ws)); },
      [](const void* p, void* ws, const real* x, const real* t, void* g, std::size_t n, std::uint64_t key,
         std::size_t first_row) {
        return M::train_step(*static_cast<const P*>(p), *static_cast<W*>(ws), x, t, *static_cast<G*>(g), n, key,
                             first_row);
      },
      detail::update_step<M>(),
      [](const real* y, const real* t, std::size_t n) { return batch_loss<M>(y, t, n); },
  };
  return view;
}

}  // namespace castnet
