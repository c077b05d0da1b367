// Goldens: regenerating each spec in tests/golden/specs must reproduce the checked-in header and
// IR dump in tests/golden/expected byte for byte (tools/update_goldens.sh is the only way they
// change), a second generation must leave the file untouched, and the banner must carry the
// spec's SHA-256.
#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "support/process.hpp"
#include "support/sha256.hpp"

namespace fs = std::filesystem;

TEST_CASE("golden: generated headers match the reviewed goldens, deterministically") {
  const fs::path root = CASTNET_SOURCE_DIR;
  const fs::path specs = root / "tests/golden/specs";
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator(specs)) {
    const std::string spec = entry.path().filename().string();
    const std::string header = entry.path().stem().string() + ".hpp";
    DYNAMIC_SECTION(spec) {
      castnet::test::TempDir out;
      const std::vector<std::string> cmd = {CASTNET_GEN_EXE, spec, "-o", out.path().string(), "--header-name", header};
      const auto first = castnet::test::run(cmd, specs);
      REQUIRE(first.exit_code == 0);
      const std::string text = castnet::test::read_file(out.path() / header);
      CHECK(text == castnet::test::read_file(root / "tests/golden/expected" / header));

      const std::string sha = castnet::support::sha256_file_hex(entry.path());
      CHECK(text.find("// spec sha256: " + sha + "\n") != std::string::npos);
      CHECK(text.find("DO NOT EDIT") != std::string::npos);

      const auto stamp = fs::last_write_time(out.path() / header);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      REQUIRE(castnet::test::run(cmd, specs).exit_code == 0);
      CHECK(fs::last_write_time(out.path() / header) == stamp);  // unchanged bytes: not rewritten
      CHECK(castnet::test::read_file(out.path() / header) == text);

      const auto ir = castnet::test::run({CASTNET_CLI_EXE, "check", spec, "--ir"}, specs);
      REQUIRE(ir.exit_code == 0);
      CHECK(ir.out == castnet::test::read_file(root / "tests/golden/expected" / (entry.path().stem().string() + ".ir.txt")));
    }
    ++n;
  }
  CHECK(n >= 2);
}
