// One object of the instruction-set link test: isa_link.toml generated with --arch
// CASTNET_ISA_LINK_ARCH, whose header is CASTNET_ISA_LINK_HEADER, behind the function
// isa_link_<arch>() (isa_link.hpp). The same namespace, isa_link, in every object.
#include CASTNET_ISA_LINK_HEADER

#include <cstring>

#include "isa/link/isa_link.hpp"

#define CASTNET_ISA_LINK_STRING_(x) #x
#define CASTNET_ISA_LINK_STRING(x) CASTNET_ISA_LINK_STRING_(x)
#define CASTNET_ISA_LINK_FN_(arch) isa_link_##arch
#define CASTNET_ISA_LINK_FN(arch) CASTNET_ISA_LINK_FN_(arch)

namespace {

using M = isa_link::Model;

float run(const float* params, const float* x, const float* target, std::size_t n, std::uint64_t key, float* y,
          float* y_batch, float* grads) {
  auto* p = new M::Params;
  auto* g = new M::Grads;
  auto* ws = new M::Workspace;
  const auto p_tensors = M::tensors(*p);
  for (std::size_t i = 0, at = 0; i < p_tensors.size(); at += M::kTensors[i].size, ++i)
    std::memcpy(p_tensors[i], params + at, M::kTensors[i].size * sizeof(float));
  for (std::size_t b = 0; b < M::kBatch; ++b) M::forward(*p, x + b * M::kInputs, y + b * M::kOutputs);
  M::forward_batch(*p, *ws, x, y_batch);
  const float loss = M::train_step(*p, *ws, x, target, *g, n, key);
  const auto g_tensors = M::tensors(*g);
  for (std::size_t i = 0, at = 0; i < g_tensors.size(); at += M::kTensors[i].size, ++i)
    std::memcpy(grads + at, g_tensors[i], M::kTensors[i].size * sizeof(float));
  delete ws;
  delete g;
  delete p;
  return loss;
}

}  // namespace

IsaLinkModel CASTNET_ISA_LINK_FN(CASTNET_ISA_LINK_ARCH)() {
  return {CASTNET_ISA_LINK_STRING(CASTNET_SIMD_ISA), castnet::simd::vec<float>::size, M::kInputs, M::kOutputs,
          M::kBatch, M::kParams, run};
}
