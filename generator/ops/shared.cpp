// See shared.hpp.
#include "ops/shared.hpp"

#include "emit/code_writer.hpp"

namespace castnet::ops {

std::string activation_forward_code(const ir::Layer& l, std::size_t rows, const std::string& z, const std::string& a) {
  gen::Holes h;
  h.code("act", ir::to_string(l.activation.kind)).num("rows", rows).num("n", l.out_features).code("z", z).code("a", a);
  h.real("alpha", l.activation.alpha);
  return gen::render("layers/activation_forward.tmpl", h);
}

std::string activation_backward_code(const ir::Layer& l, const std::string& z, const std::string& a,
                                     const std::string& da, const std::string& dz) {
  gen::Holes h;
  h.code("act", ir::to_string(l.activation.kind)).num("n", l.out_features).code("z", z).code("a", a);
  h.code("da", da).code("dz", dz).real("alpha", l.activation.alpha);
  return gen::render("layers/activation_backward.tmpl", h);
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

std::string if_dx(std::string body) {
  gen::Holes h;
  h.code("body", std::move(body));
  return gen::render("layers/if_dx.tmpl", h);
}

}  // namespace castnet::ops
