// The kernel headers compile as an exported header's users will compile them: kernels_compile/
// all_kernels.cpp, which instantiates every kernel, forward and backward, in float and double, with
// g++ and clang++ at C++17 -O2 for SSE2 (no -m flag), AVX2 + FMA and the building machine
// (-march=native), with the vector-extension and xsimd backends; and, with the machine's vectors,
// the scalar backend, C++20 and -O0. Warning-free under -Wall -Wextra -Werror -Wpedantic -Wshadow
// -Wconversion, but for the xsimd backend (training only): -Wall -Wextra -Werror, since xsimd's own
// headers trip -Wconversion. (export_test.cpp compiles an exported header of every layer kind in
// more forms.) Also each kernel header on its own, with every backend, so that none relies on
// another being included first.
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

// g++ and clang++; a missing one fails the test (./castnet test installs both).
std::vector<std::pair<std::string, std::string>> compilers() {
  std::vector<std::pair<std::string, std::string>> found;
  for (const char* cxx : {"g++", "clang++"}) {
    const auto path = castnet::cli::find_on_path(cxx);
    if (!path) FAIL(cxx << " is not on PATH (./castnet test installs it: Debian's g++ and clang)");
    found.emplace_back(cxx, path->string());
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

TEST_CASE("kernels compile warning-free with every compiler, ISA and backend", "[kernels_compile]") {
  const auto cxxs = compilers();
  TempDir dir;
  const std::string unit = (kSource / "tests" / "e2e" / "kernels_compile" / "all_kernels.cpp").string();
  const std::vector<std::string> native = {"-march=native"};
  std::vector<Job> jobs;
  const auto add = [&](const std::string& cxx, const std::string& exe, const char* std, const char* opt,
                       const std::vector<std::string>& isa, const Backend& backend) {
    Job job;
    job.label = cxx + " " + std + " " + opt + " " + (isa.empty() ? "(SSE2)" : join(isa)) + ", " + backend.name;
    job.command = {exe, std, opt};
    job.command.insert(job.command.end(), isa.begin(), isa.end());
    if (backend.define) job.command.push_back(backend.define);
    job.command.insert(job.command.end(), backend.warnings->begin(), backend.warnings->end());
    job.command.insert(job.command.end(), {"-I", kInclude.string(), "-c", unit, "-o",
                                           (dir / ("unit" + std::to_string(jobs.size()) + ".o")).string()});
    jobs.push_back(job);
  };
  const Backend& vecext = kBackends[0];
  const Backend& scalar = kBackends[1];
  const Backend& xsimd = kBackends[2];
  for (const auto& [name, exe] : cxxs) {
    for (const auto& isa : std::vector<std::vector<std::string>>{{}, {"-mavx2", "-mfma"}, native})
      for (const Backend* backend : {&vecext, &xsimd}) add(name, exe, "-std=c++17", "-O2", isa, *backend);
    add(name, exe, "-std=c++17", "-O2", native, scalar);
    add(name, exe, "-std=c++20", "-O2", native, vecext);
    add(name, exe, "-std=c++17", "-O0", native, vecext);
  }
  run_all(jobs, dir, 2);
}

TEST_CASE("each kernel header compiles on its own, with every backend", "[kernels_compile]") {
  const auto cxxs = compilers();
  TempDir dir;
  std::vector<Job> jobs;
  // Every header of kernels/ but the backends' own, which only simd.hpp includes, and the two
  // training-only ones (C++20: they include castnet/rng.hpp; every training header compiles them).
  std::vector<std::string> headers;
  for (const auto& e : fs::directory_iterator(kInclude / "castnet" / "kernels")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".hpp" && name.rfind("simd_", 0) != 0 && name != "dropout.hpp" && name != "losses.hpp")
      headers.push_back(name);
  }
  REQUIRE(headers.size() >= 10);
  for (const std::string& header : headers) {
    const fs::path unit = dir / ("only_" + header + ".cpp");
    castnet::test::write_file(unit, "#include <castnet/kernels/" + header + ">\n");
    for (const Backend& backend : kBackends) {
      Job job;
      job.label = header + ", " + backend.name + ", " + cxxs.front().first;
      job.command = {cxxs.front().second, "-std=c++17", "-fsyntax-only", "-march=native"};
      if (backend.define) job.command.push_back(backend.define);
      job.command.insert(job.command.end(), backend.warnings->begin(), backend.warnings->end());
      job.command.insert(job.command.end(), {"-I", kInclude.string(), unit.string()});
      jobs.push_back(job);
    }
  }
  run_all(jobs, dir, 2);
}
