// The Eigen peer against the interpreter (double) on the same random weights and inputs: forward
// outputs, train_step's loss, and the parameters after one SGD step (read back as the gradient,
// (before - after) / lr, against the interpreter's), over the bench and example specs and numeric
// specs that cover every activation, loss and supported layer kind. Also what it refuses.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "eigen_net.hpp"
#include "generate.hpp"
#include "reference/interpreter.hpp"
#include "passes/passes.hpp"
#include "spec/parse_spec.hpp"
#include "support/model_testing.hpp"

namespace {

using castnet::bench::EigenNet;
using castnet::interp::Interpreter;
namespace ir = castnet::ir;

constexpr double kForwardTolerance = 1e-4;
constexpr double kGradTolerance = 1e-3;  // float against double, through up to two softmaxes: 3e-5 seen
constexpr float kLr = 1.f;  // large, so (before - after) / lr keeps the gradient's digits

std::string source_spec(const std::string& path) { return std::string(CASTNET_SOURCE_DIR) + "/" + path; }
// The numeric specs as tests/numeric/numeric.cmake configures them (act_<name>, loss_<name>, ...).
std::string numeric_spec(const std::string& name) {
  return std::string(CASTNET_BINARY_DIR) + "/tests/numeric_specs/" + name + ".toml";
}

// He-uniform weights from each tensor's fan-in, biases uniform in +-0.1.
std::vector<std::vector<float>> random_params(const ir::Graph& g, std::mt19937& rng) {
  std::vector<std::vector<float>> p;
  for (const auto& layer : g.layers)
    for (const auto& t : layer.params) {
      const float bound = t.fan_in > 0 && t.shape.size() > 1 ? std::sqrt(6.f / static_cast<float>(t.fan_in)) : 0.1f;
      std::uniform_real_distribution<float> u(-bound, bound);
      auto& v = p.emplace_back(t.size);
      for (auto& e : v) e = u(rng);
    }
  return p;
}

std::vector<float> uniform(std::size_t size, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(size);
  for (auto& e : v) e = u(rng);
  return v;
}

std::vector<float> random_targets(const ir::Graph& g, std::size_t n, std::mt19937& rng) {
  const std::size_t m = g.output_features();
  switch (g.loss.kind) {
    case ir::LossKind::mse:
      return uniform(n * m, -1.f, 1.f, rng);
    case ir::LossKind::binary_cross_entropy:
      return uniform(n * m, 0.f, 1.f, rng);
    case ir::LossKind::softmax_cross_entropy: {
      std::vector<float> t(n);
      for (auto& c : t) c = static_cast<float>(rng() % m);
      return t;
    }
  }
  return {};
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

void check_close(const std::string& what, const std::vector<float>& got, const std::vector<double>& want,
                 double tolerance) {
  REQUIRE(got.size() == want.size());
  const auto m = castnet::test::relative_error(got.data(), want.data(), got.size());
  INFO(what << ": " << castnet::test::describe(m));
  CHECK(m.rel <= tolerance);
}

void check_forward(const std::string& name, EigenNet& net, const Interpreter<double>& ref, const std::vector<float>& x,
                   std::size_t n) {
  const std::size_t m = ref.graph().output_features();
  std::vector<float> y(n * m);
  std::vector<double> y_ref(n * m);
  net.forward(x.data(), n, y.data());
  ref.forward(widen(x).data(), n, y_ref.data());
  check_close(name + " forward n = " + std::to_string(n), y, y_ref, kForwardTolerance);
}

// One train_step against the interpreter's loss and gradient at the same parameters.
void check_step(const std::string& name, EigenNet& net, const Interpreter<double>& ref, const std::vector<float>& x,
                const std::vector<float>& target, std::size_t n) {
  const std::vector<std::vector<float>> before = net.params();
  std::vector<std::vector<double>> grads;
  const double loss_ref = ref.loss_and_grad(widen(x).data(), widen(target).data(), n, grads, nullptr);
  const float loss = net.train_step(x.data(), target.data(), n, kLr);
  INFO(name << " n = " << n << ": loss " << loss << " vs " << loss_ref);
  CHECK(std::abs(loss - loss_ref) <= 1e-5 * std::max(1.0, std::abs(loss_ref)));
  const std::vector<std::vector<float>> after = net.params();
  REQUIRE(after.size() == grads.size());
  for (std::size_t t = 0; t < after.size(); t++) {
    std::vector<float> implied(after[t].size());
    for (std::size_t i = 0; i < implied.size(); i++) implied[i] = (before[t][i] - after[t][i]) / kLr;
    check_close(name + " tensor " + std::to_string(t) + " after one step", implied, grads[t], kGradTolerance);
  }
}

// Forward at the spec's batch and at 1 (smaller than the buffers then hold), and if train, one step
// at the batch, then forward again with the updated parameters.
void compare(const std::string& spec, bool train) {
  const ir::Graph g = castnet::gen::load_graph(spec);
  const std::string name = g.name;
  Interpreter<double> ref(g);
  EigenNet net(g);
  std::mt19937 rng(1234);
  const auto params = random_params(g, rng);
  net.set_params(params);
  REQUIRE(net.params() == params);
  for (std::size_t t = 0; t < params.size(); t++) ref.params()[t] = widen(params[t]);

  const std::size_t n = g.batch;
  const auto x = uniform(n * g.input_features(), -1.f, 1.f, rng);
  check_forward(name, net, ref, x, n);
  check_forward(name, net, ref, x, 1);
  if (!train) return;
  check_step(name, net, ref, x, random_targets(g, n, rng), n);
  for (std::size_t t = 0; t < params.size(); t++) ref.params()[t] = widen(net.params()[t]);
  check_forward(name + " after a step", net, ref, x, n);
}

}  // namespace

TEST_CASE("eigen peer: bench and example specs", "[peers][eigen]") {
  compare(source_spec("bench/specs/w2_mlp.toml"), true);
  compare(source_spec("specs/residual_mlp.toml"), true);
  compare(source_spec("specs/mnist_cnn.toml"), false);  // dropout: forward only
}

TEST_CASE("eigen peer: every activation, fused and standalone", "[peers][eigen]") {
  for (const char* act :
       {"identity", "relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "softplus", "softmax"}) {
    SECTION(act) { compare(numeric_spec(std::string("act_") + act), true); }
  }
}

TEST_CASE("eigen peer: every loss", "[peers][eigen]") {
  for (const char* loss : {"mse", "binary_cross_entropy", "softmax_cross_entropy"}) {
    SECTION(loss) { compare(numeric_spec(std::string("loss_") + loss), true); }
  }
}

TEST_CASE("eigen peer: edge and graph specs", "[peers][eigen]") {
  for (const char* spec : {"edge_act_first_last", "edge_single", "edge_wide", "edge_narrow_batch1", "graph_conv",
                           "graph_conv_tiny", "graph_pool", "graph_residual", "graph_concat"}) {
    SECTION(spec) { compare(numeric_spec(spec), true); }
  }
  SECTION("train_bars") { compare(source_spec("tests/numeric/specs/train_bars.toml"), true); }
  SECTION("edge_dropout") { compare(numeric_spec("edge_dropout"), false); }
}

// Max pooling's ties go to the first maximum: a 1x1 conv that copies channel 0 (values 0 or 1, so
// every window ties) makes the pool's choice visible in the gradient of the conv's weight for
// channel 1, which is what the chosen position holds there.
TEST_CASE("eigen peer: max pooling ties go to the first maximum", "[peers][eigen]") {
  ir::Graph g = castnet::spec::parse_spec_text(R"(
name = "ties"
input = [2, 4, 4]
batch = 3

[[layer]]
name = "copy"
type = "conv2d"
filters = 1
kernel = 1

[[layer]]
name = "pool"
type = "maxpool2d"
size = 2

[[layer]]
type = "flatten"

[[layer]]
name = "head"
type = "dense"
units = 2

[loss]
type = "mse"
)",
                                               "ties.toml").graph;
  castnet::passes::run_passes(g);
  Interpreter<double> ref(g);
  EigenNet net(g);
  std::mt19937 rng(5);
  auto params = random_params(g, rng);
  params[0] = {1.f, 0.f};  // copy: out = channel 0
  params[1] = {0.f};
  net.set_params(params);
  for (std::size_t t = 0; t < params.size(); t++) ref.params()[t] = widen(params[t]);
  auto x = uniform(g.batch * 32, -1.f, 1.f, rng);
  for (std::size_t s = 0; s < g.batch; s++)
    for (std::size_t i = 0; i < 16; i++) x[s * 32 + i] = static_cast<float>(rng() % 2);
  check_step("ties", net, ref, x, random_targets(g, g.batch, rng), g.batch);
}

TEST_CASE("eigen peer: refuses what it does not implement", "[peers][eigen]") {
  std::string why;
  const ir::Graph glu = castnet::gen::load_graph(numeric_spec("graph_glu"));
  CHECK_FALSE(EigenNet::supports(glu, &why, false));
  CHECK(why == "glu layer 'g1'");
  CHECK_THROWS_AS(EigenNet(glu), std::invalid_argument);

  const ir::Graph prelu = castnet::gen::load_graph(numeric_spec("graph_prelu"));
  CHECK_FALSE(EigenNet::supports(prelu, &why, false));
  CHECK(why == "prelu layer 'slope_c'");

  // The trainable activations and kan have no Eigen form here: refused, naming the layer.
  for (const auto& [spec, expected] : std::vector<std::pair<std::string, std::string>>{
           {"graph_trainable_swish", "trainable_swish layer 'swish_c'"},
           {"graph_basis_activation", "basis_activation layer 'rbf_c'"},
           {"graph_kan", "kan layer 'k1'"}}) {
    CHECK_FALSE(EigenNet::supports(castnet::gen::load_graph(numeric_spec(spec)), &why, false));
    CHECK(why == expected);
  }

  // Dropout runs (as the identity) but does not train.
  const ir::Graph cnn = castnet::gen::load_graph(source_spec("specs/mnist_cnn.toml"));
  CHECK(EigenNet::supports(cnn, &why, false));
  CHECK_FALSE(EigenNet::supports(cnn, &why, true));
  CHECK(why == "dropout in training (layer 'drop1')");
  EigenNet net(cnn);
  const std::vector<float> x(cnn.input_features()), target(1);
  CHECK_THROWS_AS(net.train_step(x.data(), target.data(), 1, 0.1f), std::logic_error);

  CHECK(EigenNet::supports(castnet::gen::load_graph(source_spec("bench/specs/w2_mlp.toml")), &why, true));
  CHECK(EigenNet::version().rfind("Eigen 3.", 0) == 0);
}

TEST_CASE("eigen peer: rejects bad parameters and class indices", "[peers][eigen]") {
  const ir::Graph g = castnet::gen::load_graph(numeric_spec("loss_softmax_cross_entropy"));
  EigenNet net(g);
  CHECK_THROWS_AS(net.set_params({}), std::invalid_argument);
  auto params = net.params();
  params[0].pop_back();
  CHECK_THROWS_AS(net.set_params(params), std::invalid_argument);
  const std::vector<float> x(g.input_features()), bad_class{3.f};  // 3 outputs: classes 0..2
  CHECK_THROWS_AS(net.train_step(x.data(), bad_class.data(), 1, 0.1f), std::invalid_argument);
}
