// dense: y = x W^T + b, W of shape (units, in) as PyTorch stores it, with an optional fused
// activation a = f(y).
//   forward   z[b,o] = bias[o] + sum_i x[b,i] W[o,i];  a = f(z)
//   backward  dz = da * f'(z);  dW[o,i] = sum_b dz[b,o] x[b,i];  db[o] = sum_b dz[b,o];
//             dx[b,i] = sum_o dz[b,o] W[o,i]
// Small layers are straight-line code (one line per output, every index a constant); larger ones
// call castnet::kernels' register-blocked kernels, whose sizes are template arguments.
#include <vector>

#include "emit/code_writer.hpp"
#include "ir/limits.hpp"
#include "ops/op_def.hpp"
#include "ops/shared.hpp"

namespace castnet::ops {
namespace {

// Straight-line when at most 8 products make a line (readable) and 64 weights make the layer
// (code size); kernels beyond.
constexpr std::size_t kUnrollMaxInputs = 8;
constexpr std::size_t kUnrollMaxWeights = 64;

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& line : lines) s += (s.empty() ? "" : "\n") + line;
  return s;
}

std::string idx(std::size_t i) { return "[" + std::to_string(i) + "]"; }

// zb[o] = bias[o] + w[o][0] * xb[0] + ...
std::string forward_lines(const ir::Layer& l) {
  const std::string w = "p." + l.name + "_weight", b = "p." + l.name + "_bias";
  std::vector<std::string> lines;
  for (std::size_t o = 0; o < l.out_features; ++o) {
    std::string s = "zb" + idx(o) + " = " + b + idx(o);
    for (std::size_t i = 0; i < l.in_features; ++i) s += " + " + w + idx(o * l.in_features + i) + " * xb" + idx(i);
    lines.push_back(s + ";");
  }
  return joined(lines);
}

// g.w[o][i] += db[o] * xb[i]; g.b[o] += db[o]
std::string param_grad_lines(const ir::Layer& l) {
  const std::string w = "g." + l.name + "_weight", b = "g." + l.name + "_bias";
  std::vector<std::string> lines;
  for (std::size_t o = 0; o < l.out_features; ++o) {
    for (std::size_t i = 0; i < l.in_features; ++i)
      lines.push_back(w + idx(o * l.in_features + i) + " += db" + idx(o) + " * xb" + idx(i) + ";");
    lines.push_back(b + idx(o) + " += db" + idx(o) + ";");
  }
  return joined(lines);
}

// dxb[i] = db[0] * w[0][i] + db[1] * w[1][i] + ...
std::string input_grad_lines(const ir::Layer& l) {
  const std::string w = "p." + l.name + "_weight";
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < l.in_features; ++i) {
    std::string s = "dxb" + idx(i) + " =";
    for (std::size_t o = 0; o < l.out_features; ++o)
      s += (o ? " + db" : " db") + idx(o) + " * " + w + idx(o * l.in_features + i);
    lines.push_back(s + ";");
  }
  return joined(lines);
}

class Dense final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"units", "activation", "alpha", "beta"}, "a dense layer");
    l.units = a.integer("units", 1, static_cast<std::int64_t>(ir::kMaxUnits));
    l.activation = read_fused_activation(a);
  }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    require_flat(l, fail, "dense");
    return {l.units};
  }

  void count(ir::Layer& l, ir::Activation after) const override {
    const ir::Init init = weight_init(after);
    l.params = {{l.name + ".weight", l.name + "_weight", {l.out_features, l.in_features},
                 l.out_features * l.in_features, init, l.in_features, l.out_features},
                {l.name + ".bias", l.name + "_bias", {l.out_features}, l.out_features, ir::Init::zeros,
                 l.in_features, l.out_features}};
    // a multiply-add counts 2, the bias add 1 per output; activations are not counted.
    l.flops = 2ull * l.in_features * l.out_features + l.out_features;
  }

  bool unrolled(const ir::Layer& l) const override {
    return l.in_features <= kUnrollMaxInputs && l.in_features * l.out_features <= kUnrollMaxWeights;
  }

  bool keeps_pre(const ir::Layer& l) const override { return has_activation(l); }
  bool needs_dz(const ir::Layer& l) const override { return has_activation(l); }
  BackwardReads backward_reads(const ir::Layer& l) const override {
    return {true, has_activation(l), has_activation(l)};
  }

  std::string type_label(const ir::Layer& l) const override {
    return has_activation(l) ? std::string("dense+") + ir::to_string(l.activation.kind) : "dense";
  }

  std::string describe(const ir::Layer& l) const override {
    std::string d = "dense " + std::to_string(l.in_features) + " -> " + std::to_string(l.out_features);
    if (has_activation(l)) d += std::string(", ") + ir::to_string(l.activation.kind);
    return l.unrolled ? d + ", straight-line" : d;
  }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h;
    h.num("rows", s.rows).num("in", l.in_features).num("out", l.out_features).code("x", s.x()).code("z", s.pre);
    h.code("activation", has_activation(l) ? activation_forward_code(l, s.rows, s.pre, s.out) : "");
    if (l.unrolled) {
      h.code("lines", forward_lines(l));
      return gen::render("layers/dense_forward_unrolled.tmpl", h);
    }
    h.id("layer", l.name);
    return gen::render("layers/dense_forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.num("in", l.in_features).num("out", l.out_features).id("layer", l.name).code("x", s.x());
    const std::string dz = has_activation(l) ? s.dz : s.dout;
    h.code("activation", has_activation(l) ? activation_backward_code(l, s.pre, s.out, s.dout, dz) : "");
    h.code("dz", dz);
    gen::Holes in;
    in.num("in", l.in_features).num("out", l.out_features).code("dz", dz).code("dx", s.dxs[0]);
    std::string input_grad;
    if (l.unrolled) {
      in.code("lines", input_grad_lines(l));
      input_grad = gen::render("layers/dense_backward_input_unrolled.tmpl", in);
      h.code("param_lines", param_grad_lines(l));
    } else {
      in.id("layer", l.name);
      input_grad = gen::render("layers/dense_backward_input.tmpl", in);
    }
    return {gen::render(l.unrolled ? "layers/dense_backward_unrolled.tmpl" : "layers/dense_backward.tmpl", h), {input_grad}};
  }
};

}  // namespace

const OpDef& dense_op() {
  static const Dense op;
  return op;
}

}  // namespace castnet::ops
