// See limits.hpp.
#include "ir/limits.hpp"

#include <cstdlib>
#include <stdexcept>

namespace castnet::ir {
namespace {

constexpr LimitInfo kTable[] = {
    {"units", &Limits::units, 1ull << 24, "units of a layer, filters of a conv layer, each input size"},
    {"batch", &Limits::batch, 1ull << 24, "the compile-time batch"},
    {"layers", &Limits::layers, 1ull << 16, "[[layer]] tables; names in one layer's inputs"},
    {"inputs", &Limits::inputs, 1ull << 20, "names in all layers' inputs together"},
    {"spec_bytes", &Limits::spec_bytes, 1ull << 30, "bytes of the spec file"},
    {"features", &Limits::features, 1ull << 32, "values of one sample at the input and at a layer's output"},
    {"window", &Limits::window, 1ull << 12, "conv kernel and pooling window sides, strides, padding"},
    {"patch", &Limits::patch, 1ull << 28, "a conv layer's input channels x kernel height x kernel width"},
    {"params", &Limits::params, 1ull << 40, "trainable values"},
    {"workspace", &Limits::workspace, 1ull << 40, "values of one batch's Workspace and its inputs"},
    {"stack", &Limits::stack, 1ull << 32, "values of forward()'s stack arena for one sample"},
    {"code_bytes", &Limits::code_bytes, 1ull << 34, "bytes of the generated training header"},
};

std::string keys() {
  std::string s;
  for (const auto& l : kTable) s += (s.empty() ? "" : ", ") + std::string(l.key);
  return s;
}

bool all_digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

// digits, 2^K or MeK; false when not one of these or past 2^63.
bool parse_value(std::string_view s, std::uint64_t& v) {
  const auto number = [](std::string_view d, std::uint64_t& out) {
    if (!all_digits(d) || d.size() > 19) return false;
    out = std::strtoull(std::string(d).c_str(), nullptr, 10);
    return true;
  };
  if (s.substr(0, 2) == "2^") {
    std::uint64_t k = 0;
    if (!number(s.substr(2), k) || k > 62) return false;
    v = 1ull << k;
    return true;
  }
  if (const auto e = s.find_first_of("eE"); e != std::string_view::npos) {
    std::uint64_t m = 0, k = 0;
    if (!number(s.substr(0, e), m) || !number(s.substr(e + 1), k) || k > 18) return false;
    v = m;
    for (std::uint64_t i = 0; i < k; ++i) v = sat_mul(v, 10);
    return v < (1ull << 63);
  }
  return number(s, v);
}

}  // namespace

std::span<const LimitInfo> limit_table() { return kTable; }

Limits parse_limits(std::string_view text, Limits base) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    pos = comma + 1;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      throw std::invalid_argument("limit '" + std::string(item) + "': write key=N (keys: " + keys() + ")");
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    const LimitInfo* info = nullptr;
    for (const auto& l : kTable)
      if (l.key == key) info = &l;
    if (!info) throw std::invalid_argument("unknown limit '" + std::string(key) + "' (keys: " + keys() + ")");
    std::uint64_t v = 0;
    if (!parse_value(value, v) || v == 0 || v > info->ceiling)
      throw std::invalid_argument("limit " + std::string(key) + "='" + std::string(value) +
                                  "': must be an integer from 1 to " + std::to_string(info->ceiling) +
                                  " (digits, 2^K or MeK)");
    base.*(info->value) = v;
  }
  return base;
}

Limits limits_from_environment() {
  const char* env = std::getenv("CASTNET_LIMITS");
  if (!env || !*env) return {};
  try {
    return parse_limits(env, {});
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("CASTNET_LIMITS: ") + e.what());
  }
}

}  // namespace castnet::ir
