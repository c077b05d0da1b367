// castnet through add_subdirectory, as a project that vendors its source meets it
// (tests/cmake/subdirectory): configure stays quiet and leaves the build type alone, castnet's
// tests and benchmarks are not built, and a training and a WEIGHTS target of one spec meet in one
// translation unit, each in the namespace of its target, and agree; so does a QUANTIZE one.

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::run_shell;

namespace {

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("cmake: add_subdirectory(castnet) builds only what the parent uses, quietly, in its build type",
          "[cmake]") {
  const fs::path source = CASTNET_SOURCE_DIR;
  const castnet::test::TempDir work;
  const fs::path build = work / "build";
  const fs::path log = work / "log.txt";

  const auto configure = run_shell("cmake -S " + quoted(source / "tests" / "cmake" / "subdirectory") + " -B " + quoted(build) +
                                " -G Ninja -DCASTNET_DIR=" + quoted(source) +
                                " -DSPEC=" + quoted(source / "tests" / "golden" / "specs" / "xor.toml") +
                                " -DWEIGHTS=" + quoted(source / "tests" / "golden" / "weights" / "xor.safetensors"),
                            log);
  INFO(configure.output);
  REQUIRE(configure.status == 0);
  CHECK_FALSE(contains(configure.output, "castnet:"));  // what castnet found is its own business
  CHECK_FALSE(contains(configure.output, "Warning"));
  const std::string cache = castnet::test::read_file(build / "CMakeCache.txt");
  CHECK(contains(cache, "\nCMAKE_BUILD_TYPE:STRING=\n"));
  CHECK(contains(cache, "\nCASTNET_BUILD_TESTS:BOOL=OFF\n"));
  CHECK(contains(cache, "\nCASTNET_BUILD_BENCH:BOOL=OFF\n"));
  const auto targets = run_shell("ninja -C " + quoted(build) + " -t targets all", log);
  REQUIRE(targets.status == 0);
  CHECK_FALSE(contains(targets.output, "castnet_unit_tests"));
  CHECK_FALSE(contains(targets.output, "castnet_bench"));

  const auto built = run_shell("cmake --build " + quoted(build) + " --target both", log);
  INFO(built.output);
  REQUIRE(built.status == 0);
  const auto ran = run_shell(quoted(build / "both"), log);
  INFO(ran.output);
  CHECK(ran.status == 0);
  CHECK(contains(ran.output, "both ok"));
  // QUANTIZE reaches the generator.
  const std::string bf16 = castnet::test::read_file(build / "castnet_generated" / "xor_bf16" / "xor_bf16.hpp");
  CHECK(contains(bf16, "// Quantized weights (--quantize bf16)"));
  CHECK(contains(bf16, "// Quantized: none"));
}

// `./castnet demo` and the verbs build the castnet target alone: it must not pull in the bench
// suite or its peers (Eigen and libtorch, once per instruction set), which `castnet bench` needs.
TEST_CASE("cmake: the castnet CLI target depends on no benchmark peer", "[cmake]") {
  const castnet::test::TempDir work;
  const auto inputs = run_shell("ninja -C " + quoted(CASTNET_BINARY_DIR) + " -t inputs castnet_cli", work / "log.txt");
  REQUIRE(inputs.status == 0);
  CHECK(contains(inputs.output, "cli/main.cpp"));
  CHECK_FALSE(contains(inputs.output, "peers/"));
  CHECK_FALSE(contains(inputs.output, "libcastnet_bench"));
  CHECK_FALSE(contains(inputs.output, "harness/"));
}
