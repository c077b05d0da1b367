// See probes.hpp.
#include "probes.hpp"

#include <algorithm>

#include <vector>

#include <xsimd/xsimd.hpp>

namespace castnet::bench {
namespace {

using vec = xsimd::batch<float>;

// Keeps v in a register and opaque to the optimiser, so the chains are neither folded nor dropped.
inline void opaque(vec& v) noexcept { asm volatile("" : "+v"(v.data)); }

constexpr std::size_t kReadStep = 4 * vec::size;  // floats per step of read_block

// Whole steps, at least one: a tiny model still gets a (cache-resident) bandwidth.
std::size_t read_floats(std::size_t bytes) {
  return std::max<std::size_t>(1, (bytes / sizeof(float) + kReadStep - 1) / kReadStep) * kReadStep;
}

}  // namespace

double read_block_bytes(std::size_t bytes) noexcept { return static_cast<double>(read_floats(bytes) * sizeof(float)); }

void read_block(std::size_t bytes) noexcept {
  static std::vector<float, xsimd::aligned_allocator<float>> buffer;
  const std::size_t n = read_floats(bytes);
  if (buffer.size() != n) buffer.assign(n, 1.0f);
  vec s0(0.f), s1(0.f), s2(0.f), s3(0.f);
  const float* p = buffer.data();
  for (std::size_t i = 0; i < n; i += kReadStep) {
    s0 += vec::load_aligned(p + i);
    s1 += vec::load_aligned(p + i + vec::size);
    s2 += vec::load_aligned(p + i + 2 * vec::size);
    s3 += vec::load_aligned(p + i + 3 * vec::size);
  }
  vec s = (s0 + s1) + (s2 + s3);
  opaque(s);
}

}  // namespace castnet::bench
