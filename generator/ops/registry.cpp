// OpKind -> OpDef, and spec type names -> layer kinds.
#include "ops/op_def.hpp"

namespace castnet::ops {

// Defined in each kind's file.
const OpDef& dense_op();
const OpDef& activation_op();
const OpDef& dropout_op();
const OpDef& conv2d_op();
const OpDef& maxpool2d_op();
const OpDef& avgpool2d_op();
const OpDef& flatten_op();
const OpDef& add_op();
const OpDef& concat_op();
const OpDef& glu_op();
const OpDef& prelu_op();

const OpDef& op_def(ir::OpKind kind) {
  switch (kind) {
    case ir::OpKind::dense: return dense_op();
    case ir::OpKind::activation: return activation_op();
    case ir::OpKind::dropout: return dropout_op();
    case ir::OpKind::conv2d: return conv2d_op();
    case ir::OpKind::maxpool2d: return maxpool2d_op();
    case ir::OpKind::avgpool2d: return avgpool2d_op();
    case ir::OpKind::flatten: return flatten_op();
    case ir::OpKind::add: return add_op();
    case ir::OpKind::concat: return concat_op();
    case ir::OpKind::glu: return glu_op();
    case ir::OpKind::prelu: return prelu_op();
  }
  return dense_op();  // unreachable: the switch covers every kind (-Werror=switch)
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
