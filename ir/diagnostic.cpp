// Formatting of spec diagnostics (the format is part of the CLI contract: tests/errors checks it).
#include "ir/diagnostic.hpp"

#include <cstdio>

namespace castnet {

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() > max) return out + "...";
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string format(const Diagnostic& d) {
  // Line 0: the error is about the file as a whole (unreadable, not a file).
  // The file name too is shown escaped: a name holding a newline cannot forge a second message.
  const std::string file = printable(d.file);
  std::string s = d.line == 0 ? file + ": error: "
                              : file + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": error: ";
  // Unnamed layers are referred to by position ("#2"), named ones by their name.
  if (!d.layer.empty()) s += d.layer[0] == '#' ? "layer " + d.layer + ": " : "layer '" + d.layer + "': ";
  // Messages quote spec text (a misspelt activation, a padding string): escaped, a hostile spec
  // cannot move the cursor or forge lines on a terminal.
  return s + printable(d.message);
}

void fail(const std::string& file, ir::SourcePos pos, const std::string& layer, const std::string& message) {
  throw SpecError(Diagnostic{file, pos.line, pos.column, layer, message});
}

}  // namespace castnet
