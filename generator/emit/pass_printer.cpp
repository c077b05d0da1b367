// See pass_printer.hpp.
#include "emit/pass_printer.hpp"

#include <stdexcept>

#include "emit/code_writer.hpp"
#include "ir/diagnostic.hpp"
#include "ops/op_def.hpp"

namespace castnet::gen {
namespace {

using ir::Place;

const ops::OpDef& op(const ir::Layer& l) { return ops::op_def(l.kind); }

// Layers are separated by a blank line.
std::string paragraphs(const std::vector<std::string>& parts) { return join_lines(parts, "\n\n"); }

}  // namespace

const std::string& CodeBudget::count(std::size_t layer, const std::string& code) {
  bytes_[layer] += code.size();
  total_ += code.size();
  check(total_);
  return code;
}

void CodeBudget::check(std::uint64_t size) const {
  if (size <= g_.limits.code_bytes) return;
  std::size_t big = 0;
  for (std::size_t i = 0; i < bytes_.size(); ++i)
    if (bytes_[i] > bytes_[big]) big = i;
  const ir::Layer& l = g_.layers[big];
  fail(g_.spec_path, l.pos, l.name,
       "the generated header would be larger than " + std::to_string(g_.limits.code_bytes) +
           " bytes (limit 'code_bytes'); this layer emits the most code, " + std::to_string(bytes_[big]) +
           " bytes so far: use fewer layers (small dense and conv layers are unrolled into straight-line code)");
}

std::string PassPrinter::place(const Place& p) const {
  switch (p.kind) {
    case Place::Kind::none: break;
    case Place::Kind::buffer: {
      const std::string& name = checked_identifier(plan_.buffer(p).name);
      return arena_ == Arena::workspace ? "ws." + name + "()" : name;
    }
    case Place::Kind::x: return "x";
    case Place::Kind::y: return "y";
    case Place::Kind::dx: return "dx";
    case Place::Kind::dy: return "dy";
  }
  throw std::logic_error("emitter: a layer uses a place the plan did not give it");
}

std::string PassPrinter::pointer(const Place& p) const {
  const ir::Buffer& b = plan_.buffer(p);
  return "real* const " + checked_identifier(b.name) + " = buf + " + std::to_string(b.offset) + ";  // " + comment_text(b.comment);
}

// A layer that does not read the one before it says what it reads.
std::string PassPrinter::title(std::size_t i) const {
  const ir::Layer& l = g_.layers[i];
  std::string reads;
  const std::vector<std::size_t> chain = {i == 0 ? ir::kGraphInput : i - 1};
  if (l.inputs != chain && !op(l).merges())
    for (const auto& n : l.input_names) reads += (reads.empty() ? ", reads " : ", ") + checked_identifier(n);
  std::string title = "// " + checked_identifier(l.name) + ": " + op(l).describe(l) + reads;
  // A runner's header names no spec: a comment edit above a layer must not change its bytes.
  if (!spec_label_.empty()) title += "  (" + comment_text(spec_label_) + ":" + std::to_string(l.pos.line) + ")";
  return title;
}

std::string PassPrinter::forward(const InputStager& stage) const {
  std::vector<std::string> parts;
  const bool stack = arena_ == Arena::stack;
  if (stack && plan_.arena.size > 0)
    parts.push_back("alignas(64) real buf[" + std::to_string(plan_.arena.size) + "];  // the planned arena of the layers below");
  if (stack && plan_.input.kind == Place::Kind::buffer) {
    if (!stage) throw std::logic_error("emitter: a pass stages its input but says nothing of how");
    const ir::Buffer& b = plan_.buffer(plan_.input);
    parts.push_back("const real* const " + checked_identifier(b.name) + " = " + stage("buf + " + std::to_string(b.offset)) +
                    ";  // " + comment_text(b.comment));
  }
  for (std::size_t i = 0; i < g_.layers.size(); ++i) {
    const ir::Layer& l = g_.layers[i];
    const ir::LayerPlan& lp = plan_.layers[i];
    std::vector<std::string> xs;
    for (const Place& p : lp.inputs) xs.push_back(place(p));
    if (!lp.computes) {
      // The last layer of a pass that writes y copies what it passes on.
      if (i + 1 == g_.layers.size() && plan_.output_to_y) {
        Holes h;
        h.num("rows", plan_.rows).num("n", l.out_features).code("from", xs[0]).code("to", "y");
        parts.push_back(budget_.count(i, title(i) + "\n" + render("graph/copy.tmpl", h)));
      } else {
        parts.push_back(title(i) + "\n// passes " + xs[0] + " on");
      }
      continue;
    }
    std::vector<std::string> lines = {title(i)};
    if (stack)
      for (const Place* p : {&lp.out, &lp.pre, &lp.scratch})
        if (p->kind == Place::Kind::buffer && (p == &lp.out || *p != lp.out)) lines.push_back(pointer(*p));
    ops::ForwardSite site;
    site.rows = plan_.rows;
    site.xs = xs;
    site.out = place(lp.out);
    site.pre = place(lp.pre);
    if (lp.scratch.used()) site.scratch = place(lp.scratch);
    for (const Place& e : lp.extras) site.extras.push_back(place(e));
    site.index = i;
    if (op(l).quantize_rule(l) == ops::QuantizeRule::weight) site.weights = weights_;
    lines.push_back(op(l).forward(l, site));
    parts.push_back(budget_.count(i, join_lines(lines)));
  }
  return paragraphs(parts);
}

// Reverse order. Layer i's backward reads dLoss/d(its output) from the plan's dout (the caller's
// dy for the last) and writes each input's gradient where the plan says: the first writer
// overwrites, later ones (a layer read by several) write a temporary and add it. The network
// input's gradient goes to the caller's dx, when it is not null.
std::string PassPrinter::backward() const {
  std::vector<std::string> parts;
  for (std::size_t i = g_.layers.size(); i-- > 0;) {
    const ir::Layer& l = g_.layers[i];
    const ir::LayerPlan& lp = plan_.layers[i];
    ops::BackwardSite s;
    for (const Place& p : lp.inputs) s.xs.push_back(place(p));
    s.out = place(lp.out);
    s.pre = place(lp.pre);
    s.dout = place(lp.dout);
    if (lp.dz.used()) s.dz = place(lp.dz);
    if (lp.scratch.used()) s.scratch = place(lp.scratch);
    for (const Place& e : lp.extras) s.extras.push_back(place(e));
    for (const auto& w : lp.input_grads) s.dxs.push_back(place(w.accumulate ? w.temp : w.to));
    const ops::BackwardCode code = op(l).backward(l, s);
    std::vector<std::string> inputs;
    for (std::size_t k = 0; k < lp.input_grads.size(); ++k) {
      const ir::GradientWrite& w = lp.input_grads[k];
      std::string input = code.inputs[k];
      if (w.accumulate) {
        Holes h;
        h.num("n", ir::elements(l.in_shapes[k])).code("to", place(w.to)).code("from", place(w.temp));
        input += "\n" + render("graph/accumulate.tmpl", h);
      }
      if (w.to.kind == Place::Kind::dx) {
        Holes h;
        h.code("body", input);
        input = render("graph/if_dx.tmpl", h);
      }
      inputs.push_back(input);
    }
    std::vector<std::string> lines = {title(i)};
    if (!code.update.empty()) {
      // The inputs' code twice (one call each), not the layer's: that may be straight-line code.
      std::vector<std::string> plain, updating;
      if (!code.params.empty()) plain.push_back(code.params);
      if (!code.update_before.empty()) updating.push_back(code.update_before);
      for (const auto& in : inputs) {
        plain.push_back(in);
        updating.push_back(in);
      }
      updating.push_back(code.update);
      Holes h;
      h.code("plain", join_lines(plain)).code("updating", join_lines(updating));
      lines.push_back(render("graph/if_update.tmpl", h));
    } else {
      if (!code.params.empty()) lines.push_back(code.params);
      for (const auto& in : inputs) lines.push_back(in);
      std::vector<std::string> updates;
      for (const ir::ParamTensor& t : l.params) {
        Holes h;
        h.num("size", t.size).id("tensor", t.member);
        updates.push_back(render("graph/apply_update.tmpl", h));
      }
      if (!updates.empty()) {
        Holes h;
        h.code("body", join_lines(updates));
        lines.push_back(render("graph/if_update_after.tmpl", h));
      }
    }
    parts.push_back(budget_.count(i, join_lines(lines)));
  }
  return paragraphs(parts);
}

}  // namespace castnet::gen
