// The reference interpreter on DAGs and on the image layers (conv2d, maxpool2d, avgpool2d, flatten,
// add, concat, glu, prelu), checked against things that do not depend on it: central finite
// differences of its own loss for every parameter and input coordinate, and values worked out by
// hand. Graphs are built by hand as the passes would fill them (inputs, shapes, params), so the
// interpreter is tested without the spec parser. Activations here are smooth (tanh, identity) so no
// difference quotient straddles a kink; max pooling and prelu have kinks only where two window
// values tie or a value is 0, which random normal data misses by far more than the step.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <castnet/rng.hpp>

#include "reference/interpreter.hpp"
#include "ir/graph.hpp"

using Catch::Matchers::Contains;
using castnet::interp::Interpreter;
namespace ir = castnet::ir;

namespace {

constexpr std::size_t kIn = ir::kGraphInput;
constexpr double kEps = 1e-6;
constexpr double kTolerance = 1e-6;

ir::ParamTensor tensor(const std::string& name, std::vector<std::size_t> shape) {
  ir::ParamTensor p;
  p.torch_name = name;
  p.member = name;
  std::replace(p.member.begin(), p.member.end(), '.', '_');
  p.size = 1;
  for (auto d : shape) p.size *= d;
  p.shape = std::move(shape);
  return p;
}

ir::ActivationSpec act(ir::Activation a) { return {a, ir::default_alpha(a)}; }
const ir::ActivationSpec kIdentity = act(ir::Activation::identity);
const ir::ActivationSpec kTanh = act(ir::Activation::tanh);

// Builds a graph layer by layer, filling every field the interpreter reads as the passes would:
// inputs and their names, each input's shape (its producer's output shape), in_features (concat:
// the sum, add: one input's), out_shape and out_features, params.
struct Builder {
  ir::Graph g;

  explicit Builder(ir::Shape input) {
    g.name = "net";
    g.input_shape = std::move(input);
    g.loss.kind = ir::LossKind::mse;
  }

  ir::Shape shape_of(std::size_t j) const { return j == kIn ? g.input_shape : g.layers[j].out_shape; }

  std::size_t push(ir::Layer l, std::vector<std::size_t> inputs, ir::Shape out) {
    l.inputs = inputs;
    l.in_features = 0;
    for (auto j : inputs) {
      l.input_names.push_back(j == kIn ? "input" : g.layers[j].name);
      l.in_shapes.push_back(shape_of(j));
      if (l.kind == ir::OpKind::concat || l.in_features == 0) l.in_features += ir::elements(l.in_shapes.back());
    }
    l.out_features = ir::elements(out);
    l.out_shape = std::move(out);
    g.layers.push_back(std::move(l));
    return g.layers.size() - 1;
  }

  static ir::Layer named(ir::OpKind kind, const std::string& name) {
    ir::Layer l;
    l.kind = kind;
    l.name = name;
    return l;
  }

  std::size_t dense(const std::string& name, std::size_t in, std::size_t units, ir::ActivationSpec a) {
    ir::Layer l = named(ir::OpKind::dense, name);
    const std::size_t m = ir::elements(shape_of(in));
    l.units = units;
    l.activation = a;
    l.params = {tensor(name + ".weight", {units, m}), tensor(name + ".bias", {units})};
    return push(std::move(l), {in}, {units});
  }

  std::size_t conv(const std::string& name, std::size_t in, std::size_t filters, std::array<std::size_t, 2> kernel,
                   std::array<std::size_t, 2> stride, std::array<std::size_t, 2> padding, ir::ActivationSpec a) {
    ir::Layer l = named(ir::OpKind::conv2d, name);
    const ir::Shape s = shape_of(in);
    l.filters = filters;
    l.kernel = kernel;
    l.stride = stride;
    l.padding = padding;
    l.activation = a;
    l.params = {tensor(name + ".weight", {filters, s[0], kernel[0], kernel[1]}), tensor(name + ".bias", {filters})};
    const std::size_t oh = (s[1] + 2 * padding[0] - kernel[0]) / stride[0] + 1;
    const std::size_t ow = (s[2] + 2 * padding[1] - kernel[1]) / stride[1] + 1;
    return push(std::move(l), {in}, {filters, oh, ow});
  }

  std::size_t pool(ir::OpKind kind, const std::string& name, std::size_t in, std::array<std::size_t, 2> kernel,
                   std::array<std::size_t, 2> stride) {
    ir::Layer l = named(kind, name);
    const ir::Shape s = shape_of(in);
    l.kernel = kernel;
    l.stride = stride;
    const std::size_t oh = (s[1] - kernel[0]) / stride[0] + 1, ow = (s[2] - kernel[1]) / stride[1] + 1;
    return push(std::move(l), {in}, {s[0], oh, ow});
  }

  std::size_t flatten(const std::string& name, std::size_t in) {
    return push(named(ir::OpKind::flatten, name), {in}, {ir::elements(shape_of(in))});
  }

  std::size_t add(const std::string& name, std::vector<std::size_t> inputs) {
    const ir::Shape s = shape_of(inputs[0]);
    return push(named(ir::OpKind::add, name), std::move(inputs), s);
  }

  // Along channels when every input is [c, H, W] with the same H, W; else flat.
  std::size_t concat(const std::string& name, std::vector<std::size_t> inputs) {
    ir::Shape out = shape_of(inputs[0]);
    bool channels = out.size() == 3;
    std::size_t total = 0;
    for (std::size_t i = 0; i < inputs.size(); i++) {
      const ir::Shape s = shape_of(inputs[i]);
      total += ir::elements(s);
      if (i > 0) {
        channels = channels && s.size() == 3 && s[1] == out[1] && s[2] == out[2];
        if (channels) out[0] += s[0];
      }
    }
    return push(named(ir::OpKind::concat, name), std::move(inputs), channels ? out : ir::Shape{total});
  }

  std::size_t glu(const std::string& name, std::size_t in, std::size_t units) {
    ir::Layer l = named(ir::OpKind::glu, name);
    const std::size_t m = ir::elements(shape_of(in));
    l.units = units;
    l.params = {tensor(name + ".weight", {2 * units, m}), tensor(name + ".bias", {2 * units})};
    return push(std::move(l), {in}, {units});
  }

  std::size_t prelu(const std::string& name, std::size_t in) {
    ir::Layer l = named(ir::OpKind::prelu, name);
    const ir::Shape s = shape_of(in);
    l.params = {tensor(name + ".weight", {s[0]})};
    return push(std::move(l), {in}, s);
  }
};

std::vector<double> normal_values(std::size_t count, std::mt19937& rng, double scale = 1.0) {
  std::normal_distribution<double> dist(0.0, scale);
  std::vector<double> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Compares loss_and_grad's gradient (mse loss) for every parameter and input coordinate with a
// central difference of loss(), on n samples of random data drawn from seed. Returns how many
// coordinates were checked.
std::size_t gradcheck(const ir::Graph& g, unsigned seed, std::size_t n = 3) {
  std::mt19937 rng(seed);
  Interpreter<double> net(g);
  for (auto& p : net.params()) p = normal_values(p.size(), rng, 0.5);
  std::vector<double> x = normal_values(n * g.input_features(), rng);
  const std::vector<double> t = normal_values(n * g.targets_per_sample(), rng);

  std::vector<std::vector<double>> grads;
  std::vector<double> dx(x.size());
  net.loss_and_grad(x.data(), t.data(), n, grads, dx.data());
  REQUIRE(grads.size() == net.params().size());

  std::size_t checked = 0;
  auto check = [&](double& value, double analytic, const std::string& where) {
    const double saved = value;
    value = saved + kEps;
    const double loss_plus = net.loss(x.data(), t.data(), n);
    value = saved - kEps;
    const double loss_minus = net.loss(x.data(), t.data(), n);
    value = saved;
    const double numeric = (loss_plus - loss_minus) / (2 * kEps);
    // As in interpreter_gradcheck_test.cpp: relative, floored at 1e-2 for rounding's absolute error.
    const double scale = std::max({std::abs(analytic), std::abs(numeric), 1e-2});
    INFO(where << ": analytic " << analytic << ", finite difference " << numeric);
    CHECK(std::abs(analytic - numeric) / scale <= kTolerance);
    checked++;
  };
  std::size_t p = 0;
  for (const auto& layer : g.layers)
    for (const auto& param : layer.params) {
      REQUIRE(grads[p].size() == param.size);
      for (std::size_t i = 0; i < param.size; i++)
        check(net.params()[p][i], grads[p][i], param.torch_name + "[" + std::to_string(i) + "]");
      p++;
    }
  for (std::size_t i = 0; i < x.size(); i++) check(x[i], dx[i], "x[" + std::to_string(i) + "]");
  return checked;
}

// An interpreter of g whose tensors are the given values, in order.
Interpreter<double> with_params(const ir::Graph& g, const std::vector<std::vector<double>>& values) {
  Interpreter<double> net(g);
  REQUIRE(net.params().size() == values.size());
  for (std::size_t p = 0; p < values.size(); p++) {
    REQUIRE(net.params()[p].size() == values[p].size());
    net.params()[p] = values[p];
  }
  return net;
}

std::vector<double> run(const Interpreter<double>& net, const std::vector<double>& x, std::size_t n = 1) {
  std::vector<double> y(n * net.graph().output_features());
  net.forward(x.data(), n, y.data());
  return y;
}

// dLoss/dx for dLoss/dy = dy.
std::vector<double> input_gradient(const Interpreter<double>& net, const std::vector<double>& x,
                                   const std::vector<double>& dy, std::size_t n = 1) {
  std::vector<std::vector<double>> grads;
  std::vector<double> dx(x.size());
  net.backward(x.data(), dy.data(), n, grads, dx.data());
  return dx;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Gradients against finite differences

TEST_CASE("interpreter graph: conv2d, padding 1, stride 1, fused tanh") {
  Builder b({2, 4, 4});
  b.conv("conv", kIn, 3, {3, 3}, {1, 1}, {1, 1}, kTanh);
  REQUIRE(b.g.layers[0].out_shape == ir::Shape{3, 4, 4});
  CHECK(gradcheck(b.g, 1) == 3 * 2 * 9 + 3 + 3 * 32);
}

TEST_CASE("interpreter graph: conv2d, stride 2, padding 2, non-square kernel 2x3") {
  Builder b({2, 5, 6});
  b.conv("conv", kIn, 2, {2, 3}, {2, 2}, {2, 2}, kIdentity);
  // OH = (5 + 4 - 2) / 2 + 1 = 4, OW = (6 + 4 - 3) / 2 + 1 = 4 (floor).
  REQUIRE(b.g.layers[0].out_shape == ir::Shape{2, 4, 4});
  gradcheck(b.g, 2);
}

TEST_CASE("interpreter graph: conv2d, unequal strides and paddings, then a second conv") {
  Builder b({3, 5, 5});
  const auto c1 = b.conv("c1", kIn, 2, {3, 2}, {1, 2}, {0, 1}, kTanh);
  REQUIRE(b.g.layers[c1].out_shape == ir::Shape{2, 3, 3});
  b.conv("c2", c1, 2, {2, 2}, {1, 1}, {0, 0}, kIdentity);
  gradcheck(b.g, 3);
}

TEST_CASE("interpreter graph: maxpool2d 2x2 stride 2 after a conv") {
  Builder b({2, 4, 4});
  const auto c = b.conv("conv", kIn, 2, {3, 3}, {1, 1}, {1, 1}, kTanh);
  b.pool(ir::OpKind::maxpool2d, "pool", c, {2, 2}, {2, 2});
  REQUIRE(b.g.layers[1].out_shape == ir::Shape{2, 2, 2});
  gradcheck(b.g, 4);
}

TEST_CASE("interpreter graph: maxpool2d 3x3 stride 2 (overlapping windows, floor)") {
  Builder b({2, 6, 7});
  b.pool(ir::OpKind::maxpool2d, "pool", kIn, {3, 3}, {2, 2});
  // OH = (6 - 3) / 2 + 1 = 2, OW = (7 - 3) / 2 + 1 = 3.
  REQUIRE(b.g.layers[0].out_shape == ir::Shape{2, 2, 3});
  gradcheck(b.g, 5);
}

TEST_CASE("interpreter graph: avgpool2d, square and not, overlapping") {
  SECTION("2x2 stride 2 after a conv") {
    Builder b({2, 4, 4});
    const auto c = b.conv("conv", kIn, 3, {3, 3}, {1, 1}, {1, 1}, kTanh);
    b.pool(ir::OpKind::avgpool2d, "pool", c, {2, 2}, {2, 2});
    gradcheck(b.g, 6);
  }
  SECTION("3x2 stride (1, 2)") {
    Builder b({2, 5, 5});
    b.pool(ir::OpKind::avgpool2d, "pool", kIn, {3, 2}, {1, 2});
    REQUIRE(b.g.layers[0].out_shape == ir::Shape{2, 3, 2});
    gradcheck(b.g, 7);
  }
}

TEST_CASE("interpreter graph: conv, pool, flatten, dense") {
  Builder b({1, 6, 6});
  const auto c = b.conv("conv", kIn, 2, {3, 3}, {1, 1}, {0, 0}, kTanh);
  const auto p = b.pool(ir::OpKind::maxpool2d, "pool", c, {2, 2}, {2, 2});
  const auto f = b.flatten("flat", p);
  REQUIRE(b.g.layers[f].out_shape == ir::Shape{8});
  const auto h = b.dense("fc1", f, 4, kTanh);
  b.dense("fc2", h, 2, kIdentity);
  gradcheck(b.g, 8);
}

TEST_CASE("interpreter graph: residual add, a layer feeding two consumers") {
  // x -> a -> b; out = add(a, b): a's gradient is b's backward plus add's.
  Builder b({4});
  const auto a = b.dense("a", kIn, 3, kTanh);
  const auto bb = b.dense("b", a, 3, kTanh);
  b.add("sum", {a, bb});
  gradcheck(b.g, 9);
}

TEST_CASE("interpreter graph: one layer read by three, add of three inputs") {
  Builder b({3});
  const auto h = b.dense("h", kIn, 4, kTanh);
  const auto p = b.dense("p", h, 2, kTanh);
  const auto q = b.dense("q", h, 2, kIdentity);
  const auto r = b.dense("r", h, 2, kTanh);
  b.add("sum", {p, q, r});
  gradcheck(b.g, 10);
}

TEST_CASE("interpreter graph: the network input read by two layers, dx summed") {
  Builder b({5});
  const auto a = b.dense("a", kIn, 3, kTanh);
  const auto c = b.dense("c", kIn, 3, kIdentity);
  b.add("sum", {a, c});
  gradcheck(b.g, 11);
}

TEST_CASE("interpreter graph: add reading the same layer twice") {
  Builder b({3});
  const auto a = b.dense("a", kIn, 2, kTanh);
  b.add("twice", {a, a});
  gradcheck(b.g, 12);
}

TEST_CASE("interpreter graph: concat of conv outputs along channels, input read by both") {
  Builder b({2, 4, 4});
  const auto c1 = b.conv("c1", kIn, 2, {3, 3}, {1, 1}, {1, 1}, kTanh);
  const auto c2 = b.conv("c2", kIn, 3, {1, 1}, {1, 1}, {0, 0}, kTanh);
  const auto cat = b.concat("cat", {c1, c2});
  REQUIRE(b.g.layers[cat].out_shape == ir::Shape{5, 4, 4});
  REQUIRE(b.g.layers[cat].in_features == 80);
  b.conv("c3", cat, 2, {3, 3}, {1, 1}, {0, 0}, kIdentity);
  gradcheck(b.g, 13);
}

TEST_CASE("interpreter graph: concat of flat values, one of them the input") {
  Builder b({3});
  const auto a = b.dense("a", kIn, 2, kTanh);
  const auto cat = b.concat("cat", {a, kIn, a});
  REQUIRE(b.g.layers[cat].out_features == 7);
  b.dense("out", cat, 2, kIdentity);
  gradcheck(b.g, 14);
}

TEST_CASE("interpreter graph: glu") {
  SECTION("alone") {
    Builder b({5});
    b.glu("glu", kIn, 3);
    gradcheck(b.g, 15);
  }
  SECTION("between dense layers, after a flatten") {
    Builder b({2, 2, 2});
    const auto f = b.flatten("flat", kIn);
    const auto g = b.glu("glu", f, 4);
    b.dense("out", g, 2, kIdentity);
    gradcheck(b.g, 16);
  }
}

TEST_CASE("interpreter graph: prelu on flat and on [C, H, W] inputs") {
  SECTION("flat: one slope per feature") {
    Builder b({4});
    const auto h = b.dense("h", kIn, 5, kIdentity);
    const auto p = b.prelu("act", h);
    REQUIRE(b.g.layers[p].params[0].shape == std::vector<std::size_t>{5});
    b.dense("out", p, 2, kIdentity);
    gradcheck(b.g, 17);
  }
  SECTION("[C, H, W]: one slope per channel") {
    Builder b({2, 3, 3});
    const auto c = b.conv("conv", kIn, 3, {3, 3}, {1, 1}, {1, 1}, kIdentity);
    const auto p = b.prelu("act", c);
    REQUIRE(b.g.layers[p].params[0].shape == std::vector<std::size_t>{3});
    gradcheck(b.g, 18);
  }
  SECTION("directly on the network input") {
    Builder b({3, 2, 2});
    b.prelu("act", kIn);
    gradcheck(b.g, 19);
  }
}

TEST_CASE("interpreter graph: a small inception-like block") {
  // Two branches of different kinds over one input, joined by concat, then pooled and added to a
  // shortcut: every kind in one graph, several values read twice.
  Builder b({2, 4, 4});
  const auto c1 = b.conv("c1", kIn, 2, {3, 3}, {1, 1}, {1, 1}, kTanh);
  const auto p1 = b.pool(ir::OpKind::maxpool2d, "p1", kIn, {3, 3}, {1, 1});
  const auto up = b.conv("up", p1, 2, {3, 3}, {1, 1}, {2, 2}, kTanh);  // back to 4x4
  const auto cat = b.concat("cat", {c1, up});
  const auto pr = b.prelu("pr", cat);
  const auto avg = b.pool(ir::OpKind::avgpool2d, "avg", pr, {2, 2}, {2, 2});
  const auto short_cut = b.conv("short", kIn, 4, {2, 2}, {2, 2}, {0, 0}, kIdentity);
  const auto sum = b.add("sum", {avg, short_cut});
  const auto flat = b.flatten("flat", sum);
  b.glu("glu", flat, 3);
  gradcheck(b.g, 20, 2);
}

// ---------------------------------------------------------------------------------------------
// Values by hand

TEST_CASE("interpreter graph: conv2d forward values") {
  // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], w = [[1, 2], [3, 4]], bias 0.5.
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  SECTION("stride 1, no padding") {
    Builder b({1, 3, 3});
    b.conv("conv", kIn, 1, {2, 2}, {1, 1}, {0, 0}, kIdentity);
    const auto net = with_params(b.g, {{1, 2, 3, 4}, {0.5}});
    // 1+4+12+20, 2+6+15+24, 4+10+21+32, 5+12+24+36, each + 0.5.
    CHECK(run(net, x) == std::vector<double>{37.5, 47.5, 67.5, 77.5});
  }
  SECTION("stride 2, padding 1") {
    Builder b({1, 3, 3});
    b.conv("conv", kIn, 1, {2, 2}, {2, 2}, {1, 1}, kIdentity);
    const auto net = with_params(b.g, {{1, 2, 3, 4}, {0.5}});
    // (0,0): only x[0][0] w[1][1] = 4; (0,1): x[0][1] w[1][0] + x[0][2] w[1][1] = 6 + 12;
    // (1,0): x[1][0] w[0][1] + x[2][0] w[1][1] = 8 + 28; (1,1): 5 + 12 + 24 + 36.
    CHECK(run(net, x) == std::vector<double>{4.5, 18.5, 36.5, 77.5});
  }
  SECTION("weight layout [F, C, KH, KW] with two channels and two filters, fused tanh") {
    Builder b({2, 2, 2});
    b.conv("conv", kIn, 2, {1, 1}, {1, 1}, {0, 0}, kTanh);
    // w[f][c] = [[0.1, 0.2], [0.3, -0.4]], bias [0, 0.1]: y[0] = 0.1 x0 + 0.2 x1, y[1] = 0.3 x0 - 0.4 x1 + 0.1.
    const auto net = with_params(b.g, {{0.1, 0.2, 0.3, -0.4}, {0.0, 0.1}});
    const std::vector<double> xin = {1, 2, 3, 4, 0.5, 1, 1.5, 2};
    const std::vector<double> y = run(net, xin);
    for (std::size_t p = 0; p < 4; p++) {
      CHECK(y[p] == Approx(std::tanh(0.1 * xin[p] + 0.2 * xin[4 + p])).epsilon(1e-15));
      CHECK(y[4 + p] == Approx(std::tanh(0.3 * xin[p] - 0.4 * xin[4 + p] + 0.1)).epsilon(1e-15));
    }
  }
}

TEST_CASE("interpreter graph: pooling forward values") {
  const std::vector<double> x = {1, 5, 2, 0,  //
                                 3, 4, 8, 7,  //
                                 9, 1, 2, 2,  //
                                 0, 6, 3, 1};
  SECTION("maxpool 2x2 stride 2") {
    Builder b({1, 4, 4});
    b.pool(ir::OpKind::maxpool2d, "pool", kIn, {2, 2}, {2, 2});
    CHECK(run(Interpreter<double>(b.g), x) == std::vector<double>{5, 8, 9, 3});
  }
  SECTION("maxpool 3x3 stride 1") {
    Builder b({1, 4, 4});
    b.pool(ir::OpKind::maxpool2d, "pool", kIn, {3, 3}, {1, 1});
    CHECK(run(Interpreter<double>(b.g), x) == std::vector<double>{9, 8, 9, 8});
  }
  SECTION("avgpool 2x2 stride 2") {
    Builder b({1, 4, 4});
    b.pool(ir::OpKind::avgpool2d, "pool", kIn, {2, 2}, {2, 2});
    CHECK(run(Interpreter<double>(b.g), x) == std::vector<double>{13.0 / 4, 17.0 / 4, 16.0 / 4, 8.0 / 4});
  }
  SECTION("two samples, two channels") {
    Builder b({2, 2, 2});
    b.pool(ir::OpKind::maxpool2d, "pool", kIn, {2, 2}, {1, 1});
    const std::vector<double> xs = {1, -2, 3, 0, -5, -1, -3, -4, 7, 7, 7, 8, 0, 0, 0, 0};
    CHECK(run(Interpreter<double>(b.g), xs, 2) == std::vector<double>{3, -1, 8, 0});
  }
}

TEST_CASE("interpreter graph: maxpool backward routes to the first maximum, overlaps add") {
  SECTION("all equal: the first value of the window") {
    Builder b({1, 2, 2});
    b.pool(ir::OpKind::maxpool2d, "pool", kIn, {2, 2}, {2, 2});
    const Interpreter<double> net(b.g);
    CHECK(input_gradient(net, {2, 2, 2, 2}, {1.5}) == std::vector<double>{1.5, 0, 0, 0});
  }
  SECTION("a tie after the first position: the earlier in row-major order") {
    Builder b({1, 2, 2});
    b.pool(ir::OpKind::maxpool2d, "pool", kIn, {2, 2}, {2, 2});
    const Interpreter<double> net(b.g);
    CHECK(input_gradient(net, {1, 3, 3, 0}, {1.0}) == std::vector<double>{0, 1, 0, 0});
    CHECK(input_gradient(net, {1, 0, 3, 3}, {1.0}) == std::vector<double>{0, 0, 1, 0});
  }
  SECTION("overlapping windows all picking the centre") {
    Builder b({1, 3, 3});
    b.pool(ir::OpKind::maxpool2d, "pool", kIn, {2, 2}, {1, 1});
    const Interpreter<double> net(b.g);
    const std::vector<double> dx = input_gradient(net, {0, 1, 0, 1, 9, 1, 0, 1, 0}, {1, 2, 3, 4});
    CHECK(dx == std::vector<double>{0, 0, 0, 0, 10, 0, 0, 0, 0});
  }
  SECTION("avgpool spreads dy / (KH KW), overlaps add") {
    Builder b({1, 3, 3});
    b.pool(ir::OpKind::avgpool2d, "pool", kIn, {2, 2}, {1, 1});
    const Interpreter<double> net(b.g);
    const std::vector<double> dx = input_gradient(net, std::vector<double>(9, 0.0), {4, 8, 12, 16});
    CHECK(dx == std::vector<double>{1, 3, 2, 4, 10, 6, 3, 7, 4});
  }
}

TEST_CASE("interpreter graph: concat, add, flatten, glu and prelu forward values") {
  SECTION("concat along channels puts each input's channels in inputs order") {
    Builder b({1, 1, 2});
    const auto a = b.prelu("a", kIn);  // slope 2: doubles negatives only
    const auto cat = b.concat("cat", {kIn, a, kIn});
    REQUIRE(b.g.layers[cat].out_shape == ir::Shape{3, 1, 2});
    const auto net = with_params(b.g, {{2.0}});
    CHECK(run(net, {-1, 3}) == std::vector<double>{-1, 3, -2, 3, -1, 3});
  }
  SECTION("add sums, flatten keeps the values") {
    Builder b({2, 1, 2});
    const auto s = b.add("sum", {kIn, kIn, kIn});
    b.flatten("flat", s);
    CHECK(run(Interpreter<double>(b.g), {1, 2, 3, 4}) == std::vector<double>{3, 6, 9, 12});
  }
  SECTION("glu: first half value, second half gate") {
    Builder b({1});
    b.glu("glu", kIn, 2);
    // h = W x + b with W = [1, 2, 0, -1], b = [0, 0, 0.5, 0]: x = 3 gives h = (3, 6, 0.5, -3).
    const auto net = with_params(b.g, {{1, 2, 0, -1}, {0, 0, 0.5, 0}});
    const std::vector<double> y = run(net, {3});
    CHECK(y[0] == Approx(3 / (1 + std::exp(-0.5))).epsilon(1e-15));
    CHECK(y[1] == Approx(6 / (1 + std::exp(3.0))).epsilon(1e-15));
  }
  SECTION("prelu: one slope per channel of [C, H, W]") {
    Builder b({2, 1, 2});
    b.prelu("act", kIn);
    const auto net = with_params(b.g, {{0.25, -1.0}});
    CHECK(run(net, {-4, 1, -2, 0}) == std::vector<double>{-1, 1, 2, 0});
    // dw[c] sums dy x over the values with x <= 0; dx = dy or w[c] dy.
    std::vector<std::vector<double>> grads;
    std::vector<double> dx(4);
    const std::vector<double> x = {-4, 1, -2, 0}, dy = {1, 1, 3, 5};
    net.backward(x.data(), dy.data(), 1, grads, dx.data());
    CHECK(grads[0] == std::vector<double>{-4, -6});
    CHECK(dx == std::vector<double>{0.25, 1, -3, -5});
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

TEST_CASE("interpreter graph: empty inputs mean the previous layer, explicit indices agree") {
  Builder b({3});
  const auto h = b.dense("h", kIn, 4, kTanh);
  b.dense("out", h, 2, kIdentity);
  ir::Graph implicit = b.g;
  for (auto& l : implicit.layers) {
    l.inputs.clear();
    l.input_names.clear();
    l.in_shapes.clear();
    l.out_shape.clear();
  }
  std::mt19937 rng(21);
  Interpreter<double> explicit_net(b.g), implicit_net(implicit);
  for (std::size_t p = 0; p < explicit_net.params().size(); p++)
    implicit_net.params()[p] = explicit_net.params()[p] = normal_values(explicit_net.params()[p].size(), rng);
  const std::vector<double> x = normal_values(6, rng);
  CHECK(run(explicit_net, x, 2) == run(implicit_net, x, 2));
}

TEST_CASE("interpreter graph: dropout in a DAG uses its own layer index for the mask") {
  // Layer 2 is a dropout that reads layer 0 (not its predecessor); layer 1 reads the input and
  // nothing reads it. With dy = 1 and identity layers, dx is the mask of layer 2.
  Builder b({64});
  ir::Layer id = Builder::named(ir::OpKind::activation, "id");
  const auto a = b.push(id, {kIn}, {64});
  id.name = "unused";
  b.push(id, {kIn}, {64});
  ir::Layer drop = Builder::named(ir::OpKind::dropout, "drop");
  drop.rate = 0.5;
  b.push(drop, {a}, {64});
  const Interpreter<double> net(b.g);
  const std::vector<double> x(64, 1.0), dy(64, 1.0);
  std::vector<std::vector<double>> grads;
  std::vector<double> dx(64);
  constexpr std::uint64_t key = 12345;
  net.backward(x.data(), dy.data(), 1, grads, dx.data(), key);
  const std::uint64_t base = castnet::rng::dropout_base(key, 2);
  const std::uint32_t threshold = castnet::rng::dropout_threshold(0.5);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < 64; i++) {
    const bool keep = castnet::rng::dropout_keep(base, i, threshold);
    kept += keep;
    CHECK(dx[i] == (keep ? 2.0 : 0.0));
  }
  CHECK(kept > 0);
  CHECK(kept < 64);
}

TEST_CASE("interpreter graph: float and double agree on a conv net") {
  Builder b({2, 5, 5});
  const auto c = b.conv("conv", kIn, 3, {3, 3}, {2, 2}, {1, 1}, kTanh);
  const auto p = b.pool(ir::OpKind::maxpool2d, "pool", c, {2, 2}, {1, 1});
  const auto f = b.flatten("flat", p);
  b.dense("out", f, 2, kIdentity);
  std::mt19937 rng(22);
  Interpreter<double> wide(b.g);
  Interpreter<float> narrow(b.g);
  for (std::size_t i = 0; i < wide.params().size(); i++) {
    wide.params()[i] = normal_values(wide.params()[i].size(), rng, 0.5);
    narrow.params()[i].assign(wide.params()[i].begin(), wide.params()[i].end());
  }
  const std::vector<double> x = normal_values(2 * 50, rng), t = normal_values(4, rng);
  const std::vector<float> xf(x.begin(), x.end()), tf(t.begin(), t.end());
  std::vector<std::vector<double>> gd;
  std::vector<std::vector<float>> gf;
  const double ld = wide.loss_and_grad(x.data(), t.data(), 2, gd, nullptr);
  const float lf = narrow.loss_and_grad(xf.data(), tf.data(), 2, gf, nullptr);
  CHECK(lf == Approx(ld).epsilon(1e-5));
  for (std::size_t q = 0; q < gd.size(); q++)
    for (std::size_t i = 0; i < gd[q].size(); i++) CHECK(gf[q][i] == Approx(gd[q][i]).epsilon(1e-4).margin(1e-5));
}

// ---------------------------------------------------------------------------------------------
// Constructor errors

TEST_CASE("interpreter graph: rejects malformed layers") {
  Builder b({2, 4, 5});
  b.conv("conv", kIn, 3, {2, 3}, {1, 1}, {0, 0}, kIdentity);
  ir::Graph g = b.g;
  ir::Layer& conv = g.layers[0];
  SECTION("the well-formed conv is accepted") { CHECK_NOTHROW(Interpreter<double>(g)); }
  SECTION("conv weight with kernel height and width swapped") {
    conv.params[0] = tensor("conv.weight", {3, 2, 3, 2});
    CHECK_THROWS_WITH(Interpreter<double>(g), Contains("weight [F, C, KH, KW] = [3, 2, 2, 3]"));
  }
  SECTION("conv weight with the wrong number of channels") {
    conv.params[0] = tensor("conv.weight", {3, 1, 2, 3});
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("conv weight of rank 2") {
    conv.params[0] = tensor("conv.weight", {3, 12});
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("conv bias of the wrong size") {
    conv.params[1] = tensor("conv.bias", {2});
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("conv without a bias") {
    conv.params.pop_back();
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("conv on a flat input") {
    g.input_shape = {40};
    conv.in_shapes = {{40}};
    CHECK_THROWS_WITH(Interpreter<double>(g), Contains("[C, H, W]"));
  }
  SECTION("conv whose out_shape disagrees with the formula") {
    conv.out_shape = {3, 3, 4};
    conv.out_features = 36;
    CHECK_THROWS_WITH(Interpreter<double>(g), Contains("formula gives [3, 3, 3]"));
  }
  SECTION("conv whose kernel does not fit") {
    conv.kernel = {5, 3};
    conv.params[0] = tensor("conv.weight", {3, 2, 5, 3});
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("conv with stride 0") {
    conv.stride = {0, 1};
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("conv reading a shape its producer does not give") {
    conv.in_shapes = {{2, 5, 4}};
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
  SECTION("a tensor whose size disagrees with its shape") {
    conv.params[0].size = 7;
    CHECK_THROWS_AS(Interpreter<double>(g), std::invalid_argument);
  }
}

TEST_CASE("interpreter graph: rejects malformed wiring and shapes") {
  SECTION("add of one input") {
    Builder b({3});
    b.add("sum", {kIn, kIn});
    b.g.layers[0].inputs = {kIn};
    b.g.layers[0].in_shapes.pop_back();
    CHECK_THROWS_WITH(Interpreter<double>(b.g), Contains("at least 2"));
  }
  SECTION("add of different sizes") {
    Builder b({3});
    const auto a = b.dense("a", kIn, 2, kIdentity);
    const auto sum = b.add("sum", {kIn, kIn});
    b.g.layers[sum].inputs = {kIn, a};
    b.g.layers[sum].in_shapes = {{3}, {2}};
    CHECK_THROWS_AS(Interpreter<double>(b.g), std::invalid_argument);
  }
  SECTION("an input that does not come before the layer") {
    Builder b({3});
    b.dense("a", kIn, 3, kIdentity);
    b.dense("b", 0, 3, kIdentity);
    b.g.layers[0].inputs = {1};
    CHECK_THROWS_WITH(Interpreter<double>(b.g), Contains("does not come before"));
  }
  SECTION("concat whose in_features is not the sum of its inputs") {
    Builder b({3});
    const auto cat = b.concat("cat", {kIn, kIn});
    b.g.layers[cat].in_features = 3;
    b.g.layers[cat].out_features = 3;
    b.g.layers[cat].out_shape = {3};
    CHECK_THROWS_AS(Interpreter<double>(b.g), std::invalid_argument);
  }
  SECTION("concat along channels of different heights") {
    Builder b({1, 2, 2});
    const auto p = b.pool(ir::OpKind::maxpool2d, "p", kIn, {2, 1}, {1, 1});  // [1, 1, 2]
    const auto cat = b.concat("cat", {kIn, p});                                  // flat [6]
    REQUIRE_NOTHROW(Interpreter<double>(b.g));
    b.g.layers[cat].out_shape = {3, 1, 2};
    CHECK_THROWS_WITH(Interpreter<double>(b.g), Contains("same H and W"));
  }
  SECTION("maxpool with padding") {
    Builder b({1, 4, 4});
    b.pool(ir::OpKind::maxpool2d, "pool", kIn, {2, 2}, {2, 2});
    b.g.layers[0].padding = {1, 1};
    CHECK_THROWS_AS(Interpreter<double>(b.g), std::invalid_argument);
  }
  SECTION("avgpool whose out_shape disagrees with the formula") {
    Builder b({1, 4, 4});
    b.pool(ir::OpKind::avgpool2d, "pool", kIn, {2, 2}, {2, 2});
    b.g.layers[0].out_shape = {1, 1, 4};
    CHECK_THROWS_AS(Interpreter<double>(b.g), std::invalid_argument);
  }
  SECTION("glu with a weight [U, in]") {
    Builder b({4});
    b.glu("glu", kIn, 3);
    b.g.layers[0].params[0] = tensor("glu.weight", {3, 4});
    CHECK_THROWS_WITH(Interpreter<double>(b.g), Contains("[2U, in] = [6, 4]"));
  }
  SECTION("prelu with one slope on a [C, H, W] input of 2 channels") {
    Builder b({2, 2, 2});
    b.prelu("act", kIn);
    b.g.layers[0].params[0] = tensor("act.weight", {1});
    CHECK_THROWS_AS(Interpreter<double>(b.g), std::invalid_argument);
  }
  SECTION("flatten that changes the size") {
    Builder b({2, 2, 2});
    b.flatten("flat", kIn);
    b.g.layers[0].out_shape = {4};
    b.g.layers[0].out_features = 4;
    CHECK_THROWS_AS(Interpreter<double>(b.g), std::invalid_argument);
  }
  SECTION("a dense layer with two inputs") {
    Builder b({3});
    b.dense("a", kIn, 2, kIdentity);
    b.g.layers[0].inputs = {kIn, kIn};
    b.g.layers[0].in_shapes = {{3}, {3}};
    CHECK_THROWS_AS(Interpreter<double>(b.g), std::invalid_argument);
  }
}
