// See files.hpp.
#include "support/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace castnet::support {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, const std::string& reason) {
  throw std::runtime_error(path.string() + ": error: cannot " + what + ": " + reason);
}

}  // namespace

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "read", std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) fail(path, "read", "read error");
  return s.str();
}

bool write_if_changed(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && read_file(path) == bytes) return false;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) fail(path, "create its directory", ec.message());
  }
  static std::atomic<unsigned> counter{0};
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "write", std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      std::filesystem::remove(tmp, ec);
      fail(path, "write", reason);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    std::filesystem::remove(tmp, ec);
    fail(path, "write", reason);
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string reason = ec.message();
    std::filesystem::remove(tmp, ec);
    fail(path, "write", reason);
  }
  return true;
}

namespace {
std::string escape(const std::filesystem::path& p) {
  std::string out;
  for (char c : std::filesystem::absolute(p).lexically_normal().string()) {
    if (c == ' ' || c == '#') out += '\\';
    if (c == '$') out += '$';
    out += c;
  }
  return out;
}
}  // namespace

std::string make_depfile(const std::filesystem::path& target, const std::vector<std::filesystem::path>& deps) {
  std::string s = escape(target) + ":";
  for (const auto& d : deps) s += " " + escape(d);
  return s + "\n";
}

}  // namespace castnet::support
