// Rejections are tested as carefully as acceptances: every spec in tests/errors/specs breaks one
// rule; castnet-gen must exit 1, print exactly the diagnostic recorded in expected.txt
// (file:line:col, layer, rule), and write nothing.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "support/process.hpp"

namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> expected_diagnostics() {
  std::ifstream in(fs::path(CASTNET_SOURCE_DIR) / "tests/errors/expected.txt");
  std::map<std::string, std::string> m;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    m[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return m;
}

}  // namespace

TEST_CASE("errors: every invalid spec exits 1 with its exact diagnostic and writes nothing") {
  const fs::path dir = fs::path(CASTNET_SOURCE_DIR) / "tests/errors/specs";
  const auto expected = expected_diagnostics();
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string spec = entry.path().filename().string();
    DYNAMIC_SECTION(spec) {
      INFO("no expected diagnostic recorded for " << spec);
      REQUIRE(expected.count(spec) == 1);
      castnet::test::TempDir out;
      const auto r = castnet::test::run({CASTNET_GEN_EXE, spec, "-o", (out.path() / "gen").string()}, dir);
      CHECK(r.exit_code == 1);
      CHECK(castnet::test::first_line(r.err) == expected.at(spec));
      CHECK_FALSE(fs::exists(out.path() / "gen"));
    }
    ++checked;
  }
  CHECK(checked == expected.size());
}

TEST_CASE("errors: the castnet CLI reports the same diagnostics for check, gen and train") {
  const fs::path dir = fs::path(CASTNET_SOURCE_DIR) / "tests/errors/specs";
  const auto expected = expected_diagnostics();
  castnet::test::TempDir out;
  for (const char* spec : {"units_absurd.toml", "name_keyword.toml", "loss_one_class.toml"}) {
    for (const std::string verb : {"check", "gen", "train"}) {
      std::vector<std::string> args = {CASTNET_CLI_EXE, verb, spec};
      if (verb == "gen") args.insert(args.end(), {"-o", (out.path() / "gen").string()});
      if (verb == "train") args.insert(args.end(), {"--data", "none.csv", "--labels", "y", "--out", (out.path() / "run").string()});
      const auto r = castnet::test::run(args, dir);
      INFO(verb << " " << spec << "\n" << r.err);
      CHECK(r.exit_code == 1);
      CHECK(castnet::test::first_line(r.err) == expected.at(spec));
    }
  }
  CHECK_FALSE(fs::exists(out.path() / "gen"));
  CHECK_FALSE(fs::exists(out.path() / "run"));
}
