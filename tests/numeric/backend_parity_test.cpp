// The SIMD backends agree (backend_parity/run.hpp runs every kernel in each; kernels/simd.hpp says
// why they can): built for the same instruction set with the same flags, the xsimd and the
// vector-extension kernels give the same bits, forward and backward, float and double (except the
// double transcendentals, which each backend takes from its own library), on the building machine's
// widest instruction set and, on x86, with AVX2 + FMA and with SSE4.2 (no FMA). The scalar kernels
// (one lane: other summation orders) agree with the vector ones to rounding: each output's largest
// difference, relative to its largest value, stays within 1e-5 in float and 1e-12 in double.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "numeric/backend_parity/backend_parity.hpp"

namespace {

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Every output of `a` has the bits of `b`'s, except the library-math ones in double, which agree
// within `library_tolerance` (relative to the output's largest value).
template <class T>
void check_bits(const std::vector<Output<T>>& a, const std::vector<Output<T>>& b, double library_tolerance) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    const Output<T>& x = a[k];
    const Output<T>& y = b[k];
    INFO(x.name << " (" << sizeof(T) * 8 << "-bit)");
    REQUIRE(x.name == y.name);
    REQUIRE(x.values.size() == y.values.size());
    double largest = 0;
    for (const T v : y.values) largest = std::max(largest, std::isfinite(v) ? std::abs(double(v)) : 0.0);
    std::size_t differ = 0, first = 0;
    for (std::size_t i = 0; i < x.values.size(); ++i) {
      const T u = x.values[i], v = y.values[i];
      const bool ok = x.library_math ? (u == v || (std::isnan(u) && std::isnan(v)) ||
                                        std::abs(double(u) - double(v)) <= library_tolerance * largest)
                                     : same_bits(u, v);
      if (!ok && differ++ == 0) first = i;
    }
    INFO(differ << " of " << x.values.size() << " values differ; the first, at " << first << ": "
                << (differ ? x.values[first] : T(0)) << " vs " << (differ ? y.values[first] : T(0)));
    CHECK(differ == 0);
  }
}

// Within `tolerance` of the reference's largest value, value by value; infinities and NaNs equal.
template <class T>
void check_close(const std::vector<Output<T>>& got, const std::vector<Output<T>>& reference, double tolerance) {
  REQUIRE(got.size() == reference.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    INFO(got[k].name << " (" << sizeof(T) * 8 << "-bit)");
    REQUIRE(got[k].values.size() == reference[k].values.size());
    double largest = 0, worst = 0;
    std::size_t at = 0;
    bool specials_agree = true;
    for (const T v : reference[k].values) largest = std::max(largest, std::isfinite(v) ? std::abs(double(v)) : 0.0);
    for (std::size_t i = 0; i < got[k].values.size(); ++i) {
      const T u = got[k].values[i], v = reference[k].values[i];
      if (!std::isfinite(u) || !std::isfinite(v)) {
        specials_agree = specials_agree && (u == v || (std::isnan(u) && std::isnan(v)));
        continue;
      }
      const double d = std::abs(double(u) - double(v));
      if (d > worst) {
        worst = d;
        at = i;
      }
    }
    INFO("largest difference " << worst << " at " << at << ", largest value " << largest);
    CHECK(specials_agree);
    CHECK(worst <= tolerance * std::max(largest, 1e-30));
  }
}

void check_pair(const BackendRun& xsimd, const BackendRun& vecext) {
  INFO(xsimd.isa << " against " << vecext.isa);
  REQUIRE(xsimd.lanes == vecext.lanes);
  REQUIRE(xsimd.isa.substr(0, xsimd.isa.rfind('_')) == vecext.isa.substr(0, vecext.isa.rfind('_')));
  check_bits(xsimd.f32, vecext.f32, 0.0);
  check_bits(xsimd.f64, vecext.f64, 1e-13);
}

}  // namespace

TEST_CASE("backend parity: xsimd and vecext kernels agree bit for bit (native)") {
  const BackendRun xsimd = parity_xsimd_native(), vecext = parity_vecext_native();
  CHECK(xsimd.isa.find("_xsimd") != std::string::npos);
  CHECK(vecext.isa.find("_vecext") != std::string::npos);
  REQUIRE_FALSE(xsimd.f64.empty());
  check_pair(xsimd, vecext);
}

#if defined(CASTNET_PARITY_X86)
TEST_CASE("backend parity: xsimd and vecext kernels agree bit for bit (AVX2 + FMA)") {
  const BackendRun xsimd = parity_xsimd_avx2(), vecext = parity_vecext_avx2();
  CHECK(xsimd.isa == "isa_fma3_avx2_xsimd");
  CHECK(vecext.isa == "isa_fma3_avx2_vecext");
  check_pair(xsimd, vecext);
}

TEST_CASE("backend parity: xsimd and vecext kernels agree bit for bit (SSE4.2, no FMA)") {
  const BackendRun xsimd = parity_xsimd_sse4(), vecext = parity_vecext_sse4();
  CHECK(xsimd.isa == "isa_sse4_2_xsimd");
  CHECK(vecext.isa == "isa_sse4_2_vecext");
  check_pair(xsimd, vecext);
}
#endif

TEST_CASE("backend parity: scalar kernels agree with the vector kernels to rounding") {
  const BackendRun scalar = parity_scalar(), vector = parity_xsimd_native();
  CHECK(scalar.isa == "isa_scalar");
  CHECK(scalar.lanes == 1);
  check_close(scalar.f32, vector.f32, 1e-5);
  check_close(scalar.f64, vector.f64, 1e-12);
}
