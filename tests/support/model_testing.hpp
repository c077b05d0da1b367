// Test support for generated models: random parameters and data, held between guard zones that
// catch out-of-bounds writes; the loss and its gradient through the generic Model API; and a
// comparison that reports the worst element.
#pragma once

#include <castnet/kernels/losses.hpp>
#include <castnet/model.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace castnet::test {

// A value between two poisoned guard zones: generated code that writes outside the buffers it
// was given changes a guard, and intact() says so.
template <class T>
struct Guarded {
  static constexpr std::size_t kGuardBytes = 256;
  static constexpr unsigned char kPoison = 0xA5;
  alignas(64) unsigned char before[kGuardBytes];
  T value{};
  alignas(64) unsigned char after[kGuardBytes];

  Guarded() {
    std::fill(std::begin(before), std::end(before), kPoison);
    std::fill(std::begin(after), std::end(after), kPoison);
  }
  bool intact() const {
    auto poisoned = [](unsigned char b) { return b == kPoison; };
    return std::all_of(std::begin(before), std::end(before), poisoned) &&
           std::all_of(std::begin(after), std::end(after), poisoned);
  }
};

// An output buffer of n values followed by a poisoned tail of kGuardValues.
template <class T>
struct GuardedBuffer {
  static constexpr std::size_t kGuardValues = 64;
  explicit GuardedBuffer(std::size_t n) : size(n), values(n + kGuardValues, static_cast<T>(-12345.25)) {}
  T* data() { return values.data(); }
  const T* data() const { return values.data(); }
  bool tail_intact() const {
    return std::all_of(values.begin() + static_cast<std::ptrdiff_t>(size), values.end(),
                       [](T v) { return v == static_cast<T>(-12345.25); });
  }
  std::size_t size;
  std::vector<T> values;
};

template <class M>
struct ModelState {
  using real = typename M::real;
  std::unique_ptr<Guarded<typename M::Params>> guarded_params = std::make_unique<Guarded<typename M::Params>>();
  std::unique_ptr<Guarded<typename M::Grads>> guarded_grads = std::make_unique<Guarded<typename M::Grads>>();
  std::unique_ptr<Guarded<typename M::Workspace>> guarded_ws = std::make_unique<Guarded<typename M::Workspace>>();
  typename M::Params* params = &guarded_params->value;
  typename M::Grads* grads = &guarded_grads->value;
  typename M::Workspace* ws = &guarded_ws->value;
  std::vector<real> x = std::vector<real>(M::kBatch * M::kInputs);
  std::vector<real> target = std::vector<real>(M::kBatch * M::kTargets);

  // Parameters U(-scale, scale); inputs U(-1, 1); targets valid for the loss.
  explicit ModelState(unsigned seed, double scale = 0.8) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0), unit(0.0, 1.0);
    auto ptrs = M::tensors(*params);
    for (std::size_t i = 0; i < ptrs.size(); ++i)
      for (std::size_t j = 0; j < M::kTensors[i].size; ++j) ptrs[i][j] = static_cast<real>(scale * u(rng));
    for (auto& v : x) v = static_cast<real>(u(rng));
    for (auto& v : target) {
      if constexpr (M::kLoss == Loss::softmax_cross_entropy) v = static_cast<real>(rng() % M::kOutputs);
      else if constexpr (M::kLoss == Loss::binary_cross_entropy) v = static_cast<real>(unit(rng));
      else v = static_cast<real>(u(rng));
    }
  }

  bool guards_intact() const { return guarded_params->intact() && guarded_grads->intact() && guarded_ws->intact(); }
};

// dLoss/dy for outputs y of a batch, through the loss the model was generated with.
template <class M>
typename M::real loss_gradient(const typename M::real* y, const typename M::real* target, typename M::real* dy,
                               std::size_t n) {
  using real = typename M::real;
  if constexpr (M::kLoss == Loss::mse) return losses::mse<real, M::kBatch, M::kOutputs>(y, target, dy, n);
  else if constexpr (M::kLoss == Loss::binary_cross_entropy)
    return losses::binary_cross_entropy<real, M::kBatch, M::kOutputs>(y, target, dy, n);
  else return losses::softmax_cross_entropy<real, M::kBatch, M::kOutputs>(y, target, dy, n);
}

// max |a - b| / max(max |b|, floor): one number per buffer, with the worst index for the message.
struct Mismatch {
  double rel = 0;
  std::size_t index = 0;
  double a = 0, b = 0;
};

template <class A, class B>
Mismatch relative_error(const A* a, const B* b, std::size_t n, double floor = 1e-3) {
  double scale = floor;
  for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  Mismatch m;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])) / scale;
    if (d > m.rel || std::isnan(d)) m = {std::isnan(d) ? 1e300 : d, i, static_cast<double>(a[i]), static_cast<double>(b[i])};
  }
  return m;
}

inline std::string describe(const Mismatch& m) {
  std::ostringstream s;
  s << "relative error " << m.rel << " at [" << m.index << "]: " << m.a << " vs " << m.b;
  return s.str();
}

}  // namespace castnet::test
