// Data-parallel training through the castnet CLI: `train --threads N`, and `mpirun -np 2 castnet
// train` (Open MPI, on localhost with --oversubscribe), end with the weights of the single-process
// run of the same global batch (to float rounding), and the same split gives the same bytes. Under
// MPI one rank reports, a rank killed with SIGKILL ends the whole job with a non-zero exit and a
// message, the checkpoint left behind is intact, and --resume under mpirun finishes the run with
// the bytes of a run that was never stopped. Ranks that do not run the same training (other data,
// other --epochs) stop before the first step with a message naming them. The MPI cases skip
// visibly (a warning) where castnet was built without MPI or mpirun is missing.
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/cli_sandbox.hpp"
#include "support/process.hpp"
#include "support/skip.hpp"

#ifndef CASTNET_MPIEXEC
#define CASTNET_MPIEXEC "mpirun"
#endif

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

// A classifier with dropout (whose masks must follow the rows to their worker) and a batch of 10,
// which 2 or 3 workers do not split evenly; 203 rows end every epoch with a partial batch.
constexpr const char* kSpec = R"(name = "spread_net"
input = [6]
batch = 10

[[layer]]
type = "dense"
units = 24
activation = "relu"

[[layer]]
type = "dropout"
rate = 0.25

[[layer]]
type = "dense"
units = 3

[loss]
type = "softmax_cross_entropy"

[optimizer]
type = "momentum"
lr = 0.05

[train]
epochs = 3
seed = 5

[data]
train = "data.csv"
labels = ["y"]
)";

std::string data_csv() {
  std::ostringstream csv;
  csv << "a,b,c,d,e,f,y\n";
  for (int r = 0; r < 203; ++r) {
    double s = 0;
    for (int i = 0; i < 6; ++i) {
      const double x = std::sin(0.71 * r * (i + 1) + 0.3 * i);
      s += x * (i % 3 - 1);
      csv << x << ',';
    }
    csv << (s > 0.4 ? 2 : s < -0.4 ? 0 : 1) << '\n';
  }
  return csv.str();
}

// The test cases share their compiled runners (concurrent builds of one runner wait for each
// other). Open MPI refuses to start as root unless told; CI containers run as root.
struct Cli : castnet::test::CliSandbox {
  Cli() : CliSandbox(fs::path(CASTNET_BINARY_DIR) / "tests" / "distributed_cache") {
    env.insert(env.end(), {"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
                           "OMPI_MCA_rmaps_base_oversubscribe=1"});
    write_file(dir.path() / "net.toml", kSpec);
    write_file(dir.path() / "data.csv", data_csv());
  }
  castnet::test::Result mpirun(std::size_t ranks, std::vector<std::string> args) const {
    args.insert(args.begin(), {CASTNET_MPIEXEC, "--oversubscribe", "-np", std::to_string(ranks), CASTNET_CLI_EXE});
    return castnet::test::run(args, dir.path(), env);
  }
};

// The largest difference between two weight files' tensors, relative to the largest weight.
double difference(const fs::path& a, const fs::path& b) {
  const auto fa = castnet::io::read_safetensors(a), fb = castnet::io::read_safetensors(b);
  REQUIRE(fa.tensors.size() == fb.tensors.size());
  double worst = 0, scale = 1e-6;
  for (const auto& t : fa.tensors) {
    const auto* u = fb.find(t.name);
    REQUIRE(u != nullptr);
    REQUIRE(u->values.size() == t.values.size());
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      worst = std::max(worst, std::abs(static_cast<double>(t.values[i]) - u->values[i]));
      scale = std::max(scale, std::abs(static_cast<double>(t.values[i])));
    }
  }
  return worst / scale;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Why the MPI cases cannot run here, or empty.
std::string mpi_missing() {
#ifndef CASTNET_HAVE_MPI
  return "castnet was built without MPI (Debian: libopenmpi-dev)";
#else
  if (!fs::exists(CASTNET_MPIEXEC)) return std::string("no mpirun at ") + CASTNET_MPIEXEC;
  return "";
#endif
}

// The pid of one rank's runner: a process whose command line names the output folder `out`.
pid_t runner_pid(const fs::path& out) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(std::string("train") + '\0' + "--out" + '\0' + out.string() + '\0') != std::string::npos &&
        cmdline.find("runner") != std::string::npos)
      return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

}  // namespace

TEST_CASE("cli threads: --threads N ends with the 1-thread weights, the same bytes every time") {
  Cli cli;
  const auto one = cli({"train", "net.toml", "--out", "one"});
  INFO(one.err);
  REQUIRE(one.exit_code == 0);
  for (const std::string n : {"2", "3"}) {
    const auto a = cli({"train", "net.toml", "--out", "t" + n + "a", "--threads", n});
    INFO(a.err);
    REQUIRE(a.exit_code == 0);
    CHECK_THAT(a.out, Contains("training spread_net on 203 rows, batches of 10 shared by " + n + " threads\n"));
    CHECK(difference(cli / "one/weights.safetensors", cli / ("t" + n + "a/weights.safetensors")) < 2e-5);
    const auto b = cli({"train", "net.toml", "--out", "t" + n + "b", "--threads", n});
    REQUIRE(b.exit_code == 0);
    CHECK(b.err.find("compiling") == std::string::npos);  // the runner for n workers is reused
    CHECK(read_file(cli / ("t" + n + "a/weights.safetensors")) == read_file(cli / ("t" + n + "b/weights.safetensors")));
  }
  const auto bad = cli({"train", "net.toml", "--out", "bad", "--threads", "0"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("--threads"));
}

TEST_CASE("cli mpi: mpirun -np 2 ends with the single-process weights and rank 0 alone reports") {
  if (const std::string why = mpi_missing(); !why.empty()) {
    castnet::test::skip(why);
    return;
  }
  Cli cli;
  const auto one = cli({"train", "net.toml", "--out", "one"});
  INFO(one.err);
  REQUIRE(one.exit_code == 0);
  const auto job = cli.mpirun(2, {"train", "net.toml", "--out", "mpi"});
  INFO(job.out << job.err);
  REQUIRE(job.exit_code == 0);
  CHECK_THAT(job.out, Contains("batches of 10 shared by 2 processes x 1 thread\n"));
  CHECK(count(job.out, "epoch 3/3") >= 1);
  CHECK(count(job.out, "wrote mpi/weights.safetensors") == 1);
  CHECK(difference(cli / "one/weights.safetensors", cli / "mpi/weights.safetensors") < 2e-5);

  // 2 ranks x 2 threads: 4 workers of 3 rows.
  const auto mixed = cli.mpirun(2, {"train", "net.toml", "--out", "mixed", "--threads", "2"});
  INFO(mixed.err);
  REQUIRE(mixed.exit_code == 0);
  CHECK_THAT(mixed.out, Contains("shared by 2 processes x 2 threads\n"));
  CHECK(difference(cli / "one/weights.safetensors", cli / "mixed/weights.safetensors") < 2e-5);

  // One process that asks for MPI by itself is a job of one rank.
  const auto alone = cli({"train", "net.toml", "--out", "alone", "--distributed"});
  INFO(alone.err);
  REQUIRE(alone.exit_code == 0);
  CHECK(read_file(cli / "alone/weights.safetensors") == read_file(cli / "one/weights.safetensors"));
}

TEST_CASE("cli mpi: a rank killed mid-run ends the job, and its intact checkpoint resumes under mpirun") {
  if (const std::string why = mpi_missing(); !why.empty()) {
    castnet::test::skip(why);
    return;
  }
  Cli cli;
  const fs::path checkpoint = cli / "killed/checkpoint.safetensors";
  std::vector<std::string> args = {CASTNET_MPIEXEC, "--oversubscribe", "-np", "2", CASTNET_CLI_EXE, "train",
                                   "net.toml",      "--out",          "killed", "--epochs", "4000", "--save-every", "0"};
  const pid_t job = castnet::test::spawn(args, cli / "job.out", cli / "job.err", cli.dir.path(), cli.env);
  REQUIRE(job > 0);
  int code = -1;
  bool ended = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(checkpoint) && !(ended = castnet::test::has_exited(job, code)) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE_FALSE(ended);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const pid_t rank = runner_pid("killed");
  REQUIRE(rank > 0);
  ::kill(rank, SIGKILL);
  code = castnet::test::wait_exit(job);
  const std::string err = read_file(cli / "job.err");
  INFO(err);
  CHECK(code != 0);
  CHECK_THAT(err, Contains("signal 9"));  // mpirun names what ended the job

  const auto file = castnet::io::read_safetensors(checkpoint);
  CHECK(file.metadata.at("castnet_model") == "spread_net");
  const int epoch = std::stoi(file.metadata.at("epoch"));
  CHECK(epoch >= 1);
  CHECK(epoch < 4000);

  // Resume to a few epochs further, and compare with a job that ran there unbroken.
  const std::string target = std::to_string(epoch + 3);
  const auto rest = cli.mpirun(2, {"train", "net.toml", "--out", "killed", "--resume", "--epochs", target});
  INFO(rest.err);
  REQUIRE(rest.exit_code == 0);
  CHECK_THAT(rest.out, Contains("resuming killed/checkpoint.safetensors after epoch " + std::to_string(epoch) + "\n"));
  const auto whole = cli.mpirun(2, {"train", "net.toml", "--out", "whole", "--epochs", target});
  REQUIRE(whole.exit_code == 0);
  CHECK(read_file(cli / "killed/weights.safetensors") == read_file(cli / "whole/weights.safetensors"));
}

TEST_CASE("cli mpi: ranks started with other data or other --epochs are refused before the first step, naming them") {
  if (const std::string why = mpi_missing(); !why.empty()) {
    WARN("skipped: " << why);
    return;
  }
  Cli cli;
  std::string other = data_csv();  // and its first row again
  const std::size_t first = other.find('\n') + 1;
  other += other.substr(first, other.find('\n', first) + 1 - first);
  write_file(cli / "other.csv", other);
  // mpirun's two-program form: rank 0 runs `castnet train net.toml --out OUT`, rank 1 the same with
  // `rank1` appended. A job that hangs is killed after `limit` and fails the test.
  const auto job = [&](const std::string& out, const std::vector<std::string>& rank1, int limit_s) {
    std::vector<std::string> args = {CASTNET_MPIEXEC, "--oversubscribe", "-np", "1", CASTNET_CLI_EXE, "train",
                                     "net.toml",      "--out",          out,  ":",   "-np",           "1",
                                     CASTNET_CLI_EXE, "train",          "net.toml", "--out", out};
    args.insert(args.end(), rank1.begin(), rank1.end());
    const pid_t pid = castnet::test::spawn(args, cli / (out + ".out"), cli / (out + ".err"), cli.dir.path(), cli.env);
    REQUIRE(pid > 0);
    int code = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
    while (!castnet::test::has_exited(pid, code)) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        castnet::test::wait_exit(pid);
        FAIL("the job " << out << " still ran after " << limit_s << " s: a hang");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return castnet::test::Result{code, read_file(cli / (out + ".out")), read_file(cli / (out + ".err"))};
  };
  // Ranks that agree train (this also compiles the runner, which the two jobs below then share).
  const auto same = job("same", {}, 600);
  INFO(same.err);
  REQUIRE(same.exit_code == 0);

  const std::string heading = "error: the 2 ranks of this MPI job do not run the same training:\n";
  const auto data = job("data", {"--data", "other.csv"}, 60);
  INFO(data.err);
  CHECK(data.exit_code != 0);
  CHECK_THAT(data.err, Contains(heading + "  data: rank(s) 1 differ from rank 0 (the data files' sizes and SHA-256)\n"
                                          "start every rank with the same spec"));
  CHECK_FALSE(fs::exists(cli / "data/checkpoint.safetensors"));  // not one step was taken

  const auto epochs = job("epochs", {"--epochs", "4"}, 60);
  INFO(epochs.err);
  CHECK(epochs.exit_code != 0);
  CHECK_THAT(epochs.err, Contains(heading + "  settings: rank(s) 1 differ from rank 0 (--threads, --epochs or a training "
                                            "setting)\nstart every rank"));
  CHECK_FALSE(fs::exists(cli / "epochs/checkpoint.safetensors"));
}
