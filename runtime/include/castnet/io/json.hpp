// JSON text for --json output: strings escaped per RFC 8259, numbers in shortest round-trip form,
// non-finite numbers as null (JSON has no NaN or infinity).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace castnet::json {

inline std::string str(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += esc;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

inline std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

inline std::string num(const std::optional<double>& v) { return v ? num(*v) : "null"; }

// An object built member by member: Object().add("a", num(1)).add("b", str("x")).text().
class Object {
 public:
  Object& add(std::string_view key, const std::string& json_value) {
    text_ += (text_.size() > 1 ? "," : "") + str(key) + ":" + json_value;
    return *this;
  }
  std::string text() const { return text_ + "}"; }

 private:
  std::string text_ = "{";
};

// An array of JSON values.
inline std::string array(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  return out + "]";
}

}  // namespace castnet::json
