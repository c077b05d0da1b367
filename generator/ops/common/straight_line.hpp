// Straight-line code for small affine layers (dense, conv2d): one line per output with every index
// a constant, chosen by the plan where a layer is small enough to read at a glance and to compile
// fast. The layer is described as what it is, a sparse linear map: each output adds a bias and a
// list of weight-times-input taps.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "ops/op_def.hpp"

namespace castnet::ops {

struct Tap {
  std::size_t weight, input;  // indices into <layer>_weight and one sample's input
};
struct LinearOutput {
  std::size_t bias;  // index into <layer>_bias
  std::vector<Tap> taps;
};

// The forward pass over `rows` samples: z = the map of x, then `activation` (rendered code, or "").
std::string straight_line_forward(const ir::Layer& l, const std::vector<LinearOutput>& outputs, std::size_t rows,
                                  const std::string& x, const std::string& z, const std::string& activation);
// The backward pass: `activation` turns dLoss/d(out) into dz, then the parameter gradients
// (BackwardCode::params) and dLoss/dx into dx (BackwardCode::inputs[0]).
BackwardCode straight_line_backward(const ir::Layer& l, const std::vector<LinearOutput>& outputs, const std::string& x,
                                    const std::string& dz, const std::string& activation, const std::string& dx);

}  // namespace castnet::ops
