// What every SIMD backend starts from (simd_xsimd.hpp, simd_vecext.hpp, simd_scalar.hpp).
//
// CASTNET_SIMD_ISA: the name of the inline namespace that holds everything compiled per instruction
// set (castnet::CASTNET_SIMD_ISA::simd, ::kernels and the layer kernels; the losses, dropout, outputs
// and castnet/rng.hpp; a generated model's functions, in <model>::CASTNET_SIMD_ISA). They are inline
// functions and templates: two translation units built for different instruction sets or backends
// (a scalar model beside an AVX-512 one, the xsimd kernels of training beside the vector-extension
// kernels of an exported header) would otherwise define the same function twice, differently, and
// the linker would keep one of them. The name is isa_<target>_<backend> (isa_avx512bw_xsimd,
// isa_fma3_avx2_vecext, ...), or isa_scalar. Units of one instruction set built with different extra
// flags (-march=native beside -mavx512f ...) still share names; their kernels are the same code at
// the same width.
#pragma once

#include <cstdint>

#if defined(CASTNET_SIMD_SCALAR)
#define CASTNET_SIMD_ISA isa_scalar
#else

#if defined(__AVX512BW__)
#define CASTNET_SIMD_TARGET avx512bw
#elif defined(__AVX512DQ__)
#define CASTNET_SIMD_TARGET avx512dq
#elif defined(__AVX512F__)
#define CASTNET_SIMD_TARGET avx512f
#elif defined(__AVX2__) && defined(__FMA__)
#define CASTNET_SIMD_TARGET fma3_avx2
#elif defined(__AVX2__)
#define CASTNET_SIMD_TARGET avx2
#elif defined(__AVX__)
#define CASTNET_SIMD_TARGET avx
#elif defined(__SSE4_2__)
#define CASTNET_SIMD_TARGET sse4_2
#elif defined(__SSE4_1__)
#define CASTNET_SIMD_TARGET sse4_1
#elif defined(__SSE2__)
#define CASTNET_SIMD_TARGET sse2
#elif defined(__aarch64__)
#define CASTNET_SIMD_TARGET neon64
#elif defined(__ARM_NEON)
#define CASTNET_SIMD_TARGET neon
#else
#define CASTNET_SIMD_TARGET other
#endif

#if defined(CASTNET_SIMD_VECEXT)
#define CASTNET_SIMD_BACKEND vecext
#else
#define CASTNET_SIMD_BACKEND xsimd
#endif

// Two levels, so that the arguments are expanded before they are pasted.
#define CASTNET_SIMD_PASTE_(target, backend) isa_##target##_##backend
#define CASTNET_SIMD_PASTE(target, backend) CASTNET_SIMD_PASTE_(target, backend)
#define CASTNET_SIMD_ISA CASTNET_SIMD_PASTE(CASTNET_SIMD_TARGET, CASTNET_SIMD_BACKEND)

#endif

namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace simd {

// The math functions whose double versions each backend supplies, as simd::double_math<fn>(v);
// math.hpp computes the float versions itself, the same way in every backend.
enum class fn : std::uint8_t { exp, expm1, log1p, erfc, tanh };

}  // namespace simd
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
