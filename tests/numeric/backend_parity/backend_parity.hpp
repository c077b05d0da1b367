// The halves of backend_parity_test.cpp. unit.cpp runs every kernel (run.hpp) on the same random
// inputs and is compiled once per backend and instruction set (numeric.cmake names each build's
// function with CASTNET_PARITY_RUN): xsimd, vecext and scalar for the building machine, and xsimd
// and vecext again with AVX2 + FMA and with SSE4.2 (no FMA) on x86.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

// One kernel output: its name ("dense_forward b=1 37x19", ...) and values.
template <class T>
struct Output {
  std::string name;
  std::vector<T> values;
  bool library_math = false;  // computed with the backend's double math (xsimd's or the C library's)
};

struct BackendRun {
  std::string isa;    // CASTNET_SIMD_ISA, e.g. isa_avx512bw_vecext
  std::size_t lanes;  // floats per simd::vec<float>
  std::vector<Output<float>> f32;
  std::vector<Output<double>> f64;  // empty where the run is float only
};

BackendRun parity_xsimd_native();
BackendRun parity_vecext_native();
BackendRun parity_scalar();
#if defined(CASTNET_PARITY_X86)
BackendRun parity_xsimd_avx2();
BackendRun parity_vecext_avx2();
BackendRun parity_xsimd_sse4();
BackendRun parity_vecext_sse4();
#endif
