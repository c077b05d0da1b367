// Names of the IR's enums, as they are spelled in specs, and a layer's settings.
#include "graph.hpp"

#include <stdexcept>

namespace castnet::ir {

double Layer::setting(const std::string& key) const {
  const auto it = settings.find(key);
  if (it == settings.end()) throw std::out_of_range("layer '" + name + "' has no setting '" + key + "'");
  return it->second;
}

const char* to_string(OpKind k) {
  switch (k) {
#define CASTNET_OP(name) \
  case OpKind::name:     \
    return #name;
#include "op_kinds.def"
#undef CASTNET_OP
  }
  return "?";
}

std::string shape_text(const Shape& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

const char* to_string(Activation a) {
  switch (a) {
#define CASTNET_X(name)     \
  case Activation::name: \
    return #name;
    CASTNET_ACTIVATIONS(CASTNET_X)
#undef CASTNET_X
  }
  return "?";
}

bool activation_from_string(const std::string& s, Activation& out) {
#define CASTNET_X(name)      \
  if (s == #name) {          \
    out = Activation::name;  \
    return true;             \
  }
  CASTNET_ACTIVATIONS(CASTNET_X)
#undef CASTNET_X
  return false;
}

std::string activation_names() {
  std::string s;
#define CASTNET_X(name) s += (s.empty() ? "" : ", ") + std::string(#name);
  CASTNET_ACTIVATIONS(CASTNET_X)
#undef CASTNET_X
  return s;
}

double default_alpha(Activation a) {
  switch (a) {
    case Activation::leaky_relu: return 0.01;
    case Activation::elu: return 1.0;
    case Activation::softplus: return 1.0;
    case Activation::identity:
    case Activation::relu:
    case Activation::gelu:
    case Activation::silu:
    case Activation::tanh:
    case Activation::sigmoid:
    case Activation::softmax: return 0.0;
  }
  return 0.0;
}

const char* to_string(LossKind k) {
  switch (k) {
    case LossKind::mse: return "mse";
    case LossKind::binary_cross_entropy: return "binary_cross_entropy";
    case LossKind::softmax_cross_entropy: return "softmax_cross_entropy";
  }
  return "?";
}

}  // namespace castnet::ir
