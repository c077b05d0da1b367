// Pieces of code several layer kinds emit: an activation's forward and backward call (fused into
// a dense layer or standing alone), reading an activation's parameter, and the guard around the
// first layer's input gradient.
#pragma once

#include <string>

#include "ir/graph.hpp"
#include "spec/attributes.hpp"

namespace castnet::ops {

// castnet::activation_forward<...>(z, a, alpha) over rows x l.out_features.
std::string activation_forward_code(const ir::Layer& l, std::size_t rows, const std::string& z, const std::string& a);
// castnet::activation_backward<...>(z, a, da, dz, alpha) over kBatch x l.out_features.
std::string activation_backward_code(const ir::Layer& l, const std::string& z, const std::string& a,
                                     const std::string& da, const std::string& dz);
// `alpha` (leaky_relu, elu) or `beta` (softplus) with torch's defaults; an error on any other activation.
ir::ActivationSpec read_activation_params(spec::Attributes& a, ir::Activation kind);
// if (dx != nullptr) { body }
std::string if_dx(std::string body);

}  // namespace castnet::ops
