// The new layer kinds train, through the trainer, on data the test makes: a ConvNet tells bar
// orientations apart, GLU and PReLU nets separate concentric rings (which no linear model can),
// and the repository's MNIST specs (residual_mlp, mnist_cnn) learn synthetic data of MNIST's shape:
// each class is a pattern of its own, moved and blurred by noise. Held-out data are scored.
#include <catch2/catch.hpp>

#include <castnet/train/init.hpp>
#include <castnet/train/trainer.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <numbers>
#include <random>
#include <sstream>

#include "support/process.hpp"

#include "mnist_cnn.hpp"
#include "residual_mlp.hpp"
#include "train_bars.hpp"
#include "train_glu.hpp"
#include "train_prelu.hpp"

namespace {

// Rows of (inputs, class index) drawn by `sample(rng, cls, x)`, classes in turn.
template <class Sample>
castnet::Dataset<float> make_data(std::size_t rows, std::size_t inputs, std::size_t classes, std::uint32_t seed,
                                  Sample sample) {
  castnet::Dataset<float> d;
  d.rows = rows;
  d.inputs = inputs;
  d.targets = 1;
  d.x.assign(rows * inputs, 0.0f);
  d.t.resize(rows);
  std::mt19937 rng(seed);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t cls = r % classes;
    sample(rng, cls, &d.x[r * inputs]);
    d.t[r] = static_cast<float>(cls);
  }
  return d;
}

// Trains M on `train` and returns the accuracy on `test`.
template <class M>
double train_and_score(const castnet::Dataset<float>& train, const castnet::Dataset<float>& test, std::size_t epochs,
                       const castnet::OptimizerConfig& optimizer) {
  castnet::test::TempDir dir;
  castnet::TrainConfig config;
  config.epochs = epochs;
  config.seed = 3;
  config.optimizer = optimizer;
  castnet::TrainOutput out;
  out.dir = dir.path();
  out.save_every = 1e9;
  auto p = std::make_unique<typename M::Params>();
  castnet::init_params<M>(*p, config.seed);
  std::ostringstream log;
  castnet::train<M>(*p, train, nullptr, config, out, log);
  const castnet::Evaluation e = castnet::evaluate<M>(*p, test);
  INFO(M::kName << ": test loss " << e.loss << ", " << e.correct << "/" << e.scored);
  REQUIRE(e.accuracy.has_value());
  return *e.accuracy;
}

castnet::OptimizerConfig adam(double lr) {
  castnet::OptimizerConfig o;
  o.kind = castnet::OptimizerConfig::Kind::adam;
  o.lr = lr;
  return o;
}

castnet::OptimizerConfig momentum(double lr) {
  castnet::OptimizerConfig o;
  o.kind = castnet::OptimizerConfig::Kind::momentum;
  o.lr = lr;
  o.momentum = 0.9;
  return o;
}

// A point on one of two rings (radius 0.5 or 1), with noise.
void ring(std::mt19937& rng, std::size_t cls, float* x) {
  std::uniform_real_distribution<double> angle(0, 2 * std::numbers::pi);
  std::normal_distribution<double> noise(0, 0.08);
  const double r = cls == 0 ? 0.5 : 1.0, a = angle(rng);
  x[0] = static_cast<float>(r * std::cos(a) + noise(rng));
  x[1] = static_cast<float>(r * std::sin(a) + noise(rng));
}

// An 8x8 image holding a horizontal (class 0), vertical (1) or diagonal (2) bar anywhere, with noise.
void bar(std::mt19937& rng, std::size_t cls, float* x) {
  std::uniform_int_distribution<int> at(0, 7);
  std::normal_distribution<float> noise(0, 0.15f);
  const int k = at(rng);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      const bool on = cls == 0 ? r == k : cls == 1 ? c == k : (r - c + 8) % 8 == k;
      x[r * 8 + c] = (on ? 1.0f : 0.0f) + noise(rng);
    }
}

// A w x w image of class `cls`: a 3-pixel-thick stroke through a class-specific pair of points
// (fixed per class by `layout`), shifted by up to 2 pixels, with noise: MNIST's shape and scale.
struct Strokes {
  std::size_t w;
  std::array<std::array<float, 4>, 10> layout;  // x0, y0, x1, y1 in [0.2, 0.8] of the width
  explicit Strokes(std::size_t width) : w(width) {
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> u(0.2f, 0.8f);
    for (auto& l : layout) l = {u(rng), u(rng), u(rng), u(rng)};
  }
  void operator()(std::mt19937& rng, std::size_t cls, float* x) const {
    std::uniform_int_distribution<int> shift(-2, 2);
    std::normal_distribution<float> noise(0, 0.1f);
    const float dx = static_cast<float>(shift(rng)), dy = static_cast<float>(shift(rng)), n = static_cast<float>(w);
    const auto& l = layout[cls];
    const float x0 = l[0] * n + dx, y0 = l[1] * n + dy, x1 = l[2] * n + dx, y1 = l[3] * n + dy;
    for (std::size_t r = 0; r < w; ++r)
      for (std::size_t c = 0; c < w; ++c) {
        // Distance from pixel (c, r) to the segment.
        const float px = static_cast<float>(c) - x0, py = static_cast<float>(r) - y0, sx = x1 - x0, sy = y1 - y0;
        const float t = std::clamp((px * sx + py * sy) / (sx * sx + sy * sy + 1e-6f), 0.0f, 1.0f);
        const float ex = px - t * sx, ey = py - t * sy;
        x[r * w + c] = (ex * ex + ey * ey <= 2.25f ? 1.0f : 0.0f) + noise(rng);
      }
  }
};

}  // namespace

TEST_CASE("graph training: a ConvNet tells bar orientations apart", "[graph_training]") {
  const auto train = make_data(480, 64, 3, 1, bar), test = make_data(240, 64, 3, 2, bar);
  CHECK(train_and_score<train_bars::Model>(train, test, 30, adam(0.01)) >= 0.95);
}

TEST_CASE("graph training: GLU and PReLU nets separate concentric rings", "[graph_training]") {
  const auto train = make_data(512, 2, 2, 1, ring), test = make_data(256, 2, 2, 2, ring);
  CHECK(train_and_score<train_glu::Model>(train, test, 60, adam(0.01)) >= 0.95);
  CHECK(train_and_score<train_prelu::Model>(train, test, 60, adam(0.01)) >= 0.95);
}

TEST_CASE("graph training: specs/residual_mlp.toml learns 10 classes of 28x28 strokes", "[graph_training]") {
  const Strokes strokes(28);
  const auto train = make_data(1280, 784, 10, 1, strokes), test = make_data(640, 784, 10, 2, strokes);
  CHECK(train_and_score<residual_mlp::Model>(train, test, 3, momentum(0.05)) >= 0.9);
}

TEST_CASE("graph training: specs/mnist_cnn.toml learns 10 classes of 28x28 strokes", "[graph_training]") {
  const Strokes strokes(28);
  const auto train = make_data(1280, 784, 10, 1, strokes), test = make_data(640, 784, 10, 2, strokes);
  CHECK(train_and_score<mnist_cnn::Model>(train, test, 3, momentum(0.02)) >= 0.9);
}
