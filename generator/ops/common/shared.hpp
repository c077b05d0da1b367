// Pieces several layer kinds share: an activation's forward and backward call (fused into a dense
// or conv layer, or standing alone), reading an activation and its parameter, and shape checks.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "ops/op_def.hpp"
#include "spec/attributes.hpp"

namespace castnet::ops {

// castnet::activation_forward<...>(z, a, alpha) over rows x l.out_features.
std::string activation_forward_code(const ir::Layer& l, std::size_t rows, const std::string& z, const std::string& a);
// castnet::activation_backward<...>(z, a, da, dz, alpha) over kBatch x l.out_features.
std::string activation_backward_code(const ir::Layer& l, const std::string& z, const std::string& a,
                                     const std::string& da, const std::string& dz);
// `alpha` (leaky_relu, elu) or `beta` (softplus) with torch's defaults; an error on any other activation.
ir::ActivationSpec read_activation_params(spec::Attributes& a, ir::Activation kind);
// The optional `activation` key of a layer with an affine part (dense, conv2d), with its parameter.
ir::ActivationSpec read_fused_activation(spec::Attributes& a);
bool has_activation(const ir::Layer& l);
// `headers` and, when the layer applies an activation, the activations' kernel header.
std::vector<std::string> with_activation(const ir::Layer& l, std::vector<std::string> headers);
// Whether a fused activation's backward pass needs its input z, so the layer keeps z beside the
// output. relu and leaky_relu decide on z > 0, which is out > 0 (their slopes are >= 0); tanh,
// sigmoid and softmax use the output alone. The others run in place and save the buffer.
bool keeps_pre_activation(const ir::Layer& l);
// Writes what read_fused_activation reads: `activation` and its parameter, unless identity.
void write_fused_activation(const ir::ActivationSpec& a, spec::KeyWriter& keys);
// Writes `alpha` or `beta`, what read_activation_params reads for the activation.
void write_activation_params(const ir::ActivationSpec& a, spec::KeyWriter& keys);
// He initialisation before the relu family, Glorot otherwise.
ir::Init weight_init(ir::Activation after);

// The layer's trainable tensor <layer>.<suffix> (PyTorch's name; the C++ member <layer>_<suffix>).
ir::ParamTensor param_tensor(const ir::Layer& l, const std::string& suffix, ir::Shape shape, std::string layout,
                             ir::Init init, std::size_t fan_in, std::size_t fan_out);

// "3x3": a (height, width) pair in messages and comments.
std::string pair_text(const std::array<std::size_t, 2>& p);
// "castnet::Conv2dShape<C, H, W, F, KH, KW, SH, SW, PH, PW>": the conv and pooling kernels' template
// argument, from the layer's input and output shapes, kernel, stride and padding.
std::string conv_shape_arg(const ir::Layer& l);
// Fails unless the layer's input is flat features ("add a flatten layer" otherwise).
void require_flat(const ir::Layer& l, const LayerError& fail, const std::string& kind);
// Fails unless the layer's input is an image [channels, height, width].
void require_image(const ir::Layer& l, const LayerError& fail, const std::string& kind);

}  // namespace castnet::ops
