// ir::OpKind -> the kind's functions: the one place the reference dispatches on the layer kind.
// Each kinds/<kind>.cpp defines kinds::<kind><T>(), named as ir/op_kinds.def names the kind; the
// declarations and the switch below come from that list, so a kind listed there without its file
// fails to link.
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
#define CASTNET_OP(name) \
  case ir::OpKind::name: \
    return kinds::name<T>();
#include "ir/op_kinds.def"
#undef CASTNET_OP
  }
  throw std::logic_error("interpreter: unknown layer kind");
}

template Kind<float> kind_of(ir::OpKind);
template Kind<double> kind_of(ir::OpKind);

}  // namespace castnet::interp
