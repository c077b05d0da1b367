// Deterministic initial weights. Every tensor is filled from its own stream of the seed (stream =
// tensor index), so the same seed gives bit-identical weights on every machine and compiler, and
// adding a layer at the end of a spec leaves the earlier layers' initial weights unchanged. Values
// are drawn in double and rounded once to the model's real type.
//   zeros           0
//   he_normal       N(0, sqrt(2 / fan_in))                 (torch kaiming_normal_, relu gain)
//   glorot_uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (torch xavier_uniform_)
//   prelu_slope     0.25                                   (torch.nn.PReLU's default)
//   ones            1                                      (trainable_swish's a and c)
//   silu_rbf, silu_bspline  each row of a [features, count] tensor: the coefficients whose
//                   combination of the basis (kernels/basis.hpp) over [lo, hi] is closest to
//                   SiLU, s sigmoid(s), in least squares at 16 evenly spaced points per grid step
//                   (both ends included); no randomness
//   uniform_fan_in  U(-a, a), a = 1 / sqrt(fan_in)         (torch.nn.Linear's weight; kan's base_weight)
//   kan_spline      U(-a, a), a = 0.1 / fan_in, fan_in the basis count (kan's spline_weight: small,
//                   so a KAN starts near its SiLU part, as efficient-kan's scale_noise 0.1 / grid)
#pragma once

#include <castnet/kernels/basis.hpp>
#include <castnet/model.hpp>
#include <castnet/rng.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace castnet {

// The least-squares coefficients of `count` basis functions of kind K over [lo, hi] for SiLU:
// the normal equations (A^T A) c = A^T y, solved by Gaussian elimination with partial pivoting
// (A^T A is symmetric positive definite: every function is non-zero at some sample).
template <basis::Kind K>
std::vector<double> silu_basis_fit(std::size_t count, double lo, double hi) {
  const std::size_t width = basis::width(K, count), samples = 16 * basis::steps(K, count) + 1;
  const double inv_h = basis::inverse_step(K, count, lo, hi);
  std::vector<double> ata(count * count, 0.0), aty(count, 0.0), value(width), slope(width);
  for (std::size_t j = 0; j < samples; ++j) {
    const double s = lo + (hi - lo) * static_cast<double>(j) / static_cast<double>(samples - 1);
    const double y = s / (1.0 + std::exp(-s));
    const std::size_t k0 = basis::eval<K>(count, s, lo, inv_h, value.data(), slope.data());
    for (std::size_t a = 0; a < width; ++a) {
      aty[k0 + a] += value[a] * y;
      for (std::size_t b = 0; b < width; ++b) ata[(k0 + a) * count + k0 + b] += value[a] * value[b];
    }
  }
  for (std::size_t col = 0; col < count; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < count; ++r)
      if (std::abs(ata[r * count + col]) > std::abs(ata[pivot * count + col])) pivot = r;
    if (ata[pivot * count + col] == 0.0) throw std::logic_error("silu_basis_fit: singular normal equations");
    for (std::size_t k = 0; k < count; ++k) std::swap(ata[col * count + k], ata[pivot * count + k]);
    std::swap(aty[col], aty[pivot]);
    for (std::size_t r = col + 1; r < count; ++r) {
      const double f = ata[r * count + col] / ata[col * count + col];
      for (std::size_t k = col; k < count; ++k) ata[r * count + k] -= f * ata[col * count + k];
      aty[r] -= f * aty[col];
    }
  }
  std::vector<double> c(count);
  for (std::size_t r = count; r-- > 0;) {
    double v = aty[r];
    for (std::size_t k = r + 1; k < count; ++k) v -= ata[r * count + k] * c[k];
    c[r] = v / ata[r * count + r];
  }
  return c;
}

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
    case Init::ones:
      std::fill(values.begin(), values.end(), T(1));
      return;
    case Init::silu_rbf:
    case Init::silu_bspline: {
      const std::size_t count = info.shape[1];
      const std::vector<double> c = info.init == Init::silu_rbf ? silu_basis_fit<basis::Kind::rbf>(count, info.lo, info.hi)
                                                                : silu_basis_fit<basis::Kind::bspline>(count, info.lo, info.hi);
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(c[i % count]);
      return;
    }
    case Init::uniform_fan_in: {
      const double a = 1.0 / std::sqrt(static_cast<double>(info.fan_in));
      for (T& v : values) v = static_cast<T>((2.0 * draw.uniform() - 1.0) * a);
      return;
    }
    case Init::kan_spline: {
      const double a = 0.1 / static_cast<double>(info.fan_in);
      for (T& v : values) v = static_cast<T>((2.0 * draw.uniform() - 1.0) * a);
      return;
    }
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
