// Uses the header castnet_add_model() generated: zero parameters, one forward pass.
#include <cstdio>
#include <memory>

#include "consumer_model.hpp"

int main() {
  using consumer_ns::real;
  auto params = std::make_unique<consumer_ns::Params>();  // value-initialised: all zeros
  real x[consumer_ns::kInputs] = {};
  real y[consumer_ns::kOutputs] = {};
  consumer_ns::forward(*params, x, y);
  std::printf("consumer ok: kInputs=%zu kOutputs=%zu y0=%g\n", consumer_ns::kInputs,
              consumer_ns::kOutputs, static_cast<double>(y[0]));
  return 0;
}
