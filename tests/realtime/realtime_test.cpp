// Real-time evidence: forward, forward_batch and train_step of generated models, and predict and
// predict_batch of their exported headers, at batch 1 and the spec's batch, call no allocator, no
// lock and no blocking function (castnet_rt_guard, rt_guard.cpp, aborts on any; driver.cpp runs the
// calls). The guard is proven first: each function it guards, called on purpose in the armed
// region, must abort the driver with a report naming it, or these checks could not fail.
// step and process (the streaming API) are not checked: they do not exist yet (issue 21);
// driver.cpp stops compiling when a checked model gets them. W2 built for run-time dispatch runs
// under each instruction set the CPU has.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/skip.hpp"

using castnet::test::run;

namespace {

const std::string kPreload = std::string("LD_PRELOAD=") + CASTNET_RT_GUARD;

// AddressSanitizer's runtime must come first in the process and replaces malloc itself: it refuses
// to start behind a preloaded library.
bool sanitized() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#else
  return false;
#endif
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The driver's list `option` (--models, --proofs, --guarded), under the guard.
std::vector<std::string> listed(const char* option) {
  const auto r = run({CASTNET_RT_DRIVER, option}, {}, {kPreload});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return lines(r.out);
}

}  // namespace

TEST_CASE("realtime: every function the guard catches aborts the driver when called in the armed region") {
  if (sanitized()) return castnet::test::skip("AddressSanitizer refuses to run behind a preloaded library");
  const auto guarded = listed("--guarded"), proofs = listed("--proofs");
  // A proof for each function the guard lists, and nothing else.
  CHECK(std::set<std::string>(guarded.begin(), guarded.end()) == std::set<std::string>(proofs.begin(), proofs.end()));
  REQUIRE(guarded.size() >= 40);
  for (const auto& function : proofs) {
    INFO(function);
    const auto r = run({CASTNET_RT_DRIVER, "proof", function}, {}, {kPreload});
    INFO(r.err);
    CHECK(r.exit_code == 128 + SIGABRT);
    CHECK(r.err.find("castnet rt_guard: " + function + " called in the armed region 'proof: " + function + "'\n") !=
          std::string::npos);
  }
}

TEST_CASE("realtime: without the guard the driver refuses to run rather than pass") {
  const auto r = run({CASTNET_RT_DRIVER, "model", "rt_w1"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("castnet_rt_guard is not loaded") != std::string::npos);
}

TEST_CASE("realtime: generated and exported inference neither allocates, locks nor blocks") {
  if (sanitized()) return castnet::test::skip("AddressSanitizer refuses to run behind a preloaded library");
  const auto models = listed("--models");
  for (const char* m : {"rt_w1", "rt_w2", "rt_kinds", "rt_swish", "rt_basis", "rt_kan", "rt_w2_dispatch"})
    CHECK(std::find(models.begin(), models.end(), m) != models.end());
  // A dispatching model under each instruction set the CPU runs (its units' code differs), the
  // others once.
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  std::vector<std::string> isas = {"scalar", "sse4"};
  if (avx2) isas.push_back("avx2");
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    isas.push_back("avx512");
  for (const auto& model : models) {
    const bool dispatching = model.find("dispatch") != std::string::npos;
    for (const auto& isa : dispatching ? isas : std::vector<std::string>{""}) {
      INFO(model << (isa.empty() ? "" : " under CASTNET_ISA=" + isa));
      const auto r = run({CASTNET_RT_DRIVER, "model", model}, {}, {kPreload, "CASTNET_ISA=" + isa});
      INFO(r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.out == model + ": forward, forward_batch, train_step, predict and predict_batch ran armed\n");
    }
  }
}
