// See args.hpp.
#include "args.hpp"

#include <algorithm>
#include <stdexcept>

namespace castnet::cli {

ir::Limits limits_option(const Args& args) {
  try {
    ir::Limits limits = ir::limits_from_environment();
    if (const auto v = args.get("--limit")) limits = ir::parse_limits(*v, limits);
    return limits;
  } catch (const std::invalid_argument& e) {
    throw UsageError(args.get("--limit") ? "--limit / " + std::string(e.what()) : std::string(e.what()));
  }
}

Args::Args(int argc, char** argv, int first, const std::vector<std::string>& with_value,
           const std::vector<std::string>& flags) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 1 && a[0] == '-') {
      std::string value;
      bool inline_value = false;
      if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      if (std::find(flags.begin(), flags.end(), a) != flags.end() && !inline_value) {
        flags_[a] = true;
      } else if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) {
        if (!inline_value) {
          if (i + 1 >= argc) throw UsageError(a + " needs a value");
          value = argv[++i];
        }
        values_[a] = value;
      } else {
        throw UsageError("unknown option " + a);
      }
    } else {
      positional_.push_back(a);
    }
  }
}

std::optional<std::string> Args::get(const std::string& option) const {
  auto it = values_.find(option);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::require(const std::string& option) const {
  auto v = get(option);
  if (!v) throw UsageError("missing " + option);
  return *v;
}

std::string Args::spec() const {
  if (positional_.empty()) throw UsageError("no spec given");
  if (positional_.size() > 1) throw UsageError("unexpected argument '" + positional_[1] + "'");
  return positional_[0];
}

std::uint64_t parse_integer(const std::string& option, const std::string& text, bool zero_ok) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || (v == 0 && !zero_ok) || text.empty() || text[0] == '-')
    throw UsageError(option + ": '" + text + "' is not " + (zero_ok ? "an integer >= 0" : "a positive integer"));
  return v;
}

}  // namespace castnet::cli
