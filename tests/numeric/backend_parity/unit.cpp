// One half of backend_parity_test.cpp: run.hpp's kernels built with the backend and instruction set
// this translation unit is compiled for (numeric.cmake sets CASTNET_PARITY_RUN, the backend macro,
// the flags, and CASTNET_PARITY_DOUBLE where doubles are run too).
#include "numeric/backend_parity/run.hpp"

#ifndef CASTNET_PARITY_RUN
#error "numeric.cmake names this unit's function with CASTNET_PARITY_RUN"
#endif

#define CASTNET_PARITY_STRING_(x) #x
#define CASTNET_PARITY_STRING(x) CASTNET_PARITY_STRING_(x)

BackendRun CASTNET_PARITY_RUN() {
  BackendRun r;
  r.isa = CASTNET_PARITY_STRING(CASTNET_SIMD_ISA);
  r.lanes = castnet::simd::lanes<float>;
  r.f32 = run_kernels<float>();
#if defined(CASTNET_PARITY_DOUBLE)
  r.f64 = run_kernels<double>();
#endif
  return r;
}
