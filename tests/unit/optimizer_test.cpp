// castnet::Optimizer against each kind's update rule written out by hand for three steps, on the
// hand-written linear model (double precision: the expected values use the same formulas and must
// agree to rounding), plus checkpoint state, a float model's rounding and a training sanity check.
#include <castnet/train/optimizer.hpp>

#include <catch2/catch.hpp>
#include <support/tiny_model.hpp>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using castnet::OptimizerConfig;
using Kind = OptimizerConfig::Kind;
using Form = OptimizerConfig::MomentumForm;
using Model = castnet_test::LinearModel<2, 1, castnet::Loss::mse, castnet::Init::glorot_uniform,
                                        double>;

constexpr std::size_t kValues = 3;  // fc.weight (2) then fc.bias (1)
using Values = std::array<double, kValues>;

struct State {
  std::unique_ptr<Model::Params> params = std::make_unique<Model::Params>();
  std::unique_ptr<Model::Grads> grads = std::make_unique<Model::Grads>();
};

void set(Model::Params& p, const Values& v) {
  p.weight = {v[0], v[1]};
  p.bias = {v[2]};
}
void set(Model::Grads& g, const Values& v) {
  g.weight = {v[0], v[1]};
  g.bias = {v[2]};
}
Values values(const Model::Params& p) { return {p.weight[0], p.weight[1], p.bias[0]}; }

// Gradients of three steps: signs and magnitudes vary so that a wrong rule cannot match by luck.
constexpr std::array<Values, 3> kGrads{{
    {0.5, -1.25, 2.0},
    {-0.75, 0.125, 1.5},
    {0.25, 3.0, -0.5},
}};
constexpr Values kStart{1.0, -2.0, 0.5};
// A different learning rate per step, as a schedule would pass.
constexpr std::array<double, 3> kLr{0.05, 0.04, 0.025};

OptimizerConfig config(Kind kind) {
  OptimizerConfig c;
  c.kind = kind;
  return c;
}

// Runs three steps with kGrads and kLr and compares each step's parameters with `expected`.
void check_steps(const OptimizerConfig& c, const std::array<Values, 3>& expected) {
  State s;
  set(*s.params, kStart);
  castnet::Optimizer<Model> opt(c);
  for (std::size_t step = 0; step < 3; ++step) {
    set(*s.grads, kGrads[step]);
    opt.step(*s.params, *s.grads, kLr[step]);
    const auto got = values(*s.params);
    for (std::size_t j = 0; j < kValues; ++j) {
      INFO(castnet::to_string(c.kind) << " step " << step + 1 << " value " << j);
      CHECK(got[j] == Approx(expected[step][j]).epsilon(1e-13).margin(1e-15));
    }
  }
  CHECK(opt.steps() == 3);
}

}  // namespace

TEST_CASE("optimizer: to_string names every kind and form", "[optimizer]") {
  CHECK(std::string(castnet::to_string(Kind::sgd)) == "sgd");
  CHECK(std::string(castnet::to_string(Kind::momentum)) == "momentum");
  CHECK(std::string(castnet::to_string(Kind::nesterov)) == "nesterov");
  CHECK(std::string(castnet::to_string(Kind::rmsprop)) == "rmsprop");
  CHECK(std::string(castnet::to_string(Kind::adam)) == "adam");
  CHECK(std::string(castnet::to_string(Kind::adamw)) == "adamw");
  CHECK(std::string(castnet::to_string(Kind::lbfgs)) == "lbfgs");
  CHECK(std::string(castnet::to_string(Form::torch)) == "torch");
  CHECK(std::string(castnet::to_string(Form::ema)) == "ema");
  CHECK(std::string(castnet::to_string(Form::classic)) == "classic");
}

TEST_CASE("optimizer: lbfgs is rejected (it is castnet::Lbfgs)", "[optimizer]") {
  CHECK_THROWS_AS(castnet::Optimizer<Model>(config(Kind::lbfgs)), castnet::Error);
}

TEST_CASE("optimizer: sgd is p -= lr * g with the step's lr", "[optimizer]") {
  std::array<Values, 3> expected;
  Values p = kStart;
  for (std::size_t t = 0; t < 3; ++t) {
    for (std::size_t j = 0; j < kValues; ++j) p[j] = p[j] - kLr[t] * kGrads[t][j];
    expected[t] = p;
  }
  check_steps(config(Kind::sgd), expected);
}

TEST_CASE("optimizer: momentum, form torch (v = g, then v = mu v + g, p -= lr v)",
          "[optimizer]") {
  const double mu = 0.9;
  std::array<Values, 3> expected;
  Values p = kStart, v{};
  for (std::size_t t = 0; t < 3; ++t) {
    for (std::size_t j = 0; j < kValues; ++j) {
      v[j] = t == 0 ? kGrads[t][j] : mu * v[j] + kGrads[t][j];
      p[j] = p[j] - kLr[t] * v[j];
    }
    expected[t] = p;
  }
  auto c = config(Kind::momentum);
  c.momentum = mu;
  check_steps(c, expected);
}

TEST_CASE("optimizer: momentum, form ema (v = b v + (1 - b) g from 0, p -= lr v)",
          "[optimizer]") {
  const double b = 0.8;
  std::array<Values, 3> expected;
  Values p = kStart, v{};
  for (std::size_t t = 0; t < 3; ++t) {
    for (std::size_t j = 0; j < kValues; ++j) {
      v[j] = b * v[j] + (1 - b) * kGrads[t][j];
      p[j] = p[j] - kLr[t] * v[j];
    }
    expected[t] = p;
  }
  auto c = config(Kind::momentum);
  c.momentum = b;
  c.form = Form::ema;
  check_steps(c, expected);
}

TEST_CASE("optimizer: momentum, form classic (v = m v - lr g from 0, p += v)", "[optimizer]") {
  const double m = 0.7;
  std::array<Values, 3> expected;
  Values p = kStart, v{};
  for (std::size_t t = 0; t < 3; ++t) {
    for (std::size_t j = 0; j < kValues; ++j) {
      v[j] = m * v[j] - kLr[t] * kGrads[t][j];
      p[j] = p[j] + v[j];
    }
    expected[t] = p;
  }
  auto c = config(Kind::momentum);
  c.momentum = m;
  c.form = Form::classic;
  check_steps(c, expected);
}

TEST_CASE("optimizer: the three momentum forms differ", "[optimizer]") {
  std::array<Values, 3> results;
  for (const Form f : {Form::torch, Form::ema, Form::classic}) {
    State s;
    set(*s.params, kStart);
    auto c = config(Kind::momentum);
    c.form = f;
    castnet::Optimizer<Model> opt(c);
    for (std::size_t t = 0; t < 3; ++t) {
      set(*s.grads, kGrads[t]);
      opt.step(*s.params, *s.grads, kLr[t]);
    }
    results[static_cast<std::size_t>(f)] = values(*s.params);
  }
  CHECK(results[0] != results[1]);
  CHECK(results[0] != results[2]);
  CHECK(results[1] != results[2]);
}

TEST_CASE("optimizer: momentum 0 (form torch) is plain sgd", "[optimizer]") {
  State a, b;
  set(*a.params, kStart);
  set(*b.params, kStart);
  auto c = config(Kind::momentum);
  c.momentum = 0.0;
  castnet::Optimizer<Model> sgd(config(Kind::sgd));
  castnet::Optimizer<Model> momentum(c);
  for (std::size_t t = 0; t < 3; ++t) {
    set(*a.grads, kGrads[t]);
    set(*b.grads, kGrads[t]);
    sgd.step(*a.params, *a.grads, kLr[t]);
    momentum.step(*b.params, *b.grads, kLr[t]);
  }
  CHECK(values(*a.params) == values(*b.params));
}

TEST_CASE("optimizer: nesterov (torch v, p -= lr (g + mu v))", "[optimizer]") {
  const double mu = 0.9;
  std::array<Values, 3> expected;
  Values p = kStart, v{};
  for (std::size_t t = 0; t < 3; ++t) {
    for (std::size_t j = 0; j < kValues; ++j) {
      v[j] = t == 0 ? kGrads[t][j] : mu * v[j] + kGrads[t][j];
      p[j] = p[j] - kLr[t] * (kGrads[t][j] + mu * v[j]);
    }
    expected[t] = p;
  }
  auto c = config(Kind::nesterov);
  c.momentum = mu;
  check_steps(c, expected);
}

TEST_CASE("optimizer: rmsprop (v = alpha v + (1 - alpha) g^2, p -= lr g / (sqrt v + eps))",
          "[optimizer]") {
  const double alpha = 0.9, eps = 1e-3;  // eps large enough to be visible
  std::array<Values, 3> expected;
  Values p = kStart, v{};
  for (std::size_t t = 0; t < 3; ++t) {
    for (std::size_t j = 0; j < kValues; ++j) {
      const double g = kGrads[t][j];
      v[j] = alpha * v[j] + (1 - alpha) * g * g;
      p[j] = p[j] - kLr[t] * g / (std::sqrt(v[j]) + eps);
    }
    expected[t] = p;
  }
  auto c = config(Kind::rmsprop);
  c.alpha = alpha;
  c.eps = eps;
  check_steps(c, expected);
}

namespace {

// Textbook Adam (Kingma & Ba): m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
// p -= lr m_hat / (sqrt(v_hat) + eps); torch arranges the same quantities differently.
std::array<Values, 3> textbook_adam(double b1, double b2, double eps, double wd) {
  std::array<Values, 3> expected;
  Values p = kStart, m{}, v{};
  for (std::size_t t = 0; t < 3; ++t) {
    const double step = static_cast<double>(t + 1);
    for (std::size_t j = 0; j < kValues; ++j) {
      const double g = kGrads[t][j];
      p[j] = p[j] * (1 - kLr[t] * wd);
      m[j] = b1 * m[j] + (1 - b1) * g;
      v[j] = b2 * v[j] + (1 - b2) * g * g;
      const double m_hat = m[j] / (1 - std::pow(b1, step));
      const double v_hat = v[j] / (1 - std::pow(b2, step));
      p[j] = p[j] - kLr[t] * m_hat / (std::sqrt(v_hat) + eps);
    }
    expected[t] = p;
  }
  return expected;
}

}  // namespace

TEST_CASE("optimizer: adam with bias correction at t = 1, 2, 3", "[optimizer]") {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  auto c = config(Kind::adam);
  c.beta1 = b1;
  c.beta2 = b2;
  c.eps = eps;
  check_steps(c, textbook_adam(b1, b2, eps, 0.0));

  SECTION("the first step moves every value by lr in the gradient's direction") {
    // Bias-corrected: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps).
    State s;
    set(*s.params, kStart);
    set(*s.grads, kGrads[0]);
    castnet::Optimizer<Model> opt(c);
    opt.step(*s.params, *s.grads, kLr[0]);
    const auto got = values(*s.params);
    for (std::size_t j = 0; j < kValues; ++j) {
      CHECK(got[j] == Approx(kStart[j] - kLr[0] * (kGrads[0][j] > 0 ? 1 : -1)).margin(1e-8));
    }
  }
  SECTION("different betas give the textbook values too") {
    auto c2 = c;
    c2.beta1 = 0.5;  // lerp weight 0.5: ATen's second branch
    c2.beta2 = 0.9;
    check_steps(c2, textbook_adam(0.5, 0.9, eps, 0.0));
    c2.beta1 = 0.3;
    check_steps(c2, textbook_adam(0.3, 0.9, eps, 0.0));
  }
}

TEST_CASE("optimizer: adamw is p *= (1 - lr wd), then adam", "[optimizer]") {
  auto c = config(Kind::adamw);
  c.weight_decay = 0.1;
  check_steps(c, textbook_adam(0.9, 0.999, 1e-8, 0.1));
}

TEST_CASE("optimizer: adamw and adam differ exactly by the decoupled decay", "[optimizer]") {
  SECTION("weight_decay 0: identical bits") {
    State a, w;
    set(*a.params, kStart);
    set(*w.params, kStart);
    auto cw = config(Kind::adamw);
    cw.weight_decay = 0.0;
    castnet::Optimizer<Model> adam(config(Kind::adam)), adamw(cw);
    for (std::size_t t = 0; t < 3; ++t) {
      set(*a.grads, kGrads[t]);
      set(*w.grads, kGrads[t]);
      adam.step(*a.params, *a.grads, kLr[t]);
      adamw.step(*w.params, *w.grads, kLr[t]);
      CHECK(values(*a.params) == values(*w.params));
    }
  }
  SECTION("weight_decay > 0: adamw = adam applied to the decayed parameters") {
    // m and v depend on the gradients only, so an adam optimizer fed the same gradients holds
    // the same moments; applying it to p * (1 - lr wd) must give adamw's result exactly.
    const double wd = 0.5;
    State w, a;
    set(*w.params, kStart);
    auto cw = config(Kind::adamw);
    cw.weight_decay = wd;
    castnet::Optimizer<Model> adam(config(Kind::adam)), adamw(cw);
    for (std::size_t t = 0; t < 3; ++t) {
      *a.params = *w.params;
      for (auto& x : a.params->weight) x = x * (1.0 - kLr[t] * wd);
      for (auto& x : a.params->bias) x = x * (1.0 - kLr[t] * wd);
      set(*a.grads, kGrads[t]);
      set(*w.grads, kGrads[t]);
      adam.step(*a.params, *a.grads, kLr[t]);
      adamw.step(*w.params, *w.grads, kLr[t]);
      CHECK(values(*a.params) == values(*w.params));
    }
  }
}

TEST_CASE("optimizer: state() names its buffers, and a restore continues bit-identically",
          "[optimizer]") {
  struct Case {
    OptimizerConfig config;
    std::vector<std::string> names;
  };
  auto c_momentum = config(Kind::momentum);
  auto c_ema = config(Kind::momentum);
  c_ema.form = Form::ema;
  auto c_classic = config(Kind::momentum);
  c_classic.form = Form::classic;
  const std::vector<Case> cases{
      {config(Kind::sgd), {}},
      {c_momentum, {"velocity"}},
      {c_ema, {"velocity"}},
      {c_classic, {"velocity"}},
      {config(Kind::nesterov), {"velocity"}},
      {config(Kind::rmsprop), {"rmsprop_v"}},
      {config(Kind::adam), {"adam_m", "adam_v"}},
      {config(Kind::adamw), {"adam_m", "adam_v"}},
  };
  for (const auto& k : cases) {
    INFO(castnet::to_string(k.config.kind) << " " << castnet::to_string(k.config.form));
    State a, b;
    set(*a.params, kStart);
    castnet::Optimizer<Model> first(k.config);
    for (std::size_t t = 0; t < 2; ++t) {
      set(*a.grads, kGrads[t]);
      first.step(*a.params, *a.grads, kLr[t]);
    }
    const auto saved = first.state();
    REQUIRE(saved.size() == k.names.size());
    for (std::size_t i = 0; i < saved.size(); ++i) CHECK(saved[i].first == k.names[i]);
    if (!saved.empty()) CHECK(values(*saved[0].second) != Values{});  // it holds something

    // A fresh optimizer, its buffers filled from the saved ones, then the step count.
    castnet::Optimizer<Model> second(k.config);
    auto restored = second.state();
    REQUIRE(restored.size() == saved.size());
    for (std::size_t i = 0; i < saved.size(); ++i) *restored[i].second = *saved[i].second;
    second.set_steps(first.steps());
    CHECK(second.steps() == 2);
    *b.params = *a.params;

    set(*a.grads, kGrads[2]);
    set(*b.grads, kGrads[2]);
    first.step(*a.params, *a.grads, kLr[2]);
    second.step(*b.params, *b.grads, kLr[2]);
    const auto pa = values(*a.params), pb = values(*b.params);
    CHECK(std::memcmp(pa.data(), pb.data(), sizeof(pa)) == 0);
  }
}

TEST_CASE("optimizer: a float model rounds lr to float, like torch", "[optimizer]") {
  using FloatModel = castnet_test::TinyModel;
  auto p = std::make_unique<FloatModel::Params>();
  auto g = std::make_unique<FloatModel::Grads>();
  p->weight = {1.0f, -2.0f};
  p->bias = {0.5f};
  g->weight = {0.3f, 0.7f};
  g->bias = {-0.1f};
  castnet::Optimizer<FloatModel> opt(config(Kind::sgd));
  opt.step(*p, *g, 0.1);
  // One ulp of slack: with FMA contraction p - lr * g may be computed with a single rounding.
  const float lr = 0.1f;
  CHECK_THAT(p->weight[0], Catch::Matchers::WithinULP(1.0f - lr * 0.3f, 1));
  CHECK_THAT(p->weight[1], Catch::Matchers::WithinULP(-2.0f - lr * 0.7f, 1));
  CHECK_THAT(p->bias[0], Catch::Matchers::WithinULP(0.5f - lr * -0.1f, 1));
}

TEST_CASE("optimizer: every kind fits a linear regression", "[optimizer]") {
  // y = 2 x0 - x1 + 0.5 on 8 points, full batch, from zero weights.
  using Reg = castnet_test::LinearModel<2, 1, castnet::Loss::mse, castnet::Init::zeros, double, 8>;
  const std::array<double, 16> x{0, 0, 1, 0, 0, 1, 1, 1, -1, 0.5, 0.5, -1, 2, -0.5, -1.5, 1};
  std::array<double, 8> y{};
  for (std::size_t r = 0; r < 8; ++r) y[r] = 2 * x[2 * r] - x[2 * r + 1] + 0.5;

  struct Case {
    OptimizerConfig config;
    int steps;
  };
  auto c = [](Kind kind, double lr, Form form = Form::torch) {
    OptimizerConfig o;
    o.kind = kind;
    o.lr = lr;
    o.form = form;
    return o;
  };
  const std::vector<Case> cases{
      {c(Kind::sgd, 0.1), 300},
      {c(Kind::momentum, 0.02), 300},
      {c(Kind::momentum, 0.2, Form::ema), 300},
      {c(Kind::momentum, 0.02, Form::classic), 300},
      {c(Kind::nesterov, 0.02), 300},
      {c(Kind::rmsprop, 0.01), 600},
      {c(Kind::adam, 0.05), 600},
      {c(Kind::adamw, 0.05), 600},
  };
  for (const auto& k : cases) {
    INFO(castnet::to_string(k.config.kind) << " " << castnet::to_string(k.config.form));
    auto p = std::make_unique<Reg::Params>();
    auto g = std::make_unique<Reg::Grads>();
    auto ws = std::make_unique<Reg::Workspace>();
    p->weight = {0, 0};
    p->bias = {0};
    castnet::Optimizer<Reg> opt(k.config);
    const double initial = Reg::train_step(*p, *ws, x.data(), y.data(), *g, 8);
    double loss = initial;
    for (int s = 0; s < k.steps; ++s) {
      loss = Reg::train_step(*p, *ws, x.data(), y.data(), *g, 8);
      opt.step(*p, *g, k.config.lr);
    }
    // AdamW's decay keeps it off the exact optimum; the others get close.
    CHECK(loss < 1e-2 * initial);
  }
}

TEST_CASE("optimizer: a step shared in parts (threads) equals the whole step, bit for bit", "[optimizer]") {
  auto c_ema = config(Kind::momentum);
  c_ema.form = Form::ema;
  auto c_classic = config(Kind::momentum);
  c_classic.form = Form::classic;
  for (const auto& c : {config(Kind::sgd), config(Kind::momentum), c_ema, c_classic, config(Kind::nesterov),
                        config(Kind::rmsprop), config(Kind::adam), config(Kind::adamw)}) {
    // 2 parts split fc.weight (2 values) in halves; 3 and 5 leave some parts of each tensor empty.
    for (const std::size_t parts : {2u, 3u, 5u}) {
      INFO(castnet::to_string(c.kind) << " " << castnet::to_string(c.form) << " in " << parts << " parts");
      State whole, shared;
      set(*whole.params, kStart);
      set(*shared.params, kStart);
      castnet::Optimizer<Model> a(c), b(c);
      for (std::size_t t = 0; t < 3; ++t) {
        set(*whole.grads, kGrads[t]);
        set(*shared.grads, kGrads[t]);
        a.step(*whole.params, *whole.grads, kLr[t]);
        for (std::size_t k = parts; k-- > 0;) b.update(*shared.params, *shared.grads, kLr[t], k, parts);  // any order
        b.finish_step();
      }
      CHECK(b.steps() == 3);
      const auto pa = values(*whole.params), pb = values(*shared.params);
      CHECK(std::memcmp(pa.data(), pb.data(), sizeof(pa)) == 0);
      CHECK(pa != kStart);
    }
  }
}
