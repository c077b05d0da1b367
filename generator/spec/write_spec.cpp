// See write_spec.hpp. The layer keys come from each kind's OpDef::write (generator/ops/), which
// writes exactly the keys its OpDef::read takes.
#include "spec/write_spec.hpp"

#include <charconv>
#include <stdexcept>

#include "ir/diagnostic.hpp"
#include "ir/identifier.hpp"
#include "ops/op_def.hpp"
#include "spec/attributes.hpp"

namespace castnet::spec {
namespace {

// The shortest text that reads back as the same double, always as a TOML float ("1.0", not "1").
std::string real_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

const std::string& checked(const std::string& name, std::size_t max_length) {
  if (const std::string problem = ir::identifier_problem(name, max_length); !problem.empty())
    throw std::logic_error("write_spec: '" + castnet::printable(name, 80) + "': " + problem);
  return name;
}

// `key = value` lines; keys are the kinds' own string literals.
class TomlKeys final : public KeyWriter {
 public:
  explicit TomlKeys(std::string& out) : out_(out) {}
  void integer(std::string_view key, std::uint64_t value) override { line(key, std::to_string(value)); }
  void real(std::string_view key, double value) override { line(key, real_text(value)); }
  void word(std::string_view key, std::string_view value) override {
    for (char c : value)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
        throw std::logic_error("write_spec: the value of '" + std::string(key) + "' is not a word");
    line(key, "\"" + std::string(value) + "\"");
  }
  void pair(std::string_view key, const std::array<std::size_t, 2>& value) override {
    line(key, "[" + std::to_string(value[0]) + ", " + std::to_string(value[1]) + "]");
  }
  void interval(std::string_view key, const std::array<double, 2>& value) override {
    line(key, "[" + real_text(value[0]) + ", " + real_text(value[1]) + "]");
  }

 private:
  void line(std::string_view key, const std::string& value) { out_ += std::string(key) + " = " + value + "\n"; }
  std::string& out_;
};

void layer_toml(const ir::Layer& l, std::string& out) {
  const ops::OpDef& op = ops::op_def(l.kind);
  out += "\n[[layer]]\nname = \"" + checked(l.name, ir::kMaxLayerNameLength) + "\"\n";
  TomlKeys keys(out);
  keys.word("type", op.spec_type(l));
  if (!l.input_names.empty()) {
    out += "inputs = [";
    for (std::size_t i = 0; i < l.input_names.size(); ++i)
      out += (i ? ", \"" : "\"") + checked(l.input_names[i], ir::kMaxLayerNameLength) + "\"";
    out += "]\n";
  }
  op.write(l, keys);
}

}  // namespace

std::string write_spec(const Spec& s, const std::vector<std::string>& comments) {
  const ir::Graph& g = s.graph;
  std::string out;
  for (const auto& c : comments) out += "# " + castnet::printable(c) + "\n";
  if (!comments.empty()) out += "\n";
  out += "name  = \"" + checked(g.name, ir::kMaxIdentifierLength) + "\"\ninput = [";
  for (std::size_t i = 0; i < g.input_shape.size(); ++i) out += (i ? ", " : "") + std::to_string(g.input_shape[i]);
  out += "]\nbatch = " + std::to_string(g.batch) + "\n";
  for (const auto& l : g.layers) layer_toml(l, out);
  out += "\n[loss]\ntype = \"" + std::string(ir::to_string(g.loss.kind)) + "\"\n";
  const auto& o = s.training.optimizer;
  out += "\n[optimizer]\ntype = \"" + std::string(castnet::name_of(o.kind)) + "\"\nlr = " + real_text(o.lr) + "\n";
  return out;
}

}  // namespace castnet::spec
