// The suite's probe checks itself: when a 1-thread contender runs at more FLOP/s than the peak
// probe, the tables say the probe is wrong and give no percentages; when none does, they give them.
// The probes here are fakes whose FLOP count makes the peak tiny or huge.
#ifdef CASTNET_HAVE_BENCH
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "suite.hpp"

namespace {

void idle() noexcept {}

// The tables of a suite with one workload of 1 MFLOP per call, timed for an empty body.
std::string tables(double probe_flops) {
  castnet::bench::Options options;
  options.repetitions = 1;
  options.min_time = 0.001;
  castnet::bench::Suite suite("fake", "fake.toml", options, {"fake probe", &idle, probe_flops});
  suite.add_workload({"batch", "Forward", 1e6, 0});
  suite.add("batch", "generated", [](benchmark::State& st) {
    for (auto _ : st) benchmark::ClobberMemory();
  });
  std::vector<char*> argv{const_cast<char*>("suite")};
  std::ostringstream out;
  REQUIRE(suite.run(1, argv.data(), out) == 0);
  return out.str();
}

}  // namespace

TEST_CASE("bench: the peak probe checks itself against the 1-thread contenders") {
  // A probe of 1 FLOP per (empty) block: the contender's 1 MFLOP per (empty) call outruns it.
  const std::string wrong = tables(1);
  CHECK(wrong.find("(fake probe;") != std::string::npos);
  CHECK(wrong.find("**The probe is wrong**: batch/generated ran on one thread") != std::string::npos);
  CHECK(wrong.find("% |") == std::string::npos);
  // A probe of 1e15 FLOP per block: nothing outruns it, and the row has its percentage.
  const std::string right = tables(1e15);
  CHECK(right.find("The probe is wrong") == std::string::npos);
  CHECK(right.find("% |") != std::string::npos);
}
#endif
