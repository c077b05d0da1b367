// The two halves of isa_parity_test.cpp. specs/isa_mix.toml is generated twice, with --arch scalar
// and with --arch native, and each model is compiled in a translation unit of its own (scalar.cpp,
// native.cpp): the instruction set is chosen per translation unit. Both run run.hpp's computations
// on the same parameters and data and hand back what they produced.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

struct IsaRun {
  std::string isa;                   // the runtime's instruction-set namespace (CASTNET_SIMD_ISA)
  std::size_t lanes = 0;             // floats per castnet::simd::vec<float>
  std::vector<float> forward;        // forward() of each sample of the batch, in order
  std::vector<float> forward_batch;  // forward_batch() of the batch
  float loss = 0;                    // train_step() over the batch
  std::vector<std::vector<float>> grads;  // its gradients, one per tensor in kTensors order
  std::vector<std::string> tensors;       // their names
};

IsaRun run_scalar();
IsaRun run_native();
