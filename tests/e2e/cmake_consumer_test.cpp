// castnet_add_model() as a user meets it: install castnet, build the out-of-tree project in
// tests/cmake/consumer against the install, and check what each kind of spec edit rebuilds.
//   fresh build       -> generates the header, compiles, runs
//   build again       -> nothing to do
//   touch the spec    -> the generator may run, but the header keeps its bytes and mtime: no recompile
//   change the spec   -> the header is regenerated and the program recompiled

#include <catch2/catch.hpp>

#include "support/process.hpp"
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using castnet::test::run_shell;

namespace {

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("cmake: castnet_add_model regenerates only when the spec changes", "[cmake]") {
  const fs::path source = CASTNET_SOURCE_DIR;
  const fs::path work = fs::path(CASTNET_BINARY_DIR) / "cmake_consumer_test";
  const fs::path prefix = work / "prefix";
  const fs::path build = work / "build";
  const fs::path spec = work / "spec" / "xor.toml";
  const fs::path header = build / "castnet_generated" / "consumer_model" / "consumer_model.hpp";
  const fs::path program = build / "consumer";
  const fs::path log = work / "log.txt";
  const std::string generating = "castnet: generating consumer_model.hpp";
  const std::string compiling = "Building CXX object";

  fs::remove_all(work);
  fs::create_directories(spec.parent_path());
  REQUIRE(fs::exists(source / "specs" / "xor.toml"));
  fs::copy_file(source / "specs" / "xor.toml", spec);

  const auto install = run_shell("cmake --install " + quoted(CASTNET_BINARY_DIR) + " --prefix " + quoted(prefix), log);
  INFO(install.output);
  REQUIRE(install.status == 0);

  const auto configure = run_shell("cmake -S " + quoted(source / "tests" / "cmake" / "consumer") + " -B " +
                                quoted(build) + " -G Ninja -DCMAKE_BUILD_TYPE=Release" +
                                " -DCMAKE_PREFIX_PATH=" + quoted(prefix) + " -DSPEC=" + quoted(spec),
                            log);
  INFO(configure.output);
  REQUIRE(configure.status == 0);

  const std::string build_cmd = "cmake --build " + quoted(build);
  const std::string dry_run_cmd = "cmake --build " + quoted(build) + " -- -n";

  // Fresh build: generate, compile, run.
  const auto first = run_shell(build_cmd, log);
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK(contains(first.output, generating));
  REQUIRE(fs::exists(header));
  const auto ran = run_shell(quoted(program), log);
  INFO(ran.output);
  REQUIRE(ran.status == 0);
  CHECK(contains(ran.output, "consumer ok"));
  const std::string header_v1 = castnet::test::read_file(header);
  const auto header_time_v1 = fs::last_write_time(header);

  // Up to date: a second build does nothing at all.
  const auto second = run_shell(build_cmd, log);
  INFO(second.output);
  REQUIRE(second.status == 0);
  CHECK_FALSE(contains(second.output, generating));
  CHECK_FALSE(contains(second.output, compiling));
  CHECK(contains(run_shell(dry_run_cmd, log).output, "no work to do"));
  CHECK(fs::last_write_time(header) == header_time_v1);

  // Touched but unchanged: the header keeps its bytes and mtime, so nothing recompiles.
  fs::last_write_time(spec, fs::file_time_type::clock::now());
  const auto touched = run_shell(build_cmd, log);
  INFO(touched.output);
  REQUIRE(touched.status == 0);
  CHECK_FALSE(contains(touched.output, compiling));
  CHECK(fs::last_write_time(header) == header_time_v1);
  CHECK(castnet::test::read_file(header) == header_v1);
  CHECK(contains(run_shell(dry_run_cmd, log).output, "no work to do"));

  // Changed: one more unit in the first layer that has units regenerates and recompiles.
  std::string text = castnet::test::read_file(spec);
  std::smatch units;
  REQUIRE(std::regex_search(text, units, std::regex(R"(units\s*=\s*(\d+))")));
  const std::string widened = "units = " + std::to_string(std::stoi(units[1].str()) + 1);
  text.replace(static_cast<std::size_t>(units.position(0)), static_cast<std::size_t>(units.length(0)), widened);
  write_text(spec, text);
  const auto changed = run_shell(build_cmd, log);
  INFO(changed.output);
  REQUIRE(changed.status == 0);
  CHECK(contains(changed.output, generating));
  CHECK(contains(changed.output, compiling));
  CHECK(castnet::test::read_file(header) != header_v1);
  const auto ran_again = run_shell(quoted(program), log);
  INFO(ran_again.output);
  REQUIRE(ran_again.status == 0);
  CHECK(contains(ran_again.output, "consumer ok"));
  CHECK(contains(run_shell(dry_run_cmd, log).output, "no work to do"));

  // The installed CLI trains with the installed headers and runtime library, not the build tree's.
  const fs::path cache = work / "cache";
  fs::copy_file(source / "specs" / "xor.csv", spec.parent_path() / "xor.csv");
  const auto trained = run_shell("cd " + quoted(spec.parent_path()) + " && CASTNET_CACHE_DIR=" + quoted(cache) + " " +
                                     quoted(prefix / "bin" / "castnet") + " train xor.toml --epochs 2 --out run",
                                 log);
  INFO(trained.output);
  REQUIRE(trained.status == 0);
  bool found = false;
  for (const auto& entry : fs::recursive_directory_iterator(cache / "runners")) {
    if (entry.path().filename() != "build.log") continue;
    found = true;
    const std::string command = castnet::test::read_file(entry.path());
    CHECK(contains(command, "-I'" + (prefix / "include").string() + "'"));
    CHECK(contains(command, (prefix / "lib").string()));
    CHECK_FALSE(contains(command, std::string(CASTNET_BINARY_DIR) + "/runtime"));
  }
  CHECK(found);
}
