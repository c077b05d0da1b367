// ir::OpKind -> the kind's functions: the one place the reference dispatches on the layer kind.
// Each kinds/<kind>.cpp defines kinds::<kind><T>(), named as ir/op_kinds.def names the kind (the
// declarations below come from that list). The switch has no default, so a kind listed there but
// not here fails to compile (-Werror=switch); one listed here without its file fails to link.
#include <stdexcept>

#include "reference/kind.hpp"

namespace castnet::interp {

namespace kinds {
#define CASTNET_OP(name) \
  template <class T>     \
  Kind<T> name();
#include "ir/op_kinds.def"
#undef CASTNET_OP
}  // namespace kinds

template <class T>
Kind<T> kind_of(ir::OpKind kind) {
  switch (kind) {
    case ir::OpKind::dense: return kinds::dense<T>();
    case ir::OpKind::activation: return kinds::activation<T>();
    case ir::OpKind::dropout: return kinds::dropout<T>();
    case ir::OpKind::conv2d: return kinds::conv2d<T>();
    case ir::OpKind::maxpool2d: return kinds::maxpool2d<T>();
    case ir::OpKind::avgpool2d: return kinds::avgpool2d<T>();
    case ir::OpKind::flatten: return kinds::flatten<T>();
    case ir::OpKind::add: return kinds::add<T>();
    case ir::OpKind::concat: return kinds::concat<T>();
    case ir::OpKind::glu: return kinds::glu<T>();
    case ir::OpKind::prelu: return kinds::prelu<T>();
  }
  throw std::logic_error("interpreter: unknown layer kind");
}

template Kind<float> kind_of(ir::OpKind);
template Kind<double> kind_of(ir::OpKind);

}  // namespace castnet::interp
