// What each half of the ISA parity test computes with its model M (see isa_parity.hpp). Include it
// after the model's header, whose --arch guard must see castnet's headers first.
#pragma once

#include "numeric/isa_parity/isa_parity.hpp"
#include "support/model_testing.hpp"

#define CASTNET_ISA_STRING_(x) #x
#define CASTNET_ISA_STRING(x) CASTNET_ISA_STRING_(x)

template <class M>
IsaRun run_model() {
  castnet::test::ModelState<M> s(11);  // the same seed, so the same parameters and data in both
  IsaRun r;
  r.isa = CASTNET_ISA_STRING(CASTNET_SIMD_ISA);
  r.lanes = castnet::simd::vec<float>::size;
  r.forward.resize(M::kBatch * M::kOutputs);
  for (std::size_t b = 0; b < M::kBatch; ++b) M::forward(*s.params, s.x.data() + b * M::kInputs, r.forward.data() + b * M::kOutputs);
  r.forward_batch.resize(M::kBatch * M::kOutputs);
  M::forward_batch(*s.params, *s.ws, s.x.data(), r.forward_batch.data());
  r.loss = M::train_step(*s.params, *s.ws, s.x.data(), s.target.data(), *s.grads, M::kBatch, 0x5eed);
  const auto grads = M::tensors(*s.grads);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    r.grads.emplace_back(grads[i], grads[i] + M::kTensors[i].size);
    r.tensors.emplace_back(M::kTensors[i].name);
  }
  return r;
}
