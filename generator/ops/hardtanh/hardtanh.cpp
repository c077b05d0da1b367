// hardtanh: each value clamped to [min_val, max_val] (torch.nn.Hardtanh, defaults -1 and 1), no
// parameters. The smallest complete kind: ops/README.md points here as the one to copy.
//   forward   out = min(max(x, min_val), max_val)
//   backward  dx = dout where min_val < x < max_val, else 0 (torch's choice at the edges); that
//             is where min_val < out < max_val, so the backward pass reads the output, not x
#include "emit/code_writer.hpp"
#include "ops/common/shared.hpp"
#include "ops/op_def.hpp"

namespace castnet::ops {
namespace {

constexpr double kLimit = 1e6;  // |min_val|, |max_val|: far past any activation's range

class Hardtanh final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"min_val", "max_val"}, "a hardtanh layer");
    const double lo = a.real("min_val", -kLimit, kLimit, false, -1.0);
    const double hi = a.real("max_val", -kLimit, kLimit, false, 1.0);
    if (!(lo < hi))
      a.fail("max_val", "max_val must be greater than min_val, got min_val " + gen::format_real(lo) + " and max_val " +
                            gen::format_real(hi));
    l.settings = {{"min_val", lo}, {"max_val", hi}};
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override {
    keys.real("min_val", l.setting("min_val"));
    keys.real("max_val", l.setting("max_val"));
  }

  ir::Shape out_shape(const ir::Layer& l, const LayerError&) const override { return l.in_shapes.front(); }

  void count(ir::Layer& l, ir::Activation) const override {
    l.params.clear();
    l.flops = 0;  // activations are not counted
  }

  BackwardReads backward_reads(const ir::Layer&) const override { return {false, false, true}; }
  std::string type_label(const ir::Layer&) const override { return "hardtanh"; }

  std::string describe(const ir::Layer& l) const override {
    return "hardtanh " + ir::shape_text(l.out_shape) + " to [" + gen::format_real(l.setting("min_val")) + ", " +
           gen::format_real(l.setting("max_val")) + "]";
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"hardtanh.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h;
    h.num("rows", s.rows).num("n", l.out_features).code("x", s.x()).code("out", s.out);
    h.real("lo", l.setting("min_val")).real("hi", l.setting("max_val"));
    return gen::render("ops/hardtanh/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.num("n", l.out_features).code("out", s.out).code("dout", s.dout).code("dx", s.dxs[0]);
    h.real("lo", l.setting("min_val")).real("hi", l.setting("max_val"));
    return {"", {gen::render("ops/hardtanh/backward.tmpl", h)}};
  }
};

}  // namespace

const OpDef& hardtanh_op() {
  static const Hardtanh op;
  return op;
}

}  // namespace castnet::ops
