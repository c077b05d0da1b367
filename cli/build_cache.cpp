// See build_cache.hpp.
#include "build_cache.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>
#include <vector>

#include <castnet/version.hpp>

#include "emit/code_writer.hpp"
#include "support/sha256.hpp"
#include "support/write_file.hpp"

namespace castnet::cli {
namespace fs = std::filesystem;
namespace {

struct Toolchain {
  fs::path include_dir;  // castnet runtime headers
  fs::path runtime_lib;  // libcastnet_runtime.a
};

// An installed castnet keeps include/ and lib/ beside bin/; a build tree uses the paths CMake
// baked in.
Toolchain find_toolchain() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path prefix = exe.parent_path().parent_path();
    Toolchain t{prefix / "include", prefix / "lib" / "libcastnet_runtime.a"};
    if (fs::exists(t.include_dir / "castnet" / "runner.hpp") && fs::exists(t.runtime_lib)) return t;
  }
  return {CASTNET_BUILD_INCLUDE_DIR, CASTNET_BUILD_RUNTIME_LIB};
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Everything that goes into the binary: the model, the runner source, the compiler and flags,
// the runtime headers and the runtime library.
std::string cache_key(const Toolchain& t, const std::string& header, const std::string& runner_src) {
  std::string material = std::string(CASTNET_CXX) + "\n" + CASTNET_RUNNER_FLAGS + "\n" + CASTNET_VERSION_STRING + "\n";
  material += support::sha256_hex(header) + support::sha256_hex(runner_src);
  std::vector<fs::path> headers;
  for (const auto& e : fs::recursive_directory_iterator(t.include_dir))
    if (e.is_regular_file()) headers.push_back(e.path());
  std::sort(headers.begin(), headers.end());
  for (const auto& h : headers) material += h.lexically_relative(t.include_dir).string() + support::sha256_hex(read_all(h));
  material += support::sha256_hex(read_all(t.runtime_lib));
  return support::sha256_hex(material);
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

fs::path cache_root() {
  if (const char* d = std::getenv("CASTNET_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "castnet";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "castnet";
  return fs::temp_directory_path() / "castnet-cache";
}

Runner build_runner(const std::string& ns, const std::string& header_text) {
  const Toolchain t = find_toolchain();
  const std::string header_name = ns + ".hpp";
  gen::Holes h;
  h.id("ns", ns).code("header", header_name);
  const std::string runner_src = gen::render("runner.cpp.tmpl", h) + "\n";

  const std::string key = cache_key(t, header_text, runner_src);
  const fs::path dir = cache_root() / "runners" / (ns + "-" + key.substr(0, 16));
  const fs::path exe = dir / "runner";
  if (fs::exists(exe)) return {exe, false};

  fs::create_directories(dir);
  support::write_if_changed(dir / header_name, header_text);
  support::write_if_changed(dir / "runner.cpp", runner_src);
  const fs::path tmp = dir / ("runner.tmp." + std::to_string(::getpid()));
  const fs::path log = dir / "build.log";
  const std::string cmd = shell_quote(CASTNET_CXX) + " " + CASTNET_RUNNER_FLAGS + " -I" + shell_quote(dir.string()) +
                          " -I" + shell_quote(t.include_dir.string()) + " " + shell_quote((dir / "runner.cpp").string()) +
                          " " + shell_quote(t.runtime_lib.string()) + " -o " + shell_quote(tmp.string()) + " > " +
                          shell_quote(log.string()) + " 2>&1";
  std::cerr << "castnet: compiling the " << ns << " runner (cached in " << dir.string() << ")\n";
  const auto start = std::chrono::steady_clock::now();
  if (std::system(cmd.c_str()) != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    std::string out = read_all(log);
    if (out.size() > 4000) out = "..." + out.substr(out.size() - 4000);
    throw std::runtime_error("castnet: error: compiling the generated model failed (log: " + log.string() + ")\n" + out);
  }
  fs::rename(tmp, exe);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "castnet: compiled in " << static_cast<int>(secs * 10) / 10.0 << " s\n";
  return {exe, true};
}

}  // namespace castnet::cli
