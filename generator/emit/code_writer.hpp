// Emission through templates with named holes: "{{name}}" in a template is replaced by a value
// set on Holes. Holes are typed: identifiers are re-validated, numbers and reals are formatted
// here (shortest round trip), comment text is sanitised, and code is only ever the output of
// another render. A multi-line value is re-indented at its hole's indentation, and a line holding
// only an empty hole disappears. Rendering fails if a template uses a hole that is not set or a
// set hole is not used, so templates and emitter cannot drift apart silently.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace castnet::gen {

class Holes {
 public:
  Holes& id(const std::string& key, const std::string& identifier);  // throws if not an identifier
  Holes& num(const std::string& key, std::uint64_t value);
  Holes& real(const std::string& key, double value);  // "0.01", "1.0": always a valid C++ double literal
  Holes& comment(const std::string& key, std::string_view text);  // through comment_text()
  Holes& code(const std::string& key, std::string rendered);        // output of render()/emitter
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

// Renders the embedded template `name` (its path under templates/), without its final newline.
std::string render(std::string_view name, const Holes& holes);
// Renders template text directly (tests); `name` is used in error messages.
std::string render_text(std::string_view text, const Holes& holes, std::string_view name);

// Text that is safe inside a // comment: printable ASCII only (no newline to end the comment,
// no backslash to splice the next line into it); anything else becomes '?'.
std::string comment_text(std::string_view text);

// Shortest decimal text that reads back as exactly `v`, always with a '.' or an exponent.
std::string format_real(double v);

// The lines with `separator` between them (none before the first non-empty text).
std::string join_lines(const std::vector<std::string>& lines, std::string_view separator = "\n");

// `name` itself, once checked to be an identifier: an emitter that builds a C++ name from anything
// else has a bug (std::logic_error).
const std::string& checked_identifier(const std::string& name);

}  // namespace castnet::gen
