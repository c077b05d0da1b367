// The loss landscape around trained weights W (Li, Xu, Taylor, Studer, Goldstein 2018, "Visualizing
// the Loss Landscape of Neural Nets"): the loss at W + a d1 + b d2 on a steps x steps grid of
// (a, b) in [-span, span]^2, for two random directions d1, d2 drawn by a seed.
//
// Filter normalisation (the paper's section 4): each direction is Gaussian, then every filter (a
// conv kernel's output channel) or neuron (a dense weight's output row), i.e. every slice along a
// weight tensor's first dimension, is scaled to the norm of W's slice. Tensors of rank 1 (biases,
// and per-feature parameters such as PReLU slopes or norm scales) are zero in the directions, as
// the paper leaves biases and batch-norm parameters fixed. Scale-invariant directions make
// pictures of different networks comparable; without them a net with larger weights looks flatter.
//
// The grid's points are evaluated by the generated forward (evaluate<M>, the loss `castnet eval`
// prints) on a pool of threads, each with its own copy of the weights.
#pragma once

#include <castnet/data/dataset.hpp>
#include <castnet/model.hpp>
#include <castnet/rng.hpp>
#include <castnet/train/trainer.hpp>
#include <castnet/train/worker_pool.hpp>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace castnet {

// Streams of the two directions: tensor i of direction k draws from kLandscapeStream + 2 i + k.
inline constexpr std::uint64_t kLandscapeStream = std::uint64_t{7} << 32;

// One direction: a vector per tensor, in kTensors' order (all zeros for rank-1 tensors).
using Direction = std::vector<std::vector<double>>;

// Rows of a tensor as filter normalisation sees them: shape[0] slices of size / shape[0] values;
// none for rank <= 1.
inline std::size_t filter_count(const TensorInfo& t) { return t.rank >= 2 ? t.shape[0] : 0; }

// The filter-normalised direction `which` (0 or 1) for weights `params` of model M.
template <GeneratedModel M>
Direction filter_normalised_direction(const typename M::Params& params, std::uint64_t seed, std::size_t which) {
  const auto tensors = M::tensors(params);
  Direction d(M::kTensors.size());
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) {
    const TensorInfo& info = M::kTensors[i];
    d[i].assign(info.size, 0.0);
    const std::size_t filters = filter_count(info);
    if (filters == 0) continue;
    rng::Xoshiro256ss draw(seed, kLandscapeStream + 2 * i + which);
    for (double& v : d[i]) v = draw.normal();
    const std::size_t per = info.size / filters;
    for (std::size_t f = 0; f < filters; ++f) {
      double wn = 0, dn = 0;
      for (std::size_t j = f * per; j < (f + 1) * per; ++j) {
        wn += static_cast<double>(tensors[i][j]) * static_cast<double>(tensors[i][j]);
        dn += d[i][j] * d[i][j];
      }
      // A zero filter of W gets a zero direction: the paper's ||W|| / ||d|| scaling, with d != 0.
      const double scale = dn > 0 ? std::sqrt(wn) / std::sqrt(dn) : 0.0;
      for (std::size_t j = f * per; j < (f + 1) * per; ++j) d[i][j] *= scale;
    }
  }
  return d;
}

struct LandscapePoint {
  double alpha = 0, beta = 0;  // the coefficients of the two directions
  double loss = 0;
  std::optional<double> accuracy;
};

// The grid's coordinates: steps values from -span to span (the middle one exactly 0 when steps is odd).
inline std::vector<double> landscape_axis(std::size_t steps, double span) {
  std::vector<double> a(steps, 0.0);
  for (std::size_t i = 0; i < steps; ++i) {
    const auto twice = static_cast<std::ptrdiff_t>(2 * i) - static_cast<std::ptrdiff_t>(steps - 1);
    a[i] = steps > 1 ? span * static_cast<double>(twice) / static_cast<double>(steps - 1) : 0.0;
  }
  return a;
}

// The steps x steps grid, row-major with beta outer and alpha inner, evaluated on `threads` threads.
// At (0, 0) the weights are W itself, so that point's loss is evaluate<M>(W, data)'s to the bit.
template <GeneratedModel M>
std::vector<LandscapePoint> landscape_grid(const typename M::Params& params, const Dataset<typename M::real>& data,
                                           const Direction& d1, const Direction& d2, std::size_t steps, double span,
                                           std::size_t threads) {
  using real = typename M::real;
  const std::vector<double> axis = landscape_axis(steps, span);
  std::vector<LandscapePoint> grid(steps * steps);
  std::atomic<std::size_t> next{0};
  WorkerPool pool(threads);
  pool.run([&](std::size_t) {
    const auto moved = std::make_unique<typename M::Params>(params);
    const auto base = M::tensors(params);
    const auto out = M::tensors(*moved);
    for (std::size_t k; (k = next.fetch_add(1)) < grid.size();) {
      const double a = axis[k % steps], b = axis[k / steps];
      for (std::size_t i = 0; i < M::kTensors.size(); ++i)
        for (std::size_t j = 0; j < M::kTensors[i].size; ++j)
          out[i][j] = a == 0 && b == 0 ? base[i][j]
                                       : static_cast<real>(static_cast<double>(base[i][j]) + a * d1[i][j] + b * d2[i][j]);
      const Evaluation e = evaluate<M>(*moved, data);
      grid[k] = {a, b, e.loss, e.accuracy};
    }
  });
  return grid;
}

// The landscape's files in `dir` (src/train/landscape.cpp): landscape.csv (alpha, beta, loss and,
// for classifiers, accuracy; one row per grid point), landscape.svg (a heatmap of the loss with a
// colour scale, contour lines and the minimum marked) and landscape_slice.svg (the loss along each
// direction through W, the centre). All written atomically. `title` names the model.
void write_landscape(const std::filesystem::path& dir, const std::vector<LandscapePoint>& grid, std::size_t steps,
                     const std::string& title);

}  // namespace castnet
