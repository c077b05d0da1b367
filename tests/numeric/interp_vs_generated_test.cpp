// Generated code (float) against the plain interpreter (double) on the same random weights and
// inputs: forward for one sample and for a batch, train_step's loss and every gradient, and the
// input gradient of backward, for every activation and loss spec, the dropout spec (training
// passes with the same dropout key on both sides) and the graph specs (conv, pooling, residual,
// concat, glu, prelu). Relative error at most 1e-5.
// Every buffer the generated code writes sits between guard zones that must stay untouched.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "generate.hpp"
#include "reference/interpreter.hpp"
#include "numeric_models.hpp"
#include "support/model_testing.hpp"

namespace {

constexpr double kTolerance = 1e-5;
constexpr std::uint64_t kKey = 0x5eed;  // train_step's dropout key, the same for both

template <class M>
void check(const char* what, const float* generated, const double* reference, std::size_t n) {
  const auto m = castnet::test::relative_error(generated, reference, n);
  INFO(M::kName << " " << what << ": " << castnet::test::describe(m));
  CHECK(m.rel <= kTolerance);
}

template <class M>
void compare_with_interpreter() {
  static_assert(std::is_same_v<typename M::real, float>);
  const std::string spec = std::string(CASTNET_NUMERIC_SPEC_DIR) + "/" + std::string(M::kName) + ".toml";
  castnet::interp::Interpreter<double> ref(castnet::gen::load_graph(spec));
  castnet::test::ModelState<M> s(7);
  auto params = M::tensors(*s.params);
  REQUIRE(ref.params().size() == params.size());
  for (std::size_t i = 0; i < params.size(); ++i) ref.params()[i].assign(params[i], params[i] + M::kTensors[i].size);
  const std::vector<double> x(s.x.begin(), s.x.end()), target(s.target.begin(), s.target.end());

  // forward: batch, and each sample alone
  std::vector<double> y_ref(M::kBatch * M::kOutputs);
  ref.forward(x.data(), M::kBatch, y_ref.data());
  castnet::test::GuardedBuffer<float> y(y_ref.size()), y_one(y_ref.size());
  M::forward_batch(*s.params, *s.ws, s.x.data(), y.data());
  for (std::size_t b = 0; b < M::kBatch; ++b) M::forward(*s.params, s.x.data() + b * M::kInputs, y_one.data() + b * M::kOutputs);
  check<M>("forward_batch", y.data(), y_ref.data(), y_ref.size());
  check<M>("forward", y_one.data(), y_ref.data(), y_ref.size());
  CHECK(y.tail_intact());
  CHECK(y_one.tail_intact());

  // train_step over a full batch and over a partial one (padding rows must not count); a batch of
  // 1 has no partial batch (the interpreter rejects n = 0)
  std::vector<std::size_t> sizes = {M::kBatch};
  if (M::kBatch > 1) sizes.push_back(M::kBatch - 1);
  for (const std::size_t n : sizes) {
    std::vector<std::vector<double>> g_ref;
    std::vector<double> dx_ref(n * M::kInputs);
    const double loss_ref = ref.loss_and_grad(x.data(), target.data(), n, g_ref, dx_ref.data(), kKey);
    const double loss = M::train_step(*s.params, *s.ws, s.x.data(), s.target.data(), *s.grads, n, kKey);
    INFO(M::kName << " n = " << n << ": loss " << loss << " vs " << loss_ref);
    CHECK(std::abs(loss - loss_ref) <= kTolerance * std::max(1.0, std::abs(loss_ref)));
    auto grads = M::tensors(*s.grads);
    for (std::size_t i = 0; i < grads.size(); ++i)
      check<M>(M::kTensors[i].name.data(), grads[i], g_ref[i].data(), M::kTensors[i].size);

    // backward from dLoss/dy of the outputs train_step left (its dropout masks included)
    std::vector<float> dy(M::kBatch * M::kOutputs);
    castnet::test::GuardedBuffer<float> dx(M::kBatch * M::kInputs);
    castnet::test::loss_gradient<M>(M::outputs(*s.ws), s.target.data(), dy.data(), n);
    M::backward(*s.params, *s.ws, s.x.data(), dy.data(), *s.grads, dx.data());
    check<M>("input gradient", dx.data(), dx_ref.data(), n * M::kInputs);
    CHECK(dx.tail_intact());
  }
  INFO(M::kName << ": a write outside Params, Grads or Workspace");
  CHECK(s.guards_intact());
}

}  // namespace

TEST_CASE("parity: identity") { compare_with_interpreter<act_identity::Model>(); }
TEST_CASE("parity: relu") { compare_with_interpreter<act_relu::Model>(); }
TEST_CASE("parity: leaky_relu") { compare_with_interpreter<act_leaky_relu::Model>(); }
TEST_CASE("parity: elu") { compare_with_interpreter<act_elu::Model>(); }
TEST_CASE("parity: gelu") { compare_with_interpreter<act_gelu::Model>(); }
TEST_CASE("parity: silu") { compare_with_interpreter<act_silu::Model>(); }
TEST_CASE("parity: tanh") { compare_with_interpreter<act_tanh::Model>(); }
TEST_CASE("parity: sigmoid") { compare_with_interpreter<act_sigmoid::Model>(); }
TEST_CASE("parity: softplus") { compare_with_interpreter<act_softplus::Model>(); }
TEST_CASE("parity: softmax") { compare_with_interpreter<act_softmax::Model>(); }
TEST_CASE("parity: mse") { compare_with_interpreter<loss_mse::Model>(); }
TEST_CASE("parity: binary_cross_entropy") { compare_with_interpreter<loss_binary_cross_entropy::Model>(); }
TEST_CASE("parity: softmax_cross_entropy") { compare_with_interpreter<loss_softmax_cross_entropy::Model>(); }
// Edge cases (tests/numeric/specs/edge_*.toml)
TEST_CASE("parity: edge_act_first_last") { compare_with_interpreter<edge_act_first_last::Model>(); }
TEST_CASE("parity: edge_single") { compare_with_interpreter<edge_single::Model>(); }
TEST_CASE("parity: edge_wide") { compare_with_interpreter<edge_wide::Model>(); }
TEST_CASE("parity: edge_narrow_batch1") { compare_with_interpreter<edge_narrow_batch1::Model>(); }
TEST_CASE("parity: edge_dropout") { compare_with_interpreter<edge_dropout::Model>(); }
// Graph cases: every tests/numeric/specs/graph_*.toml (numeric.cmake lists them).
#define CASTNET_GRAPH_PARITY(name, tolerance) \
  TEST_CASE("parity: " #name) { compare_with_interpreter<name::Model>(); }
CASTNET_GRAPH_CASES(CASTNET_GRAPH_PARITY)
#undef CASTNET_GRAPH_PARITY
