// Planned graph -> the model header. This file decides which buffers each layer reads and writes
// and fills the templates in templates/; the text of the emitted code lives there. Straight-line
// layers are the one place where code is assembled here: their lines are sums of products whose
// every token is a number or a validated member name.
#include "emit/emit_model.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "emit/code_writer.hpp"
#include "ir/identifier.hpp"

namespace castnet::gen {
namespace {

using ir::Activation;
using ir::Graph;
using ir::Layer;
using ir::OpKind;

const char* loss_function(ir::LossKind k) { return ir::to_string(k); }

const char* init_name(ir::Init i) {
  switch (i) {
    case ir::Init::zeros: return "zeros";
    case ir::Init::he_normal: return "he_normal";
    case ir::Init::glorot_uniform: return "glorot_uniform";
  }
  return "zeros";
}

bool has_activation(const Layer& l) { return l.activation.kind != Activation::identity; }

// "fc1: dense 784 -> 512, relu (mnist.toml:9)"
std::string title(const Graph& g, const Layer& l, const std::string& spec_label) {
  std::string t = l.name + ": ";
  switch (l.kind) {
    case OpKind::dense:
      t += "dense " + std::to_string(l.in_features) + " -> " + std::to_string(l.out_features);
      if (has_activation(l)) t += std::string(", ") + ir::to_string(l.activation.kind);
      break;
    case OpKind::activation: t += std::string(ir::to_string(l.activation.kind)) + " " + std::to_string(l.out_features); break;
  }
  (void)g;
  return t + "  (" + spec_label + ":" + std::to_string(l.pos.line) + ")";
}

std::string activation_forward(const Layer& l, std::size_t rows, const std::string& z, const std::string& a) {
  Holes h;
  h.code("act", ir::to_string(l.activation.kind)).num("rows", rows).num("n", l.out_features).code("z", z).code("a", a);
  h.real("alpha", l.activation.alpha);
  return render("layers/activation_forward.tmpl", h);
}

std::string activation_backward(const Layer& l, const std::string& z, const std::string& a, const std::string& da,
                                const std::string& dz) {
  Holes h;
  h.code("act", ir::to_string(l.activation.kind)).num("n", l.out_features).code("z", z).code("a", a);
  h.code("da", da).code("dz", dz).real("alpha", l.activation.alpha);
  return render("layers/activation_backward.tmpl", h);
}

std::string joined(const std::vector<std::string>& lines, const char* separator = "\n") {
  std::string s;
  for (const auto& l : lines) s += (s.empty() ? "" : separator) + l;
  return s;
}

// Layers are separated by a blank line.
std::string paragraphs(const std::vector<std::string>& parts) { return joined(parts, "\n\n"); }

std::string idx(std::size_t i) { return "[" + std::to_string(i) + "]"; }

// zb[o] = bias[o] + w[o][0] * xb[0] + ...
std::string unrolled_forward_lines(const Layer& l) {
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
std::string unrolled_param_lines(const Layer& l) {
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
std::string unrolled_input_lines(const Layer& l) {
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

class ModelEmitter {
 public:
  ModelEmitter(const Graph& g, const EmitOptions& o) : g_(g), o_(o) {}

  std::string emit() {
    const std::string ns = o_.ns.empty() ? g_.name : o_.ns;
    Holes h;
    h.comment("version", o_.version).comment("spec", o_.spec_label).comment("sha256", o_.sha256);
    h.comment("gen_flags", o_.gen_flags).num("abi", o_.abi).id("ns", ns).code("real", o_.real_double ? "double" : "float");
    h.id("name", g_.name);
    h.num("inputs", g_.input_features()).num("outputs", g_.output_features()).num("targets", g_.targets_per_sample());
    h.num("batch", g_.batch).num("params", g_.param_count()).code("loss", loss_function(g_.loss.kind));
    const bool logits = g_.loss.kind != ir::LossKind::mse;
    h.code("outputs_are", logits ? "logits" : "predictions");
    h.code("targets_are", g_.loss.kind == ir::LossKind::softmax_cross_entropy ? "the class index" : "one per output");
    h.code("layer_table", layer_table());
    h.code("param_members", param_members()).code("workspace_members", workspace_members());
    h.num("tensor_count", tensor_count()).code("tensor_infos", tensor_infos()).code("param_pointers", param_pointers());
    h.code("forward_one", forward_one()).code("forward_batch", forward_batch()).code("backward", backward());
    h.code("output", "" + out_buffer(g_.layers.size() - 1).substr(3));  // member name without "ws."
    return render("model.hpp.tmpl", h) + "\n";
  }

 private:
  std::size_t tensor_count() const {
    std::size_t n = 0;
    for (const auto& l : g_.layers) n += l.params.size();
    return n;
  }

  std::string layer_table() const {
    std::vector<std::string> rows;
    char buf[256];
    std::uint64_t flops = 0;
    for (const auto& l : g_.layers) {
      std::size_t params = 0;
      for (const auto& p : l.params) params += p.size;
      flops += l.flops;
      const std::string type = l.kind == OpKind::dense ? "dense" : ir::to_string(l.activation.kind);
      std::snprintf(buf, sizeof buf, "//   %-20s %-13s %-8zu %-13zu %llu", l.name.c_str(), type.c_str(), l.out_features,
                    params, static_cast<unsigned long long>(l.flops));
      rows.push_back(buf);
    }
    std::snprintf(buf, sizeof buf, "//   %-20s %-13s %-8s %-13zu %llu", "total", "", "", g_.param_count(),
                  static_cast<unsigned long long>(flops));
    rows.push_back(buf);
    return joined(rows);
  }

  std::string param_members() const {
    std::vector<std::string> lines;
    for (const auto& l : g_.layers) {
      if (l.params.empty()) continue;
      lines.push_back("// " + title(g_, l, o_.spec_label));
      for (const auto& p : l.params) {
        std::string shape, dims;
        for (auto d : p.shape) {
          shape += (shape.empty() ? "" : " * ") + std::to_string(d);
        }
        const char* what = p.shape.size() == 2 ? "  // (out, in)" : "  // (out)";
        lines.push_back("alignas(64) real " + checked(p.member) + "[" + shape + "];" + what);
      }
    }
    return joined(lines);
  }

  std::string workspace_members() const {
    std::vector<std::string> lines;
    std::size_t widest = g_.output_features();
    for (const auto& l : g_.layers) {
      widest = std::max(widest, l.out_features);
      const std::string n = std::to_string(l.out_features);
      if (l.kind == OpKind::dense && has_activation(l))
        lines.push_back("alignas(64) real " + checked(l.name + "_pre") + "[kBatch * " + n + "];  // (batch, " + n +
                        ") before " + ir::to_string(l.activation.kind));
      lines.push_back("alignas(64) real " + checked(l.name + "_out") + "[kBatch * " + n + "];  // (batch, " + n + ")");
    }
    const std::string w = std::to_string(widest);
    lines.push_back("alignas(64) real dy[kBatch * kOutputs];  // dLoss/dy of train_step");
    lines.push_back("alignas(64) real grad_a[kBatch * " + w + "];  // backward scratch: gradients between layers");
    lines.push_back("alignas(64) real grad_b[kBatch * " + w + "];");
    return joined(lines);
  }

  std::string tensor_infos() const {
    std::vector<std::string> lines;
    for (const auto& l : g_.layers)
      for (const auto& p : l.params) {
        std::string shape;
        for (std::size_t i = 0; i < 4; ++i) shape += (i ? ", " : "") + std::to_string(i < p.shape.size() ? p.shape[i] : 0);
        // torch names are "<identifier>.weight": checked as identifier + suffix.
        checked(p.member);
        lines.push_back("castnet::TensorInfo{\"" + p.torch_name + "\", {" + shape + "}, " + std::to_string(p.shape.size()) +
                        ", " + std::to_string(p.size) + ", castnet::Init::" + init_name(p.init) + ", " +
                        std::to_string(p.fan_in) + ", " + std::to_string(p.fan_out) + "},");
      }
    return joined(lines);
  }

  std::string param_pointers() const {
    std::string s;
    for (const auto& l : g_.layers)
      for (const auto& p : l.params) s += (s.empty() ? "" : ", ") + ("p." + checked(p.member));
    return s;
  }

  // Buffers of the batched pass: where layer i reads its input and writes its output.
  std::string in_buffer(std::size_t i) const { return i == 0 ? "x" : out_buffer(i - 1); }
  std::string out_buffer(std::size_t i) const { return "ws." + checked(g_.layers[i].name + "_out"); }
  std::string pre_buffer(std::size_t i) const {
    const Layer& l = g_.layers[i];
    return l.kind == OpKind::dense && has_activation(l) ? "ws." + checked(l.name + "_pre") : out_buffer(i);
  }

  std::string dense_forward(const Layer& l, std::size_t rows, const std::string& x, const std::string& z,
                            const std::string& a) const {
    Holes h;
    h.comment("title", title(g_, l, o_.spec_label)).num("rows", rows).num("in", l.in_features).num("out", l.out_features);
    h.code("x", x).code("z", z);
    h.code("activation", has_activation(l) ? activation_forward(l, rows, z, a) : "");
    if (l.unrolled) {
      h.code("lines", unrolled_forward_lines(l));
      return render("layers/dense_forward_unrolled.tmpl", h);
    }
    h.id("layer", l.name);
    return render("layers/dense_forward.tmpl", h);
  }

  std::string activation_layer(const Layer& l, std::string body) const {
    Holes h;
    h.comment("title", title(g_, l, o_.spec_label)).code("body", std::move(body));
    return render("layers/activation_layer.tmpl", h);
  }

  // Single sample: a stack array per layer; activations applied in place.
  std::string forward_one() const {
    std::vector<std::string> parts;
    std::string cur = "x";
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      const bool last = i + 1 == g_.layers.size();
      const std::string out = last ? "y" : checked(l.name);
      std::string decl = last ? "" : "alignas(64) real " + out + "[" + std::to_string(l.out_features) + "];\n";
      switch (l.kind) {
        case OpKind::dense: parts.push_back(decl + dense_forward(l, 1, cur, out, out)); break;
        case OpKind::activation: parts.push_back(activation_layer(l, decl + activation_forward(l, 1, cur, out))); break;
      }
      cur = out;
    }
    return paragraphs(parts);
  }

  std::string forward_batch() const {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      switch (l.kind) {
        case OpKind::dense: parts.push_back(dense_forward(l, g_.batch, in_buffer(i), pre_buffer(i), out_buffer(i))); break;
        case OpKind::activation:
          parts.push_back(activation_layer(l, activation_forward(l, g_.batch, in_buffer(i), out_buffer(i))));
          break;
      }
    }
    return paragraphs(parts);
  }

  // Reverse order; `cur` holds dLoss/d(output of layer i). Gradients flow through two scratch
  // buffers; the first layer writes the input gradient straight into dx when asked.
  std::string backward() const {
    std::vector<std::string> parts;
    std::string cur = "dy";
    auto other = [](const std::string& a, const std::string& b = "") {
      for (const char* s : {"ws.grad_a", "ws.grad_b"})
        if (a != s && b != s) return std::string(s);
      throw std::logic_error("no free scratch buffer");
    };
    auto guard = [](std::string body) {
      Holes h;
      h.code("body", std::move(body));
      return render("layers/if_dx.tmpl", h);
    };
    for (std::size_t i = g_.layers.size(); i-- > 0;) {
      const Layer& l = g_.layers[i];
      switch (l.kind) {
        case OpKind::dense: {
          Holes h;
          h.comment("title", title(g_, l, o_.spec_label)).num("in", l.in_features).num("out", l.out_features);
          std::string dz = cur;
          if (has_activation(l)) {
            dz = other(cur);
            h.code("activation", activation_backward(l, pre_buffer(i), out_buffer(i), cur, dz));
          } else {
            h.code("activation", "");
          }
          const std::string dx = i == 0 ? "dx" : other(dz);
          Holes in;
          in.num("in", l.in_features).num("out", l.out_features).code("dz", dz).code("dx", dx);
          std::string input_grad;
          if (l.unrolled) {
            in.code("lines", unrolled_input_lines(l));
            input_grad = render("layers/dense_backward_input_unrolled.tmpl", in);
            h.code("param_lines", unrolled_param_lines(l));
          } else {
            in.id("layer", l.name);
            input_grad = render("layers/dense_backward_input.tmpl", in);
          }
          h.id("layer", l.name);
          h.code("input_grad", i == 0 ? guard(input_grad) : input_grad);
          h.code("x", in_buffer(i)).code("dz", dz);
          parts.push_back(render(l.unrolled ? "layers/dense_backward_unrolled.tmpl" : "layers/dense_backward.tmpl", h));
          cur = dx;
          break;
        }
        case OpKind::activation: {
          const std::string dz = i == 0 ? "dx" : other(cur);
          std::string body = activation_backward(l, in_buffer(i), out_buffer(i), cur, dz);
          parts.push_back(activation_layer(l, i == 0 ? guard(body) : body));
          cur = dz;
          break;
        }
      }
    }
    return paragraphs(parts);
  }

  static const std::string& checked(const std::string& name) {
    if (!ir::is_identifier(name)) throw std::logic_error("emitter: '" + name + "' is not a valid identifier");
    return name;
  }

  const Graph& g_;
  const EmitOptions& o_;
};

}  // namespace

std::string emit_model(const ir::Graph& g, const EmitOptions& options) { return ModelEmitter(g, options).emit(); }

}  // namespace castnet::gen
