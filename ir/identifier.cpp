// Identifier validation. Spec names become namespaces, CMake targets and struct members, so the
// rule is strict and checked before anything is emitted.
#include "ir/identifier.hpp"

#include <algorithm>
#include <iterator>

namespace castnet::ir {
namespace {

// C++20 keywords and alternative tokens, plus names that would collide with what every
// generated header declares or includes.
constexpr std::string_view kReserved[] = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
    "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
    "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
    "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
    "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
    "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
    "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq", "final", "override",
    "import", "module",
    // names of castnet's own: namespaces the generated code refers to, and its API.
    "castnet", "std", "xsimd", "main", "real"};

// Sorted, for binary_search (tools/library_names.sh writes it).
constexpr std::string_view kLibraryNames[] = {
#include "ir/library_names.inc"
};
static_assert(std::is_sorted(std::begin(kLibraryNames), std::end(kLibraryNames)));

// GNU dialects (-std=gnu++20, the default without -std) predefine these as 1, on Linux and 32-bit
// x86; `namespace linux {` is then `namespace 1 {`.
constexpr std::string_view kCompilerMacros[] = {"i386", "linux", "unix"};

}  // namespace

std::string identifier_problem(std::string_view s, std::size_t max_length) {
  if (s.empty()) return "a name must not be empty";
  if (s.size() > max_length) return "a name must be at most " + std::to_string(max_length) + " characters";
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return "a name may only hold a-z, 0-9 and '_' ([a-z_][a-z0-9_]*)";
  }
  if (s[0] >= '0' && s[0] <= '9') return "a name must not start with a digit ([a-z_][a-z0-9_]*)";
  if (s[0] == '_' || s.back() == '_' || s.find("__") != std::string_view::npos)
    return "a name must not start or end with '_' or contain \"__\" (reserved in C++)";
  if (std::find(std::begin(kReserved), std::end(kReserved), s) != std::end(kReserved))
    return "'" + std::string(s) + "' is a C++ keyword or a name castnet reserves";
  return {};
}

std::string model_name_problem(std::string_view s) {
  if (std::string problem = identifier_problem(s); !problem.empty()) return problem;
  if (s == "detail") return "'detail' is the namespace inside every model's, which a model of that name would hide";
  if (std::binary_search(std::begin(kLibraryNames), std::end(kLibraryNames), s))
    return "'" + std::string(s) + "' is declared at global scope by the C or POSIX library (a function, variable, type or macro), where the model's namespace would go";
  if (std::find(std::begin(kCompilerMacros), std::end(kCompilerMacros), s) != std::end(kCompilerMacros))
    return "'" + std::string(s) + "' is a macro g++ -std=gnu++20 predefines as 1 (linux and unix on Linux, i386 on 32-bit x86), so it cannot name the model's namespace";
  return {};
}

}  // namespace castnet::ir
