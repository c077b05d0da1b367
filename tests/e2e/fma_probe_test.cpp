// The bench's peak probe (bench/harness/fma_probe.hpp), built as a bench runner is for each x86
// instruction set castnet emits, keeps its chains in registers: its disassembly has the
// instruction set's full-width FMAs (a multiply and an add on SSE4.2), at least one per chain, and
// no access to the stack, where spilled chains would go. Reading the code needs no such CPU, so
// every instruction set is checked on any x86 machine.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "emit/arch.hpp"
#include "find_program.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::run;
using castnet::test::TempDir;
using castnet::test::write_file;

namespace {

// The lines of FmaProbe::block()'s disassembly in `objdump -d -C` output.
std::vector<std::string> block_lines(const std::string& disassembly) {
  std::vector<std::string> lines;
  std::istringstream in(disassembly);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.find(">:") != std::string::npos) inside = line.find("FmaProbe::block()") != std::string::npos;
    else if (inside && !line.empty()) lines.push_back(line);
  }
  return lines;
}

std::size_t count_matching(const std::vector<std::string>& lines, const std::string& pattern) {
  const std::regex re(pattern);
  std::size_t n = 0;
  for (const auto& l : lines) n += std::regex_search(l, re) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("bench: the peak probe keeps its FMA chains in registers on every x86 instruction set", "[bench]") {
#if !defined(__x86_64__)
  FAIL("the probe's disassembly check reads x86 code; this build targets another processor");
#else
  const auto objdump = castnet::cli::find_on_path("objdump");
  REQUIRE(objdump);  // binutils, which g++ needs anyway
  TempDir dir;
  write_file(dir / "probe.cpp", "#include \"fma_probe.hpp\"\nvoid (*keep)() noexcept = &castnet::bench::FmaProbe::block;\n");
  struct Expect {
    const char* arch;
    std::vector<std::string> ops;  // one regex per instruction each chain needs every step
  };
  const std::vector<Expect> expected = {
      {"avx512", {R"(vfmadd\d+ps\s+%zmm)"}},
      {"avx2", {R"(vfmadd\d+ps\s+%ymm)"}},
      {"sse4", {R"(\smulps\s+%xmm)", R"(\saddps\s+%xmm)"}},
      {"scalar", {R"(vfmadd\d+ss|\smulss)"}},
  };
  constexpr std::size_t kChains = 12;  // FmaProbe::kChains
  for (const auto& e : expected) {
    INFO("--arch " << e.arch);
    const castnet::gen::Arch* arch = castnet::gen::find_arch(e.arch);
    REQUIRE(arch != nullptr);
    // The runner's compiler and flags, then the instruction set's (as castnet bench --arch builds it).
    std::vector<std::string> command = {CASTNET_CXX};
    std::istringstream flags(std::string(CASTNET_RUNNER_FLAGS) + " " + std::string(arch->build_flags));
    for (std::string f; flags >> f;) command.push_back(f);
    command.insert(command.end(), {"-I", CASTNET_RUNTIME_INCLUDE_DIR, "-I", CASTNET_SOURCE_DIR "/bench/harness", "-c",
                                   (dir / "probe.cpp").string(), "-o", (dir / "probe.o").string()});
    const auto compiled = run(command);
    INFO(compiled.err);
    REQUIRE(compiled.exit_code == 0);
    const auto dumped = run({objdump->string(), "-d", "-C", "--no-show-raw-insn", (dir / "probe.o").string()});
    REQUIRE(dumped.exit_code == 0);
    const auto lines = block_lines(dumped.out);
    std::string code;
    for (const auto& l : lines) code += l + "\n";
    INFO(code);
    REQUIRE(!lines.empty());
    for (const auto& op : e.ops) {
      INFO("instruction " << op);
      CHECK(count_matching(lines, op) >= kChains);
    }
    CHECK(count_matching(lines, R"(\(%rsp\)|\(%rbp\)|%rsp,|push|call)") == 0);
  }
#endif
}
