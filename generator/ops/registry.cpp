// OpKind -> OpDef, and spec type names -> layer kinds.
#include "ops/op_def.hpp"

#include <stdexcept>

namespace castnet::ops {

// Defined in each kind's folder, ops/<kind>/, and named as ir/op_kinds.def names the kind: a kind
// listed there without its definition fails to link.
#define CASTNET_OP(name) const OpDef& name##_op();
#include "ir/op_kinds.def"
#undef CASTNET_OP

const OpDef& op_def(ir::OpKind kind) {
  switch (kind) {
#define CASTNET_OP(name) \
  case ir::OpKind::name: \
    return name##_op();
#include "ir/op_kinds.def"
#undef CASTNET_OP
  }
  throw std::logic_error("op_def: not a layer kind");
}

const OpDef* op_for_type(std::string_view type, ir::Layer& l) {
  if (ir::activation_from_string(std::string(type), l.activation.kind)) {
    l.kind = ir::OpKind::activation;
    return &activation_op();
  }
  // Every other kind is spelt in specs as its OpKind name.
#define CASTNET_OP(name)                                   \
  if (type == #name && ir::OpKind::name != ir::OpKind::activation) { \
    l.kind = ir::OpKind::name;                             \
    return &op_def(l.kind);                                \
  }
#include "ir/op_kinds.def"
#undef CASTNET_OP
  return nullptr;
}

std::string known_types() {
  std::string s;
#define CASTNET_OP(name) \
  if (ir::OpKind::name != ir::OpKind::activation) s += std::string(#name) + ", ";
#include "ir/op_kinds.def"
#undef CASTNET_OP
  return s + "or an activation: " + ir::activation_names();
}

}  // namespace castnet::ops
