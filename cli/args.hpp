// Command-line parsing shared by the verbs: positional arguments and --options with values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/limits.hpp"

namespace castnet::cli {

// A usage error: the CLI prints it with the verb's usage line and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The integer (> 0, or >= 0 when zero_ok) an option's text gives, or a usage error naming the option.
std::uint64_t parse_integer(const std::string& option, const std::string& text, bool zero_ok = false);

class Args {
 public:
  // `with_value`: options that take a value; `flags`: options that do not.
  Args(int argc, char** argv, int first, const std::vector<std::string>& with_value,
       const std::vector<std::string>& flags = {});
  const std::vector<std::string>& positional() const { return positional_; }
  std::optional<std::string> get(const std::string& option) const;
  std::string require(const std::string& option) const;
  bool flag(const std::string& option) const { return flags_.count(option) != 0; }
  // The one positional argument (the spec): UsageError if there is none or more than one.
  std::string spec() const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> flags_;
};

// The generator's limits: the defaults, then CASTNET_LIMITS from the environment, then the
// verb's --limit KEY=N,... when it takes one; a bad setting is a usage error.
ir::Limits limits_option(const Args& args);

}  // namespace castnet::cli
