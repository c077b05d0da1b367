// The kernel headers compile as an exported header's users will compile them: kernels_compile/
// all_kernels.cpp, which instantiates every kernel, with g++ and clang++ (those on PATH), C++17 and
// C++20, -O0 and -O2, for SSE2 (no -m flag), AVX2 + FMA and the building machine (-march=native),
// warning-free under -Wall -Wextra -Werror -Wpedantic -Wshadow -Wconversion with the vector-extension
// and scalar backends; the xsimd backend (training only) under -Wall -Wextra -Werror, since xsimd's
// own headers trip -Wconversion. Also each public kernel header on its own, with every backend, so
// that none relies on another being included first.
#include <catch2/catch.hpp>

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "find_program.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::TempDir;

namespace {

const fs::path kSource = CASTNET_SOURCE_DIR;
const fs::path kInclude = kSource / "runtime" / "include";

const std::vector<std::string> kStrict = {"-Wall", "-Wextra", "-Werror", "-Wpedantic", "-Wshadow", "-Wconversion"};
const std::vector<std::string> kBasic = {"-Wall", "-Wextra", "-Werror"};

struct Backend {
  const char* name;
  const char* define;  // nullptr: xsimd
  const std::vector<std::string>* warnings;
};
const Backend kBackends[] = {{"vecext", "-DCASTNET_SIMD_VECEXT", &kStrict},
                             {"scalar", "-DCASTNET_SIMD_SCALAR", &kStrict},
                             {"xsimd", nullptr, &kBasic}};

struct Job {
  std::string label;
  std::vector<std::string> command;
};

// The compilers on PATH; a missing one is reported, not failed (a machine may have only one).
std::vector<std::pair<std::string, std::string>> compilers() {
  std::vector<std::pair<std::string, std::string>> found;
  for (const char* cxx : {"g++", "clang++"}) {
    const auto path = castnet::cli::find_on_path(cxx);
    if (path) {
      found.emplace_back(cxx, path->string());
    } else {
      WARN("not on PATH, not checked: " << cxx);
    }
  }
  return found;
}

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// Runs the jobs, `parallel` at a time: one check per job, with the command and its diagnostics.
void run_all(const std::vector<Job>& jobs, const TempDir& dir, std::size_t parallel) {
  struct Running {
    pid_t pid;
    std::size_t job;
  };
  std::vector<Running> running;
  std::size_t next = 0;
  const auto log = [&](std::size_t j, const char* stream) { return dir / ("job" + std::to_string(j) + "." + stream); };
  const auto finish = [&](const Running& r) {
    const int code = castnet::test::wait_exit(r.pid);
    INFO(jobs[r.job].label << "\n" << join(jobs[r.job].command));
    INFO(castnet::test::read_file(log(r.job, "err")));
    CHECK(code == 0);
  };
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && running.size() < parallel) {
      running.push_back({castnet::test::spawn(jobs[next].command, log(next, "out"), log(next, "err")), next});
      ++next;
    }
    finish(running.front());
    running.erase(running.begin());
  }
}

}  // namespace

TEST_CASE("kernels compile warning-free with every compiler, language version, optimisation, ISA and backend",
          "[kernels_compile]") {
  const auto cxxs = compilers();
  REQUIRE_FALSE(cxxs.empty());
  TempDir dir;
  const std::string unit = (kSource / "tests" / "e2e" / "kernels_compile" / "all_kernels.cpp").string();
  const std::vector<std::vector<std::string>> isas = {{}, {"-mavx2", "-mfma"}, {"-march=native"}};
  std::vector<Job> jobs;
  for (const auto& [name, exe] : cxxs)
    for (const char* std : {"-std=c++17", "-std=c++20"})
      for (const char* opt : {"-O0", "-O2"})
        for (const auto& isa : isas)
          for (const Backend& backend : kBackends) {
            Job job;
            job.label = name + " " + std + " " + opt + " " + (isa.empty() ? "(SSE2)" : join(isa)) + ", " + backend.name;
            job.command = {exe, std, opt};
            job.command.insert(job.command.end(), isa.begin(), isa.end());
            if (backend.define) job.command.push_back(backend.define);
            job.command.insert(job.command.end(), backend.warnings->begin(), backend.warnings->end());
            job.command.insert(job.command.end(), {"-I", kInclude.string(), "-c", unit, "-o",
                                                   (dir / ("unit" + std::to_string(jobs.size()) + ".o")).string()});
            jobs.push_back(job);
          }
  run_all(jobs, dir, 2);
}

TEST_CASE("each public kernel header compiles on its own, with every backend", "[kernels_compile]") {
  const auto cxxs = compilers();
  REQUIRE_FALSE(cxxs.empty());
  TempDir dir;
  std::vector<Job> jobs;
  for (const char* header : {"simd.hpp", "math.hpp", "gemm.hpp", "dense.hpp", "conv2d.hpp", "pool2d.hpp",
                             "activation.hpp", "merge.hpp", "glu.hpp", "prelu.hpp"}) {
    const fs::path unit = dir / (std::string("only_") + header + ".cpp");
    castnet::test::write_file(unit, std::string("#include <castnet/kernels/") + header + ">\n");
    for (const Backend& backend : kBackends) {
      Job job;
      job.label = std::string(header) + ", " + backend.name + ", " + cxxs.front().first;
      job.command = {cxxs.front().second, "-std=c++17", "-fsyntax-only", "-march=native"};
      if (backend.define) job.command.push_back(backend.define);
      job.command.insert(job.command.end(), backend.warnings->begin(), backend.warnings->end());
      job.command.insert(job.command.end(), {"-I", kInclude.string(), unit.string()});
      jobs.push_back(job);
    }
  }
  run_all(jobs, dir, 2);
}
