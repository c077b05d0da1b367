// The checks that decide whether the benchmark suite may time a contender: outputs, losses and
// parameter updates must match the generated code's, and a NaN never passes.
#ifdef CASTNET_HAVE_BENCH
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "run_model.hpp"

using castnet::bench::mismatch;
using castnet::bench::detail::loss_mismatch;
using castnet::bench::detail::update_mismatch;

TEST_CASE("bench checks: outputs agree within the tolerance, relative to the largest output") {
  const std::vector<float> want{1.f, -200.f, 3.f};
  CHECK(mismatch(want.data(), want.data(), 3, 1e-4).empty());
  std::vector<float> got = want;
  got[2] += 0.01f;  // 0.01 <= 1e-4 * 200: within tolerance of the scale
  CHECK(mismatch(got.data(), want.data(), 3, 1e-4).empty());
  got[2] += 0.1f;
  const std::string why = mismatch(got.data(), want.data(), 3, 1e-4);
  CHECK(why.find("output 2") != std::string::npos);
  got = want;
  got[0] = std::numeric_limits<float>::quiet_NaN();
  CHECK(mismatch(got.data(), want.data(), 3, 1e-4).find("NaN") != std::string::npos);
}

TEST_CASE("bench checks: a training step must give the same loss and the same update") {
  CHECK(loss_mismatch(2.30259f, 2.30260f).empty());
  CHECK(!loss_mismatch(2.3f, 2.2f).empty());
  CHECK(!loss_mismatch(std::numeric_limits<float>::quiet_NaN(), 2.3f).empty());

  const std::vector<std::vector<float>> before{{1.f, 2.f}, {0.f}};
  const std::vector<std::vector<float>> want{{0.9f, 2.1f}, {0.05f}};
  CHECK(update_mismatch(before, want, want).empty());
  // Same weights to 1e-3 of their size, but an update off by 20%: refused.
  const std::vector<std::vector<float>> off{{0.92f, 2.1f}, {0.05f}};
  CHECK(update_mismatch(before, off, want).find("flat index 0") != std::string::npos);
  const std::vector<std::vector<float>> nan{{0.9f, 2.1f}, {std::numeric_limits<float>::quiet_NaN()}};
  CHECK(!update_mismatch(before, nan, want).empty());
}
#endif
