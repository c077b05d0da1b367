// kan: a Kolmogorov-Arnold layer, every input-output pair with its own trainable function
// phi_oi(x) = W[o][i] silu(x) + sum_k C[o][i][k] B_k(x), in the form of efficient-kan (Blealtan's
// KANLinear, spline_order 3): y_o = sum_i phi_oi(x_i). B_k: `grid` cubic B-splines on a uniform
// grid over `range` (runtime kernels/basis.hpp), each extended past the range's ends by its
// tangent line there (efficient-kan lets them fall to zero instead). Flat inputs only.
//   forward   y = silu(x) W^T + B(x) C^T, B(x) the [in * grid] basis values of each row (a GEMM
//             each, as efficient-kan's F.linear on the flattened bases)
//   backward  dW = dy^T silu(x);  dC = dy^T B(x);
//             dx[i] = (dy W)[i] silu'(x[i]) + sum_k (dy C)[i][k] B_k'(x[i])
// Initialisation (efficient-kan's, roughly): W as torch.nn.Linear's weight, U(+-1/sqrt(in)); C
// small, U(+-0.1/grid), so the layer starts near its SiLU part.
#include "emit/code_writer.hpp"
#include "ir/diagnostic.hpp"
#include "ops/common/shared.hpp"
#include "ops/op_def.hpp"

namespace castnet::ops {
namespace {

constexpr double kLimit = 1e6;         // |lo|, |hi|
constexpr std::int64_t kMaxGrid = 64;  // basis functions per input-output pair

std::size_t grid_of(const ir::Layer& l) { return static_cast<std::size_t>(l.setting("grid")); }

class Kan final : public OpDef {
 public:
  void read(spec::Attributes& a, ir::Layer& l) const override {
    a.allow({"units", "grid", "range", "basis"}, "a kan layer");
    l.units = a.integer("units", 1, static_cast<std::int64_t>(a.limits().units), {}, "units");
    if (const auto basis = a.string("basis"); basis && *basis != "bspline")
      a.fail("basis", "a kan layer's basis must be \"bspline\" (cubic B-splines), got '" + castnet::printable(*basis, 40) + "'");
    // A cubic B-spline grid needs one interval at least: 4 functions.
    const std::uint64_t grid = a.integer("grid", 4, kMaxGrid);
    const std::array<double, 2> range = a.interval("range", -kLimit, kLimit);
    l.settings = {{"grid", static_cast<double>(grid)}, {"lo", range[0]}, {"hi", range[1]}};
  }

  void write(const ir::Layer& l, spec::KeyWriter& keys) const override {
    keys.integer("units", l.units);
    keys.integer("grid", grid_of(l));
    keys.interval("range", {l.setting("lo"), l.setting("hi")});
  }

  ir::Shape out_shape(const ir::Layer& l, const LayerError& fail) const override {
    require_flat(l, fail, "kan");
    return {l.units};
  }

  void count(ir::Layer& l, ir::Activation) const override {
    const std::size_t in = l.in_features, out = l.out_features, grid = grid_of(l);
    l.params = {param_tensor(l, "base_weight", {out, in}, "(out, in)", ir::Init::uniform_fan_in, in, out),
                param_tensor(l, "spline_weight", {out, in, grid}, "(out, in, grid)", ir::Init::kan_spline, grid, out)};
    // the two GEMMs' multiply-adds (the expansion's zeros included, as computed)
    l.flops = 2ull * in * out * (1 + grid);
  }

  std::size_t scratch_values_per_row(const ir::Layer& l) const override { return l.in_features * (1 + grid_of(l)); }

  BackwardReads backward_reads(const ir::Layer&) const override { return {true, false, false}; }
  std::string type_label(const ir::Layer&) const override { return "kan"; }

  std::string describe(const ir::Layer& l) const override {
    return "kan " + std::to_string(l.in_features) + " -> " + std::to_string(l.out_features) + ", " +
           std::to_string(grid_of(l)) + " cubic B-splines over [" + gen::format_real(l.setting("lo")) + ", " +
           gen::format_real(l.setting("hi")) + "]";
  }

  std::vector<std::string> kernel_headers(const ir::Layer&) const override {
    return {"basis.hpp", "gemm.hpp", "kan.hpp"};
  }

  std::string forward(const ir::Layer& l, const ForwardSite& s) const override {
    gen::Holes h = holes(l);
    h.num("rows", s.rows).code("x", s.x()).code("scratch", s.scratch).code("y", s.out);
    return gen::render("ops/kan/forward.tmpl", h);
  }

  BackwardCode backward(const ir::Layer& l, const BackwardSite& s) const override {
    gen::Holes h = holes(l);
    h.code("x", s.x()).code("dout", s.dout).code("scratch", s.scratch);
    gen::Holes in = h;
    in.code("dx", s.dxs[0]);
    return {gen::render("ops/kan/backward.tmpl", h), {gen::render("ops/kan/backward_input.tmpl", in)}};
  }

 private:
  static gen::Holes holes(const ir::Layer& l) {
    gen::Holes h;
    h.num("in", l.in_features).num("out", l.out_features).num("grid", grid_of(l));
    h.real("lo", l.setting("lo")).real("hi", l.setting("hi")).id("layer", l.name);
    return h;
  }
};

}  // namespace

const OpDef& kan_op() {
  static const Kan op;
  return op;
}

}  // namespace castnet::ops
