// Test support for generated models: random parameters and data, the loss and its gradient
// through the generic Model API, and a comparison that reports the worst element.
#pragma once

#include <castnet/losses.hpp>
#include <castnet/model.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace castnet::test {

template <class M>
struct ModelState {
  using real = typename M::real;
  std::unique_ptr<typename M::Params> params = std::make_unique<typename M::Params>();
  std::unique_ptr<typename M::Grads> grads = std::make_unique<typename M::Grads>();
  std::unique_ptr<typename M::Workspace> ws = std::make_unique<typename M::Workspace>();
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
