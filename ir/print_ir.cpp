// See print_ir.hpp.
#include "ir/print_ir.hpp"

#include <sstream>

namespace castnet::ir {
namespace {

const char* init_name(Init i) {
  switch (i) {
    case Init::zeros: return "zeros";
    case Init::he_normal: return "he_normal";
    case Init::glorot_uniform: return "glorot_uniform";
    case Init::prelu_slope: return "prelu_slope";
    case Init::ones: return "ones";
    case Init::silu_rbf: return "silu_rbf";
    case Init::silu_bspline: return "silu_bspline";
    case Init::uniform_fan_in: return "uniform_fan_in";
    case Init::kan_spline: return "kan_spline";
  }
  return "?";
}

}  // namespace

std::string print_ir(const Graph& g) {
  std::ostringstream o;
  o << "graph " << g.name << " input " << shape_text(g.input_shape) << " batch " << g.batch << "\n";
  for (const Layer& l : g.layers) {
    o << "  layer " << l.name << " (line " << l.pos.line << "): " << to_string(l.kind) << " ";
    for (std::size_t k = 0; k < l.in_shapes.size(); ++k) o << (k ? " + " : "") << shape_text(l.in_shapes[k]);
    o << " -> " << shape_text(l.out_shape);
    if (!l.input_names.empty()) {
      o << " from";
      for (const auto& n : l.input_names) o << " " << n;
    }
    if (l.activation.kind != Activation::identity) {
      o << ", " << to_string(l.activation.kind);
      if (default_alpha(l.activation.kind) != 0.0) o << " (" << l.activation.alpha << ")";
    }
    for (const auto& [key, value] : l.settings) o << ", " << key << " " << value;
    o << ", flops " << l.flops << (l.unrolled ? ", straight-line" : "") << "\n";
    for (const ParamTensor& p : l.params)
      o << "    param " << p.torch_name << " " << shape_text(p.shape) << " init " << init_name(p.init) << " fan "
        << p.fan_in << "/" << p.fan_out << "\n";
  }
  o << "  loss " << to_string(g.loss.kind) << " targets/sample " << g.targets_per_sample() << "\n";
  return o.str();
}

}  // namespace castnet::ir
