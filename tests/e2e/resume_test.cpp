// Checkpoints and --resume through the castnet CLI, as a user meets them: a generated model with a
// hidden layer and dropout, trained with adam, shuffling, input noise, a step schedule, a
// validation split and standardised inputs, is stopped (by --epochs, or by SIGKILL in the middle
// of a run that saves after every epoch) and resumed; its final weights must equal those of a run
// that was never stopped, byte for byte; so is one stopped by Ctrl-C, which says where it stopped
// and how to resume. A resume with other settings or data is refused.
//
// Everything is one test case, in one sequence (no sections, which would start it again), so that
// the runner is compiled once into this test's own cache and the unbroken run is made once.
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>

#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

// 400 epochs of 3600 rows, saving after each one, take a few seconds: long enough to be killed.
constexpr const char* kSpec = R"(name = "resume_net"
input = [16]
batch = 32

[[layer]]
type = "dense"
units = 64
activation = "tanh"

[[layer]]
type = "dropout"
rate = 0.2

[[layer]]
type = "dense"
units = 1

[loss]
type = "mse"

[optimizer]
type = "adam"
lr = 0.003
schedule = { type = "step", step_size = 100, gamma = 0.5 }

[train]
epochs = 400
seed = 3
validation = 0.1
input_noise = 0.01

[data]
train = "data.csv"
labels = ["y"]
normalize = "standardize"
)";

// 4000 rows of 16 inputs and a smooth target.
std::string data_csv() {
  std::ostringstream csv;
  for (int i = 0; i < 16; ++i) csv << 'x' << i << ',';
  csv << "y\n";
  csv.precision(6);
  for (int r = 0; r < 4000; ++r) {
    double sum = 0;
    for (int i = 0; i < 16; ++i) {
      const double x = std::sin(0.37 * r * (i + 1) + i);
      sum += x * (0.1 * (i % 5) - 0.2);
      csv << x << ',';
    }
    csv << std::tanh(sum) << '\n';
  }
  return csv.str();
}

}  // namespace

TEST_CASE("cli resume: stopped, killed and resumed runs end with the weights of an unbroken run") {
  castnet::test::CliSandbox cli;  // its own compile cache
  write_file(cli / "net.toml", kSpec);
  write_file(cli / "data.csv", data_csv());

  const auto whole = cli({"train", "net.toml", "--out", "whole"});
  INFO(whole.err);
  REQUIRE(whole.exit_code == 0);
  CHECK_THAT(whole.err, Contains("compiling the resume_net runner"));
  CHECK_THAT(whole.out, Contains("training resume_net on 3600 rows, validating on 400\n"));
  CHECK_THAT(whole.out, Contains("epoch 400/400"));
  const std::string expected = read_file(cli / "whole/weights.safetensors");
  REQUIRE(!expected.empty());

  {  // --epochs, then --resume
    const auto first = cli({"train", "net.toml", "--out", "parts", "--epochs", "150"});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(first.err.find("compiling") == std::string::npos);  // the cached runner
    CHECK(read_file(cli / "parts/weights.safetensors") != expected);
    const auto rest = cli({"train", "net.toml", "--out", "parts", "--resume"});
    INFO(rest.err);
    REQUIRE(rest.exit_code == 0);
    CHECK_THAT(rest.out, Contains("resuming parts/checkpoint.safetensors after epoch 150\n"));
    CHECK(rest.out.find("epoch 150/400") == std::string::npos);
    CHECK_THAT(rest.out, Contains("epoch 151/400"));
    CHECK(read_file(cli / "parts/weights.safetensors") == expected);

    // Resuming with another learning rate, or on another data file, is refused naming what
    // differs, and changes nothing.
    const std::string checkpoint = read_file(cli / "parts/checkpoint.safetensors");
    const auto other = cli({"train", "net.toml", "--out", "parts", "--resume", "--lr", "0.01", "--epochs", "500"});
    CHECK(other.exit_code == 1);
    CHECK_THAT(other.err, Contains("parts/checkpoint.safetensors: error: --resume: the checkpoint was trained with "
                                   "other settings (then, and now):\n  lr: 0.003 now 0.01\nresume with"));
    const std::string rows = data_csv();  // and its first row again
    const std::size_t row = rows.find('\n') + 1;
    const std::string more_rows = rows + rows.substr(row, rows.find('\n', row) + 1 - row);
    write_file(cli / "other.csv", more_rows);
    const auto data = cli({"train", "net.toml", "--out", "parts", "--resume", "--data", "other.csv"});
    CHECK(data.exit_code == 1);
    CHECK_THAT(data.err, Contains("other settings (then, and now):\n  data train: data.csv ("));
    CHECK_THAT(data.err, Contains(" now other.csv (" + std::to_string(more_rows.size()) + " bytes, sha256 "));
    CHECK(read_file(cli / "parts/checkpoint.safetensors") == checkpoint);
    CHECK(read_file(cli / "parts/weights.safetensors") == expected);
  }

  {  // killed mid-run with SIGKILL, then --resume
    const fs::path checkpoint = cli / "killed/checkpoint.safetensors";
    const pid_t pid = castnet::test::spawn({CASTNET_CLI_EXE, "train", "net.toml", "--out", "killed", "--save-every", "0"},
                                           cli / "killed.out", cli / "killed.err", cli.dir.path(), cli.env);
    REQUIRE(pid > 0);
    // Wait for the first checkpoint, let it run a little further, then kill it wherever it is.
    int code = -1;
    const bool ended = !castnet::test::running_when_file_appears(pid, checkpoint, code);
    if (!ended) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      ::kill(pid, SIGKILL);
      code = castnet::test::wait_exit(pid);
    }
    INFO(read_file(cli / "killed.err"));
    REQUIRE(code == 128 + SIGKILL);  // not finished before the kill (else make the run longer)

    // The checkpoint left behind loads, is mid-run, and the weights beside it evaluate.
    const auto file = castnet::io::read_safetensors(checkpoint);
    CHECK(file.metadata.at("castnet_checkpoint") == "1");
    CHECK(file.metadata.at("castnet_model") == "resume_net");
    const std::string epoch = file.metadata.at("epoch");
    CHECK(std::stoi(epoch) >= 1);
    CHECK(std::stoi(epoch) < 400);
    CHECK(file.find("adam_m/dense1.weight") != nullptr);
    const auto e = cli({"eval", "net.toml", "--weights", "killed/weights.safetensors"});
    INFO(e.err);
    CHECK(e.exit_code == 0);
    CHECK_THAT(e.out, Contains("loss "));

    const auto rest = cli({"train", "net.toml", "--out", "killed", "--resume"});
    INFO(rest.err);
    REQUIRE(rest.exit_code == 0);
    CHECK_THAT(rest.out, Contains("resuming killed/checkpoint.safetensors after epoch " + epoch + "\n"));
    CHECK_THAT(rest.out, Contains("epoch 400/400"));
    CHECK(read_file(cli / "killed/weights.safetensors") == expected);
  }

  {  // Ctrl-C (SIGINT): stops after the batch in progress, says where and how to resume, exits 130
    const fs::path checkpoint = cli / "stopped/checkpoint.safetensors";
    const pid_t pid = castnet::test::spawn({CASTNET_CLI_EXE, "train", "net.toml", "--out", "stopped", "--save-every", "0"},
                                           cli / "stopped.out", cli / "stopped.err", cli.dir.path(), cli.env);
    REQUIRE(pid > 0);
    int code = -1;
    const bool ended = !castnet::test::running_when_file_appears(pid, checkpoint, code);
    if (!ended) {
      ::kill(pid, SIGINT);
      code = castnet::test::wait_exit(pid);
    }
    const std::string err = read_file(cli / "stopped.err");
    INFO(err);
    REQUIRE(code == 130);
    std::smatch m;
    REQUIRE(std::regex_search(err, m, std::regex("interrupted \\(Ctrl-C\\) in epoch ([0-9]+) after batch [0-9]+ of [0-9]+; "
                                                 "the last good checkpoint is stopped/checkpoint.safetensors \\(epoch "
                                                 "([0-9]+), intact; continue with --resume\\)\n")));
    const std::string saved = castnet::io::read_safetensors(checkpoint).metadata.at("epoch");
    CHECK(m[2] == saved);
    CHECK(std::stoi(m[1]) == std::stoi(saved) + 1);  // the epoch in progress, after the one saved
    const auto rest = cli({"train", "net.toml", "--out", "stopped", "--resume"});
    INFO(rest.err);
    REQUIRE(rest.exit_code == 0);
    CHECK(read_file(cli / "stopped/weights.safetensors") == expected);
  }
}
