// See bundle.hpp. Each header is pasted inside a guard of its own, as its include guard would
// work: pasted once where it is first included unconditionally, but again under every #if that
// includes it before then, since only the preprocessor knows which branch is taken (simd.hpp picks
// its backend so, and each backend includes simd_base.hpp).
#include "emit/bundle.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "emit/templates.hpp"

namespace castnet::gen {
namespace {

const std::regex kKernelInclude(R"(^\s*#\s*include\s*[<"]castnet/kernels/([A-Za-z0-9_]+\.hpp)[>"]\s*$)");
const std::regex kCastnetInclude(R"(^\s*#\s*include\s*[<"]castnet/)");
const std::regex kPragmaOnce(R"(^\s*#\s*pragma\s+once\s*$)");
const std::regex kDefine(R"(^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*))");
const std::regex kIf(R"(^\s*#\s*if(n?def)?\b)");
const std::regex kEndif(R"(^\s*#\s*endif\b)");

// "simd_base.hpp" -> CASTNET_BUNDLED_SIMD_BASE_HPP
std::string guard_of(const std::string& name) {
  std::string g = "CASTNET_BUNDLED_";
  for (char c : name) g += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return g;
}

class Bundler {
 public:
  // Pastes header `name`; `conditional`: the include site lies under an #if.
  void add(const std::string& name, bool conditional, std::string& out) {
    if (pasted_.count(name) || open_.count(name)) return;
    open_.insert(name);
    std::istringstream in{std::string(template_text("kernels/" + name))};
    const std::string guard = guard_of(name);
    note_macro(guard);
    out += "// ---- castnet/kernels/" + name + " ----\n#ifndef " + guard + "\n#define " + guard + "\n";
    int depth = 0;  // #if nesting inside this header
    std::smatch m;
    for (std::string line; std::getline(in, line);) {
      if (std::regex_search(line, kPragmaOnce)) continue;
      if (std::regex_search(line, kIf)) ++depth;
      if (std::regex_search(line, kEndif)) --depth;
      if (std::regex_match(line, m, kKernelInclude)) {
        add(m[1].str(), conditional || depth > 0, out);
        continue;
      }
      if (std::regex_search(line, kCastnetInclude))
        throw std::logic_error("castnet/kernels/" + name + " includes a castnet header outside kernels/: " + line);
      if (std::regex_search(line, m, kDefine)) note_macro(m[1].str());
      out += line + "\n";
    }
    out += "#endif  // " + guard + "\n";
    open_.erase(name);
    if (!conditional) pasted_.insert(name);
  }

  std::vector<std::string> macros() const { return macros_; }

 private:
  void note_macro(const std::string& m) {
    if (std::find(macros_.begin(), macros_.end(), m) == macros_.end()) macros_.push_back(m);
  }

  std::set<std::string> pasted_;  // pasted where every branch sees it: never again
  std::set<std::string> open_;    // being pasted (a header that includes itself back)
  std::vector<std::string> macros_;
};

}  // namespace

Bundle bundle_kernels(const std::vector<std::string>& headers) {
  Bundler b;
  Bundle result;
  for (const auto& h : headers) b.add(h, false, result.text);
  result.macros = b.macros();
  return result;
}

}  // namespace castnet::gen
