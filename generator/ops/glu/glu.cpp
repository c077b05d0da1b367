// glu: the gated linear unit with `units` outputs, one affine map of 2*units rows whose second half
// gates the first (torch.nn.Linear(in, 2*units) then torch.nn.GLU(dim=-1); the course's
// sigmoid(W1 x) * (W2 x) with W1 the second half of the weight rows).
//   forward   z = x W^T + b  (2U values);  out[j] = z[j] * s(z[U + j])
//   backward  dz[j] = dout[j] s(z[U+j]);  dz[U+j] = dout[j] z[j] s (1 - s);  then dense's backward
#include "emit/code_writer.hpp"
#include "ir/limits.hpp"
#include "ops/op_def.hpp"
#include "ops/common/shared.hpp"

namespace castnet::ops {
namespace {

class Glu final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"units"}, "a glu layer");
    l.units = a.integer("units", 1, static_cast<std::int64_t>(a.limits().units / 2), {}, "units");
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override { keys.integer("units", l.units); }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    require_flat(l, fail, "glu");
    return {l.units};
  }

  void count(ir::Layer& l, ir::Activation) const override {
    const std::size_t rows = 2 * l.units;
    l.params = {param_tensor(l, "weight", {rows, l.in_features}, "(out, in)", ir::Init::glorot_uniform, l.in_features, rows),
                param_tensor(l, "bias", {rows}, "(out)", ir::Init::zeros, l.in_features, rows)};
    l.flops = 2ull * l.in_features * rows + rows + l.units;
  }

  bool keeps_pre(const ir::Layer&) const override { return true; }
  std::size_t pre_features(const ir::Layer& l) const override { return 2 * l.units; }
  std::string pre_comment(const ir::Layer&) const override { return "before gating"; }
  bool needs_dz(const ir::Layer&) const override { return true; }
  BackwardReads backward_reads(const ir::Layer&) const override { return {true, true, false}; }
  std::string type_label(const ir::Layer&) const override { return "glu"; }

  std::string describe(const ir::Layer& l) const override {
    return "glu " + std::to_string(l.in_features) + " -> " + std::to_string(l.units) + " (value rows 0.." +
           std::to_string(l.units - 1) + ", gate rows " + std::to_string(l.units) + ".." + std::to_string(2 * l.units - 1) + ")";
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override { return {"dense.hpp", "glu.hpp"}; }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h;
    h.num("rows", s.rows).num("in", l.in_features).num("units", l.units).id("layer", l.name);
    h.code("x", s.x()).code("z", s.pre).code("out", s.out);
    return gen::render("ops/glu/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h;
    h.num("in", l.in_features).num("units", l.units).id("layer", l.name).code("x", s.x()).code("z", s.pre);
    h.code("dout", s.dout).code("dz", s.dz);
    gen::Holes in;
    in.num("in", l.in_features).num("units", l.units).id("layer", l.name).code("dz", s.dz).code("dx", s.dxs[0]);
    return {gen::render("ops/glu/backward.tmpl", h), {gen::render("ops/glu/backward_input.tmpl", in)}};
  }
};

}  // namespace

const OpDef& glu_op() {
  static const Glu op;
  return op;
}

}  // namespace castnet::ops
