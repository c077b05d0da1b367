// The scalar half of the ISA parity test: isa_mix generated with --arch scalar.
#include "isa_mix_scalar.hpp"

#include "numeric/isa_parity/run.hpp"

// The define reached the runtime: one lane, plain scalar code in every kernel.
static_assert(castnet::simd::vec<float>::size == 1 && castnet::simd::narrow_vec<float>::size == 1);

IsaRun run_scalar() { return run_model<isa_mix_scalar::Model>(); }
