// The training header and the exported header of one spec in one translation unit: the training
// model, loaded with the weights the export baked in, gives the export's probabilities.
#include <cmath>
#include <cstdio>
#include <memory>

#include <castnet/io/weights.hpp>

#include "xor_net.hpp"
#include "xor_trained.hpp"
#include "xor_bf16.hpp"

int main() {
  auto params = std::make_unique<xor_net::Params>();
  castnet::load_weights<xor_net::Model>(WEIGHTS, *params);
  const float inputs[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  for (const auto& x : inputs) {
    float logit = 0, p = 0;
    xor_net::forward(*params, x, &logit);
    xor_trained::predict(x, &p);
    const double sigmoid = 1 / (1 + std::exp(-double(logit)));
    std::printf("%g %g: training %.7f, exported %.7f\n", double(x[0]), double(x[1]), sigmoid, double(p));
    if (std::abs(sigmoid - p) > 1e-6) return 1;
    // xor's layers are straight-line, too small to quantize: QUANTIZE bf16 leaves them float.
    float pq = 0;
    xor_bf16::predict(x, &pq);
    if (pq != p) return 1;
  }
  std::printf("both ok\n");
  return 0;
}
