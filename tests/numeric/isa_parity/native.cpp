// The vector half of the ISA parity test: isa_mix generated with --arch native, the widest
// instruction set of the building machine.
#include "isa_mix_native.hpp"

#include "numeric/isa_parity/run.hpp"

static_assert(castnet::simd::vec<float>::size > 1, "--arch native gave no vector code");

IsaRun run_native() { return run_model<isa_mix_native::Model>(); }
