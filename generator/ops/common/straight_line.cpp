// See straight_line.hpp.
#include "ops/common/straight_line.hpp"

#include "emit/code_writer.hpp"

namespace castnet::ops {
namespace {

std::string idx(std::size_t i) { return "[" + std::to_string(i) + "]"; }

// zb[o] = bias[..] + w[..] * xb[..] + ...
std::string forward_lines(const ir::Layer& l, const std::vector<LinearOutput>& outputs) {
  const std::string w = "p." + l.name + "_weight", b = "p." + l.name + "_bias";
  std::vector<std::string> lines;
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    std::string s = "zb" + idx(o) + " = " + b + idx(outputs[o].bias);
    for (const Tap& t : outputs[o].taps) s += " + " + w + idx(t.weight) + " * xb" + idx(t.input);
    lines.push_back(s + ";");
  }
  return gen::join_lines(lines);
}

// g.w[..] += db[o] * xb[..]; g.b[..] += db[o]
std::string param_grad_lines(const ir::Layer& l, const std::vector<LinearOutput>& outputs) {
  const std::string w = "g." + l.name + "_weight", b = "g." + l.name + "_bias";
  std::vector<std::string> lines;
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    for (const Tap& t : outputs[o].taps) lines.push_back(w + idx(t.weight) + " += db" + idx(o) + " * xb" + idx(t.input) + ";");
    lines.push_back(b + idx(outputs[o].bias) + " += db" + idx(o) + ";");
  }
  return gen::join_lines(lines);
}

// dxb[i] = db[o] * w[..] + ... over the taps that read input i (0 when none do)
std::string input_grad_lines(const ir::Layer& l, const std::vector<LinearOutput>& outputs) {
  const std::string w = "p." + l.name + "_weight";
  std::vector<std::string> terms(l.in_features);
  for (std::size_t o = 0; o < outputs.size(); ++o)
    for (const Tap& t : outputs[o].taps)
      terms[t.input] += (terms[t.input].empty() ? " db" : " + db") + idx(o) + " * " + w + idx(t.weight);
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < l.in_features; ++i) lines.push_back("dxb" + idx(i) + " =" + (terms[i].empty() ? " 0" : terms[i]) + ";");
  return gen::join_lines(lines);
}

// "8 * 6": a tensor's size as the product of its shape.
std::string size_text(const ir::ParamTensor& p) {
  std::string s;
  for (auto d : p.shape) s += (s.empty() ? "" : " * ") + std::to_string(d);
  return s;
}

}  // namespace

std::string straight_line_forward(const ir::Layer& l, const std::vector<LinearOutput>& outputs, std::size_t rows,
                                  const std::string& x, const std::string& z, const std::string& activation) {
  gen::Holes h;
  h.num("rows", rows).num("in", l.in_features).num("out", l.out_features).code("x", x).code("z", z);
  h.code("activation", activation).code("lines", forward_lines(l, outputs));
  return gen::render("ops/common/straight_line_forward.tmpl", h);
}

BackwardCode straight_line_backward(const ir::Layer& l, const std::vector<LinearOutput>& outputs, const std::string& x,
                                    const std::string& dz, const std::string& activation, const std::string& dx) {
  gen::Holes h;
  h.num("in", l.in_features).num("out", l.out_features).id("layer", l.name).code("x", x).code("dz", dz);
  h.code("activation", activation).code("param_lines", param_grad_lines(l, outputs));
  h.code("weights", size_text(l.params[0])).code("biases", size_text(l.params[1]));
  gen::Holes in;
  in.num("in", l.in_features).num("out", l.out_features).code("dz", dz).code("dx", dx);
  in.code("lines", input_grad_lines(l, outputs));
  return {gen::render("ops/common/straight_line_backward.tmpl", h), {gen::render("ops/common/straight_line_backward_input.tmpl", in)}};
}

}  // namespace castnet::ops
