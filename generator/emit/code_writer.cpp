// The template writer (see code_writer.hpp).
#include "emit/code_writer.hpp"

#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

#include "emit/templates.hpp"
#include "ir/identifier.hpp"

namespace castnet::gen {

std::string format_real(double v) {
  if (!std::isfinite(v)) throw std::logic_error("format_real: non-finite value reached the emitter");
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string join_lines(const std::vector<std::string>& lines, std::string_view separator) {
  std::string s;
  for (const auto& line : lines) {
    if (!s.empty()) s += separator;
    s += line;
  }
  return s;
}

const std::string& checked_identifier(const std::string& name) {
  if (!ir::is_identifier(name)) throw std::logic_error("emitter: '" + name + "' is not a valid identifier");
  return name;
}

Holes& Holes::id(const std::string& key, const std::string& identifier) {
  if (!ir::is_identifier(identifier))
    throw std::logic_error("emitter: '" + identifier + "' reached hole {{" + key + "}} without being a valid identifier");
  values_[key] = identifier;
  return *this;
}

Holes& Holes::num(const std::string& key, std::uint64_t value) {
  values_[key] = std::to_string(value);
  return *this;
}

Holes& Holes::real(const std::string& key, double value) {
  values_[key] = format_real(value);
  return *this;
}

std::string comment_text(std::string_view text) {
  std::string s;
  for (char c : text) s += (c >= 0x20 && c < 0x7f && c != '\\') ? c : '?';
  return s;
}

Holes& Holes::comment(const std::string& key, std::string_view text) {
  values_[key] = comment_text(text);
  return *this;
}

Holes& Holes::code(const std::string& key, std::string rendered) {
  values_[key] = std::move(rendered);
  return *this;
}

std::string render(std::string_view name, const Holes& holes) {
  // Snippets are spliced into other templates: their final newline belongs to the hole's line.
  std::string s = render_text(template_text(name), holes, name);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string render_text(std::string_view text, const Holes& holes, std::string_view name) {
  std::string out;
  std::set<std::string> used;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, open - pos));
    const std::size_t close = text.find("}}", open);
    if (close == std::string_view::npos) throw std::logic_error(std::string(name) + ": unterminated {{ hole");
    const std::string key(text.substr(open + 2, close - open - 2));
    const auto it = holes.values().find(key);
    if (it == holes.values().end()) throw std::logic_error(std::string(name) + ": hole {{" + key + "}} is not set");
    used.insert(key);

    // Indentation of the current output line, for the value's continuation lines.
    const std::size_t line_start = out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1;
    std::string indent;
    for (std::size_t i = line_start; i < out.size() && (out[i] == ' ' || out[i] == '\t'); ++i) indent += out[i];
    const bool alone = out.size() - line_start == indent.size() &&
                       (close + 2 >= text.size() || text[close + 2] == '\n');
    const std::string& value = it->second;
    if (value.empty() && alone) {
      out.resize(line_start);  // drop the indentation, and below the line's newline
      pos = close + 2 < text.size() ? close + 3 : close + 2;
      continue;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      out += value[i];
      if (value[i] == '\n' && i + 1 < value.size() && value[i + 1] != '\n') out += indent;
    }
    pos = close + 2;
  }
  for (const auto& [key, value] : holes.values())
    if (!used.count(key)) throw std::logic_error(std::string(name) + ": hole {{" + key + "}} is set but not used");

  // No trailing spaces: goldens and diffs stay clean.
  std::string clean;
  clean.reserve(out.size());
  for (char c : out) {
    if (c == '\n')
      while (!clean.empty() && (clean.back() == ' ' || clean.back() == '\t')) clean.pop_back();
    clean += c;
  }
  return clean;
}

}  // namespace castnet::gen
