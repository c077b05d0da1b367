// See bundle.hpp.
#include "emit/bundle.hpp"

#include <algorithm>
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

class Bundler {
 public:
  void add(const std::string& name, std::string& out) {
    if (!done_.insert(name).second) return;
    std::istringstream in{std::string(template_text("kernels/" + name))};
    out += "// ---- castnet/kernels/" + name + " ----\n";
    std::smatch m;
    for (std::string line; std::getline(in, line);) {
      if (std::regex_search(line, kPragmaOnce)) continue;
      if (std::regex_match(line, m, kKernelInclude)) {
        add(m[1].str(), out);
        continue;
      }
      if (std::regex_search(line, kCastnetInclude))
        throw std::logic_error("castnet/kernels/" + name + " includes a castnet header outside kernels/: " + line);
      if (std::regex_search(line, m, kDefine) &&
          std::find(macros_.begin(), macros_.end(), m[1].str()) == macros_.end())
        macros_.push_back(m[1].str());
      out += line + "\n";
    }
  }
  std::vector<std::string> macros() const { return macros_; }

 private:
  std::set<std::string> done_;
  std::vector<std::string> macros_;
};

}  // namespace

Bundle bundle_kernels(const std::vector<std::string>& headers) {
  Bundler b;
  Bundle result;
  for (const auto& h : headers) b.add(h, result.text);
  result.macros = b.macros();
  return result;
}

}  // namespace castnet::gen
