// castnet's own random numbers, for initial weights and per-epoch shuffles. The same seed must give
// the same bits on every machine, compiler and standard library, so nothing here uses <random>'s
// distributions (their algorithms are implementation-defined) or libm's log and cos (not required
// to be correctly rounded, so their last bit may differ between libm versions). Only correctly
// rounded IEEE operations are used: + - * / and sqrt, and std::fma written out in every polynomial
// so that the compiler's FMA contraction setting (-ffp-contract) cannot change a result.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include <castnet/kernels/simd_base.hpp>

// In the instruction set's namespace (kernels/simd_base.hpp): generated code of any instruction set
// calls these inline functions, and a copy compiled for AVX-512 (where g++ makes cos_2pi's std::floor
// vrndscalesd, an AVX-512 instruction) must not stand in for another's. The numbers are the same in
// each.
namespace castnet {
inline namespace CASTNET_SIMD_ISA {
namespace rng {

// Stream offsets, so that initialisation (stream = tensor index) and shuffling (stream = epoch)
// never draw from the same sequence.
inline constexpr std::uint64_t kInitStream = 0;
inline constexpr std::uint64_t kShuffleStream = std::uint64_t{1} << 32;
inline constexpr std::uint64_t kDropoutStream = std::uint64_t{2} << 32;
inline constexpr std::uint64_t kNoiseStream = std::uint64_t{3} << 32;

// splitmix64 (Steele, Lea, Flood 2014): turns one 64-bit seed into well-mixed words for seeding.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return mix(state_ += 0x9E3779B97F4A7C15u); }
  // The splitmix64 output function: a bijection on 64-bit words.
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

namespace detail {

// log(x) for finite x > 0 (here x is in (0, 1]). frexp is exact; with m in [sqrt(1/2), sqrt(2)),
// log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, and the series
// 2 s (1 + s^2/3 + s^4/5 + ...) truncated after s^20/21 is accurate to below 1e-18 relative.
inline double log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    --e;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double z = s * s;
  double p = 1.0 / 21.0;
  for (int k = 19; k >= 1; k -= 2) p = std::fma(p, z, 1.0 / k);
  return std::fma(static_cast<double>(e), 0.69314718055994530942, 2.0 * s * p);
}

// cos(2 pi t) for t in [0, 1). Reduction in turns is exact: t is a multiple of 2^-53, so
// f = t - q/4 is representable and |f| <= 1/8; the angle x = 2 pi f has |x| <= pi/4, where Taylor
// series to x^16 (cos) and x^17 (sin) are accurate to below 1e-17.
inline double cos_2pi(double t) {
  // (-1)^k / (2k)! and (-1)^k / (2k+1)!, k = 0..8; each literal quotient is rounded once.
  constexpr double kCos[] = {1.0, -1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800,
                             1.0 / 479001600, -1.0 / 87178291200, 1.0 / 20922789888000};
  constexpr double kSin[] = {1.0, -1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880,
                             -1.0 / 39916800, 1.0 / 6227020800, -1.0 / 1307674368000,
                             1.0 / 355687428096000};
  const double q = std::floor(4.0 * t + 0.5);  // nearest quarter turn, 0..4
  const double x = 6.28318530717958647693 * (t - 0.25 * q);
  const double x2 = x * x;
  double c = kCos[8], s = kSin[8];
  for (int k = 7; k >= 0; --k) {
    c = std::fma(c, x2, kCos[k]);
    s = std::fma(s, x2, kSin[k]);
  }
  s *= x;
  switch (static_cast<int>(q) & 3) {  // cos(x + q pi/2)
    case 0: return c;
    case 1: return -s;
    case 2: return -c;
    default: return s;
  }
}

}  // namespace detail

// xoshiro256** 1.0 (Blackman, Vigna 2018): the generator behind every castnet draw.
class Xoshiro256ss {
 public:
  // Stream `stream` of `seed`. The stream number is hashed into the seed (a bijection), so each
  // tensor and each epoch has its own sequence and adding a layer leaves the others unchanged.
  Xoshiro256ss(std::uint64_t seed, std::uint64_t stream) {
    SplitMix64 words(seed ^ SplitMix64::mix(stream));
    for (std::uint64_t& w : s_) w = words.next();
  }

  std::uint64_t next() {
    const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1): the top 53 bits, the low bits of xoshiro being the weaker ones.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), n > 0, without modulo bias: draws below 2^64 mod n are rejected.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }

  // Standard normal by Box-Muller (the cosine half): u1 in (0, 1] keeps the log finite.
  double normal() {
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * detail::log(u1)) * detail::cos_2pi(u2);
  }

 private:
  std::uint64_t s_[4];
};

// Fisher-Yates over `order` with the draws of stream `stream` of `seed`.
inline void shuffle(std::span<std::size_t> order, std::uint64_t seed, std::uint64_t stream) {
  Xoshiro256ss draw(seed, stream);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[draw.below(i)]);
}

// Dropout masks are counter-based: whether value i of layer `layer` is kept at a training step is
// a hash of (the step's key, the layer, i). Masks thus need no generator state (nothing to save in
// a checkpoint), any step's mask can be recomputed (the interpreter does, as the reference), and
// the loop vectorises. The trainer's key for a step is step_key(seed, step).
inline std::uint64_t step_key(std::uint64_t seed, std::uint64_t step) {
  return SplitMix64::mix(seed ^ kDropoutStream) + step;
}
inline std::uint64_t dropout_base(std::uint64_t key, std::uint64_t layer) {
  return SplitMix64::mix(key ^ SplitMix64::mix(kDropoutStream + layer));
}
// A value is dropped with probability threshold / 2^24 = rate, to 2^-25.
inline std::uint32_t dropout_threshold(double rate) {
  return static_cast<std::uint32_t>(rate * 16777216.0 + 0.5);
}
inline bool dropout_keep(std::uint64_t base, std::uint64_t i, std::uint32_t threshold) {
  return (SplitMix64::mix(base + i * 0x9E3779B97F4A7C15u) >> 40) >= threshold;
}

}  // namespace rng
}  // namespace CASTNET_SIMD_ISA
}  // namespace castnet
