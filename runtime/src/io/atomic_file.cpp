// Atomic file replacement and whole-file reading over plain POSIX calls. The write goes to a
// uniquely named temporary file next to the target (a rename is only atomic within one file
// system), is fsync'ed, renamed over the target, and the directory is fsync'ed so the rename
// itself survives a crash. Every failure names the path, the reason and the step that failed.
#include "castnet/io/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "castnet/error.hpp"

namespace castnet::io {
namespace {

// `after`: what a failed write left on disk.
[[noreturn]] void fail(const std::filesystem::path& path, const char* verb, int err, const char* step,
                       const char* after = "") {
  throw Error(path.string() + ": error: cannot " + verb + ": " + std::strerror(err) + " (" + step + ")" + after);
}

// Owns the temporary file until it has been renamed: on any early exit it closes the descriptor
// and removes the file, so a failed write leaves nothing behind.
class TempFile {
 public:
  explicit TempFile(std::filesystem::path path) : path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
  }
  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_; }
  // O_EXCL: never reuse (and later delete) a file that someone else created.
  bool open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    return fd_ >= 0;
  }
  // close() can report a deferred write error (e.g. on NFS), so its result is returned.
  bool close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }
  void mark_renamed() { renamed_ = true; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool renamed_ = false;
};

// ".<target name>.tmp.": the start of the target's temporary files' names. Kept under NAME_MAX
// (255) with the pid and counter even for long target names.
std::string temp_prefix(const std::filesystem::path& target) {
  return "." + target.filename().string().substr(0, 200) + ".tmp.";
}

// Unique within the process (counter) and across processes (pid); O_EXCL guards the rest.
std::filesystem::path temp_path_for(const std::filesystem::path& target) {
  static std::atomic<unsigned long> counter{0};
  return target.parent_path() / (temp_prefix(target) + std::to_string(::getpid()) + "." + std::to_string(counter++));
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::span<const char> bytes) {
  constexpr const char* kAsItWas = "; the file is as it was";
  TempFile temp(temp_path_for(path));
  if (!temp.open()) fail(path, "write", errno, "creating the temporary file", kAsItWas);

  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(temp.fd(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "write", errno, "writing the temporary file", kAsItWas);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(temp.fd()) != 0) fail(path, "write", errno, "syncing the temporary file", kAsItWas);
  if (!temp.close()) fail(path, "write", errno, "closing the temporary file", kAsItWas);

  if (::rename(temp.path().c_str(), path.c_str()) != 0) fail(path, "write", errno, "renaming over the target", kAsItWas);
  temp.mark_renamed();

  // From here the new bytes are in place: a failure says so, rather than that the file is as it was.
  constexpr const char* kInPlace = "; the new file is in place, but a crash may still undo its rename";
  const std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) fail(path, "write", errno, "opening the directory to sync it", kInPlace);
  // Some file systems cannot sync a directory (EINVAL); there is nothing more to make durable then.
  const int synced = ::fsync(dir_fd);
  const int sync_err = errno;
  ::close(dir_fd);
  if (synced != 0 && sync_err != EINVAL) fail(path, "write", sync_err, "syncing the directory", kInPlace);
}

std::size_t remove_stale_temporaries(const std::filesystem::path& path) {
  const std::string prefix = temp_prefix(path);
  const std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  std::error_code ec;
  std::size_t removed = 0;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    // "<pid>.<counter>" after the prefix.
    pid_t pid = 0;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    const auto [ptr, err] = std::from_chars(first, last, pid);
    if (err != std::errc{} || ptr == first || ptr == last || *ptr != '.' || pid <= 0) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno == EPERM) continue;  // still running
    if (::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

std::string read_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "read", errno, "opening");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, "read", err, "querying its size");
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    fail(path, "read", EISDIR, "opening");
  }
  // The size is a hint: read until end of file, so a file that changes meanwhile still yields
  // exactly what was read.
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  char extra[4096];
  for (;;) {
    const bool into_bytes = got < bytes.size();
    const ssize_t n = into_bytes ? ::read(fd, bytes.data() + got, bytes.size() - got) : ::read(fd, extra, sizeof extra);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail(path, "read", err, "reading");
    }
    if (n == 0) break;
    if (!into_bytes) bytes.append(extra, static_cast<std::size_t>(n));
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes.resize(got);
  return bytes;
}

}  // namespace castnet::io
