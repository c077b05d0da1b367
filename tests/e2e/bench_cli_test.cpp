// castnet bench end to end on XOR: the runner compiles, every workload gets a table with the
// generated code, its 2-thread form, its export (inference tables) and the interpreter timed (each
// checked against the generated code first), the width sweep's file, and bad options are usage
// errors. Speed is not asserted: that is the suite's job.
#ifdef CASTNET_HAVE_BENCH
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <tuple>

#include "support/process.hpp"

using castnet::test::read_file;
using castnet::test::run;
using castnet::test::TempDir;

namespace {

const std::string kXor = std::string(CASTNET_SOURCE_DIR) + "/specs/xor.toml";

// One compile cache for the file: the runner is compiled once.
const TempDir& dir() {
  static TempDir d;
  return d;
}

// castnet bench on XOR; for the machine's own instruction set alone unless `args` name others.
castnet::test::Result bench(std::vector<std::string> args) {
  if (std::find(args.begin(), args.end(), "--arch") == args.end()) args.insert(args.end(), {"--arch", "native"});
  args.insert(args.begin(), {CASTNET_CLI_EXE, "bench", kXor});
  return run(args, dir().path(), {"CASTNET_CACHE_DIR=" + (dir().path() / "cache").string()});
}

// The table row of a contender: "| name | median | min | max | ratio | GFLOP/s | % | notes |".
std::vector<std::string> row(const std::string& table, const std::string& name) {
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| " + name + " |", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream cols(line.substr(1));
    for (std::string c; std::getline(cols, c, '|');) cells.push_back(c.substr(1, c.size() - 2));
    return cells;
  }
  return {};
}

}  // namespace

TEST_CASE("bench: every workload times the generated code, its 2-thread form, its export and the interpreter") {
  const auto md = dir() / "results.md";
  const auto r = bench({"--workloads", "latency,batch,step,epoch,tail", "--contenders", "generated,export,interpreter",
                             "--repetitions", "2", "--min-time", "0.002", "--epoch-samples", "64", "--tail-calls", "3000",
                             "--markdown", md.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string tables = read_file(md);
  CHECK(tables.find("Same-run FMA peak, 1 thread") != std::string::npos);
  for (const char* title : {"Batch-1 latency", "Forward, batch 4", "Training step, batch 4", "Epoch: 64 samples"})
    CHECK(tables.find(title) != std::string::npos);
  // The tables in order; the generated row of each is timed with a ratio of 1 to itself.
  std::size_t at = 0;
  for (int table = 0; table < 4; ++table) {
    at = tables.find("| **generated** |", at);
    REQUIRE(at != std::string::npos);
    ++at;
  }
  const auto gen = row(tables, "**generated**");
  REQUIRE(gen.size() == 8);
  CHECK(gen[4] == "1.00×");
  CHECK(std::stod(gen[1].substr(2)) > 0);
  const auto two = row(tables.substr(tables.find("Training step")), "generated 2T");
  REQUIRE(two.size() == 8);
  CHECK(two[1] != "–");
  const auto interp = row(tables, "interpreter");
  REQUIRE(interp.size() == 8);
  CHECK(interp[1] != "–");
  // The interpreter runs no whole epochs, and says so.
  CHECK(tables.find("too slow for whole epochs") != std::string::npos);
  // The export (binary cross-entropy: predict() adds a sigmoid) passed its bit-for-bit check and
  // was timed in the latency and batch tables, and has no row in the training tables.
  const std::size_t step = tables.find("Training step");
  REQUIRE(step != std::string::npos);
  for (const char* table : {"Batch-1 latency", "Forward, batch 4"}) {
    INFO(table);
    const auto exported = row(tables.substr(tables.find(table)), "export");
    REQUIRE(exported.size() == 8);
    CHECK(exported[1] != "–");
  }
  // The tail table: the timer alone, then the generated code and its export, warm and cold, each
  // over the calls asked for (fewer only if --tail-seconds ran out), percentiles in order. It
  // follows the other tables.
  const auto tail = tables.find("### Tail latency, batch 1: every call timed alone");
  REQUIRE(tail != std::string::npos);
  REQUIRE(tail > step);
  CHECK(row(tables.substr(step, tail - step), "export").empty());
  const std::string tail_table = tables.substr(tail, tables.find("\n### ", tail + 1) - tail);
  CHECK(tail_table.find("the thread pinned to CPU ") != std::string::npos);
  CHECK(tail_table.find("the thread pinned to CPU -1") == std::string::npos);
  for (const auto& [contender, caches] : {std::pair{"timer alone", "warm"}, std::pair{"generated", "warm"},
                                          std::pair{"generated", "cold"}, std::pair{"export", "warm"},
                                          std::pair{"export", "cold"}}) {
    INFO(contender << ", " << caches);
    const auto cells = row(tail_table.substr(tail_table.find(std::string("| ") + contender + " | " + caches + " |")), contender);
    // | contender | caches | calls | p50 | p99 | p99.9 | p99.99 | max | p99.99 / p50 | notes |
    REQUIRE(cells.size() == 10);
    CHECK(cells[1] == caches);
    std::string calls = cells[2];
    calls.erase(std::remove(calls.begin(), calls.end(), ','), calls.end());
    CHECK(std::stoul(calls) > 0);
    CHECK(std::stoul(calls) <= 3000);
    double previous = 0;
    for (std::size_t i = 3; i <= 7; ++i) {
      INFO(cells[i]);
      const double v = std::stod(cells[i]);
      CHECK(v >= previous);
      previous = v;
    }
  }
}

TEST_CASE("bench: the runner holds only the headers its tables need") {
  // No training table: no half-batch shard; no export contender: no export.
  const auto r = bench({"--workloads", "latency", "--contenders", "generated", "--repetitions", "1", "--min-time", "0.001"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string compiling = "runner (cached in ";
  const auto at = r.err.find(compiling);
  REQUIRE(at != std::string::npos);  // compiled here: no other test of this file asks for this runner
  const std::filesystem::path folder = r.err.substr(at + compiling.size(), r.err.find(')', at) - at - compiling.size());
  CHECK(std::filesystem::exists(folder / "xor_net.hpp"));
  CHECK_FALSE(std::filesystem::exists(folder / "xor_net_half.hpp"));
  CHECK_FALSE(std::filesystem::exists(folder / "xor_net_export.hpp"));
  CHECK(r.out.find("| export |") == std::string::npos);
}

// ./castnet bench --width runs bench/write_width.sh; here on one width, briefly: its summary row and
// its own table, the generated code and its export both timed.
TEST_CASE("bench: the width sweep writes a summary and a table per width") {
  const auto md = dir() / "WIDTH.md";
  const auto r = run({std::string(CASTNET_SOURCE_DIR) + "/bench/write_width.sh", CASTNET_CLI_EXE, "--out", md.string(),
                      "--repetitions", "1", "--min-time", "0.001", "--arch", "native", "4"},
                     dir().path(), {"CASTNET_CACHE_DIR=" + (dir().path() / "cache").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string text = read_file(md);
  CHECK(text.find("- CPU: ") != std::string::npos);
  // | W | generated | export | export / generated | Eigen 1T | Eigen 1T / generated |
  const auto summary = row(text, "4");
  REQUIRE(summary.size() == 6);
  CHECK(summary[1] != "–");
  CHECK(summary[2] != "–");
  CHECK(summary[3].find("×") != std::string::npos);
  const auto at = text.find("## W = 4: MLP 8-4-4-1, tanh");
  REQUIRE(at != std::string::npos);
  CHECK(text.find("bench/specs/width/width_4.toml", at) != std::string::npos);
  const auto exported = row(text.substr(at), "export");
  REQUIRE(exported.size() == 8);
  CHECK(exported[1] != "–");
}

// --arch: a runner per instruction set, one after the other, each table titled with it and divided
// by its own probe, and Eigen built for it. This machine needs AVX2 (every x86 CPU castnet's CI runs
// on has it); without it the run fails naming the instruction set.
TEST_CASE("bench: --arch gives each instruction set its tables, its probe and its Eigen") {
  const auto r = bench({"--arch", "avx2,sse4", "--workloads", "latency", "--contenders", "generated,eigen", "--repetitions",
                        "1", "--min-time", "0.001"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const auto& [arch, probe, eigen] : {std::tuple{"avx2", "fma3_avx2", "(AVX SSE"}, std::tuple{"sse4", "sse4_2", "(SSE, SSE2"}}) {
    INFO(arch);
    const auto at = r.out.find(std::string("## xor_net (") + arch + ")\n");
    REQUIRE(at != std::string::npos);
    const std::string tables = r.out.substr(at, r.out.find("\n## ", at + 1) - at);
    CHECK(tables.find(std::string("GFLOP/s** (") + probe + "_xsimd: ") != std::string::npos);
    const auto generated = row(tables, "**generated**");
    REQUIRE(generated.size() == 8);
    CHECK(generated[1] != "–");
    CHECK(tables.find(eigen) != std::string::npos);
  }
}

// Without --arch: every instruction set of the three that this CPU runs, in turn.
TEST_CASE("bench: by default, every instruction set the CPU runs") {
  std::vector<std::string> expected;  // elsewhere than x86, none: the machine's own build, untitled
#if defined(__x86_64__) || defined(__i386__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    expected.push_back("avx512");
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) expected.push_back("avx2");
  if (__builtin_cpu_supports("sse4.2")) expected.push_back("sse4");
#endif
  const auto r = run({CASTNET_CLI_EXE, "bench", kXor, "--workloads", "latency", "--contenders", "generated,eigen",
                      "--repetitions", "1", "--min-time", "0.001"},
                     dir().path(), {"CASTNET_CACHE_DIR=" + (dir().path() / "cache").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> got;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("## xor_net (", 0) == 0) got.push_back(line.substr(12, line.size() - 13));
  CHECK(got == expected);
}

TEST_CASE("bench: bad options are usage errors") {
  const auto arch = bench({"--arch", "avx9"});
  CHECK(arch.exit_code == 2);
  CHECK(arch.err.find("--arch: 'avx9' is not an instruction set castnet bench builds for here") != std::string::npos);
  const auto r = bench({"--workloads", "latency,speed"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--workloads: unknown 'speed'") != std::string::npos);
  const auto no_spec = run({CASTNET_CLI_EXE, "bench", "--repetitions", "3"}, dir().path());
  CHECK(no_spec.exit_code == 2);
  CHECK(no_spec.err.find("the spec comes first") != std::string::npos);
}
#endif
