// Training under faults, through the castnet CLI: the output directory turning read-only (before a
// save and in the middle of a run), a full disk (a file size limit, RLIMIT_FSIZE, which binds root
// too), and SIGKILL at seeded random moments followed by --resume, again and again. A failed write
// must stop the run with exit 1, naming the file and why, and leave the previous files intact; a
// killed run must leave loadable files and lose no more than the default --save-every allows (the
// epoch in progress, and the epochs completed within a second of the last save), and the resumed
// runs must end with the weights of an unbroken run, byte for byte.
//
// The test cases share one compiled runner (a compile cache in the build tree; concurrent builds of
// it wait for each other).
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>

#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/cli_sandbox.hpp"
#include "support/process.hpp"
#include "support/skip.hpp"

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

// Epochs of roughly 0.1-0.3 s here: long enough to be killed in the middle of, short enough for
// a test of some 30 epochs (80 for the kills). Adam, dropout, input noise, shuffling and a validation split, so that
// a resume that were not exact would show in the weights.
constexpr const char* kSpec = R"(name = "faults_net"
input = [32]
batch = 32

[[layer]]
type = "dense"
units = 512
activation = "tanh"

[[layer]]
type = "dense"
units = 128
activation = "tanh"

[[layer]]
type = "dropout"
rate = 0.1

[[layer]]
type = "dense"
units = 1

[loss]
type = "mse"

[optimizer]
type = "adam"
lr = 0.001

[train]
epochs = 30
seed = 7
validation = 0.1
input_noise = 0.01

[data]
train = "data.csv"
labels = ["y"]
)";

std::string data_csv() {
  std::ostringstream csv;
  for (int i = 0; i < 32; ++i) csv << 'x' << i << ',';
  csv << "y\n";
  csv.precision(5);
  for (int r = 0; r < 6000; ++r) {
    double sum = 0;
    for (int i = 0; i < 32; ++i) {
      const double x = std::sin(0.29 * r * (i + 1) + i);
      sum += x * (0.05 * (i % 7) - 0.15);
      csv << x << ',';
    }
    csv << std::tanh(sum) << '\n';
  }
  return csv.str();
}

struct Cli : castnet::test::CliSandbox {
  Cli() : CliSandbox(fs::path(CASTNET_BINARY_DIR) / "tests" / "faults_cache") {
    write_file(dir.path() / "net.toml", kSpec);
    write_file(dir.path() / "data.csv", data_csv());
  }
};

// For spawn's in_child: makes the child (and all it execs) obey permission bits even as root, by
// dropping CAP_DAC_OVERRIDE from its bounding, permitted, effective and inheritable sets.
bool obey_permissions() {
  if (::geteuid() != 0) return true;
  if (::prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0) return false;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  const unsigned mask = 1u << CAP_DAC_OVERRIDE;  // < 32: in data[0]
  data[0].effective &= ~mask;
  data[0].permitted &= ~mask;
  data[0].inheritable &= ~mask;
  return ::syscall(SYS_capset, &header, data) == 0;
}

// For spawn's in_child: files may grow to file_limit bytes, past which write() fails with EFBIG
// ("File too large"), as on a full disk; SIGXFSZ, which would kill the process instead, is ignored
// (and stays ignored across exec).
rlim_t file_limit = 0;
bool small_disk() {
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit limit{};
  if (::getrlimit(RLIMIT_FSIZE, &limit) != 0) return false;
  limit.rlim_cur = file_limit;
  return ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
}

// The temporary files write_file_atomic leaves (".NAME.tmp.PID.N") in `dir`.
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) names.push_back(e.path().filename().string());
  return names;
}

std::size_t epoch_of(const fs::path& checkpoint) {
  return std::stoul(castnet::io::read_safetensors(checkpoint).metadata.at("epoch"));
}

// The last "epoch N/" that `out` reports as completed, 0 if none.
std::size_t last_epoch_reported(const std::string& out) {
  std::size_t last = 0;
  const std::regex line("(^|\n)epoch +([0-9]+)/");  // "epoch  7/30": padded to the total's width
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it)
    last = std::stoul((*it)[2]);
  return last;
}

// The time each epoch reported in `out` took ("epoch  7/30  ...  138 ms" or "...  1.2 s"), by epoch.
std::map<std::size_t, double> epoch_seconds(const std::string& out) {
  std::map<std::size_t, double> seconds;
  const std::regex line("(^|\n)epoch +([0-9]+)/[^\n]*  ([0-9.]+) (ms|s)(?=\n)");  // the line's \n left to the next
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it)
    seconds[std::stoul((*it)[2])] = std::stod((*it)[3]) * ((*it)[4] == "ms" ? 1e-3 : 1.0);
  return seconds;
}

}  // namespace

TEST_CASE("faults: a read-only output directory stops training with exit 1, naming the file, the rest intact") {
  Cli cli;
  // Can permission bits be made to bind here (root without CAP_DAC_OVERRIDE, or not root)?
  fs::create_directories(cli / "probe");
  fs::permissions(cli / "probe", fs::perms::owner_read | fs::perms::owner_exec);
  const auto probe = castnet::test::run({"/bin/sh", "-c", "touch probe/x"}, cli.dir.path(), {}, obey_permissions);
  fs::permissions(cli / "probe", fs::perms::owner_all);
  if (probe.exit_code != 1) {
    castnet::test::skip("cannot make a directory read-only for the child (touch exited " + std::to_string(probe.exit_code) + ")");
    return;
  }

  {  // Read-only before a save: the first file of the epoch cannot be created.
    const auto first = cli({"train", "net.toml", "--out", "ro", "--epochs", "2"});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    const std::string checkpoint = read_file(cli / "ro/checkpoint.safetensors");
    const std::string weights = read_file(cli / "ro/weights.safetensors");
    fs::permissions(cli / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    const auto r = castnet::test::run({CASTNET_CLI_EXE, "train", "net.toml", "--out", "ro", "--epochs", "4", "--resume", "--save-every", "0"},
                                      cli.dir.path(), cli.env, obey_permissions);
    fs::permissions(cli / "ro", fs::perms::owner_all);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Contains("epoch 3/4"));
    CHECK(r.err ==
          "ro/weights.safetensors: error: cannot write: Permission denied (creating the temporary file); the file is as it was\n"
          "training stopped after epoch 3; the last good checkpoint is "
          "ro/checkpoint.safetensors (epoch 2, intact; continue with --resume)\n");
    CHECK(read_file(cli / "ro/checkpoint.safetensors") == checkpoint);
    CHECK(read_file(cli / "ro/weights.safetensors") == weights);
    CHECK(temporaries(cli / "ro").empty());
  }

  {  // Read-only in the middle of a run that saves after every epoch, wherever it is.
    const fs::path checkpoint = cli / "mid/checkpoint.safetensors";
    const pid_t pid = castnet::test::spawn({CASTNET_CLI_EXE, "train", "net.toml", "--out", "mid", "--save-every", "0"},
                                           cli / "mid.out", cli / "mid.err", cli.dir.path(), cli.env, obey_permissions);
    REQUIRE(pid > 0);
    int code = -1;
    const bool ended = !castnet::test::running_when_file_appears(pid, checkpoint, code);
    REQUIRE_FALSE(ended);
    fs::permissions(cli / "mid", fs::perms::owner_read | fs::perms::owner_exec);
    code = castnet::test::wait_exit(pid);
    fs::permissions(cli / "mid", fs::perms::owner_all);
    const std::string err = read_file(cli / "mid.err");
    INFO(err);
    CHECK(code == 1);
    std::smatch m;
    const std::regex message(
        "mid/(weights\\.safetensors|metrics\\.csv|curves\\.svg|checkpoint\\.safetensors): error: cannot write: "
        "Permission denied \\((?:creating the temporary file|renaming over the target)\\); the file is as it was\n"
        "training stopped after epoch ([0-9]+); the last good checkpoint is "
        "mid/checkpoint\\.safetensors \\(epoch ([0-9]+), intact; continue with --resume\\)\n");
    REQUIRE(std::regex_search(err, m, message));
    // The checkpoint is the one the message names, and every file loads.
    CHECK(epoch_of(checkpoint) == std::stoul(m[3]));
    CHECK(std::stoul(m[3]) < std::stoul(m[2]));
    CHECK_NOTHROW(castnet::io::read_safetensors(cli / "mid/weights.safetensors"));

    // Writable again, --resume completes (and removes a temporary file a failed rename could not).
    const auto rest = cli({"train", "net.toml", "--out", "mid", "--resume"});
    INFO(rest.err);
    CHECK(rest.exit_code == 0);
    CHECK_THAT(rest.out, Contains("epoch 30/30"));
    CHECK(temporaries(cli / "mid").empty());
  }
}

TEST_CASE("faults: a full disk stops training with exit 1, naming the file, the previous checkpoint intact") {
  Cli cli;
  const auto first = cli({"train", "net.toml", "--out", "full", "--epochs", "2"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const std::string checkpoint = read_file(cli / "full/checkpoint.safetensors");
  const std::size_t weights = read_file(cli / "full/weights.safetensors").size();
  REQUIRE(weights < checkpoint.size() / 2);

  // The weights, metrics and curves of epoch 3 fit; the checkpoint does not.
  file_limit = static_cast<rlim_t>(checkpoint.size() * 3 / 4);
  const auto r = castnet::test::run({CASTNET_CLI_EXE, "train", "net.toml", "--out", "full", "--epochs", "4", "--resume", "--save-every", "0"},
                                    cli.dir.path(), cli.env, small_disk);
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "full/checkpoint.safetensors: error: cannot write: File too large (writing the temporary file); the file is as it was\n"
        "training stopped after epoch 3; the last good checkpoint is "
        "full/checkpoint.safetensors (epoch 2, intact; continue with --resume)\n");
  CHECK(read_file(cli / "full/checkpoint.safetensors") == checkpoint);
  CHECK(castnet::io::read_safetensors(cli / "full/weights.safetensors").metadata.at("epoch") == "3");
  CHECK(temporaries(cli / "full").empty());

  // With room again, --resume redoes epoch 3 and completes.
  const auto rest = cli({"train", "net.toml", "--out", "full", "--epochs", "4", "--resume", "--save-every", "0"});
  INFO(rest.err);
  CHECK(rest.exit_code == 0);
  CHECK_THAT(rest.out, Contains("resuming full/checkpoint.safetensors after epoch 2\n"));
  CHECK(epoch_of(cli / "full/checkpoint.safetensors") == 4);
}

TEST_CASE("faults: SIGKILL at random moments, resumed each time, ends with the weights of an unbroken run") {
  Cli cli;
  // The runner compiled first, so that the unbroken run's time, which spaces the kills, is training.
  REQUIRE(cli({"train", "net.toml", "--out", "warm", "--epochs", "1"}).exit_code == 0);
  const auto t0 = std::chrono::steady_clock::now();
  // 80 epochs (some 8 s here): runs that live long enough to save several times before a kill.
  const auto whole = cli({"train", "net.toml", "--out", "whole", "--epochs", "80"});
  INFO(whole.err);
  REQUIRE(whole.exit_code == 0);
  const std::string expected = read_file(cli / "whole/weights.safetensors");
  const double whole_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Five kills, each at a seeded random moment of a run (a share of the unbroken run's time, so
  // that they land anywhere from start-up to the last epochs, in a save or between saves).
  std::mt19937 random(20240611);
  std::uniform_real_distribution<double> when(0.05, 0.3);
  const fs::path dir = cli / "killed";
  const fs::path checkpoint = dir / "checkpoint.safetensors";
  std::size_t saved = 0;  // the checkpoint's epoch after the previous kill
  int kills = 0;
  for (int run = 1; run <= 5; ++run) {
    const double delay = when(random) * whole_s;
    const pid_t pid = castnet::test::spawn(
        {CASTNET_CLI_EXE, "train", "net.toml", "--out", "killed", "--epochs", "80", "--resume"}, cli / "killed.out",
        cli / "killed.err", cli.dir.path(), cli.env);
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    int code = -1;
    if (castnet::test::has_exited(pid, code)) {
      INFO(read_file(cli / "killed.err"));
      REQUIRE(code == 0);
      break;  // finished before this kill
    }
    ::kill(pid, SIGKILL);
    REQUIRE(castnet::test::wait_exit(pid) == 128 + SIGKILL);
    ++kills;
    const std::string out = read_file(cli / "killed.out");
    INFO("kill " << run << " after " << delay << " s\n" << out);
    // Never torn (each file reads, its checksums hold), never behind the last kill's, and no more
    // lost than the default --save-every (1 s) allows: an epoch is reported, then saved if a
    // second has passed since the last save (or the start), so the epochs reported after the
    // checkpoint's (or all, before the first save) ended within a second of it. Together they
    // took less than a second, but for the last one, whose save may have been under way. (A run
    // killed before it reported an epoch reports none after the previous checkpoint.)
    const bool any = fs::exists(checkpoint);
    CHECK((any || saved == 0));
    const std::size_t epoch = any ? epoch_of(checkpoint) : 0;
    const std::size_t reported = std::max(saved, last_epoch_reported(out));
    const auto seconds = epoch_seconds(out);
    double lost = 0;
    for (std::size_t e = epoch + 1; e < reported; ++e) lost += seconds.at(e);
    INFO("checkpoint of epoch " << epoch << ", epoch " << reported << " reported; epochs " << epoch + 1 << " to "
                                << reported - 1 << " took " << lost << " s");
    CHECK(epoch >= saved);
    CHECK(epoch <= reported);
    CHECK(lost < 1.0 + 5e-4 * static_cast<double>(reported - epoch));  // each time is rounded to 3 digits
    if (any) CHECK_NOTHROW(castnet::io::read_safetensors(dir / "weights.safetensors"));
    saved = epoch;
  }
  CHECK(kills >= 3);  // else the kills came too late: make the delays shorter

  const auto rest = cli({"train", "net.toml", "--out", "killed", "--epochs", "80", "--resume"});
  INFO(rest.err);
  REQUIRE(rest.exit_code == 0);
  CHECK(epoch_of(checkpoint) == 80);
  CHECK(read_file(dir / "weights.safetensors") == expected);
  CHECK(temporaries(dir).empty());  // what the kills left behind was cleared
}
