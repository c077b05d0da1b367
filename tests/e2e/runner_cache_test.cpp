// The runner cache as the edit-train loop meets it: a runner is compiled when the network changes,
// not when a comment, a training setting or the spec's path does (its header names no spec, and
// the spec's hash reaches the weights from the runner's command line); and it is compiled again
// when a header the compiler read has other bytes, which the list kept beside the runner tells.
// castnet cache lists and frees the runners.
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_sandbox.hpp"
#include "support/process.hpp"
#include <castnet/io/sha256.hpp>

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::write_file;

namespace {

const std::string kXorDir = std::string(CASTNET_SOURCE_DIR) + "/specs/";

bool compiled(const castnet::test::Result& r) { return r.err.find("compiling the") != std::string::npos; }

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The one runner folder in the sandbox's cache.
fs::path runner_dir(const castnet::test::CliSandbox& cli) {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(cli / "cache/runners"))
    if (e.is_directory()) dirs.push_back(e.path());
  REQUIRE(dirs.size() == 1);
  return dirs.front();
}

}  // namespace

TEST_CASE("runner cache: comments, training settings and the spec's path compile nothing; the network does") {
  castnet::test::CliSandbox cli;
  const std::string spec = read_file(kXorDir + "xor.toml");
  write_file(cli / "xor.toml", spec);
  write_file(cli / "xor.csv", read_file(kXorDir + "xor.csv"));
  const auto train = [&](const std::string& path, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"train", path, "--out", "run", "--epochs", "2"};
    args.insert(args.end(), more.begin(), more.end());
    const auto r = cli(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // The weights name the spec trained, though its runner was compiled for another file.
    const auto weights = castnet::io::read_safetensors(cli / "run/weights.safetensors");
    CHECK(weights.metadata.at("castnet_spec_sha256") == castnet::io::sha256_hex(read_file(cli / path)));
    return r;
  };

  CHECK(compiled(train("xor.toml")));
  const fs::path dir = runner_dir(cli);
  const std::string header = read_file(dir / "xor_net.hpp");
  CHECK(header.find("for a castnet runner") != std::string::npos);
  CHECK(header.find("xor.toml") == std::string::npos);

  write_file(cli / "xor.toml", "# a comment above everything\n" + spec);
  CHECK_FALSE(compiled(train("xor.toml")));
  // --resume after another comment edit: a checkpoint is bound to the network and the run's
  // settings, not to the spec's bytes.
  write_file(cli / "xor.toml", "# another comment\n" + spec);
  const auto resumed = cli({"train", "xor.toml", "--out", "run", "--epochs", "3", "--resume"});
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK_THAT(resumed.out, Catch::Matchers::Contains("resuming run/checkpoint.safetensors after epoch 2\n"));
  write_file(cli / "xor.toml", replaced(replaced(spec, "lr = 0.5", "lr = 0.3"), "epochs = 300", "epochs = 5"));
  CHECK_FALSE(compiled(train("xor.toml")));
  CHECK_FALSE(compiled(train("xor.toml", {"--lr", "0.1", "--seed", "4"})));
  fs::create_directories(cli / "copy");
  write_file(cli / "copy/other.toml", spec);
  write_file(cli / "copy/xor.csv", read_file(kXorDir + "xor.csv"));
  CHECK_FALSE(compiled(train("copy/other.toml")));
  CHECK_FALSE(compiled(train("../" + (cli / "copy/other.toml").lexically_relative(cli.dir.path().parent_path()).string())));

  // Three hidden units: another network, compiled once.
  write_file(cli / "xor.toml", replaced(spec, "units = 2", "units = 3"));
  CHECK(compiled(train("xor.toml")));
  CHECK_FALSE(compiled(train("xor.toml")));

  // castnet cache: both runners listed; clean --older-than spares them (just used), clean frees them.
  const auto listed = cli({"cache", "list"});
  REQUIRE(listed.exit_code == 0);
  CHECK_THAT(listed.out, Catch::Matchers::Contains("\n  xor_net-"));
  CHECK_THAT(listed.out, Catch::Matchers::Contains("\n2 runners, "));
  CHECK_THAT(cli({"cache", "clean", "--older-than", "1"}).out, Catch::Matchers::StartsWith("removed 0 runners"));
  const auto cleaned = cli({"cache", "clean"});
  REQUIRE(cleaned.exit_code == 0);
  CHECK_THAT(cleaned.out, Catch::Matchers::StartsWith("removed 2 runners, freed "));
  CHECK_THAT(cli({"cache", "list"}).out, Catch::Matchers::Contains("\n0 runners, "));
  CHECK(compiled(train("xor.toml")));
  CHECK(cli({"cache", "frob"}).exit_code == 2);
}

TEST_CASE("runner cache: a header with other bytes compiles the runner again, a touched one does not") {
  castnet::test::CliSandbox cli;
  write_file(cli / "xor.toml", read_file(kXorDir + "xor.toml"));
  write_file(cli / "xor.csv", read_file(kXorDir + "xor.csv"));
  const auto train = [&] {
    const auto r = cli({"train", "xor.toml", "--out", "run", "--epochs", "1"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  };
  REQUIRE(compiled(train()));
  const fs::path list = runner_dir(cli) / "headers.txt";
  const std::string headers = read_file(list);
  // The headers the compiler read: castnet's runtime and the C++ library.
  CHECK(headers.find("/castnet/model.hpp\n") != std::string::npos);
  CHECK(headers.find("/castnet/train/runner.hpp\n") != std::string::npos);
  CHECK(headers.find("/memory\n") != std::string::npos);
  // A runner compiles its model and the ModelView adapter: the training library comes compiled,
  // in libcastnet_runtime.
  for (const char* library : {"trainer.hpp", "optimizer.hpp", "lbfgs.hpp", "checkpoint.hpp", "data_parallel.hpp", "verbs.hpp"}) {
    INFO(library);
    CHECK(headers.find(std::string("/castnet/train/") + library + "\n") == std::string::npos);
  }

  // Each line: sha256, size, modification time (ns), path. Another time alone (a reinstalled
  // package with the same bytes) is not a change; other bytes (simulated: another sha256) are.
  std::istringstream first_line(headers.substr(0, headers.find('\n')));
  std::string sha, size, mtime, path;
  REQUIRE(first_line >> sha >> size >> mtime >> path);
  const std::string rest = headers.substr(headers.find('\n'));
  write_file(list, sha + " " + size + " 1 " + path + rest);
  CHECK_FALSE(compiled(train()));
  write_file(list, std::string(64, '0') + " " + size + " 1 " + path + rest);
  const auto again = train();
  CHECK(compiled(again));
  CHECK(again.err.find(path + " changed since it was last compiled") != std::string::npos);
  CHECK(read_file(list) == headers);  // listed anew, as it was
  CHECK_FALSE(compiled(train()));

  // A runner without its list is not trusted.
  fs::remove(list);
  CHECK(compiled(train()));
}
