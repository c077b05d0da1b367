// See find_program.hpp.
#include "find_program.hpp"

#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace castnet::cli {
namespace fs = std::filesystem;

std::optional<fs::path> find_on_path(std::string_view program) {
  const char* env = std::getenv("PATH");
  const std::string_view path = env ? env : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0; start <= path.size();) {
    std::size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    const fs::path dir(path.substr(start, end - start));
    start = end + 1;
    if (dir.empty() || dir.is_relative()) continue;
    const fs::path candidate = dir / program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::nullopt;
}

}  // namespace castnet::cli
