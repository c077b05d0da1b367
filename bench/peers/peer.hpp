// A dynamic implementation of a spec that the benchmark suite times against the generated code:
// what a user would otherwise write (Eigen) or pick (libtorch). Built at run time from the same
// graph IR the generator reads, loaded with the same weights, and checked against the generated
// code before anything is timed.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::bench {

class Peer {
 public:
  virtual ~Peer() = default;

  // Parameters in PyTorch layout, one vector per ir::ParamTensor in layer order then tensor order
  // (the interpreter's params() order): dense weight (out, in) row-major then bias (out); conv2d
  // weight (F, C, KH, KW) then bias (F).
  virtual void set_params(const std::vector<std::vector<float>>& params) = 0;
  virtual std::vector<std::vector<float>> params() const = 0;

  // y = net(x) for n samples, x (n, inputs) and y (n, outputs) row-major. Inference: dropout is
  // the identity. Buffers are kept between calls with the same n.
  virtual void forward(const float* x, std::size_t n, float* y) = 0;

  // One plain SGD step on n samples (w -= lr * dLoss/dw, loss the mean over the batch as PyTorch
  // reduces it; softmax cross-entropy targets are class indices stored as floats). Returns the
  // loss before the update.
  virtual float train_step(const float* x, const float* target, std::size_t n, float lr) = 0;
};

}  // namespace castnet::bench
