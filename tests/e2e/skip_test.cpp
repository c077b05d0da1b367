// ctest's verdict on skips (tests/CMakeLists.txt): a case is skipped only when it calls
// castnet::test::skip, and a failing case stays failed whatever its output says. The two hidden
// ("[.]") cases below are run by ctest on a throwaway project that registers them as the suite
// registers every case: CASTNET_SKIP_PROPERTIES, the very file the suite's ctest files include.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>

#include "support/process.hpp"
#include "support/skip.hpp"

// Fails, with "skipped: " and the marker in its output, as a failing command's captured stderr or
// a message might have them; the marker is not in a warning of its own.
TEST_CASE("skip probe: fails", "[.]") {
  INFO("castnet: skipped: nothing to resume\n" << castnet::test::kSkipMarker << "quoted in a message");
  WARN("skipped: the pre-helper spelling");
  CHECK(1 + 1 == 3);
}

TEST_CASE("skip probe: skips", "[.]") {
  castnet::test::skip("this probe always skips");
}

TEST_CASE("skips: ctest reports a failing case as failed whatever it prints, and skip() as skipped") {
  castnet::test::TempDir project;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  castnet::test::write_file(project / "CTestTestfile.cmake",
             "include([==[" CASTNET_SKIP_PROPERTIES "]==])\n"
             "add_test(fails [==[" + self + "]==] [==[skip probe: fails]==])\n"
             "add_test(skips [==[" + self + "]==] [==[skip probe: skips]==])\n"
             "castnet_skip_on_marker(fails skips)\n");
  const auto r = castnet::test::run({CASTNET_CTEST, "--test-dir", project.path().string()});
  INFO("ctest (exit code " << r.exit_code << "):\n" << r.out << r.err);
  CHECK(r.exit_code != 0);
  CHECK(std::regex_search(r.out, std::regex(R"(Test +#1: fails \.+\*\*\*Failed)")));
  CHECK(std::regex_search(r.out, std::regex(R"(Test +#2: skips \.+\*\*\*Skipped)")));
}
