// The kernel headers that generated inference code uses follow the rules that let `castnet export`
// bundle them into one standalone header (runtime/include/castnet/kernels/README.md): a comment,
// #pragma once, then only #include lines of standard headers and of other kernel headers (the
// backend selector, simd.hpp, alone also includes xsimd and <immintrin.h>); no #include below the
// code; every declaration inside `namespace castnet {`, never a qualified `::castnet`; xsimd named
// only by the xsimd backend and the selector; and every macro they define listed in the README.
// dropout.hpp, losses.hpp and update.hpp are training-only and exempt.
#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kKernels = fs::path(CASTNET_SOURCE_DIR) / "runtime" / "include" / "castnet" / "kernels";
const std::set<std::string> kTrainingOnly = {"dropout.hpp", "losses.hpp", "update.hpp"};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The code without comments, string and character literals, and preprocessor lines (continuations
// included); newlines are kept.
std::string code_only(const std::string& text) {
  std::string out;
  bool directive = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      directive = directive && i > 0 && text[i - 1] == '\\';
      out += '\n';
      continue;
    }
    if (directive) continue;
    if (c == '#' && trimmed(out.substr(out.rfind('\n') + 1)).empty()) {
      directive = true;
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = text.find('\n', i) - 1;
      continue;
    }
    if (c == '"' || c == '\'') {
      std::size_t j = i + 1;
      while (j < text.size() && text[j] != c) j += text[j] == '\\' ? 2 : 1;
      out += ' ';
      i = j;
      continue;
    }
    out += c;
  }
  return out;
}

std::vector<fs::path> bundled_headers() {
  std::vector<fs::path> headers;
  for (const auto& e : fs::directory_iterator(kKernels))
    if (e.path().extension() == ".hpp" && !kTrainingOnly.count(e.path().filename().string())) headers.push_back(e.path());
  std::sort(headers.begin(), headers.end());
  return headers;
}

}  // namespace

TEST_CASE("kernel headers: the layout the bundler relies on") {
  const auto headers = bundled_headers();
  REQUIRE(headers.size() >= 10);
  const std::regex include_line(R"(#\s*include\s*([<"])([^>"]+)[>"].*)");
  for (const fs::path& h : headers) {
    const std::string name = h.filename().string();
    INFO(name);
    const std::string text = castnet::test::read_file(h);
    const auto lines = lines_of(text);

    // A comment, then #pragma once.
    std::size_t k = 0;
    REQUIRE(lines.size() > 2);
    CHECK(lines[0].rfind("//", 0) == 0);
    while (k < lines.size() && lines[k].rfind("//", 0) == 0) ++k;
    REQUIRE(k < lines.size());
    CHECK(lines[k] == "#pragma once");

    // The includes come before any code, and name standard headers or kernel headers.
    bool code_seen = false;
    for (std::size_t i = k + 1; i < lines.size(); ++i) {
      const std::string line = trimmed(lines[i]);
      std::smatch m;
      if (std::regex_match(line, m, include_line)) {
        INFO(line);
        CHECK_FALSE(code_seen);
        const std::string target = m[2];
        if (m[1] == "\"") {
          CHECK(target.rfind("castnet/kernels/", 0) == 0);
          const std::string file = target.substr(std::string("castnet/kernels/").size());
          CHECK(fs::exists(kKernels / file));
          CHECK_FALSE(kTrainingOnly.count(file));
        } else if (name == "simd.hpp" && (target == "immintrin.h" || target == "xsimd/xsimd.hpp")) {
          // the backend selector's
        } else {
          CHECK(target.find_first_of("./") == std::string::npos);  // <cmath>, not <math.h> or <x/y.hpp>
        }
      } else if (!line.empty() && line[0] != '#' && line.rfind("//", 0) != 0) {
        code_seen = true;
      }
    }

    // Every declaration inside namespace castnet.
    const std::string code = code_only(text);
    CHECK(code.find("::castnet") == std::string::npos);
    const std::regex opening(R"(^\s*namespace\s+castnet\s*\{)");
    std::size_t at = 0;
    while (at < code.size()) {
      const auto next = code.find_first_not_of(" \t\n", at);
      if (next == std::string::npos) break;
      std::smatch m;
      const std::string rest = code.substr(next);
      INFO("at top level: " << rest.substr(0, 60));
      REQUIRE(std::regex_search(rest, m, opening));
      int depth = 0;
      std::size_t i = next + static_cast<std::size_t>(m.length(0)) - 1;
      for (; i < code.size(); ++i) {
        depth += code[i] == '{' ? 1 : code[i] == '}' ? -1 : 0;
        if (depth == 0) break;
      }
      REQUIRE(depth == 0);
      at = i + 1;
    }

    // Only the xsimd backend and the selector name xsimd.
    if (name != "simd_xsimd.hpp" && name != "simd.hpp") CHECK(code.find("xsimd") == std::string::npos);
  }
}

TEST_CASE("kernel headers: README lists every macro they define") {
  const std::string readme = castnet::test::read_file(kKernels / "README.md");
  REQUIRE_FALSE(readme.empty());
  const std::regex define(R"(^\s*#\s*define\s+(\w+))");
  for (const fs::path& h : bundled_headers()) {
    for (const std::string& line : lines_of(castnet::test::read_file(h))) {
      std::smatch m;
      if (!std::regex_search(line, m, define)) continue;
      INFO(h.filename().string() << " defines " << m[1]);
      CHECK(readme.find(m[1].str()) != std::string::npos);
    }
  }
}
