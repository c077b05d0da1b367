// castnet::Lbfgs on full-batch least squares and logistic regression with the hand-written linear
// model: convergence to the closed-form solution, agreement with an independent hand-written
// L-BFGS (whose two-loop direction is itself checked against the explicit BFGS inverse-Hessian
// update), and bit-identical continuation after a save and restore of its state.
#include <castnet/train/lbfgs.hpp>

#include <catch2/catch.hpp>
#include <support/tiny_model.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using castnet::OptimizerConfig;

constexpr std::size_t kRows = 8, kIn = 3, kN = kIn + 1;  // parameters: 3 weights, 1 bias
using Reg = castnet_test::LinearModel<kIn, 1, castnet::Loss::mse, castnet::Init::zeros, double,
                                      kRows>;
using Logistic = castnet_test::LinearModel<kIn, 1, castnet::Loss::binary_cross_entropy,
                                           castnet::Init::zeros, double, kRows>;

// Inputs with correlated columns of different spreads: steepest descent is a poor direction.
constexpr std::array<double, kRows * kIn> kX{
    1.0,  1.0,  3.0, -1.0, 3.0, 1.0,  2.0, -2.0, -2.0, 0.5,  0.5, 4.0,
    -1.5, -1.0, 0.0, 0.0,  2.0, -3.0, 1.0, 0.0,  1.0,  -2.0, 1.5, 2.5};
// Targets: 1.5 x0 - 0.4 x1 + 0.25 x2 + 0.75 plus a residual, so that the minimum loss is not 0.
constexpr std::array<double, kRows> kNoise{0.1, -0.2, 0.05, 0.0, 0.3, -0.1, -0.05, 0.15};
std::array<double, kRows> targets() {
  std::array<double, kRows> t{};
  for (std::size_t r = 0; r < kRows; ++r) {
    t[r] = 1.5 * kX[r * kIn] - 0.4 * kX[r * kIn + 1] + 0.25 * kX[r * kIn + 2] + 0.75 + kNoise[r];
  }
  return t;
}
// Labels for logistic regression: not separable, so the optimum is finite.
constexpr std::array<double, kRows> kLabels{1, 0, 1, 1, 0, 0, 1, 0};

using Vec = std::vector<double>;

template <class Mod>
Vec flat(const typename Mod::Params& p) {
  return {p.weight[0], p.weight[1], p.weight[2], p.bias[0]};
}
template <class Mod>
void unflat(const Vec& v, typename Mod::Params& p) {
  p.weight = {v[0], v[1], v[2]};
  p.bias = {v[3]};
}

// The full-batch loss and gradient, as the trainer would provide it.
template <class Mod>
struct Evaluate {
  const double* t;
  std::unique_ptr<typename Mod::Workspace> ws = std::make_unique<typename Mod::Workspace>();
  int calls = 0;
  double operator()(const typename Mod::Params& p, typename Mod::Grads& g) {
    ++calls;
    return Mod::train_step(p, *ws, kX.data(), t, g, kRows);
  }
  double at(const Vec& v, Vec& grad) {
    auto p = std::make_unique<typename Mod::Params>();
    auto g = std::make_unique<typename Mod::Grads>();
    unflat<Mod>(v, *p);
    const double f = (*this)(*p, *g);
    grad = {g->weight[0], g->weight[1], g->weight[2], g->bias[0]};
    return f;
  }
};

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// The least-squares solution of [X 1] w = t by the normal equations (Gaussian elimination).
Vec closed_form() {
  const auto t = targets();
  std::array<std::array<double, kN + 1>, kN> a{};
  for (std::size_t r = 0; r < kRows; ++r) {
    const std::array<double, kN> row{kX[r * kIn], kX[r * kIn + 1], kX[r * kIn + 2], 1.0};
    for (std::size_t i = 0; i < kN; ++i) {
      for (std::size_t j = 0; j < kN; ++j) a[i][j] += row[i] * row[j];
      a[i][kN] += row[i] * t[r];
    }
  }
  for (std::size_t c = 0; c < kN; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < kN; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    }
    std::swap(a[c], a[pivot]);
    for (std::size_t r = 0; r < kN; ++r) {
      if (r == c) continue;
      const double k = a[r][c] / a[c][c];
      for (std::size_t j = c; j <= kN; ++j) a[r][j] -= k * a[c][j];
    }
  }
  Vec w(kN);
  for (std::size_t i = 0; i < kN; ++i) w[i] = a[i][kN] / a[i][i];
  return w;
}

// The same algorithm written independently on std::vector, with the history as a deque-like
// vector (oldest first, erase at the front).
struct ReferenceLbfgs {
  ReferenceLbfgs(double lr_, std::size_t history_) : lr(lr_), history(history_) {}
  double lr;
  std::size_t history;
  std::vector<Vec> s, y;
  std::uint64_t steps = 0;
  double f = 0;
  Vec g;
  Vec last_direction;

  // d = -H g with H from the explicit BFGS update H+ = (I - r s y')H(I - r y s') + r s s',
  // H0 = (s.y / y.y of the newest pair) I: a different formulation of the two-loop recursion.
  Vec matrix_direction() const {
    std::vector<Vec> h(kN, Vec(kN, 0.0));
    const double gamma = s.empty() ? 1.0 : dot(s.back(), y.back()) / dot(y.back(), y.back());
    for (std::size_t i = 0; i < kN; ++i) h[i][i] = gamma;
    for (std::size_t k = 0; k < s.size(); ++k) {
      const double r = 1 / dot(y[k], s[k]);
      std::vector<Vec> a(kN, Vec(kN)), next(kN, Vec(kN));
      for (std::size_t i = 0; i < kN; ++i) {
        for (std::size_t j = 0; j < kN; ++j) a[i][j] = (i == j ? 1.0 : 0.0) - r * s[k][i] * y[k][j];
      }
      for (std::size_t i = 0; i < kN; ++i) {
        for (std::size_t j = 0; j < kN; ++j) {
          double v = 0;
          for (std::size_t u = 0; u < kN; ++u) {
            for (std::size_t w = 0; w < kN; ++w) v += a[i][u] * h[u][w] * a[j][w];
          }
          next[i][j] = v + r * s[k][i] * s[k][j];
        }
      }
      h = next;
    }
    Vec d(kN, 0.0);
    for (std::size_t i = 0; i < kN; ++i) {
      for (std::size_t j = 0; j < kN; ++j) d[i] -= h[i][j] * g[j];
    }
    return d;
  }

  template <class E>
  double step(Vec& p, E& evaluate) {
    f = evaluate.at(p, g);  // every iteration starts with an evaluation at p
    double l1 = 0;
    for (double x : g) l1 += std::abs(x);
    Vec d(kN);
    double t = lr;
    if (steps == 0) {
      for (std::size_t i = 0; i < kN; ++i) d[i] = -g[i];
      t = std::min(1.0, 1.0 / l1) * lr;
    } else {
      // Two-loop recursion.
      Vec q(kN), alpha(s.size());
      for (std::size_t i = 0; i < kN; ++i) q[i] = -g[i];
      for (std::size_t k = s.size(); k-- > 0;) {
        alpha[k] = dot(s[k], q) / dot(y[k], s[k]);
        for (std::size_t i = 0; i < kN; ++i) q[i] -= alpha[k] * y[k][i];
      }
      if (!s.empty()) {
        const double h = dot(s.back(), y.back()) / dot(y.back(), y.back());
        for (double& x : q) x *= h;
      }
      for (std::size_t k = 0; k < s.size(); ++k) {
        const double beta = dot(y[k], q) / dot(y[k], s[k]);
        for (std::size_t i = 0; i < kN; ++i) q[i] += (alpha[k] - beta) * s[k][i];
      }
      d = q;
      const Vec m = matrix_direction();
      for (std::size_t i = 0; i < kN; ++i) CHECK(d[i] == Approx(m[i]).epsilon(1e-9).margin(1e-12));
    }
    last_direction = d;
    const double gtd = dot(g, d);
    REQUIRE(gtd < 0);
    Vec trial(kN), gn;
    double ft = 0;
    bool accepted = false;
    for (int k = 0; k < 20 && !accepted; ++k) {
      for (std::size_t i = 0; i < kN; ++i) trial[i] = p[i] + t * d[i];
      ft = evaluate.at(trial, gn);
      if (ft <= f + 1e-4 * t * gtd) {
        accepted = true;
      } else {
        t /= 2;
      }
    }
    REQUIRE(accepted);
    Vec sn(kN), yn(kN);
    for (std::size_t i = 0; i < kN; ++i) {
      sn[i] = t * d[i];
      yn[i] = gn[i] - g[i];
    }
    if (dot(yn, sn) > 1e-10) {
      if (s.size() == history) {
        s.erase(s.begin());
        y.erase(y.begin());
      }
      s.push_back(sn);
      y.push_back(yn);
    }
    p = trial;
    g = gn;
    f = ft;
    ++steps;
    return f;
  }
};

OptimizerConfig lbfgs_config(double lr, std::size_t history) {
  OptimizerConfig c;
  c.kind = OptimizerConfig::Kind::lbfgs;
  c.lr = lr;
  c.history = history;
  return c;
}

}  // namespace

TEST_CASE("lbfgs: the config must be lbfgs with a history", "[lbfgs]") {
  OptimizerConfig c;
  c.kind = OptimizerConfig::Kind::adam;
  CHECK_THROWS_AS(castnet::Lbfgs<Reg>(c), castnet::Error);
  CHECK_THROWS_AS(castnet::Lbfgs<Reg>(lbfgs_config(1, 0)), castnet::Error);
  CHECK_NOTHROW(castnet::Lbfgs<Reg>(lbfgs_config(1, 3)));
}

TEST_CASE("lbfgs: least squares reaches the closed-form solution in few iterations", "[lbfgs]") {
  const auto t = targets();
  Evaluate<Reg> evaluate{t.data()};
  auto p = std::make_unique<Reg::Params>();
  p->weight = {0, 0, 0};
  p->bias = {0};
  castnet::Lbfgs<Reg> lbfgs(lbfgs_config(1.0, 10));
  double loss = 0;
  int iterations = 1;
  double max_abs = 0;
  for (; iterations <= 30; ++iterations) {
    loss = lbfgs.step(*p, evaluate);
    Vec g;
    evaluate.at(flat<Reg>(*p), g);
    max_abs = 0;
    for (double x : g) max_abs = std::max(max_abs, std::abs(x));
    if (max_abs <= 1e-7) break;  // the stationarity tolerance (torch's tolerance_grad)
  }
  INFO("iterations " << iterations << " evaluations " << evaluate.calls);
  CHECK(iterations <= 15);
  CHECK(max_abs <= 1e-7);
  const Vec w = closed_form();
  const Vec got = flat<Reg>(*p);
  for (std::size_t i = 0; i < kN; ++i) CHECK(got[i] == Approx(w[i]).epsilon(1e-6).margin(1e-7));
  // Once stationary it stays put, after the one evaluation at the point.
  const Vec before = flat<Reg>(*p);
  const int calls = evaluate.calls;
  CHECK(lbfgs.step(*p, evaluate) == loss);
  CHECK(flat<Reg>(*p) == before);
  CHECK(evaluate.calls == calls + 1);
  // The loss returned is the loss at the returned parameters: the least-squares residual.
  Vec g;
  CHECK(loss == Approx(evaluate.at(w, g)).epsilon(1e-10));
  CHECK(loss > 0);
}

TEST_CASE("lbfgs: the first iteration is steepest descent scaled by min(1, 1/|g|_1) lr",
          "[lbfgs]") {
  const auto t = targets();
  Evaluate<Reg> evaluate{t.data()};
  auto p = std::make_unique<Reg::Params>();
  p->weight = {0, 0, 0};
  p->bias = {0};
  Vec g0;
  const double f0 = evaluate.at(flat<Reg>(*p), g0);
  double l1 = 0;
  for (double x : g0) l1 += std::abs(x);
  REQUIRE(l1 > 1);  // the scaling is active
  castnet::Lbfgs<Reg> lbfgs(lbfgs_config(1.0, 10));
  const double f1 = lbfgs.step(*p, evaluate);
  CHECK(f1 < f0);
  // p1 = -t g0 with t = (1 / l1) / 2^k for the first k that satisfies Armijo.
  const Vec p1 = flat<Reg>(*p);
  const double scale = -p1[0] / g0[0];
  const double k = std::log2((1 / l1) / scale);
  CHECK(k == Approx(std::round(k)).margin(1e-9));
  for (std::size_t i = 0; i < kN; ++i) CHECK(p1[i] == Approx(-scale * g0[i]).epsilon(1e-12));
  CHECK(lbfgs.steps() == 1);
  CHECK(lbfgs.pairs() == 1);
}

TEST_CASE("lbfgs: iterations match a hand-written two-loop L-BFGS", "[lbfgs]") {
  const auto t = targets();
  for (const std::size_t history : {std::size_t{1}, std::size_t{2}, std::size_t{10}}) {
    INFO("history " << history);
    Evaluate<Reg> evaluate{t.data()}, reference_evaluate{t.data()};
    auto p = std::make_unique<Reg::Params>();
    p->weight = {0.5, -1, 0.25};
    p->bias = {2};
    Vec q = flat<Reg>(*p);
    castnet::Lbfgs<Reg> lbfgs(lbfgs_config(1.0, history));
    ReferenceLbfgs reference{1.0, history};
    for (int iteration = 1; iteration <= 4; ++iteration) {
      INFO("iteration " << iteration);
      const double f = lbfgs.step(*p, evaluate);
      const double fr = reference.step(q, reference_evaluate);
      CHECK(f == Approx(fr).epsilon(1e-12));
      const Vec got = flat<Reg>(*p);
      for (std::size_t i = 0; i < kN; ++i) CHECK(got[i] == Approx(q[i]).epsilon(1e-12).margin(1e-14));
      CHECK(lbfgs.pairs() == reference.s.size());
      if (iteration >= 2) {
        // The two-loop direction is not a multiple of the gradient: curvature is being used.
        const Vec& d = reference.last_direction;
        const double cos = -dot(d, reference.g) /
                           std::sqrt(dot(d, d) * dot(reference.g, reference.g));
        CHECK(cos < 0.999);
      }
    }
    CHECK(evaluate.calls == reference_evaluate.calls);
  }
}

TEST_CASE("lbfgs: state() names its buffers, unused slots stay zero", "[lbfgs]") {
  const auto t = targets();
  Evaluate<Reg> evaluate{t.data()};
  auto p = std::make_unique<Reg::Params>();
  p->weight = {0, 0, 0};
  p->bias = {0};
  castnet::Lbfgs<Reg> lbfgs(lbfgs_config(1.0, 5));
  lbfgs.step(*p, evaluate);
  lbfgs.step(*p, evaluate);
  REQUIRE(lbfgs.pairs() == 2);
  const auto state = lbfgs.state();
  REQUIRE(state.size() == 10);
  for (std::size_t k = 0; k < 5; ++k) {
    CHECK(state[k].first == "lbfgs_s" + std::to_string(k));
    CHECK(state[5 + k].first == "lbfgs_y" + std::to_string(k));
    const Vec s = flat<Reg>(*state[k].second), y = flat<Reg>(*state[5 + k].second);
    if (k < 2) {
      CHECK(dot(s, y) > 1e-10);
    } else {
      CHECK(s == Vec(kN, 0.0));
      CHECK(y == Vec(kN, 0.0));
    }
  }
}

TEST_CASE("lbfgs: save, restore into a new Lbfgs, and the next steps are bit-identical",
          "[lbfgs]") {
  // Logistic regression (not a quadratic) with a short history, so that the history has wrapped
  // around by the time of the save.
  Evaluate<Logistic> evaluate{kLabels.data()};
  auto a = std::make_unique<Logistic::Params>();
  a->weight = {0, 0, 0};
  a->bias = {0};
  const auto config = lbfgs_config(1.0, 2);
  castnet::Lbfgs<Logistic> first(config);
  // The buffers are taken once, before any step, as the trainer does: their addresses are stable.
  const auto buffers = first.state();
  for (int i = 0; i < 4; ++i) first.step(*a, evaluate);
  REQUIRE(first.pairs() == 2);
  const auto later = first.state();
  REQUIRE(later.size() == buffers.size());
  for (std::size_t i = 0; i < later.size(); ++i) CHECK(later[i].second == buffers[i].second);

  // Save: copies of every named buffer and the step count.
  std::vector<std::pair<std::string, Logistic::Params>> saved;
  for (const auto& [name, buffer] : buffers) saved.emplace_back(name, *buffer);
  const std::uint64_t steps = first.steps();
  auto b = std::make_unique<Logistic::Params>(*a);

  // Restore into a fresh optimizer.
  castnet::Lbfgs<Logistic> second(config);
  auto restored = second.state();
  REQUIRE(restored.size() == saved.size());
  for (std::size_t i = 0; i < saved.size(); ++i) {
    REQUIRE(restored[i].first == saved[i].first);
    *restored[i].second = saved[i].second;
  }
  second.set_steps(steps);
  CHECK(second.steps() == 4);
  CHECK(second.pairs() == 2);

  for (int i = 0; i < 3; ++i) {
    const double fa = first.step(*a, evaluate);
    const double fb = second.step(*b, evaluate);
    CHECK(std::memcmp(&fa, &fb, sizeof fa) == 0);
    CHECK(std::memcmp(a.get(), b.get(), sizeof(Logistic::Params)) == 0);
  }
  // And it did move: logistic regression is not solved in 4 iterations.
  CHECK(first.steps() == 7);
}

TEST_CASE("lbfgs: a stationary point is left alone", "[lbfgs]") {
  const auto t = targets();
  Evaluate<Reg> evaluate{t.data()};
  auto p = std::make_unique<Reg::Params>();
  const Vec w = closed_form();
  unflat<Reg>(w, *p);
  const auto before = *p;
  castnet::Lbfgs<Reg> lbfgs(lbfgs_config(1.0, 3));
  lbfgs.step(*p, evaluate);
  CHECK(evaluate.calls == 1);
  CHECK(p->weight == before.weight);
  CHECK(p->bias == before.bias);
}

TEST_CASE("lbfgs: each iteration first evaluates at the current parameters", "[lbfgs]") {
  // The trainer reports the loss of that first evaluation as the epoch's loss.
  const auto t = targets();
  Evaluate<Reg> inner{t.data()};
  std::vector<Vec> points;
  auto evaluate = [&](const Reg::Params& q, Reg::Grads& g) {
    points.push_back(flat<Reg>(q));
    return inner(q, g);
  };
  auto p = std::make_unique<Reg::Params>();
  p->weight = {0, 0, 0};
  p->bias = {0};
  castnet::Lbfgs<Reg> lbfgs(lbfgs_config(1.0, 4));
  for (int i = 0; i < 5; ++i) {
    const Vec before = flat<Reg>(*p);
    points.clear();
    const double f = lbfgs.step(*p, evaluate);
    REQUIRE(points.size() >= 2);  // the point itself, then the line search
    CHECK(points.front() == before);
    CHECK(points.back() == flat<Reg>(*p));  // the accepted trial is the new point
    Vec g;
    // And the loss returned is its loss (to rounding: FMA contraction may differ between two
    // inlined copies of train_step).
    CHECK(f == Approx(inner.at(flat<Reg>(*p), g)).epsilon(1e-14));
  }
}

TEST_CASE("lbfgs: a float model fits logistic regression", "[lbfgs]") {
  using FloatLogistic = castnet_test::LinearModel<kIn, 1, castnet::Loss::binary_cross_entropy,
                                                  castnet::Init::zeros, float, kRows>;
  std::array<float, kRows * kIn> x{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(kX[i]);
  std::array<float, kRows> labels{};
  for (std::size_t i = 0; i < kRows; ++i) labels[i] = static_cast<float>(kLabels[i]);
  auto ws = std::make_unique<FloatLogistic::Workspace>();
  auto evaluate = [&](const FloatLogistic::Params& q, FloatLogistic::Grads& g) {
    return FloatLogistic::train_step(q, *ws, x.data(), labels.data(), g, kRows);
  };
  auto p = std::make_unique<FloatLogistic::Params>();
  p->weight = {0, 0, 0};
  p->bias = {0};
  auto g = std::make_unique<FloatLogistic::Grads>();
  const double initial = evaluate(*p, *g);
  castnet::Lbfgs<FloatLogistic> lbfgs(lbfgs_config(1.0, 5));
  double loss = initial;
  for (int i = 0; i < 30; ++i) {
    const double next = lbfgs.step(*p, evaluate);
    CHECK(next <= loss);  // Armijo: never worse
    loss = next;
  }
  CHECK(loss < 0.8 * initial);
  // Near a minimum: the gradient is small.
  evaluate(*p, *g);
  for (float v : g->weight) CHECK(std::abs(v) < 1e-3f);
  CHECK(std::abs(g->bias[0]) < 1e-3f);
}
