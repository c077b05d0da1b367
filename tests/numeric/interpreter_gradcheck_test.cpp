// The reference interpreter checked against things that do not depend on it: central finite
// differences of its own loss (for every activation, fused and standalone, and every loss), and
// values worked out by hand. Everything else in castnet is judged against the interpreter, so these
// tests are what the judgement rests on. Graphs are built by hand, as the passes would fill them,
// so the interpreter is tested without the spec parser. Tolerances are owned by each activation
// (relative_tolerance below), and finite differences that straddle a kink are skipped, not failed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/interpreter.hpp"
#include "ir/graph.hpp"

using castnet::interp::Interpreter;
namespace ir = castnet::ir;

namespace {

// Every activation, taken from the IR's single list so that a new one is gradchecked automatically.
const std::vector<ir::Activation> kAllActivations = {
#define CASTNET_X(name) ir::Activation::name,
    CASTNET_ACTIVATIONS(CASTNET_X)
#undef CASTNET_X
};

const std::vector<ir::LossKind> kAllLosses = {ir::LossKind::mse, ir::LossKind::binary_cross_entropy,
                                              ir::LossKind::softmax_cross_entropy};

constexpr double kEps = 1e-6;

// Whether the activation's derivative jumps at z = 0, so that a finite difference across 0 is
// meaningless. No default: a new activation must say.
bool has_kink(ir::Activation a) {
  switch (a) {
    case ir::Activation::relu:
    case ir::Activation::leaky_relu:
    case ir::Activation::elu:
      return true;
    case ir::Activation::identity:
    case ir::Activation::gelu:
    case ir::Activation::silu:
    case ir::Activation::tanh:
    case ir::Activation::sigmoid:
    case ir::Activation::softplus:
    case ir::Activation::softmax:
      return false;
  }
  return true;
}

// The largest relative error allowed between the analytic gradient and a central difference with
// step kEps. Central differences err by O(eps^2 f''') plus O(1e-16 |L| / eps) of rounding, both
// far below these; piecewise ops keep the same limit because straddling estimates are skipped.
double relative_tolerance(ir::Activation a) {
  switch (a) {
    case ir::Activation::identity:
    case ir::Activation::relu:
    case ir::Activation::leaky_relu:
    case ir::Activation::elu:
    case ir::Activation::gelu:
    case ir::Activation::silu:
    case ir::Activation::tanh:
    case ir::Activation::sigmoid:
    case ir::Activation::softplus:
    case ir::Activation::softmax:
      return 1e-6;
  }
  return 0.0;
}

ir::ParamTensor tensor(const std::string& name, std::vector<std::size_t> shape) {
  ir::ParamTensor p;
  p.torch_name = name;
  p.size = 1;
  for (auto d : shape) p.size *= d;
  p.shape = std::move(shape);
  return p;
}

ir::ActivationSpec spec(ir::Activation a) { return {a, ir::default_alpha(a)}; }

ir::Layer dense(const std::string& name, std::size_t in, std::size_t out, ir::ActivationSpec act) {
  ir::Layer l;
  l.name = name;
  l.kind = ir::OpKind::dense;
  l.units = out;
  l.activation = act;
  l.in_features = in;
  l.out_features = out;
  l.params = {tensor(name + ".weight", {out, in}), tensor(name + ".bias", {out})};
  return l;
}

ir::Layer standalone(const std::string& name, std::size_t features, ir::ActivationSpec act) {
  ir::Layer l;
  l.name = name;
  l.kind = ir::OpKind::activation;
  l.activation = act;
  l.in_features = features;
  l.out_features = features;
  return l;
}

ir::Graph chain(std::size_t inputs, std::vector<ir::Layer> layers, ir::LossKind loss) {
  ir::Graph g;
  g.name = "net";
  g.input_shape = {inputs};
  g.layers = std::move(layers);
  g.loss.kind = loss;
  return g;
}

// The three places an activation can sit in a 3 -> 4 -> 2 net: fused into the hidden dense layer,
// as its own layer after it, and fused into the output layer that feeds the loss.
ir::Graph fused_hidden(ir::ActivationSpec act, ir::LossKind loss) {
  return chain(3, {dense("fc1", 3, 4, act), dense("fc2", 4, 2, spec(ir::Activation::identity))}, loss);
}
ir::Graph standalone_hidden(ir::ActivationSpec act, ir::LossKind loss) {
  return chain(3,
               {dense("fc1", 3, 4, spec(ir::Activation::identity)), standalone("act", 4, act),
                dense("fc2", 4, 2, spec(ir::Activation::identity))},
               loss);
}
ir::Graph fused_output(ir::ActivationSpec act, ir::LossKind loss) {
  return chain(3, {dense("fc1", 3, 4, spec(ir::Activation::tanh)), dense("fc2", 4, 2, act)}, loss);
}

std::vector<double> normal_values(std::size_t count, std::mt19937& rng) {
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

void randomize(Interpreter<double>& net, std::mt19937& rng) {
  for (auto& p : net.params()) p = normal_values(p.size(), rng);
}

// Targets of the right kind for the loss: class indices, probabilities, or any real values.
std::vector<double> random_targets(const ir::Graph& g, std::size_t n, std::mt19937& rng) {
  std::vector<double> t(n * g.targets_per_sample());
  switch (g.loss.kind) {
    case ir::LossKind::mse:
      t = normal_values(t.size(), rng);
      break;
    case ir::LossKind::binary_cross_entropy: {
      std::uniform_real_distribution<double> prob(0.0, 1.0);
      for (auto& v : t) v = prob(rng);
      break;
    }
    case ir::LossKind::softmax_cross_entropy: {
      std::uniform_int_distribution<std::size_t> cls(0, g.output_features() - 1);
      for (auto& v : t) v = static_cast<double>(cls(rng));
      break;
    }
  }
  return t;
}

// The pre-activations of every layer whose activation has a kink, computed by running the net up
// to that layer with the activation removed.
std::vector<double> kink_preactivations(const Interpreter<double>& net, const std::vector<double>& x,
                                        std::size_t n) {
  std::vector<double> z;
  const ir::Graph& g = net.graph();
  std::size_t tensors = 0;
  for (std::size_t k = 0; k < g.layers.size(); k++) {
    tensors += g.layers[k].params.size();
    if (!has_kink(g.layers[k].activation.kind)) continue;
    ir::Graph prefix = g;
    prefix.layers.resize(k + 1);
    prefix.layers[k].activation = spec(ir::Activation::identity);
    Interpreter<double> head(prefix);
    for (std::size_t p = 0; p < tensors; p++) head.params()[p] = net.params()[p];
    std::vector<double> out(n * g.layers[k].out_features);
    head.forward(x.data(), n, out.data());
    z.insert(z.end(), out.begin(), out.end());
  }
  return z;
}

// A difference quotient is only meaningful if no kinked pre-activation crosses, or comes within
// 10 eps of, zero between the two evaluations.
bool straddles_kink(const std::vector<double>& z_plus, const std::vector<double>& z_minus) {
  for (std::size_t i = 0; i < z_plus.size(); i++)
    if (std::abs(z_plus[i]) < 10 * kEps || std::abs(z_minus[i]) < 10 * kEps ||
        (z_plus[i] > 0) != (z_minus[i] > 0))
      return true;
  return false;
}

// Compares loss_and_grad's gradient for every parameter and input coordinate with a central
// difference of loss(), on 3 samples of random data drawn from seed.
void gradcheck(const ir::Graph& g, unsigned seed) {
  constexpr std::size_t n = 3;
  std::mt19937 rng(seed);
  Interpreter<double> net(g);
  randomize(net, rng);
  std::vector<double> x = normal_values(n * g.input_features(), rng);
  const std::vector<double> t = random_targets(g, n, rng);

  std::vector<std::vector<double>> grads;
  std::vector<double> dx(x.size());
  net.loss_and_grad(x.data(), t.data(), n, grads, dx.data());
  REQUIRE(grads.size() == net.params().size());

  double tol = 0;
  for (const auto& layer : g.layers) tol = std::max(tol, relative_tolerance(layer.activation.kind));

  std::size_t checked = 0, skipped = 0;
  // Perturbs value in place (a parameter or an input), so the net and x see it.
  auto check = [&](double& value, double analytic, const std::string& where) {
    const double saved = value;
    value = saved + kEps;
    const double loss_plus = net.loss(x.data(), t.data(), n);
    const std::vector<double> z_plus = kink_preactivations(net, x, n);
    value = saved - kEps;
    const double loss_minus = net.loss(x.data(), t.data(), n);
    const std::vector<double> z_minus = kink_preactivations(net, x, n);
    value = saved;
    if (straddles_kink(z_plus, z_minus)) {
      skipped++;
      return;
    }
    checked++;
    const double numeric = (loss_plus - loss_minus) / (2 * kEps);
    // Relative to the larger of the two, floored at 1e-2 because the difference quotient's rounding
    // error is absolute (about 1e-16 |L| / eps, 1e-10 here): gradients below the floor are held to
    // an absolute 1e-8 instead of a relative error that rounding alone would approach.
    const double scale = std::max({std::abs(analytic), std::abs(numeric), 1e-2});
    INFO(where << ": analytic " << analytic << ", finite difference " << numeric);
    CHECK(std::abs(analytic - numeric) / scale <= tol);
  };
  std::size_t p = 0;
  for (const auto& layer : g.layers)
    for (const auto& param : layer.params) {
      for (std::size_t i = 0; i < param.size; i++)
        check(net.params()[p][i], grads[p][i], param.torch_name + "[" + std::to_string(i) + "]");
      p++;
    }
  for (std::size_t i = 0; i < x.size(); i++) check(x[i], dx[i], "x[" + std::to_string(i) + "]");
  // Random data puts a pre-activation within 1e-5 of a kink very rarely; many skips mean a bug.
  CHECK(skipped * 10 <= checked);
}

// Runs gradcheck for every loss on the graphs make(act, loss) builds.
template <class Make>
void gradcheck_all_losses(ir::ActivationSpec act, Make make) {
  unsigned seed = 1000;
  for (ir::LossKind loss : kAllLosses) {
    INFO("activation " << ir::to_string(act.kind) << " (alpha " << act.alpha << "), loss "
                       << ir::to_string(loss));
    gradcheck(make(act, loss), seed++);
  }
}

// A net of one standalone activation over m features, to look at the activation alone.
Interpreter<double> single_activation(ir::ActivationSpec act, std::size_t m) {
  return Interpreter<double>(chain(m, {standalone("act", m, act)}, ir::LossKind::mse));
}

}  // namespace

TEST_CASE("interpreter: fused hidden activation gradients match finite differences") {
  for (ir::Activation a : kAllActivations) gradcheck_all_losses(spec(a), fused_hidden);
}

TEST_CASE("interpreter: standalone activation gradients match finite differences") {
  for (ir::Activation a : kAllActivations) gradcheck_all_losses(spec(a), standalone_hidden);
}

TEST_CASE("interpreter: output activation gradients match finite differences") {
  for (ir::Activation a : kAllActivations) gradcheck_all_losses(spec(a), fused_output);
}

TEST_CASE("interpreter: non-default activation parameters match finite differences") {
  const std::vector<ir::ActivationSpec> specs = {
      {ir::Activation::leaky_relu, 0.2}, {ir::Activation::elu, 0.7}, {ir::Activation::softplus, 2.5}};
  for (const auto& act : specs) {
    gradcheck_all_losses(act, fused_hidden);
    gradcheck_all_losses(act, standalone_hidden);
  }
}

TEST_CASE("interpreter: forward of a 2-2-1 sigmoid/tanh net matches hand computation") {
  ir::Graph g = chain(2,
                      {dense("fc1", 2, 2, spec(ir::Activation::sigmoid)),
                       dense("fc2", 2, 1, spec(ir::Activation::tanh))},
                      ir::LossKind::mse);
  Interpreter<double> net(g);
  net.params()[0] = {0.5, -0.25, 0.1, 0.2};  // fc1.weight [2, 2]
  net.params()[1] = {0.1, -0.1};             // fc1.bias
  net.params()[2] = {1.0, -1.0};             // fc2.weight [1, 2]
  net.params()[3] = {0.5};                   // fc2.bias
  const std::vector<double> x = {1.0, 2.0, -1.0, 0.5};
  std::vector<double> y(2);
  net.forward(x.data(), 2, y.data());
  // Sample 0: z1 = (0.5 - 0.5 + 0.1, 0.1 + 0.4 - 0.1) = (0.1, 0.4);
  //   a1 = (sigmoid(0.1), sigmoid(0.4)) = (0.52497918747894, 0.598687660112452);
  //   z2 = 0.52497918747894 - 0.598687660112452 + 0.5 = 0.426291527366488; y = tanh(z2).
  CHECK(y[0] == Approx(0.40221743255115033).epsilon(1e-12));
  // Sample 1: z1 = (-0.5 - 0.125 + 0.1, -0.1 + 0.1 - 0.1) = (-0.525, -0.1);
  //   a1 = (0.37168381170463377, 0.47502081252106); z2 = 0.3966629991835738; y = tanh(z2).
  CHECK(y[1] == Approx(0.3770900807920502).epsilon(1e-12));
}

TEST_CASE("interpreter: activation values match their closed forms") {
  struct Row {
    ir::ActivationSpec act;
    std::vector<double> z, a;
  };
  const double e = std::exp(1.0);
  // Expected values are the formulas evaluated by hand (erf, exp, log1p at these points).
  const std::vector<Row> rows = {
      {spec(ir::Activation::identity), {-1.5, 2.0}, {-1.5, 2.0}},
      {spec(ir::Activation::relu), {-1.5, 0.0, 2.0}, {0.0, 0.0, 2.0}},
      {spec(ir::Activation::leaky_relu), {-2.0, 3.0}, {-0.02, 3.0}},
      {spec(ir::Activation::elu), {-1.0, 3.0}, {-0.6321205588285577, 3.0}},
      {{ir::Activation::elu, 0.5}, {-2.0}, {-0.43233235838169365}},
      {spec(ir::Activation::gelu), {1.0, -1.0, 0.0}, {0.8413447460685429, -0.15865525393145707, 0.0}},
      {spec(ir::Activation::silu), {1.0, -2.0}, {0.7310585786300049, -0.2384058440442351}},
      {spec(ir::Activation::tanh), {0.5}, {0.46211715726000974}},
      {spec(ir::Activation::sigmoid), {0.5, 0.0}, {0.6224593312018546, 0.5}},
      // 19.5 is under torch's threshold of 20 and 25 is over it, where softplus returns z itself.
      {spec(ir::Activation::softplus), {1.0, 19.5, 25.0}, {1.3132616875182228, 19.500000003398267, 25.0}},
      {{ir::Activation::softplus, 2.0}, {0.5}, {0.6566308437591114}},
      {spec(ir::Activation::softmax), {0.0, 1.0}, {1 / (1 + e), e / (1 + e)}},
  };
  for (const auto& row : rows) {
    INFO(ir::to_string(row.act.kind) << " (alpha " << row.act.alpha << ")");
    const auto net = single_activation(row.act, row.z.size());
    std::vector<double> a(row.z.size());
    net.forward(row.z.data(), 1, a.data());
    for (std::size_t i = 0; i < a.size(); i++) CHECK(a[i] == Approx(row.a[i]).epsilon(1e-14));
  }
}

TEST_CASE("interpreter: derivatives at kinks and past softplus's threshold follow torch") {
  // dy = 1 everywhere, so dx is the derivative itself: relu'(0) = 0, leaky_relu'(0) = slope,
  // elu'(0) = alpha (torch's elu backward uses its negative branch at 0), softplus'(z) = 1 past
  // the threshold.
  struct Row {
    ir::ActivationSpec act;
    std::vector<double> z, derivative;
  };
  const std::vector<Row> rows = {
      {spec(ir::Activation::relu), {0.0, -1.0, 2.0}, {0.0, 0.0, 1.0}},
      {spec(ir::Activation::leaky_relu), {0.0, -1.0, 2.0}, {0.01, 0.01, 1.0}},
      {{ir::Activation::elu, 0.5}, {0.0, -1.0, 2.0}, {0.5, 0.5 * std::exp(-1.0), 1.0}},
      {spec(ir::Activation::softplus), {25.0, 0.0}, {1.0, 0.5}},
  };
  for (const auto& row : rows) {
    INFO(ir::to_string(row.act.kind));
    const auto net = single_activation(row.act, row.z.size());
    const std::vector<double> dy(row.z.size(), 1.0);
    std::vector<std::vector<double>> grads;
    std::vector<double> dx(row.z.size());
    net.backward(row.z.data(), dy.data(), 1, grads, dx.data());
    CHECK(grads.empty());
    for (std::size_t i = 0; i < dx.size(); i++) CHECK(dx[i] == Approx(row.derivative[i]).epsilon(1e-15));
  }
}

TEST_CASE("interpreter: softmax rows sum to one") {
  std::mt19937 rng(7);
  Interpreter<double> net(chain(3, {dense("fc", 3, 5, spec(ir::Activation::softmax))}, ir::LossKind::mse));
  randomize(net, rng);
  const std::vector<double> x = normal_values(4 * 3, rng);
  std::vector<double> y(4 * 5);
  net.forward(x.data(), 4, y.data());
  for (std::size_t s = 0; s < 4; s++) {
    double sum = 0;
    for (std::size_t j = 0; j < 5; j++) {
      CHECK(y[s * 5 + j] > 0.0);
      sum += y[s * 5 + j];
    }
    CHECK(sum == Approx(1.0).epsilon(1e-14));
  }
  // Huge logits must not overflow: the max is subtracted before exp.
  const auto wide = single_activation(spec(ir::Activation::softmax), 3);
  const std::vector<double> z = {1000.0, 0.0, -1000.0};
  std::vector<double> a(3);
  wide.forward(z.data(), 1, a.data());
  CHECK(a == std::vector<double>{1.0, 0.0, 0.0});
}

TEST_CASE("interpreter: loss values match hand computation") {
  // Each net is a single identity layer, so the loss reads the inputs as the network's outputs.
  auto identity_net = [](std::size_t m, ir::LossKind loss) {
    return Interpreter<double>(chain(m, {standalone("out", m, spec(ir::Activation::identity))}, loss));
  };
  SECTION("mse is the mean over all n * outputs squared errors") {
    const auto net = identity_net(2, ir::LossKind::mse);
    // Errors 1, -2, 0, -2: squares sum to 9, over 4 elements.
    const std::vector<double> y = {1.0, 2.0, 3.0, -1.0}, t = {0.0, 4.0, 3.0, 1.0};
    CHECK(net.loss(y.data(), t.data(), 2) == Approx(2.25).epsilon(1e-15));
  }
  SECTION("binary cross-entropy takes logits and averages over all elements") {
    const auto net = identity_net(2, ir::LossKind::binary_cross_entropy);
    // (-log sigmoid(0) - log(1 - sigmoid(2))) / 2 = (log 2 + log(1 + e^2)) / 2.
    const std::vector<double> y = {0.0, 2.0}, t = {1.0, 0.0};
    CHECK(net.loss(y.data(), t.data(), 1) == Approx(1.410037595801459).epsilon(1e-14));
    // Soft targets over 2 samples: per element log(1 + e^y) - t y, averaged over 4.
    const std::vector<double> y2 = {-3.0, 1.5, 0.5, 0.0}, t2 = {0.0, 1.0, 0.25, 0.5};
    CHECK(net.loss(y2.data(), t2.data(), 2) ==
          Approx((std::log1p(std::exp(-3.0)) + (std::log1p(std::exp(1.5)) - 1.5) +
                  (std::log1p(std::exp(0.5)) - 0.125) + std::log(2.0)) /
                 4)
              .epsilon(1e-14));
    // Logits of +-1000 on the wrong side cost 1000 each, not inf or nan.
    const std::vector<double> y3 = {1000.0, -1000.0}, t3 = {0.0, 1.0};
    CHECK(net.loss(y3.data(), t3.data(), 1) == Approx(1000.0).epsilon(1e-15));
  }
  SECTION("softmax cross-entropy takes logits and a class index, averaged over samples") {
    const auto net = identity_net(3, ir::LossKind::softmax_cross_entropy);
    // Sample 0: log(e + e^2 + e^3) - 3 = 0.40760596444438013; sample 1: log 3.
    const std::vector<double> y = {1.0, 2.0, 3.0, 0.0, 0.0, 0.0}, t = {2.0, 0.0};
    CHECK(net.loss(y.data(), t.data(), 2) == Approx(0.753109126556245).epsilon(1e-14));
    const std::vector<double> y2 = {1000.0, 0.0, 0.0}, t2 = {1.0};
    CHECK(net.loss(y2.data(), t2.data(), 1) == Approx(1000.0).epsilon(1e-15));
    const std::vector<double> out_of_range = {3.0}, fractional = {0.5};
    CHECK_THROWS_AS(net.loss(y2.data(), out_of_range.data(), 1), std::invalid_argument);
    CHECK_THROWS_AS(net.loss(y2.data(), fractional.data(), 1), std::invalid_argument);
  }
}

TEST_CASE("interpreter: backward from dLoss/dy reproduces loss_and_grad") {
  for (ir::LossKind loss : kAllLosses) {
    INFO(ir::to_string(loss));
    constexpr std::size_t n = 4, m = 2;
    std::mt19937 rng(11);
    const ir::Graph g = fused_hidden(spec(ir::Activation::tanh), loss);
    Interpreter<double> net(g);
    randomize(net, rng);
    const std::vector<double> x = normal_values(n * 3, rng);
    const std::vector<double> t = random_targets(g, n, rng);
    std::vector<double> y(n * m);
    net.forward(x.data(), n, y.data());

    // dLoss/dy written from the loss formulas, independently of the interpreter's loss code.
    std::vector<double> dy(n * m);
    for (std::size_t s = 0; s < n; s++) {
      const double sumexp = std::exp(y[s * m]) + std::exp(y[s * m + 1]);
      for (std::size_t j = 0; j < m; j++) {
        const double v = y[s * m + j];
        switch (loss) {
          case ir::LossKind::mse:
            dy[s * m + j] = 2 * (v - t[s * m + j]) / (n * m);
            break;
          case ir::LossKind::binary_cross_entropy:
            dy[s * m + j] = (1 / (1 + std::exp(-v)) - t[s * m + j]) / (n * m);
            break;
          case ir::LossKind::softmax_cross_entropy:
            dy[s * m + j] = (std::exp(v) / sumexp - (static_cast<std::size_t>(t[s]) == j ? 1.0 : 0.0)) / n;
            break;
        }
      }
    }

    std::vector<std::vector<double>> from_loss, from_dy;
    std::vector<double> dx_loss(x.size()), dx_dy(x.size());
    net.loss_and_grad(x.data(), t.data(), n, from_loss, dx_loss.data());
    net.backward(x.data(), dy.data(), n, from_dy, dx_dy.data());
    REQUIRE(from_dy.size() == from_loss.size());
    for (std::size_t p = 0; p < from_loss.size(); p++) {
      REQUIRE(from_dy[p].size() == from_loss[p].size());
      for (std::size_t i = 0; i < from_loss[p].size(); i++)
        CHECK(from_dy[p][i] == Approx(from_loss[p][i]).epsilon(1e-12).margin(1e-15));
    }
    for (std::size_t i = 0; i < x.size(); i++) CHECK(dx_dy[i] == Approx(dx_loss[i]).epsilon(1e-12).margin(1e-15));
  }
}

TEST_CASE("interpreter: float and double instantiations agree") {
  std::mt19937 rng(3);
  const ir::Graph g = standalone_hidden(spec(ir::Activation::gelu), ir::LossKind::softmax_cross_entropy);
  Interpreter<double> wide(g);
  Interpreter<float> narrow(g);
  randomize(wide, rng);
  for (std::size_t p = 0; p < wide.params().size(); p++)
    narrow.params()[p].assign(wide.params()[p].begin(), wide.params()[p].end());
  const std::vector<double> x = normal_values(2 * 3, rng), t = {0.0, 1.0};
  const std::vector<float> xf(x.begin(), x.end()), tf(t.begin(), t.end());
  std::vector<std::vector<double>> gd;
  std::vector<std::vector<float>> gf;
  const double ld = wide.loss_and_grad(x.data(), t.data(), 2, gd, nullptr);
  const float lf = narrow.loss_and_grad(xf.data(), tf.data(), 2, gf, nullptr);
  CHECK(lf == Approx(ld).epsilon(1e-5));
  for (std::size_t p = 0; p < gd.size(); p++)
    for (std::size_t i = 0; i < gd[p].size(); i++) CHECK(gf[p][i] == Approx(gd[p][i]).epsilon(1e-4).margin(1e-6));
}

TEST_CASE("interpreter: rejects graphs whose shapes or params do not chain") {
  ir::Graph g = fused_hidden(spec(ir::Activation::relu), ir::LossKind::mse);
  SECTION("a layer reading the wrong number of features") {
    g.layers[1].in_features = 5;
    g.layers[1].params = {tensor("fc2.weight", {2, 5}), tensor("fc2.bias", {2})};
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("a dense layer without its bias") {
    g.layers[0].params.pop_back();
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("a tensor whose size disagrees with its shape") {
    g.layers[0].params[0].size = 11;
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("a standalone activation that changes the width") {
    g = standalone_hidden(spec(ir::Activation::relu), ir::LossKind::mse);
    g.layers[1].out_features = 3;
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
}
