// The only gate through which a name from a spec may become a C++ identifier in emitted code.
#pragma once

#include <string>
#include <string_view>

namespace castnet::ir {

inline constexpr std::size_t kMaxIdentifierLength = 64;
// Layer names get suffixes in generated code ("<name>_weight"): they stay shorter.
inline constexpr std::size_t kMaxLayerNameLength = 48;

// Empty if `s` is a valid castnet identifier, else the rule it breaks. The rule:
// [a-z_][a-z0-9_]*, at most `max_length` characters, no "__", no leading or trailing '_'
// (reserved in C++, or reserved once a suffix is appended), not a C++ keyword or alternative
// token, not a name castnet's generated code uses at namespace scope. In generated code a spec
// name only ever appears with a suffix (members "<name>_weight", stack arrays "<name>_out"), so
// it cannot collide with the code's own parameters and locals (p, x, y, g, ws, dx, dy, b, xb, zb).
std::string identifier_problem(std::string_view s, std::size_t max_length = kMaxIdentifierLength);
inline bool is_identifier(std::string_view s) { return identifier_problem(s).empty(); }

// Empty if `s` may name a model, else the rule it breaks. The model's name is a namespace at
// global scope, where the C library, POSIX and the compiler have names of their own: on top of
// identifier_problem's rule, it must not be one the C and POSIX headers declare there or define as
// a macro (log, select, errno, stdin, ...: library_names.inc) nor a macro g++ -std=gnu++ predefines
// (linux, unix, i386), nor `detail`, the namespace inside a model's. Layer names need no such rule:
// they only ever appear with a suffix.
std::string model_name_problem(std::string_view s);
inline bool is_model_name(std::string_view s) { return model_name_problem(s).empty(); }

}  // namespace castnet::ir
