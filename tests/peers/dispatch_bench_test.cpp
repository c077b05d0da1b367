// The dispatch benchmark (bench/dispatch/, `./castnet bench --dispatch`) runs under each instruction
// set it has a single-ISA build for and the CPU runs: it exits 0 only after the dispatching and the
// single-ISA W1 and W2 gave the same outputs bit for bit, then times both.
#ifdef CASTNET_BENCH_DISPATCH
#include <catch2/catch.hpp>

#include <string>

#include "support/process.hpp"

TEST_CASE("bench: the dispatch benchmark's models agree bit for bit, under each instruction set the CPU runs") {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  int ran = 0;
  for (const auto& [isa, runs] : {std::pair{"avx512", avx512}, std::pair{"avx2", avx2}}) {
    if (!runs) {
      WARN("not run: this CPU lacks " << isa);
      continue;
    }
    const auto r = castnet::test::run({CASTNET_BENCH_DISPATCH, "--benchmark_min_time=0.001", "--benchmark_format=csv"}, {},
                                      {std::string("CASTNET_ISA=") + isa});
    INFO(isa << ": " << r.err << r.out);
    CHECK(r.exit_code == 0);
    for (const char* row : {"/dispatch\"", "/single\""})
      for (const char* w : {"W1/", "W2/"}) CHECK(r.out.find(std::string("\"") + w + isa + row) != std::string::npos);
    ++ran;
  }
  CHECK(ran >= 1);
}
#endif
