// Helpers of the runtime kernel tests (kernels, conv, pool, layer kernels): random inputs, NaN-filled
// outputs (a kernel that reads an output before writing it shows), and one assertion per array
// against a double-precision reference.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

namespace castnet::test {

template <class T>
std::vector<T> random_vector(std::size_t n, std::mt19937& rng, double scale = 1.0) {
  std::uniform_real_distribution<double> dist(-scale, scale);
  std::vector<T> v(n);
  for (auto& e : v) e = static_cast<T>(dist(rng));
  return v;
}

template <class T>
std::vector<T> nan_vector(std::size_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

// |got - want| <= tol * max(scale, 1) element by element, as one assertion that reports the worst
// element; a NaN counts as infinitely far off. `scale` is the size of the terms each result was
// computed from (Σ|terms|), which bounds its rounding error where cancellation makes a relative
// error meaningless.
template <class T>
void require_close(const std::vector<T>& got, const std::vector<double>& want, const std::vector<double>& scale,
                   double tol) {
  REQUIRE(got.size() == want.size());
  std::size_t worst = 0;
  double worst_ratio = 0;
  for (std::size_t k = 0; k < got.size(); ++k) {
    double ratio = std::abs(static_cast<double>(got[k]) - want[k]) / (tol * std::max(scale[k], 1.0));
    if (std::isnan(ratio)) ratio = std::numeric_limits<double>::infinity();
    if (ratio > worst_ratio) {
      worst = k;
      worst_ratio = ratio;
    }
  }
  INFO("worst index " << worst << ": got " << got[worst] << ", want " << want[worst]);
  REQUIRE(worst_ratio <= 1.0);
}

}  // namespace castnet::test
