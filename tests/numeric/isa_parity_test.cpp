// The scalar and the widest vector emission of one spec agree (isa_parity/isa_parity.hpp): forward
// of each sample, forward_batch, train_step's loss and every gradient, on the same parameters and
// data. Not bit for bit: the vector kernels sum in a different order (per lane, then across lanes;
// register tiles over k), so the two differ by float rounding (both compute exp, erfc, ... with
// castnet's own float math, kernels/math.hpp). Each output's and each gradient tensor's largest
// difference, relative to its own largest value (so a bias is not measured against a weight
// matrix), must stay within kTolerance: rounding leaves ~1e-6, a wrong lane, tail or reduction
// leaves far more.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "numeric/isa_parity/isa_parity.hpp"
#include "support/model_testing.hpp"

namespace {

constexpr double kTolerance = 1e-5;

void check(const std::string& what, const std::vector<float>& scalar, const std::vector<float>& vector) {
  REQUIRE(scalar.size() == vector.size());
  const auto m = castnet::test::relative_error(vector.data(), scalar.data(), scalar.size());
  INFO(what << ": " << castnet::test::describe(m) << " (vector vs scalar)");
  CHECK(m.rel <= kTolerance);
}

}  // namespace

TEST_CASE("isa parity: scalar and native emissions of isa_mix agree") {
  const IsaRun scalar = run_scalar();
  const IsaRun vector = run_native();
  INFO("scalar: " << scalar.isa << ", " << scalar.lanes << " lane(s); native: " << vector.isa << ", " << vector.lanes
                  << " lanes");
  // Two instruction sets, so two sets of kernels (kernels/simd.hpp names them apart).
  CHECK(scalar.isa == "isa_scalar");
  CHECK(scalar.lanes == 1);
  CHECK(vector.isa != scalar.isa);
  CHECK(vector.lanes > 1);

  check("forward", scalar.forward, vector.forward);
  check("forward_batch", scalar.forward_batch, vector.forward_batch);
  INFO("loss " << scalar.loss << " vs " << vector.loss);
  CHECK(std::abs(double(vector.loss) - scalar.loss) <= kTolerance * std::abs(double(scalar.loss)));
  REQUIRE(scalar.tensors == vector.tensors);
  REQUIRE(scalar.grads.size() == scalar.tensors.size());
  for (std::size_t i = 0; i < scalar.grads.size(); ++i) check("gradient of " + scalar.tensors[i], scalar.grads[i], vector.grads[i]);
}
