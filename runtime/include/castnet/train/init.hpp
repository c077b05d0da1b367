// Deterministic initial weights. Every tensor is filled from its own stream of the seed (stream =
// tensor index), so the same seed gives bit-identical weights on every machine and compiler, and
// adding a layer at the end of a spec leaves the earlier layers' initial weights unchanged. Values
// are drawn in double and rounded once to the model's real type.
//   zeros           0
//   he_normal       N(0, sqrt(2 / fan_in))                 (torch kaiming_normal_, relu gain)
//   glorot_uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (torch xavier_uniform_)
//   prelu_slope     0.25                                   (torch.nn.PReLU's default)
#pragma once

#include <castnet/model.hpp>
#include <castnet/rng.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>

namespace castnet {

// Fills one tensor as `info.init` says, from stream `index` of `seed`.
template <std::floating_point T>
void init_tensor(std::span<T> values, const TensorInfo& info, std::uint64_t seed,
                 std::size_t index) {
  rng::Xoshiro256ss draw(seed, rng::kInitStream + index);
  switch (info.init) {
    case Init::zeros:
      std::fill(values.begin(), values.end(), T{0});
      return;
    case Init::he_normal: {
      const double stddev = std::sqrt(2.0 / static_cast<double>(info.fan_in));
      for (T& v : values) v = static_cast<T>(stddev * draw.normal());
      return;
    }
    case Init::glorot_uniform: {
      const double a = std::sqrt(6.0 / static_cast<double>(info.fan_in + info.fan_out));
      for (T& v : values) v = static_cast<T>((2.0 * draw.uniform() - 1.0) * a);
      return;
    }
    case Init::prelu_slope:
      std::fill(values.begin(), values.end(), T(0.25));
      return;
  }
}

// Initialises every tensor of a model's parameters from `seed`.
template <GeneratedModel M>
void init_params(typename M::Params& params, std::uint64_t seed) {
  const auto pointers = M::tensors(params);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    init_tensor(std::span(pointers[i], M::kTensors[i].size), M::kTensors[i], seed, i);
  }
}

}  // namespace castnet
