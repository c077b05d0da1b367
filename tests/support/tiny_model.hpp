// A hand-written model satisfying castnet::GeneratedModel, for testing the runtime (initialisation,
// optimizers, data sets, trainer, runner) without the generator: one dense layer z = W x + b
// ("fc.weight" [K, I], "fc.bias" [K]) followed by one of castnet's losses, in plain scalar loops.
// The losses are PyTorch's default reductions, written out with their gradients:
//   mse                    L = mean over n*K of (z - t)^2               dL/dz = 2 (z - t) / (n K)
//   binary_cross_entropy   L = mean over n*K of max(z,0) - z t + log(1 + e^-|z|)
//                                                                       dL/dz = (sigmoid(z) - t) / (n K)
//   softmax_cross_entropy  L = mean over n of logsumexp(z) - z[class]   dL/dz = (softmax(z) - onehot) / n
#pragma once

#include <castnet/model.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace castnet_test {

template <std::size_t I, std::size_t K, castnet::Loss L,
          castnet::Init WeightInit = castnet::Init::glorot_uniform, class Real = float,
          std::size_t Batch = 4>
struct LinearModel {
  using real = Real;
  static constexpr std::size_t kInputs = I, kOutputs = K, kBatch = Batch, kParams = K * I + K;
  static constexpr std::size_t kTargets = L == castnet::Loss::softmax_cross_entropy ? 1 : K;
  static constexpr castnet::Loss kLoss = L;
  static constexpr std::string_view kName = "tiny_linear";
  static constexpr std::string_view kSpecSha256 =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  static constexpr std::array<castnet::TensorInfo, 2> kTensors{{
      {"fc.weight", {K, I, 0, 0}, 2, K * I, WeightInit, I, K},
      {"fc.bias", {K, 0, 0, 0}, 1, K, castnet::Init::zeros, I, K},
  }};

  struct Params {
    alignas(64) std::array<real, K * I> weight;  // (K, I)
    alignas(64) std::array<real, K> bias;        // (K)
  };
  struct Grads {
    alignas(64) std::array<real, K * I> weight;
    alignas(64) std::array<real, K> bias;
  };
  struct Workspace {
    std::array<real, Batch * K> z;   // (batch, K) logits
    std::array<real, Batch * K> dz;  // (batch, K) dL/dz
  };

  static std::array<real*, 2> tensors(Params& p) { return {p.weight.data(), p.bias.data()}; }
  static std::array<real*, 2> tensors(Grads& g) { return {g.weight.data(), g.bias.data()}; }
  static std::array<const real*, 2> tensors(const Params& p) { return {p.weight.data(), p.bias.data()}; }
  static std::array<const real*, 2> tensors(const Grads& g) { return {g.weight.data(), g.bias.data()}; }

  static void forward(const Params& p, const real* x, real* y) {
    for (std::size_t k = 0; k < K; ++k) {
      real z = p.bias[k];
      for (std::size_t i = 0; i < I; ++i) z += p.weight[k * I + i] * x[i];
      y[k] = z;
    }
  }

  static void forward_batch(const Params& p, Workspace& ws, const real* x, real* y) {
    for (std::size_t r = 0; r < Batch; ++r) forward(p, x + r * I, ws.z.data() + r * K);
    std::copy(ws.z.begin(), ws.z.end(), y);
  }

  static const real* outputs(const Workspace& ws) { return ws.z.data(); }

  static real train_step(const Params& p, Workspace& ws, const real* x, const real* t, Grads& g,
                         std::size_t n, std::uint64_t /*key*/ = 0, std::size_t /*first_row: no dropout here*/ = 0) {
    for (std::size_t r = 0; r < n; ++r) forward(p, x + r * I, ws.z.data() + r * K);
    const real loss = loss_and_gradient(ws.z.data(), t, ws.dz.data(), n);
    g.weight.fill(0);
    g.bias.fill(0);
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t k = 0; k < K; ++k) {
        const real d = ws.dz[r * K + k];
        g.bias[k] += d;
        for (std::size_t i = 0; i < I; ++i) g.weight[k * I + i] += d * x[r * I + i];
      }
    }
    return loss;
  }

 private:
  static real loss_and_gradient(const real* z, const real* t, real* dz, std::size_t n) {
    real sum = 0;
    if constexpr (L == castnet::Loss::mse) {
      for (std::size_t j = 0; j < n * K; ++j) {
        const real d = z[j] - t[j];
        sum += d * d;
        dz[j] = 2 * d / static_cast<real>(n * K);
      }
      return sum / static_cast<real>(n * K);
    } else if constexpr (L == castnet::Loss::binary_cross_entropy) {
      for (std::size_t j = 0; j < n * K; ++j) {
        sum += std::max(z[j], real{0}) - z[j] * t[j] + std::log1p(std::exp(-std::abs(z[j])));
        dz[j] = (1 / (1 + std::exp(-z[j])) - t[j]) / static_cast<real>(n * K);
      }
      return sum / static_cast<real>(n * K);
    } else {
      for (std::size_t r = 0; r < n; ++r) {
        const real* zr = z + r * K;
        const real top = *std::max_element(zr, zr + K);
        real denom = 0;
        for (std::size_t k = 0; k < K; ++k) denom += std::exp(zr[k] - top);
        const auto label = static_cast<std::size_t>(t[r]);
        sum += std::log(denom) + top - zr[label];
        for (std::size_t k = 0; k < K; ++k) {
          dz[r * K + k] =
              (std::exp(zr[k] - top) / denom - (k == label ? real{1} : real{0})) /
              static_cast<real>(n);
        }
      }
      return sum / static_cast<real>(n);
    }
  }
};

// y = W x + b on two inputs with mean squared error: the runner's regression tests.
using TinyModel = LinearModel<2, 1, castnet::Loss::mse>;

static_assert(castnet::GeneratedModel<TinyModel>);

}  // namespace castnet_test
