// castnet cache list | clean [--older-than DAYS]: what the runner cache holds, and freeing it.
// A runner's folder's time is its last use (build_cache.cpp touches it on every hit). A runner
// being compiled or looked up holds its lock: clean leaves it alone.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "args.hpp"
#include "cache_dir.hpp"
#include "verbs.hpp"

namespace castnet::cli {
namespace fs = std::filesystem;
namespace {

struct Entry {
  fs::path dir;
  std::uintmax_t bytes = 0;
  fs::file_time_type used;
};

std::uintmax_t size_of(const fs::path& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

std::string megabytes(std::uintmax_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

std::string local_time(fs::file_time_type t) {
  const auto system = std::chrono::file_clock::to_sys(t);
  const std::time_t c = std::chrono::system_clock::to_time_t(system);
  std::tm tm{};
  ::localtime_r(&c, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
  return text;
}

// The runner folders under <cache>/runners, least recently used first.
std::vector<Entry> runners(const fs::path& root) {
  std::vector<Entry> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (!e.is_directory(ec) || e.is_symlink(ec)) continue;
    found.push_back({e.path(), size_of(e.path()), fs::last_write_time(e.path(), ec)});
  }
  std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  return found;
}

constexpr std::string_view kRefusal = "castnet will not list or remove what is in it";

int list(const fs::path& cache) {
  const fs::path root = cache / "runners";
  std::uintmax_t total = 0;
  std::vector<Entry> found;
  if (fs::exists(root)) {
    check_private(root, true, kRefusal);
    found = runners(root);
  }
  std::cout << "runners in " << root.string() << " (least recently used first):\n";
  for (const Entry& e : found) {
    std::cout << "  " << e.dir.filename().string() << "  " << megabytes(e.bytes) << "  used " << local_time(e.used) << '\n';
    total += e.bytes;
  }
  std::cout << found.size() << (found.size() == 1 ? " runner, " : " runners, ") << megabytes(total) << '\n';
  if (fs::exists(cache / "mnist")) std::cout << "MNIST in " << (cache / "mnist").string() << ": " << megabytes(size_of(cache / "mnist")) << '\n';
  return 0;
}

int clean(const fs::path& cache, double older_than_days) {
  const fs::path root = cache / "runners";
  if (!fs::exists(root)) {
    std::cout << "nothing to clean in " << root.string() << '\n';
    return 0;
  }
  check_private(root, true, kRefusal);
  const auto cutoff = fs::file_time_type::clock::now() -
                      std::chrono::duration_cast<fs::file_time_type::duration>(std::chrono::duration<double, std::ratio<86400>>(older_than_days));
  std::uintmax_t freed = 0;
  std::size_t removed = 0, busy = 0;
  for (const Entry& e : runners(root)) {
    if (e.used > cutoff) continue;
    // The lock build_cache.cpp holds while it looks the runner up or compiles it.
    const fs::path lock = e.dir.string() + ".lock";
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      ++busy;
      continue;
    }
    std::error_code ec;
    fs::remove_all(e.dir, ec);
    fs::remove(lock, ec);  // under our lock: a new lookup takes a fresh one
    if (fd >= 0) ::close(fd);
    freed += e.bytes;
    ++removed;
  }
  std::cout << "removed " << removed << (removed == 1 ? " runner" : " runners") << ", freed " << megabytes(freed);
  if (busy) std::cout << "; " << busy << " in use left alone";
  std::cout << '\n';
  return 0;
}

}  // namespace

int cache(int argc, char** argv) {
  const Args args(argc, argv, 2, {"--older-than"});
  if (args.positional().size() != 1 || (args.positional()[0] != "list" && args.positional()[0] != "clean"))
    throw UsageError("name one of: list, clean");
  const std::string action = args.positional()[0];
  if (action == "list") {
    if (args.get("--older-than")) throw UsageError("--older-than goes with clean");
    return list(cache_root());
  }
  double days = 0;
  if (const auto v = args.get("--older-than")) {
    std::size_t used = 0;
    try {
      days = std::stod(*v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v->size() || !(days >= 0)) throw UsageError("--older-than: '" + *v + "' is not a number of days >= 0");
  }
  return clean(cache_root(), days);
}

}  // namespace castnet::cli
