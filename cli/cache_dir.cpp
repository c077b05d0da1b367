// See cache_dir.hpp.
#include "cache_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace castnet::cli {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void unsafe(const fs::path& p, const std::string& what, std::string_view refusal) {
  throw std::runtime_error("castnet: error: " + p.string() + " " + what + "; " + std::string(refusal));
}

}  // namespace

fs::path cache_root() {
  if (const char* d = std::getenv("CASTNET_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "castnet";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "castnet";
  throw std::runtime_error("castnet: error: no cache directory: set CASTNET_CACHE_DIR or HOME");
}

void check_private(const fs::path& p, bool want_dir, std::string_view refusal) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0)
    throw std::runtime_error("castnet: error: cannot inspect " + p.string() + ": " + std::strerror(errno));
  if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    unsafe(p, want_dir ? "is not a directory" : "is not a regular file", refusal);
  if (st.st_uid != ::geteuid())
    unsafe(p, "is owned by another user (uid " + std::to_string(st.st_uid) + ")", refusal);
  if ((st.st_mode & 022) != 0) unsafe(p, "is writable by other users", refusal);
}

void private_dir(const fs::path& dir, std::string_view refusal) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("castnet: error: cannot create " + dir.string() + ": " + std::strerror(errno));
  check_private(dir, true, refusal);
}

}  // namespace castnet::cli
