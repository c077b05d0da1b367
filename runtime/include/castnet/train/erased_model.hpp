// The runtime's side of a ModelView (model_view.hpp): ErasedModel<real> satisfies the
// GeneratedModel concept with sizes read at run time, so the trainer, optimizers, checkpoints and
// verbs are compiled once for float and once for double (src/train/runner.cpp) and serve every
// model. Its "constants" are set by bind() from the view of the model a runner was built for,
// before anything reads them; a process runs one model at a time.
// Params and Grads are 64-byte-aligned storage laid out exactly as the model's own structs (the
// view's byte offsets), so the generated functions run on them in place.
#pragma once

#include <castnet/aligned_buffer.hpp>
#include <castnet/model.hpp>
#include <castnet/train/model_view.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace castnet {

template <class R>
struct ErasedModel {
  using real = R;

  static void bind(const ModelView<R>& v) {
    view = &v;
    kName = v.name;
    kSpecSha256 = v.spec_sha256;
    kInputs = v.inputs;
    kOutputs = v.outputs;
    kTargets = v.targets;
    kBatch = v.batch;
    kParams = v.params;
    kLoss = v.loss;
    kTensors = v.tensors;
  }

  static inline const ModelView<R>* view = nullptr;
  static inline std::string_view kName, kSpecSha256;
  static inline std::size_t kInputs = 0, kOutputs = 0, kTargets = 0, kBatch = 0, kParams = 0;
  static inline Loss kLoss = Loss::mse;
  static inline std::span<const TensorInfo> kTensors;

  // Params (kGrads false) or Grads (true): the view's storage, and a pointer to each tensor in it.
  template <bool kGrads>
  class Tensors {
   public:
    Tensors() : values_(layout().bytes / sizeof(R)) { point(); }
    Tensors(const Tensors& other) : values_(other.values_) { point(); }
    Tensors& operator=(const Tensors& other) {
      values_ = other.values_;
      point();
      return *this;
    }

    std::span<R> storage() noexcept { return {values_.data(), values_.size()}; }
    std::span<R* const> tensors() noexcept { return {pointers_.data(), pointers_.size()}; }
    std::span<const R* const> tensors() const noexcept { return {pointers_.data(), pointers_.size()}; }
    void* raw() noexcept { return values_.data(); }
    const void* raw() const noexcept { return values_.data(); }

   private:
    static const typename ModelView<R>::Storage& layout() noexcept {
      return kGrads ? view->grads_storage : view->params_storage;
    }
    void point() {
      pointers_.resize(layout().offsets.size());
      auto* const base = reinterpret_cast<unsigned char*>(values_.data());
      for (std::size_t i = 0; i < pointers_.size(); ++i)
        pointers_[i] = reinterpret_cast<R*>(base + layout().offsets[i]);
    }

    AlignedBuffer<R> values_;
    std::vector<R*> pointers_;
  };
  using Params = Tensors<false>;
  using Grads = Tensors<true>;

  class Workspace {
   public:
    void* raw() noexcept { return bytes_.data(); }
    const void* raw() const noexcept { return bytes_.data(); }

   private:
    AlignedBuffer<unsigned char> bytes_{view->workspace_bytes};
  };

  static std::span<R* const> tensors(Params& p) noexcept { return p.tensors(); }
  static std::span<R* const> tensors(Grads& g) noexcept { return g.tensors(); }
  static std::span<const R* const> tensors(const Params& p) noexcept { return p.tensors(); }
  static std::span<const R* const> tensors(const Grads& g) noexcept { return g.tensors(); }

  static void forward(const Params& p, const R* x, R* y) noexcept { view->forward(p.raw(), x, y); }
  static void forward_batch(const Params& p, Workspace& ws, const R* x, R* y) noexcept {
    view->forward_batch(p.raw(), ws.raw(), x, y);
  }
  static const R* outputs(const Workspace& ws) noexcept { return view->outputs_of(ws.raw()); }
  static R train_step(const Params& p, Workspace& ws, const R* x, const R* target, Grads& g, std::size_t n = kBatch,
                      std::uint64_t key = 0, std::size_t first_row = 0) noexcept {
    return view->train_step(p.raw(), ws.raw(), x, target, g.raw(), n, key, first_row);
  }
  static bool view_updates_in_step() noexcept { return view->train_step_update != nullptr; }
  static R train_step_update(Params& p, Workspace& ws, const R* x, const R* target, Grads& g, Params* v,
                             const Update<R>& u, std::size_t n = kBatch, std::uint64_t key = 0,
                             std::size_t first_row = 0) noexcept {
    return view->train_step_update(p.raw(), ws.raw(), x, target, g.raw(), v ? v->raw() : nullptr, u, n, key, first_row);
  }
  static R batch_loss(const R* y, const R* target, std::size_t n) { return view->batch_loss(y, target, n); }
};

}  // namespace castnet
