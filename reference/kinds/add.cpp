// add: z = x_1 + ... + x_k, two or more inputs of one shape (a residual connection, say).
#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

// Unlike every other kind, in_features is one input's size, not their total.
void check_inputs(const Check& c) {
  const std::size_t in = c.layer.in_features;
  for (std::size_t i = 0; i < c.in_sizes.size(); i++)
    require(c.in_sizes[i] == in && c.in_shapes[i] == c.in_shapes[0],
            c.what + " adds inputs of different shapes (" + ir::shape_text(c.in_shapes[0]) + " and " +
                ir::shape_text(c.in_shapes[i]) + ") or not of its " + std::to_string(in) + " features");
}

void check(const Check& c) {
  require(c.layer.params.empty(), c.what + " must have no params");
  c.expect_out(c.in_shapes[0]);
}

// z = sum of the inputs
template <class T>
void forward(const Forward<T>& p) {
  for (std::size_t i = 0; i < p.n * p.m_out; i++) {
    T sum = 0;
    for (const T* input : p.in) sum += input[i];
    p.z[i] = sum;
  }
}

// z = sum of the inputs  =>  each input gets dz.
template <class T>
void backward(const Backward<T>& p) {
  for (T* gi : p.gin)
    for (std::size_t i = 0; i < p.n * p.m_out; i++) gi[i] += p.dz[i];
}

}  // namespace

template <class T>
Kind<T> add() {
  return {.min_inputs = 2,
          .max_inputs = kAnyNumber,
          .check_inputs = check_inputs,
          .check = check,
          .forward = forward<T>,
          .backward = backward<T>};
}
template Kind<float> add();
template Kind<double> add();

}  // namespace castnet::interp::kinds
