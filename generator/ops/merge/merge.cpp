// Layers that join several inputs, named by `inputs = ["a", "b", ...]`:
//   add     out = a + b + ...  (residual and skip connections; every input of one shape);
//           backward: each input's gradient is dout
//   concat  per sample, the inputs one after another (flat features, or images of one height and
//           width joined along channels, as torch.cat(dim=1)); backward: each input gets its slice
// No parameters. A layer read by several layers receives the sum of their gradients (the
// emitter's part, not these kinds').
#include "emit/code_writer.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"

namespace castnet::ops {
namespace {

std::string input_shapes(const ir::Layer& l) {
  std::string s;
  for (std::size_t i = 0; i < l.in_shapes.size(); ++i)
    s += (i ? ", " : "") + ("'" + l.input_names[i] + "' gives " + ir::shape_text(l.in_shapes[i]));
  return s;
}

class Add final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer&) const override { a.allow({}, "an add layer"); }
  void write(const ir::Layer&, spec::KeyWriter&) const override {}
  bool merges() const override { return true; }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    for (const auto& s : l.in_shapes)
      if (s != l.in_shapes.front()) fail("add needs inputs of one shape: " + input_shapes(l));
    return l.in_shapes.front();
  }

  void count(ir::Layer& l, ir::Activation) const override {
    l.params.clear();
    l.flops = (l.in_shapes.size() - 1) * l.out_features;
  }

  BackwardReads backward_reads(const ir::Layer&) const override { return {false, false, false}; }
  std::string type_label(const ir::Layer&) const override { return "add"; }

  std::string describe(const ir::Layer& l) const override {
    std::string names;
    for (const auto& n : l.input_names) names += (names.empty() ? "" : " + ") + n;
    return "add " + ir::shape_text(l.out_shape) + ": " + names;
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"merge.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    std::string code;
    for (std::size_t i = 1; i < s.xs.size(); ++i) {
      gen::Holes h;
      h.num("rows", s.rows).num("n", l.out_features).code("a", i == 1 ? s.xs[0] : s.out).code("b", s.xs[i]).code("out", s.out);
      code += (code.empty() ? "" : "\n") + gen::render("ops/merge/add_forward.tmpl", h);
    }
    return code;
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    BackwardCode c;
    for (const auto& dx : s.dxs) {
      gen::Holes h;
      h.code("rows", "kBatch").num("n", l.out_features).code("from", s.dout).code("to", dx);
      c.inputs.push_back(gen::render("graph/copy.tmpl", h));
    }
    return c;
  }
};

class Concat final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer&) const override { a.allow({}, "a concat layer"); }
  void write(const ir::Layer&, spec::KeyWriter&) const override {}
  bool merges() const override { return true; }
  std::size_t in_features(const ir::Layer& l) const override {
    std::size_t n = 0;
    for (const auto& s : l.in_shapes) n = ir::sat_add(n, ir::elements(s));
    return n;
  }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    const ir::Shape& first = l.in_shapes.front();
    ir::Shape out = first;
    out[0] = 0;
    for (const auto& s : l.in_shapes) {
      const bool fits = s.size() == first.size() && (s.size() == 1 || (s[1] == first[1] && s[2] == first[2]));
      if (!fits)
        fail("concat joins flat inputs, or images of one height and width along their channels: " + input_shapes(l));
      out[0] += s[0];
    }
    return out;
  }

  void count(ir::Layer& l, ir::Activation) const override {
    l.params.clear();
    l.flops = 0;
  }

  BackwardReads backward_reads(const ir::Layer&) const override { return {false, false, false}; }
  std::string type_label(const ir::Layer&) const override { return "concat"; }

  std::string describe(const ir::Layer& l) const override {
    std::string names;
    for (const auto& n : l.input_names) names += (names.empty() ? "" : ", ") + n;
    return "concat " + ir::shape_text(l.out_shape) + ": " + names;
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"merge.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    std::string code;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < s.xs.size(); ++i) {
      const std::size_t n = ir::elements(l.in_shapes[i]);
      gen::Holes h;
      h.num("rows", s.rows).num("n", n).num("stride", l.out_features).num("offset", offset).code("x", s.xs[i]).code("out", s.out);
      code += (code.empty() ? "" : "\n") + gen::render("ops/merge/concat_forward.tmpl", h);
      offset += n;
    }
    return code;
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    BackwardCode c;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < s.dxs.size(); ++i) {
      const std::size_t n = ir::elements(l.in_shapes[i]);
      gen::Holes h;
      h.num("n", n).num("stride", l.out_features).num("offset", offset).code("dout", s.dout).code("dx", s.dxs[i]);
      c.inputs.push_back(gen::render("ops/merge/concat_backward.tmpl", h));
      offset += n;
    }
    return c;
  }
};

}  // namespace

const OpDef& add_op() {
  static const Add op;
  return op;
}

const OpDef& concat_op() {
  static const Concat op;
  return op;
}

}  // namespace castnet::ops
