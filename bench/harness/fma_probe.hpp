// The FMA peak of one core for the instruction set of the translation unit that includes this
// header: the runner's, so that each instruction set's table divides by its own peak. Independent
// chains of castnet::simd's fma over the widest vector the flags allow (one lane with
// CASTNET_SIMD_SCALAR; without FMA, as on SSE4.2, a multiply and an add), kept in registers:
// tests/e2e/fma_probe_test.cpp reads the disassembly of every instruction set the machine runs.
#pragma once

#include <castnet/kernels/simd.hpp>

#include <string>

namespace castnet::bench {
inline namespace CASTNET_SIMD_ISA {

struct FmaProbe {
  using vec = simd::vec<float>;
  // Twelve chains hide an FMA latency of 4 cycles on two pipes (8 in flight) and, with the two
  // operands, fit in 14 of the 16 registers of SSE and AVX2: sixteen spilled there, and the probe
  // read 58 GFLOP/s on a Zen 3 whose FMA pipes give 100.
  static constexpr int kChains = 12, kSteps = 256;

  static double flops() noexcept { return 2.0 * kChains * kSteps * static_cast<double>(vec::size); }

  // Keeps v in a register and opaque to the optimiser, so the chains are neither folded nor dropped.
  static void opaque(vec& v) noexcept {
    auto r = static_cast<typename vec::register_type>(v);
    asm volatile("" : "+v"(r));
    v = vec(r);
  }

  [[gnu::noinline]] static void block() noexcept {
    vec acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = vec(1.0f + 1e-3f * static_cast<float>(i));
    vec a(0.999999f), b(1e-7f);
    opaque(a);
    opaque(b);
    // Each step's results opaque too: the one-lane chains must not become one vector's lanes.
    for (int s = 0; s < kSteps; ++s)
      for (int i = 0; i < kChains; ++i) {
        acc[i] = simd::fma(acc[i], a, b);
        opaque(acc[i]);
      }
  }

  // "fma3_avx2: 8 lanes of float, 12 FMA chains".
  static std::string name() {
#define CASTNET_PROBE_STR_(x) #x
#define CASTNET_PROBE_STR(x) CASTNET_PROBE_STR_(x)
    std::string isa = CASTNET_PROBE_STR(CASTNET_SIMD_ISA);
#undef CASTNET_PROBE_STR
#undef CASTNET_PROBE_STR_
    if (isa.rfind("isa_", 0) == 0) isa.erase(0, 4);
    return isa + ": " + std::to_string(vec::size) + " lane" + (vec::size == 1 ? "" : "s") + " of float, " +
           std::to_string(kChains) + " FMA chains";
  }
};

}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet::bench
