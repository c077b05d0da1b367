// A working directory in which a test runs the castnet CLI as a user would: its own compile cache
// (unless the test names a shared one) and extra environment variables.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace castnet::test {

struct CliSandbox {
  TempDir dir;
  std::vector<std::string> env;  // "NAME=value", added to the inherited environment

  // cache: the compile cache; empty: a folder of this sandbox.
  explicit CliSandbox(const std::filesystem::path& cache = {})
      : env{"CASTNET_CACHE_DIR=" + (cache.empty() ? dir.path() / "cache" : cache).string()} {}

  // castnet args..., in the sandbox.
  Result operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), CASTNET_CLI_EXE);
    return run(args, dir.path(), env);
  }
  std::filesystem::path operator/(const std::string& p) const { return dir.path() / p; }
};

}  // namespace castnet::test
