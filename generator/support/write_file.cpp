// See write_file.hpp.
#include "support/write_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace castnet::support {

bool write_if_changed(const std::filesystem::path& path, std::string_view bytes) {
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream old;
      old << in.rdbuf();
      if (old.str() == bytes) return false;
    }
  }
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error(path.string() + ": error: cannot write: " + std::strerror(errno));
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(path.string() + ": error: cannot write: " + ec.message());
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
