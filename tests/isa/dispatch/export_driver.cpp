// castnet_add_model(... WEIGHTS w ARCH dispatch): the golden xor export built for run-time dispatch
// (isa/isa.cmake), run by isa/dispatch_test.cpp under each CASTNET_ISA. Prints the instruction set
// chosen, then predict() of the four XOR corners as hex floats.
#include "isa_export_dispatch.hpp"

#include <cstdio>

int main() {
  std::printf("%s\n", xor_net::isa());
  const float corners[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  for (const auto& x : corners) {
    float y[xor_net::kOutputs];
    xor_net::predict(x, y);
    std::printf("%a\n", static_cast<double>(y[0]));
  }
  return 0;
}
