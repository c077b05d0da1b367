// The only gate through which a name from a spec may become a C++ identifier in emitted code.
#pragma once

#include <string>
#include <string_view>

namespace castnet::ir {

inline constexpr std::size_t kMaxIdentifierLength = 64;

// Empty if `s` is a valid castnet identifier, else the rule it breaks. The rule:
// [a-z_][a-z0-9_]*, at most 64 characters, no "__" and no leading '_' (reserved in C++),
// not a C++ keyword or alternative token, not a name castnet's generated code uses itself.
std::string identifier_problem(std::string_view s);
inline bool is_identifier(std::string_view s) { return identifier_problem(s).empty(); }

}  // namespace castnet::ir
