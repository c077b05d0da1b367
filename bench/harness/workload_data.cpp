// See workload_data.hpp.
#include "workload_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

namespace castnet::bench {

double forward_flops(const ir::Graph& g) {
  double f = 0;
  for (const auto& l : g.layers) f += static_cast<double>(l.flops);
  return f;
}

double training_flops(const ir::Graph& g) {
  double f = 0;
  for (const auto& l : g.layers) {
    const double fl = static_cast<double>(l.flops);
    f += l.params.empty() ? fl : 2 * fl;  // forward (+ parameter gradients)
    const bool reads_only_input =
        !l.inputs.empty() && std::all_of(l.inputs.begin(), l.inputs.end(), [](std::size_t i) { return i == ir::kGraphInput; });
    if (!reads_only_input) f += fl;  // input gradient
  }
  return f;
}

Data make_data(const ir::Graph& g, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  Data d;
  d.x.resize(n * g.input_features());
  for (auto& v : d.x) v = unit(rng);
  d.target.resize(n * g.targets_per_sample());
  const std::size_t classes = g.output_features();
  for (auto& v : d.target) switch (g.loss.kind) {
      case ir::LossKind::softmax_cross_entropy: v = static_cast<float>(rng() % classes); break;
      case ir::LossKind::binary_cross_entropy: v = static_cast<float>(rng() % 2); break;
      case ir::LossKind::mse: v = 2 * unit(rng) - 1; break;
    }
  return d;
}

std::string mismatch(const float* got, const float* want, std::size_t n, double tol) {
  double scale = 1, worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (std::isnan(d)) return "output " + std::to_string(i) + " is NaN";
    if (d > worst) worst = d, at = i;
  }
  if (worst <= tol * scale) return "";
  return "output " + std::to_string(at) + " is " + std::to_string(got[at]) + ", expected " + std::to_string(want[at]);
}

std::string bitwise_mismatch(const float* got, const float* want, std::size_t n) {
  std::size_t differ = 0, at = 0;
  double worst = -1;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::memcmp(got + i, want + i, sizeof(float)) == 0) continue;
    ++differ;
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!std::isnan(worst) && !(d <= worst)) worst = d, at = i;  // a NaN difference wins
  }
  if (differ == 0) return "";
  char buf[200];
  std::snprintf(buf, sizeof buf, "%zu of %zu outputs differ; output %zu is %.9g, expected %.9g (off by %.3g)", differ, n, at,
                static_cast<double>(got[at]), static_cast<double>(want[at]), worst);
  return buf;
}

}  // namespace castnet::bench
