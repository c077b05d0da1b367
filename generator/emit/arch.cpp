// See arch.hpp.
#include "emit/arch.hpp"

#include <array>
#include <stdexcept>

#include "emit/code_writer.hpp"

namespace castnet::gen {
namespace {

// native cannot be checked: no macro says that -march=native was given; scalar needs no flag, the
// header defines CASTNET_SIMD_SCALAR itself. The AVX-512 set is the
// one kernels/simd.hpp's narrow (256-bit) batch needs beside the 512-bit one. NEON means AArch64,
// where it is always present; xsimd 8.1's 32-bit NEON has no double vectors.
constexpr std::array kArchs = {
    Arch{"native", "", "-march=native", "-march=native"},
    Arch{"avx512",
         "defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__) && "
         "defined(__AVX2__) && defined(__FMA__)",
         "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mavx2", "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mavx2"},
    Arch{"avx2", "defined(__AVX2__) && defined(__FMA__)", "-mavx2 -mfma", "-mavx2 -mfma -mno-avx512f"},
    Arch{"sse4", "defined(__SSE4_2__)", "-msse4.2", "-msse4.2 -mno-avx"},
    Arch{"neon", "defined(__aarch64__) && defined(__ARM_NEON)", "an AArch64 compiler (NEON is always on there)", ""},
    Arch{"scalar", "", "", "-DCASTNET_SIMD_SCALAR"},
};

constexpr std::array<std::string_view, 5> kDispatchArches = {"scalar", "sse4", "avx2", "avx512", "neon"};

}  // namespace

std::span<const std::string_view> dispatch_arches() { return kDispatchArches; }

std::string dispatch_unit_guard(const std::string& ns, std::string_view name) {
  const Arch* arch = find_arch(name);
  if (arch == nullptr || arch->condition.empty()) throw std::logic_error("dispatch_unit_guard: no check for " + std::string(name));
  Holes h;
  h.id("ns", ns).comment("arch", arch->name).code("condition", std::string(arch->condition));
  h.comment("flags", arch->build_flags.empty() ? arch->flags : arch->build_flags);
  return render("dispatch_guard.tmpl", h) + "\n";
}

const Arch* find_arch(std::string_view name) {
  for (const Arch& a : kArchs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string arch_names() {
  std::string names;
  for (const Arch& a : kArchs) names += (names.empty() ? "" : "|") + std::string(a.name);
  return names;
}

}  // namespace castnet::gen
