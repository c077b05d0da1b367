// concat: per sample, the inputs' values one after another, in `inputs` order. Inputs
// [c_i, H, W] with one H and W give [sum c_i, H, W] (channels concatenate); otherwise the output
// is flat.
#include <algorithm>

#include "reference/kind.hpp"

namespace castnet::interp::kinds {
namespace {

void check(const Check& c) {
  const ir::Layer& layer = c.layer;
  require(layer.params.empty(), c.what + " must have no params");
  // An explicit [C, H, W] output needs [C, H, W] inputs of the same H and W.
  if (layer.out_shape.size() == 3) {
    const ir::Shape& s0 = c.in_shapes[0];
    ir::Shape expected{0, s0.size() == 3 ? s0[1] : 0, s0.size() == 3 ? s0[2] : 0};
    for (const auto& s : c.in_shapes) {
      require(s.size() == 3 && s[1] == expected[1] && s[2] == expected[2],
              c.what + " outputs " + ir::shape_text(layer.out_shape) +
                  " but its inputs are not all [C, H, W] with the same H and W");
      expected[0] += s[0];
    }
    c.expect_out(expected);
  } else {
    c.expect_out({layer.in_features});
  }
}

// z = (x_1, ..., x_k) per sample
template <class T>
void forward(const Forward<T>& p) {
  for (std::size_t s = 0; s < p.n; s++) {
    std::size_t offset = 0;
    for (std::size_t i = 0; i < p.in.size(); i++) {
      const std::size_t m = p.in_sizes[i];
      std::copy(p.in[i] + s * m, p.in[i] + (s + 1) * m, p.z + s * p.m_out + offset);
      offset += m;
    }
  }
}

// z = (x_1, ..., x_k)  =>  each input gets its slice of dz back.
template <class T>
void backward(const Backward<T>& p) {
  for (std::size_t s = 0; s < p.n; s++) {
    std::size_t offset = 0;
    for (std::size_t i = 0; i < p.gin.size(); i++) {
      const std::size_t m = p.in_sizes[i];
      for (std::size_t v = 0; v < m; v++) p.gin[i][s * m + v] += p.dz[s * p.m_out + offset + v];
      offset += m;
    }
  }
}

}  // namespace

template <class T>
Kind<T> concat() {
  return {.max_inputs = kAnyNumber, .check = check, .forward = forward<T>, .backward = backward<T>};
}
template Kind<float> concat();
template Kind<double> concat();

}  // namespace castnet::interp::kinds
