// What each object of the instruction-set link test hands the test (isa_link_test.cpp): its model,
// isa_link.toml generated for one instruction set, behind plain functions and raw pointers. Nothing
// of the standard library crosses, so the objects' weak symbols are those of the generated header
// and of the castnet headers it includes.
#pragma once

#include <cstddef>
#include <cstdint>

struct IsaLinkModel {
  const char* isa;    // its runtime namespace, CASTNET_SIMD_ISA
  std::size_t lanes;  // floats per castnet::simd::vec<float>
  std::size_t inputs, outputs, batch, params;
  // With the parameters `params` (every tensor in kTensors order): forward() of each of the batch's
  // rows of x into y, forward_batch() of them into y_batch, and train_step() over the first n rows
  // with dropout key `key`, whose loss it returns and whose gradients it writes to grads.
  float (*run)(const float* params, const float* x, const float* target, std::size_t n, std::uint64_t key, float* y,
               float* y_batch, float* grads);
};

IsaLinkModel isa_link_scalar();
#if defined(CASTNET_ISA_LINK_X86)
IsaLinkModel isa_link_sse4();
IsaLinkModel isa_link_avx2();
IsaLinkModel isa_link_avx512();
#endif
