// flatten: [C, H, W] to [C H W]. The values are already in row-major order, so only the shape
// changes: z = x (copy.hpp).
#include "reference/kind.hpp"
#include "reference/kinds/copy.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  require(c.layer.params.empty(), c.what + " must have no params");
  c.expect_out({c.layer.in_features});
}

}  // namespace

template <class T>
Kind<T> flatten() {
  return {.check = check, .forward = copy_forward<T>, .backward = copy_backward<T>};
}
template Kind<float> flatten();
template Kind<double> flatten();

}  // namespace castnet::interp::kinds
