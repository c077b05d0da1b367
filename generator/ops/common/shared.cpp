// See shared.hpp.
#include "ops/common/shared.hpp"

#include <stdexcept>

#include "emit/code_writer.hpp"
#include "ir/identifier.hpp"
#include "ir/diagnostic.hpp"

namespace castnet::ops {

void LayerError::operator()(const std::string& message) const { castnet::fail(g.spec_path, l.pos, l.name, message); }

std::string activation_forward_code(const ir::Layer& l, std::size_t rows, const std::string& z, const std::string& a) {
  gen::Holes h;
  h.code("act", ir::to_string(l.activation.kind)).num("rows", rows).num("n", l.out_features).code("z", z).code("a", a);
  h.real("alpha", l.activation.alpha);
  return gen::render("ops/activation/forward.tmpl", h);
}

std::string activation_backward_code(const ir::Layer& l, const std::string& z, const std::string& a,
                                     const std::string& da, const std::string& dz) {
  gen::Holes h;
  h.code("act", ir::to_string(l.activation.kind)).num("n", l.out_features).code("z", z).code("a", a);
  h.code("da", da).code("dz", dz).real("alpha", l.activation.alpha);
  return gen::render("ops/activation/backward.tmpl", h);
}

ir::ActivationSpec read_activation_params(spec::Attributes& a, ir::Activation kind) {
  ir::ActivationSpec s{kind, ir::default_alpha(kind)};
  const bool has_alpha = kind == ir::Activation::leaky_relu || kind == ir::Activation::elu;
  const bool has_beta = kind == ir::Activation::softplus;
  if (a.has("alpha") && !has_alpha)
    a.fail("alpha", "alpha applies only to leaky_relu and elu, not " + std::string(ir::to_string(kind)));
  if (a.has("beta") && !has_beta) a.fail("beta", "beta applies only to softplus, not " + std::string(ir::to_string(kind)));
  if (has_alpha) s.alpha = a.real("alpha", 0.0, 1e3, false, s.alpha);
  if (has_beta) s.alpha = a.real("beta", 0.0, 1e3, true, s.alpha);
  return s;
}

ir::ActivationSpec read_fused_activation(spec::Attributes& a) {
  ir::Activation act = ir::Activation::identity;
  if (const auto name = a.string("activation"); name && !ir::activation_from_string(*name, act))
    a.fail("activation", "unknown activation '" + *name + "' (expected one of: " + ir::activation_names() + ")");
  return read_activation_params(a, act);
}

void write_activation_params(const ir::ActivationSpec& a, spec::KeyWriter& keys) {
  if (a.kind == ir::Activation::leaky_relu || a.kind == ir::Activation::elu) keys.real("alpha", a.alpha);
  if (a.kind == ir::Activation::softplus) keys.real("beta", a.alpha);
}

void write_fused_activation(const ir::ActivationSpec& a, spec::KeyWriter& keys) {
  if (a.kind == ir::Activation::identity) return;
  keys.word("activation", ir::to_string(a.kind));
  write_activation_params(a, keys);
}

ir::ParamTensor param_tensor(const ir::Layer& l, const std::string& suffix, ir::Shape shape, std::string layout,
                             ir::Init init, std::size_t fan_in, std::size_t fan_out) {
  ir::ParamTensor p;
  p.torch_name = l.name + "." + suffix;
  p.member = l.name + "_" + suffix;
  p.size = ir::elements(shape);
  p.shape = std::move(shape);
  p.layout = std::move(layout);
  p.init = init;
  p.fan_in = fan_in;
  p.fan_out = fan_out;
  return p;
}

bool has_activation(const ir::Layer& l) { return l.activation.kind != ir::Activation::identity; }

std::vector<std::string> with_activation(const ir::Layer& l, std::vector<std::string> headers) {
  if (has_activation(l)) headers.push_back("activation.hpp");
  return headers;
}

bool keeps_pre_activation(const ir::Layer& l) {
  switch (l.activation.kind) {
    case ir::Activation::identity:
    case ir::Activation::relu:
    case ir::Activation::leaky_relu:
    case ir::Activation::tanh:
    case ir::Activation::sigmoid:
    case ir::Activation::softmax: return false;
    case ir::Activation::elu:
    case ir::Activation::gelu:
    case ir::Activation::silu:
    case ir::Activation::softplus: return true;
  }
  return true;
}

ir::Init weight_init(ir::Activation after) {
  using A = ir::Activation;
  const bool relu_family = after == A::relu || after == A::leaky_relu || after == A::elu || after == A::gelu || after == A::silu;
  return relu_family ? ir::Init::he_normal : ir::Init::glorot_uniform;
}

std::string pair_text(const std::array<std::size_t, 2>& p) { return std::to_string(p[0]) + "x" + std::to_string(p[1]); }

std::string conv_shape_arg(const ir::Layer& l) {
  const ir::Shape& in = l.in_shapes.front();
  const std::size_t args[] = {in[0],       in[1],       in[2],        l.out_shape[0], l.kernel[0],
                              l.kernel[1], l.stride[0], l.stride[1], l.padding[0],   l.padding[1]};
  std::string text = "castnet::Conv2dShape<";
  for (const std::size_t a : args) text += (text.back() == '<' ? "" : ", ") + std::to_string(a);
  return text + ">";
}

void require_flat(const ir::Layer& l, const LayerError& fail, const std::string& kind) {
  if (l.in_shapes.front().size() != 1)
    fail(kind + " needs flat features, but its input is an image " + ir::shape_text(l.in_shapes.front()) +
         " (add a layer of type \"flatten\" before it)");
}

void require_image(const ir::Layer& l, const LayerError& fail, const std::string& kind) {
  if (l.in_shapes.front().size() != 3)
    fail(kind + " needs an image input [channels, height, width], but its input is " + ir::shape_text(l.in_shapes.front()) +
         (l.inputs.front() == ir::kGraphInput ? " (write input = [channels, height, width])" : ""));
}

}  // namespace castnet::ops
