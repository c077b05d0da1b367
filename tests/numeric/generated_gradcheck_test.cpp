// Generated backward against central finite differences, in double precision, for every
// activation (fused and standalone, kernel and straight-line layers), every loss and every graph
// spec (conv, pooling, residual adds, concat, glu, prelu). Tolerances
// are owned by each op (the table below); where two step sizes disagree, the difference
// straddles a kink (relu at 0, softplus's threshold) and the coordinate is skipped, not failed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "numeric_models.hpp"
#include "support/model_testing.hpp"

namespace {

struct Tolerance {
  double rtol, atol;
  double max_skipped_fraction;  // kinks: coordinates whose finite difference is unreliable
};

struct Counts {
  std::size_t checked = 0, skipped = 0;
};

// L(theta) with theta perturbed: the mean loss over the first n samples.
template <class M>
double loss_at(castnet::test::ModelState<M>& s, std::size_t n) {
  return M::train_step(*s.params, *s.ws, s.x.data(), s.target.data(), *s.grads, n);
}

template <class M>
void check_coordinate(castnet::test::ModelState<M>& s, double* value, double analytic, std::size_t n,
                      const Tolerance& tol, Counts& c, const std::string& what) {
  auto fd = [&](double eps) {
    const double saved = *value;
    *value = saved + eps;
    const double up = loss_at(s, n);
    *value = saved - eps;
    const double down = loss_at(s, n);
    *value = saved;
    return (up - down) / (2 * eps);
  };
  const double d1 = fd(1e-6), d2 = fd(4e-6);
  if (std::abs(d1 - d2) > 1e-5 * std::max(1.0, std::abs(d1))) {
    ++c.skipped;
    return;
  }
  ++c.checked;
  INFO(what << ": analytic " << analytic << ", finite difference " << d1);
  CHECK(std::abs(analytic - d1) <= tol.atol + tol.rtol * std::max(std::abs(analytic), std::abs(d1)));
}

template <class M>
void gradcheck(const Tolerance& tol) {
  static_assert(std::is_same_v<typename M::real, double>, "gradient checks run in double precision");
  castnet::test::ModelState<M> s(2024);
  // The last row is padding and must not contribute; a batch of 1 has no partial batch (n = 0 is
  // not a valid call), so it runs the full batch and there is no padding row to check.
  const std::size_t n = M::kBatch > 1 ? M::kBatch - 1 : 1;

  // Analytic gradients of parameters (train_step) and of the input (backward with dLoss/dy).
  M::train_step(*s.params, *s.ws, s.x.data(), s.target.data(), *s.grads, n);
  auto grads = M::tensors(*s.grads);
  std::vector<std::vector<double>> analytic;
  for (std::size_t i = 0; i < grads.size(); ++i) analytic.emplace_back(grads[i], grads[i] + M::kTensors[i].size);
  // dLoss/dy of the outputs train_step left, so that dropout's masks (key 0, as in loss_at) hold.
  std::vector<double> dy(M::kBatch * M::kOutputs), dx(M::kBatch * M::kInputs);
  castnet::test::loss_gradient<M>(M::outputs(*s.ws), s.target.data(), dy.data(), n);
  M::backward(*s.params, *s.ws, s.x.data(), dy.data(), *s.grads, dx.data());

  Counts c;
  auto params = M::tensors(*s.params);
  for (std::size_t i = 0; i < params.size(); ++i)
    for (std::size_t j = 0; j < M::kTensors[i].size; ++j)
      check_coordinate(s, &params[i][j], analytic[i][j], n, tol, c,
                       std::string(M::kTensors[i].name) + "[" + std::to_string(j) + "]");
  for (std::size_t j = 0; j < s.x.size(); ++j) {
    const bool padding = j >= n * M::kInputs;
    if (padding) {
      CHECK(dx[j] == 0.0);  // no gradient flows into padding rows
      continue;
    }
    check_coordinate(s, &s.x[j], dx[j], n, tol, c, "input[" + std::to_string(j) + "]");
  }
  CHECK(s.guards_intact());
  INFO(M::kName << ": " << c.checked << " coordinates checked, " << c.skipped << " skipped at kinks");
  CHECK(c.checked > 0);
  CHECK(static_cast<double>(c.skipped) <= tol.max_skipped_fraction * static_cast<double>(c.checked + c.skipped));
}

constexpr Tolerance kSmooth{1e-6, 1e-9, 0.0};
constexpr Tolerance kKinked{1e-6, 1e-9, 0.05};
// The graph specs' names for them (their `# gradcheck:` line).
constexpr Tolerance smooth = kSmooth, kinked = kKinked;

}  // namespace

TEST_CASE("gradcheck: identity") { gradcheck<act_identity_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: relu") { gradcheck<act_relu_f64::Model>(kKinked); }
TEST_CASE("gradcheck: leaky_relu") { gradcheck<act_leaky_relu_f64::Model>(kKinked); }
TEST_CASE("gradcheck: elu") { gradcheck<act_elu_f64::Model>(kKinked); }
TEST_CASE("gradcheck: gelu") { gradcheck<act_gelu_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: silu") { gradcheck<act_silu_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: tanh") { gradcheck<act_tanh_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: sigmoid") { gradcheck<act_sigmoid_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: softplus") { gradcheck<act_softplus_f64::Model>(kKinked); }
TEST_CASE("gradcheck: softmax") { gradcheck<act_softmax_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: mse") { gradcheck<loss_mse_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: binary_cross_entropy") { gradcheck<loss_binary_cross_entropy_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: softmax_cross_entropy") { gradcheck<loss_softmax_cross_entropy_f64::Model>(kSmooth); }
// Edge cases (tests/numeric/specs/edge_*.toml): standalone activations first and last, a width-1
// layer, a single layer at batch 1, wide layers with kernel tails, batch 1 with one output.
TEST_CASE("gradcheck: edge_act_first_last") { gradcheck<edge_act_first_last_f64::Model>(kKinked); }
TEST_CASE("gradcheck: edge_single") { gradcheck<edge_single_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: edge_wide") { gradcheck<edge_wide_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: edge_narrow_batch1") { gradcheck<edge_narrow_batch1_f64::Model>(kSmooth); }
TEST_CASE("gradcheck: edge_dropout") { gradcheck<edge_dropout_f64::Model>(kKinked); }
// Graph cases: every tests/numeric/specs/graph_*.toml (numeric.cmake lists them), each layer kind
// in one or more: conv with padding and stride, pooling, flatten, residual adds and concat with
// gradients summed over several consumers, GLU, PReLU, hardtanh...
#define CASTNET_GRAPH_GRADCHECK(name, tolerance) \
  TEST_CASE("gradcheck: " #name) { gradcheck<name##_f64::Model>(tolerance); }
CASTNET_GRAPH_CASES(CASTNET_GRAPH_GRADCHECK)
#undef CASTNET_GRAPH_GRADCHECK
