// Runners built for run-time dispatch (README, "One binary for every CPU"): what castnet train
// compiles when castnet was configured without CASTNET_NATIVE, asked for here with
// CASTNET_RUNNER_DISPATCH=1. One runner, its units compiled each with its instruction set's flags,
// trains under every CASTNET_ISA the CPU runs as the machine's own runner does.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

// The loss of the last epoch, as castnet train prints it ("epoch 20/20  loss 0.6931  ...").
double last_loss(const std::string& out) {
  const auto at = out.rfind("  loss ");
  REQUIRE(at != std::string::npos);
  return std::stod(out.substr(at + 7));
}

}  // namespace

TEST_CASE("dispatch runner: one runner trains under every instruction set the CPU runs, as the native one does") {
  castnet::test::CliSandbox cli;
  const std::string dir = std::string(CASTNET_SOURCE_DIR) + "/specs/";
  std::string spec = read_file(dir + "xor.toml");
  // 40 hidden units: the dense layers run castnet's vector kernels, not straight-line code.
  const auto at = spec.find("units = 2");
  REQUIRE(at != std::string::npos);
  write_file(cli / "xor.toml", spec.replace(at, 9, "units = 40"));
  write_file(cli / "xor.csv", read_file(dir + "xor.csv"));
  const auto train = [&](const std::string& dispatch, const std::string& isa) {
    castnet::test::Result r;
    auto env = cli.env;
    cli.env.push_back("CASTNET_RUNNER_DISPATCH=" + dispatch);
    if (!isa.empty()) cli.env.push_back("CASTNET_ISA=" + isa);
    r = cli({"train", "xor.toml", "--out", "run-" + dispatch + isa, "--epochs", "20"});
    cli.env = env;
    return r;
  };

  const auto native = train("0", "");
  INFO(native.err);
  REQUIRE(native.exit_code == 0);
  const double reference = last_loss(native.out);

  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  std::size_t ran = 0;
  for (const auto& [isa, runs] : {std::pair{"avx512", avx512}, std::pair{"avx2", avx2},
                                  std::pair{"sse4", __builtin_cpu_supports("sse4.2") != 0}, std::pair{"scalar", true}}) {
    INFO("CASTNET_ISA=" << isa);
    const auto r = train("1", isa);
    INFO(r.err);
    if (!runs) {
      CHECK(r.exit_code != 0);
      CHECK_THAT(r.err, Contains(std::string("CASTNET_ISA=") + isa + ": this CPU does not run that instruction set"));
      continue;
    }
    REQUIRE(r.exit_code == 0);
    // The same training to float rounding: each instruction set sums in its own order.
    CHECK(std::abs(last_loss(r.out) - reference) <= 1e-4 * std::abs(reference));
    ++ran;
  }
  CHECK(ran >= 1);

  // One dispatching runner was compiled, its units with their flags; a name that is not an
  // instruction set stops the runner with the dispatcher's message.
  std::vector<fs::path> dispatching;
  for (const auto& e : fs::directory_iterator(cli / "cache/runners"))
    if (e.is_directory() && e.path().filename().string().find("-dispatch-") != std::string::npos) dispatching.push_back(e.path());
  REQUIRE(dispatching.size() == 1);
  const std::string log = read_file(dispatching.front() / "build.log");
  CHECK_THAT(log, Contains("-mavx2 -mfma -mno-avx512f") && Contains("-mavx512f -mavx512bw -mavx512dq -mavx512vl") &&
                      Contains("-DCASTNET_SIMD_SCALAR") && Contains("xor_net_dispatch.cpp"));
  const auto bogus = train("1", "avx3");
  CHECK(bogus.exit_code != 0);
  CHECK_THAT(bogus.err, Contains("CASTNET_ISA=avx3: not an instruction set of this build"));
  const auto refused = train("2", "");
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Contains("CASTNET_RUNNER_DISPATCH='2': must be 1 or 0"));
}
