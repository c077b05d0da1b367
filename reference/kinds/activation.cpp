// activation: a standalone activation layer. Its own formula is z = x (copy.hpp); the interpreter
// then applies layer.activation to z as it does for a fused one (activations.cpp holds the math).
#include "reference/kind.hpp"
#include "reference/kinds/copy.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  require(c.layer.params.empty() && c.layer.in_features == c.layer.out_features,
          c.what + " must have no params and as many outputs as inputs");
}

}  // namespace

template <class T>
Kind<T> activation() {
  return {.check = check, .forward = copy_forward<T>, .backward = copy_backward<T>};
}
template Kind<float> activation();
template Kind<double> activation();

}  // namespace castnet::interp::kinds
