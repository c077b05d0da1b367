// Instantiates every kernel that generated inference code calls, for float and double, on small
// shapes that reach each code path (gemv and batched dense; direct, im2col and pointwise conv2d;
// 2x2-stride-2 and general pooling; every activation, one sample and a batch). Compiled by
// kernels_compile_test.cpp with each compiler, language version, optimisation level, instruction
// set and SIMD backend, under the warnings an embedding project may use.
#include <castnet/kernels/activation.hpp>
#include <castnet/kernels/conv2d.hpp>
#include <castnet/kernels/dense.hpp>
#include <castnet/kernels/gemm.hpp>
#include <castnet/kernels/glu.hpp>
#include <castnet/kernels/hardtanh.hpp>
#include <castnet/kernels/math.hpp>
#include <castnet/kernels/merge.hpp>
#include <castnet/kernels/pool2d.hpp>
#include <castnet/kernels/prelu.hpp>
#include <castnet/kernels/simd.hpp>
#include <castnet/kernels/trainable_swish.hpp>

#include <cstddef>

namespace kernels = castnet::kernels;
using castnet::Act;

template <Act A, class T>
void activation(T* a, T* b, T* c, T* d) {
  castnet::activation_forward<A, T, 1, 13>(a, b, T(1));
  castnet::activation_forward<A, T, 3, 13>(a, b, T(1));
  castnet::activation_backward<A, T, 3, 13>(a, b, c, d, T(1));
}

template <class T>
void all_kernels(T* a, T* b, T* c, T* d, T* e) {
  kernels::dense_forward<T, 1, 13, 7>(a, b, c, d);
  kernels::dense_forward<T, 5, 13, 7>(a, b, c, d);
  kernels::dense_backward_input<T, 5, 13, 7>(a, b, c);
  kernels::dense_backward_params<T, 5, 13, 7>(a, b, c, d);

  using Direct = castnet::Conv2dShape<16, 6, 6, 16, 3, 3, 1, 1, 1, 1>;
  using Im2col = castnet::Conv2dShape<3, 7, 5, 5, 3, 2, 2, 1, 1, 0>;
  using Pointwise = castnet::Conv2dShape<3, 4, 5, 6, 1, 1, 1, 1, 0, 0>;
  kernels::conv2d_forward<T, 2, Direct>(a, b, c, d, e);
  kernels::conv2d_forward<T, 2, Direct, Act::relu>(a, b, c, d, e);
  kernels::conv2d_backward_params<T, 2, Direct>(a, b, c, d, e);
  kernels::conv2d_backward_input<T, 2, Direct>(a, b, c, d);
  kernels::conv2d_relu_backward_params<T, 2, Direct>(a, b, c, d, e, a);
  kernels::conv2d_relu_backward_input<T, 2, Direct>(a, b, c, d, e);
  kernels::conv2d_forward<T, 2, Im2col, Act::relu>(a, b, c, d, e);
  kernels::conv2d_backward_params<T, 2, Im2col>(a, b, c, d, e);
  kernels::conv2d_backward_input<T, 2, Im2col>(a, b, c, d);
  kernels::conv2d_forward<T, 2, Pointwise>(a, b, c, d, e);
  kernels::conv2d_backward_params<T, 2, Pointwise>(a, b, c, d, e);
  kernels::conv2d_backward_input<T, 2, Pointwise>(a, b, c, d);

  using Pool2x2 = castnet::Conv2dShape<3, 8, 9, 3, 2, 2, 2, 2, 0, 0>;
  using Pool3x3 = castnet::Conv2dShape<2, 9, 8, 2, 3, 3, 2, 2, 0, 0>;
  kernels::maxpool2d_forward<T, 2, Pool2x2>(a, b);
  kernels::maxpool2d_backward<T, 2, Pool2x2>(a, b, c);
  kernels::maxpool2d_forward<T, 2, Pool3x3>(a, b);
  kernels::maxpool2d_backward<T, 2, Pool3x3>(a, b, c);
  kernels::avgpool2d_forward<T, 2, Pool3x3>(a, b);
  kernels::avgpool2d_backward<T, 2, Pool3x3>(a, b);

  activation<Act::identity>(a, b, c, d);
  activation<Act::relu>(a, b, c, d);
  activation<Act::leaky_relu>(a, b, c, d);
  activation<Act::elu>(a, b, c, d);
  activation<Act::gelu>(a, b, c, d);
  activation<Act::silu>(a, b, c, d);
  activation<Act::tanh>(a, b, c, d);
  activation<Act::sigmoid>(a, b, c, d);
  activation<Act::softplus>(a, b, c, d);
  activation<Act::softmax>(a, b, c, d);

  castnet::glu_forward<T, 3, 5>(a, b);
  castnet::glu_backward<T, 3, 5>(a, b, c);
  castnet::prelu_forward<T, 3, 4, 5>(a, b, c);
  castnet::prelu_backward_params<T, 3, 4, 5>(a, b, c);
  castnet::prelu_backward_input<T, 3, 4, 5>(a, b, c, d);
  castnet::prelu_forward<T, 3, 4, 1>(a, b, c);
  castnet::prelu_backward_params<T, 3, 4, 1>(a, b, c);
  castnet::prelu_backward_input<T, 3, 4, 1>(a, b, c, d);
  castnet::trainable_swish_forward<T, 3, 4, 5>(a, b, c, d, e, a);
  castnet::trainable_swish_backward_params<T, 3, 4, 5>(a, b, c, d, e, a, b, c, d, e);
  castnet::trainable_swish_backward_input<T, 3, 4, 5>(a, b, c, d, e, a, b);
  castnet::trainable_swish_forward<T, 3, 13, 1>(a, b, c, d, e, a);
  castnet::trainable_swish_backward_params<T, 3, 13, 1>(a, b, c, d, e, a, b, c, d, e);
  castnet::trainable_swish_backward_input<T, 3, 13, 1>(a, b, c, d, e, a, b);
  kernels::hardtanh_forward<T, 13>(a, b, T(-1), T(1));
  kernels::hardtanh_backward<T, 13>(a, b, c, T(-1), T(1));
  castnet::add<T, 13>(a, b, c);
  castnet::copy<T, 13>(a, b);
  castnet::accumulate<T, 13>(a, b);
  castnet::copy_into_rows<T, 3, 4, 9, 2>(a, b);
  castnet::copy_from_rows<T, 3, 4, 9, 2>(a, b);
}

template void all_kernels<float>(float*, float*, float*, float*, float*);
template void all_kernels<double>(double*, double*, double*, double*, double*);
