// See spec_writer.hpp. Each kind writes exactly the keys its OpDef::read takes (generator/ops/), so
// the switch below has no default: a new kind fails to compile until it is written here too.
#include "spec_writer.hpp"

#include <charconv>
#include <stdexcept>

#include "ir/identifier.hpp"
#include "ir/diagnostic.hpp"

namespace castnet::cli {
namespace {

// The shortest text that reads back as the same double, always as a TOML float ("1.0", not "1").
std::string real(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string pair(const std::array<std::size_t, 2>& p) {
  return "[" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + "]";
}

const std::string& checked(const std::string& name, std::size_t max_length) {
  if (const std::string problem = ir::identifier_problem(name, max_length); !problem.empty())
    throw std::logic_error("spec_toml: '" + castnet::printable(name, 80) + "': " + problem);
  return name;
}

// alpha (leaky_relu, elu) or beta (softplus), the key read_activation_params reads; nothing for
// the others.
void activation_keys(const ir::ActivationSpec& a, std::string& out) {
  if (a.kind == ir::Activation::leaky_relu || a.kind == ir::Activation::elu) out += "alpha = " + real(a.alpha) + "\n";
  if (a.kind == ir::Activation::softplus) out += "beta = " + real(a.alpha) + "\n";
}

void fused_activation(const ir::ActivationSpec& a, std::string& out) {
  if (a.kind == ir::Activation::identity) return;
  out += "activation = \"" + std::string(ir::to_string(a.kind)) + "\"\n";
  activation_keys(a, out);
}

void layer_toml(const ir::Layer& l, std::string& out) {
  out += "\n[[layer]]\nname = \"" + checked(l.name, ir::kMaxLayerNameLength) + "\"\n";
  out += "type = \"" + std::string(l.kind == ir::OpKind::activation ? ir::to_string(l.activation.kind) : ir::to_string(l.kind)) + "\"\n";
  if (!l.input_names.empty()) {
    out += "inputs = [";
    for (std::size_t i = 0; i < l.input_names.size(); ++i)
      out += (i ? ", \"" : "\"") + checked(l.input_names[i], ir::kMaxLayerNameLength) + "\"";
    out += "]\n";
  }
  switch (l.kind) {
    case ir::OpKind::dense:
      out += "units = " + std::to_string(l.units) + "\n";
      fused_activation(l.activation, out);
      break;
    case ir::OpKind::conv2d:
      out += "filters = " + std::to_string(l.filters) + "\nkernel = " + pair(l.kernel) + "\nstride = " + pair(l.stride) +
             "\npadding = " + pair(l.padding) + "\n";
      fused_activation(l.activation, out);
      break;
    case ir::OpKind::maxpool2d:
    case ir::OpKind::avgpool2d: out += "size = " + pair(l.kernel) + "\nstride = " + pair(l.stride) + "\n"; break;
    case ir::OpKind::activation: activation_keys(l.activation, out); break;
    case ir::OpKind::dropout: out += "rate = " + real(l.rate) + "\n"; break;
    case ir::OpKind::glu: out += "units = " + std::to_string(l.units) + "\n"; break;
    case ir::OpKind::flatten:
    case ir::OpKind::add:
    case ir::OpKind::concat:
    case ir::OpKind::prelu: break;
  }
}

}  // namespace

std::string spec_toml(const spec::Spec& s, const std::vector<std::string>& comments) {
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
  out += "\n[optimizer]\ntype = \"" + std::string(castnet::name_of(o.kind)) + "\"\nlr = " + real(o.lr) + "\n";
  return out;
}

}  // namespace castnet::cli
