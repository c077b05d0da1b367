// The libtorch peer against the interpreter (double) on the same random weights and inputs:
// forward outputs, train_step's loss, and the parameters after one SGD step (the interpreter's
// params - lr * grads), over the bench and example specs and the numeric specs that cover every
// activation, loss and graph kind. Built only where libtorch is (tests/CMakeLists.txt).
#ifdef CASTNET_HAVE_TORCH_PEER

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "generate.hpp"
#include "reference/interpreter.hpp"
#include "support/model_testing.hpp"
#include "torch_net.hpp"

namespace {

using castnet::bench::TorchNet;

constexpr double kForwardTolerance = 1e-4;
constexpr double kStepTolerance = 1e-5;  // params after a step: float rounding of the params
constexpr double kGradTolerance = 1e-3;  // (before - after) / lr against the grads: the step is small
constexpr float kLr = 0.5f;

std::string numeric_spec(const std::string& name) {
  return std::string(CASTNET_BINARY_DIR) + "/tests/numeric_specs/" + name + ".toml";
}

// Weights U(-s, s) with s = sqrt(3 / fan_in), so activations stay of order 1; inputs U(-1, 1);
// targets valid for the loss.
struct Case {
  castnet::ir::Graph graph;
  std::size_t n;
  std::vector<std::vector<float>> params;
  std::vector<float> x, target;

  Case(const std::string& spec, std::size_t max_n, unsigned seed = 11)
      : graph(castnet::gen::load_graph(spec)), n(std::min(graph.batch, max_n)) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0), unit(0.0, 1.0);
    for (const auto& layer : graph.layers)
      for (const auto& p : layer.params) {
        const double s = std::sqrt(3.0 / static_cast<double>(std::max<std::size_t>(p.fan_in, 1)));
        auto& v = params.emplace_back(p.size);
        for (auto& w : v) w = static_cast<float>(s * u(rng));
      }
    x.resize(n * graph.input_features());
    for (auto& v : x) v = static_cast<float>(u(rng));
    target.resize(n * graph.targets_per_sample());
    for (auto& v : target) {
      switch (graph.loss.kind) {
        case castnet::ir::LossKind::mse:
          v = static_cast<float>(u(rng));
          break;
        case castnet::ir::LossKind::binary_cross_entropy:
          v = static_cast<float>(unit(rng));
          break;
        case castnet::ir::LossKind::softmax_cross_entropy:
          v = static_cast<float>(rng() % graph.output_features());
          break;
      }
    }
  }

  castnet::interp::Interpreter<double> reference() const {
    castnet::interp::Interpreter<double> ref(graph);
    REQUIRE(ref.params().size() == params.size());
    for (std::size_t i = 0; i < params.size(); i++) ref.params()[i].assign(params[i].begin(), params[i].end());
    return ref;
  }
};

void check(const std::string& what, const std::vector<float>& got, const std::vector<double>& want, double tolerance) {
  REQUIRE(got.size() == want.size());
  const auto m = castnet::test::relative_error(got.data(), want.data(), got.size());
  INFO(what << ": " << castnet::test::describe(m));
  CHECK(m.rel <= tolerance);
}

void check_forward(const std::string& spec, std::size_t max_n = 16) {
  INFO(spec);
  const Case c(spec, max_n);
  const auto ref = c.reference();
  TorchNet net(c.graph);
  net.set_params(c.params);
  CHECK(net.params() == c.params);

  std::vector<double> want(c.n * c.graph.output_features());
  const std::vector<double> x(c.x.begin(), c.x.end());
  ref.forward(x.data(), c.n, want.data());
  std::vector<float> got(want.size());
  net.forward(c.x.data(), c.n, got.data());
  check("forward", got, want, kForwardTolerance);
  // again, and for one sample: the same net on another batch size
  net.forward(c.x.data(), c.n, got.data());
  check("forward, second call", got, want, kForwardTolerance);
  std::vector<float> one(c.graph.output_features());
  net.forward(c.x.data(), 1, one.data());
  check("forward, one sample", one, {want.begin(), want.begin() + static_cast<std::ptrdiff_t>(one.size())},
        kForwardTolerance);
}

void check_train(const std::string& spec, std::size_t max_n = 16) {
  check_forward(spec, max_n);
  INFO(spec);
  const Case c(spec, max_n);
  const auto ref = c.reference();
  REQUIRE(TorchNet::supports(c.graph, nullptr, true));
  TorchNet net(c.graph);
  net.set_params(c.params);

  const std::vector<double> x(c.x.begin(), c.x.end()), target(c.target.begin(), c.target.end());
  std::vector<std::vector<double>> grads;
  const double loss_ref = ref.loss_and_grad(x.data(), target.data(), c.n, grads, nullptr);
  const float loss = net.train_step(c.x.data(), c.target.data(), c.n, kLr);
  INFO("loss " << loss << " vs " << loss_ref);
  CHECK(std::abs(loss - loss_ref) <= kForwardTolerance * std::max(1.0, std::abs(loss_ref)));

  const auto after = net.params();
  REQUIRE(after.size() == grads.size());
  for (std::size_t i = 0; i < after.size(); i++) {
    std::vector<double> want(after[i].size()), grad_seen(after[i].size());
    for (std::size_t j = 0; j < want.size(); j++) {
      want[j] = static_cast<double>(c.params[i][j]) - kLr * grads[i][j];
      grad_seen[j] = (static_cast<double>(c.params[i][j]) - after[i][j]) / kLr;
    }
    const std::string name = "tensor " + std::to_string(i);
    check(name + " after the step", after[i], want, kStepTolerance);
    const std::vector<float> grad_f(grad_seen.begin(), grad_seen.end());
    check(name + " gradient", grad_f, grads[i], kGradTolerance);
  }
}

}  // namespace

TEST_CASE("torch peer: bench and example MLPs train as the interpreter does") {
  check_train(std::string(CASTNET_SOURCE_DIR) + "/bench/specs/w2_mlp.toml");
  check_train(std::string(CASTNET_SOURCE_DIR) + "/specs/residual_mlp.toml");
}

TEST_CASE("torch peer: mnist_cnn forward, whose dropout keeps it from training") {
  const std::string spec = std::string(CASTNET_SOURCE_DIR) + "/specs/mnist_cnn.toml";
  check_forward(spec, 4);
  const auto g = castnet::gen::load_graph(spec);
  std::string why;
  CHECK(TorchNet::supports(g, &why, false));
  CHECK_FALSE(TorchNet::supports(g, &why, true));
  CHECK(why.find("drop1") != std::string::npos);
  TorchNet net(g);
  std::vector<float> x(g.input_features()), t(1);
  CHECK_THROWS_AS(net.train_step(x.data(), t.data(), 1, 0.1f), std::logic_error);
}

TEST_CASE("torch peer: every activation, fused and standalone") {
  for (const char* act :
       {"identity", "relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "softplus", "softmax"})
    check_train(numeric_spec(std::string("act_") + act));
}

TEST_CASE("torch peer: every loss") {
  for (const char* loss : {"mse", "binary_cross_entropy", "softmax_cross_entropy"})
    check_train(numeric_spec(std::string("loss_") + loss));
  check_train(numeric_spec("edge_wide"));  // binary cross-entropy after a standalone softmax
  check_train(numeric_spec("edge_single"));
}

TEST_CASE("torch peer: graph kinds") {
  for (const char* spec : {"graph_conv", "graph_conv_tiny", "graph_pool", "graph_residual", "graph_concat",
                           "graph_glu", "graph_prelu", "edge_act_first_last", "edge_narrow_batch1"})
    check_train(numeric_spec(spec));
  check_forward(numeric_spec("edge_dropout"));
}

TEST_CASE("torch peer: version names libtorch and the BLAS it loaded") {
  const std::string v = TorchNet::version();
  INFO(v);
  CHECK(v.rfind("libtorch ", 0) == 0);
  CHECK(v.find("BLAS") != std::string::npos);
}

#endif  // CASTNET_HAVE_TORCH_PEER
