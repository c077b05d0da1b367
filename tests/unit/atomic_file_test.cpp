// write_file_atomic and read_file: contents are replaced exactly, and every failure throws a
// message naming the path and the step while leaving the previous file intact and no temporary
// file behind. Tests run as root, which ignores permission bits, so failures are provoked by a
// missing directory, a directory in the way, and a file size limit (RLIMIT_FSIZE binds root too).
#include "castnet/io/atomic_file.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "castnet/error.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::TempDir;
using castnet::io::read_file;
using castnet::io::write_file_atomic;

namespace {

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Limits the size of files this process may write, for the lifetime of the object. SIGXFSZ is
// ignored meanwhile so that exceeding the limit makes write() fail with EFBIG instead of killing
// the test process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = saved_;
    limited.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = nullptr;
};

// Runs in `dir` for the lifetime of the object.
class ChangeDirectory {
 public:
  explicit ChangeDirectory(const fs::path& dir) : saved_(fs::current_path()) { fs::current_path(dir); }
  ChangeDirectory(const ChangeDirectory&) = delete;
  ChangeDirectory& operator=(const ChangeDirectory&) = delete;
  ~ChangeDirectory() { fs::current_path(saved_); }

 private:
  fs::path saved_;
};

}  // namespace

TEST_CASE("atomic_file: writes a new file and replaces an existing one exactly") {
  TempDir dir;
  const fs::path p = dir / "out.txt";
  write_file_atomic(p, std::string_view("first version, rather long\n"));
  CHECK(castnet::test::read_file(p) == "first version, rather long\n");
  write_file_atomic(p, std::string("second\n"));
  CHECK(castnet::test::read_file(p) == "second\n");
  write_file_atomic(p, "");
  CHECK(fs::exists(p));
  CHECK(fs::file_size(p) == 0);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"out.txt"});
}

TEST_CASE("atomic_file: binary bytes, including NUL, are written unchanged") {
  TempDir dir;
  const fs::path p = dir / "blob.bin";
  std::vector<char> bytes(200'000);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 % 256);
  write_file_atomic(p, std::span<const char>(bytes));
  const std::string back = castnet::test::read_file(p);
  CHECK(back == std::string(bytes.begin(), bytes.end()));
  CHECK(read_file(p) == back);
}

TEST_CASE("atomic_file: a path without a directory part writes to the working directory") {
  TempDir dir;
  ChangeDirectory in(dir.path());
  write_file_atomic("plain.txt", "contents");
  CHECK(castnet::test::read_file(dir / "plain.txt") == "contents");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"plain.txt"});
}

TEST_CASE("atomic_file: a missing directory throws naming the path and the step") {
  TempDir dir;
  const fs::path p = dir / "no-such-dir" / "out.txt";
  REQUIRE_THROWS_WITH(write_file_atomic(p, "x"),
                      p.string() + ": error: cannot write: No such file or directory (creating the temporary file); the file is as it was");
  CHECK(names_in(dir.path()).empty());
}

TEST_CASE("atomic_file: a directory in the way throws, stays intact and no temporary file remains") {
  TempDir dir;
  const fs::path p = dir / "target";
  fs::create_directory(p);
  write_file_atomic(p / "inside.txt", "kept");
  REQUIRE_THROWS_WITH(write_file_atomic(p, "x"),
                      p.string() + ": error: cannot write: Is a directory (renaming over the target); the file is as it was");
  CHECK(fs::is_directory(p));
  CHECK(castnet::test::read_file(p / "inside.txt") == "kept");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"target"});
}

TEST_CASE("atomic_file: a failed write leaves the previous file intact and no temporary file") {
  TempDir dir;
  const fs::path p = dir / "model.hpp";
  write_file_atomic(p, "previous contents\n");
  {
    FileSizeLimit limit(8);
    REQUIRE_THROWS_WITH(write_file_atomic(p, "new contents that exceed the size limit\n"),
                        p.string() + ": error: cannot write: File too large (writing the temporary file); the file is as it was");
  }
  CHECK(castnet::test::read_file(p) == "previous contents\n");
  CHECK(names_in(dir.path()) == std::vector<std::string>{"model.hpp"});
}

TEST_CASE("atomic_file: read_file returns every byte and names the path on failure") {
  TempDir dir;
  const fs::path p = dir / "in.bin";
  const std::string bytes("a\0b\r\nc", 6);
  std::ofstream(p, std::ios::binary) << bytes;
  CHECK(read_file(p) == bytes);
  std::ofstream(dir / "empty", std::ios::binary).flush();
  CHECK(read_file(dir / "empty").empty());
  REQUIRE_THROWS_AS(read_file(dir / "absent"), castnet::Error);
  REQUIRE_THROWS_WITH(read_file(dir / "absent"),
                      (dir / "absent").string() + ": error: cannot read: No such file or directory (opening)");
  REQUIRE_THROWS_WITH(read_file(dir.path()), dir.path().string() + ": error: cannot read: Is a directory (opening)");
}

TEST_CASE("atomic_file: remove_stale_temporaries removes a dead process's temporary files of that target only") {
  TempDir dir;
  const fs::path p = dir / "w.safetensors";
  write_file_atomic(p, "contents");
  const pid_t dead = ::fork();  // a process that has ended (and been reaped)
  if (dead == 0) ::_exit(0);
  REQUIRE(dead > 0);
  castnet::test::wait_exit(dead);
  const std::string d = std::to_string(dead), me = std::to_string(::getpid());
  for (const std::string& name : std::vector<std::string>{".w.safetensors.tmp." + d + ".0", ".w.safetensors.tmp." + d + ".7",
                                  ".w.safetensors.tmp." + me + ".0", ".w.safetensors.tmp.1.0",
                                  ".w.safetensors.tmp.x.0", ".other.tmp." + d + ".0"})
    dir.file(name, "partial");
  CHECK(castnet::io::remove_stale_temporaries(p) == 2);
  std::vector<std::string> left = {".other.tmp." + d + ".0", ".w.safetensors.tmp." + me + ".0",
                                   ".w.safetensors.tmp.1.0", ".w.safetensors.tmp.x.0", "w.safetensors"};
  std::sort(left.begin(), left.end());
  CHECK(names_in(dir.path()) == left);
  CHECK(castnet::io::remove_stale_temporaries(dir / "missing-dir/w") == 0);
}
