// OpKind -> OpDef, and spec type names -> layer kinds.
#include "ops/op_def.hpp"

namespace castnet::ops {

// Defined in each kind's file.
const OpDef& dense_op();
const OpDef& activation_op();
const OpDef& dropout_op();

const OpDef& op_def(ir::OpKind kind) {
  switch (kind) {
    case ir::OpKind::dense: return dense_op();
    case ir::OpKind::activation: return activation_op();
    case ir::OpKind::dropout: return dropout_op();
  }
  return dense_op();  // unreachable: the switch covers every kind (-Werror=switch)
}

const OpDef* op_for_type(std::string_view type, ir::Layer& l) {
  if (type == "dense") {
    l.kind = ir::OpKind::dense;
    return &dense_op();
  }
  if (type == "dropout") {
    l.kind = ir::OpKind::dropout;
    return &dropout_op();
  }
  if (ir::activation_from_string(std::string(type), l.activation.kind)) {
    l.kind = ir::OpKind::activation;
    return &activation_op();
  }
  return nullptr;
}

std::string known_types() { return "dense, dropout or an activation: " + ir::activation_names(); }

}  // namespace castnet::ops
