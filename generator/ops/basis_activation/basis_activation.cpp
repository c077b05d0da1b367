// basis_activation: a trainable activation built from fixed basis functions, f(s) = sum_k
// coef[c][k] psi_k(s), one coefficient row per channel of an image or per feature (the course's
// generic trainable activation). The basis (runtime kernels/basis.hpp): `count` Gaussians (rbf)
// or cubic B-splines (bspline) on a uniform grid over `range`, each extended past the range's ends
// by its tangent line there, so f extends linearly. coef starts as the least-squares fit of SiLU.
//   forward   out = sum_k coef[c][k] psi_k(x)
//   backward  dx = dout sum_k coef[c][k] psi_k'(x);  dcoef[c][k] = sum dout psi_k(x) over the batch
//             and the channel's positions
#include "emit/code_writer.hpp"
#include "ir/diagnostic.hpp"
#include "ops/common/shared.hpp"
#include "ops/op_def.hpp"

namespace castnet::ops {
namespace {

constexpr double kLimit = 1e6;          // |lo|, |hi|: far past any activation's range
constexpr std::int64_t kMaxCount = 64;  // basis functions per channel

// (channels, positions per channel) of the input.
std::array<std::size_t, 2> channels(const ir::Layer& l) {
  const ir::Shape& in = l.in_shapes.front();
  return in.size() == 3 ? std::array<std::size_t, 2>{in[0], in[1] * in[2]} : std::array<std::size_t, 2>{in[0], 1};
}

bool is_bspline(const ir::Layer& l) { return l.setting("basis") != 0.0; }
std::size_t count_of(const ir::Layer& l) { return static_cast<std::size_t>(l.setting("count")); }

class BasisActivation final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"basis", "count", "range"}, "a basis_activation layer");
    const auto basis = a.string("basis");
    if (!basis) a.fail("basis", "missing required key 'basis' (\"rbf\" or \"bspline\")");
    if (*basis != "rbf" && *basis != "bspline") a.fail("basis", "basis must be \"rbf\" or \"bspline\", got '" + castnet::printable(*basis, 40) + "'");
    const bool bspline = *basis == "bspline";
    // Both grids have count - 3 steps over the range (a cubic B-spline needs 4 knot spans; the
    // Gaussians put a centre past each end), so one step at least: 4 functions.
    const std::uint64_t count = a.integer("count", 4, kMaxCount);
    const std::array<double, 2> range = a.interval("range", -kLimit, kLimit);
    l.settings = {{"basis", bspline ? 1.0 : 0.0}, {"count", static_cast<double>(count)}, {"lo", range[0]}, {"hi", range[1]}};
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override {
    keys.word("basis", is_bspline(l) ? "bspline" : "rbf");
    keys.integer("count", count_of(l));
    keys.interval("range", {l.setting("lo"), l.setting("hi")});
  }

  // It starts as SiLU, so the layer before it is initialised as for SiLU (He normal).
  ir::Activation standalone_activation(const ir::Layer&) const override { return ir::Activation::silu; }

  ir::Shape out_shape(const ir::Layer& l, const LayerError&) const override { return l.in_shapes.front(); }

  void count(ir::Layer& l, ir::Activation) const override {
    const std::size_t c = channels(l)[0], n = count_of(l);
    ir::ParamTensor coef = param_tensor(l, "coef", {c, n}, "(channels, count)",
                                        is_bspline(l) ? ir::Init::silu_bspline : ir::Init::silu_rbf, n, 1);
    coef.lo = l.setting("lo");
    coef.hi = l.setting("hi");
    l.params = {coef};
    l.flops = 0;  // activations are not counted
  }

  BackwardReads backward_reads(const ir::Layer&) const override { return {true, false, false}; }
  std::string type_label(const ir::Layer&) const override { return "basis_activation"; }

  std::string describe(const ir::Layer& l) const override {
    return "basis_activation " + ir::shape_text(l.out_shape) + ", " + std::to_string(channels(l)[0]) + " x " +
           std::to_string(count_of(l)) + (is_bspline(l) ? " cubic B-splines" : " Gaussians") + " over [" +
           gen::format_real(l.setting("lo")) + ", " + gen::format_real(l.setting("hi")) + "]";
  }

  // Per-feature parameters: small, and kept float by --quantize.
  QuantizeRule quantize_rule(const ir::Layer&) const override { return QuantizeRule::keep_float; }
  std::vector<std::string> kernel_headers(const ir::Layer&) const override {
    return {"basis.hpp", "basis_activation.hpp"};
  }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h = holes(l);
    h.num("rows", s.rows).code("x", s.x()).code("out", s.out);
    return gen::render("ops/basis_activation/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h = holes(l);
    h.code("x", s.x()).code("dout", s.dout);
    gen::Holes in = h;
    in.code("dx", s.dxs[0]);
    return {gen::render("ops/basis_activation/backward.tmpl", h),
            {gen::render("ops/basis_activation/backward_input.tmpl", in)}};
  }

 private:
  static gen::Holes holes(const ir::Layer& l) {
    gen::Holes h;
    h.code("basis", is_bspline(l) ? "bspline" : "rbf").num("channels", channels(l)[0]).num("positions", channels(l)[1]);
    h.num("count", count_of(l)).real("lo", l.setting("lo")).real("hi", l.setting("hi")).id("layer", l.name);
    return h;
  }
};

}  // namespace

const OpDef& basis_activation_op() {
  static const BasisActivation op;
  return op;
}

}  // namespace castnet::ops
