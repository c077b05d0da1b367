// Spec diagnostics: every error names the spec file, line:column, the layer (when there is one)
// and the rule broken, formatted as "file:line:col: error: layer 'fc1': <rule>".
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "ir/graph.hpp"

namespace castnet {

struct Diagnostic {
  std::string file;
  std::uint32_t line = 0, column = 0;
  std::string layer;  // empty when the error is not about one layer
  std::string message;
};

std::string format(const Diagnostic& d);

// Thrown by the parser and the passes; command-line tools print what() and exit 1.
class SpecError : public std::exception {
 public:
  explicit SpecError(Diagnostic d) : diag_(std::move(d)), text_(format(diag_)) {}
  const Diagnostic& diagnostic() const noexcept { return diag_; }
  const char* what() const noexcept override { return text_.c_str(); }

 private:
  Diagnostic diag_;
  std::string text_;
};

// Spec text fit for a message: control and non-ASCII bytes as \xNN, cut with "..." once longer
// than `max` characters.
std::string printable(std::string_view text, std::size_t max = std::string_view::npos);

[[noreturn]] void fail(const std::string& file, ir::SourcePos pos, const std::string& layer, const std::string& message);

}  // namespace castnet
