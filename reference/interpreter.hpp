// castnet's reference interpreter: runs a graph IR network with plain scalar loops and runtime shapes.
// Generated SIMD code is tested against it, so it shares no code with the SIMD runtime: every
// layer, activation, loss and gradient is written out from its formula (each layer kind in
// kinds/<kind>.cpp, the activations in activations.cpp, the losses in interpreter.cpp),
// following PyTorch's definitions (defaults, conventions at kinks, softplus's threshold, loss
// reductions, max pooling's ties). The network is a DAG: each layer reads Layer::inputs (empty: the
// previous layer), and a value read by several layers gets the sum of their gradients.
// Clarity wins over speed here; it is a reference, not a baseline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::interp {

template <class T>
class Interpreter {
 public:
  // Keeps a copy of g, whose shapes and params the passes have filled, and zero-initialises the
  // parameters. Throws std::invalid_argument if the layers' inputs, shapes or param tensors do not
  // fit together (each kind's tensors and output shape are checked against its formula).
  explicit Interpreter(const ir::Graph& g);

  const ir::Graph& graph() const { return graph_; }

  // One vector per ParamTensor, in layer order then tensor order, torch layout
  // (dense: weight (out, in) row-major, then bias (out); conv2d: weight (F, C, KH, KW), bias (F);
  // glu: weight (2U, in), bias (2U); prelu: weight (C)).
  std::vector<std::vector<T>>& params() { return params_; }
  const std::vector<std::vector<T>>& params() const { return params_; }

  // Outputs of the last layer: x is (n, inputs), y is (n, outputs), both row-major.
  void forward(const T* x, std::size_t n, T* y) const;

  // Called before each layer's formula with the layer's index, its inputs (each (n, its size)) and
  // n; returns true when it wrote the layer's pre-activation z (n, out_features) itself, which the
  // interpreter then activates as always. castnet's evaluation of a calibrated int8 export
  // (cli/calibrate.cpp) measures the quantized layers' inputs so, and computes those layers.
  using Replace = std::function<bool(std::size_t layer, const std::vector<const T*>& in, std::size_t n, T* z)>;
  // forward() with `replace` consulted at every layer.
  void forward(const T* x, std::size_t n, T* y, const Replace& replace) const;

  // The loss of network outputs y (n, outputs) against target, as loss() reduces it.
  T output_loss(const T* y, const T* target, std::size_t n) const { return loss_of(y, target, n, nullptr); }

  // Loss over n samples with PyTorch's default reduction: target is (n, targets_per_sample()).
  T loss(const T* x, const T* target, std::size_t n) const;

  // The same loss, plus its gradient: grads is resized like params() and overwritten; dx, if not
  // null, receives dLoss/dx, (n, inputs). With a dropout key this is a training pass, as the
  // generated train_step with that key: dropout layers apply the masks castnet::rng::dropout_keep
  // defines. Without one, dropout is the identity.
  T loss_and_grad(const T* x, const T* target, std::size_t n, std::vector<std::vector<T>>& grads,
                  T* dx, std::optional<std::uint64_t> dropout_key = std::nullopt) const;

  // Backward from a given gradient dy (n, outputs) at the network output; fills grads and dx as
  // loss_and_grad does.
  void backward(const T* x, const T* dy, std::size_t n, std::vector<std::vector<T>>& grads, T* dx,
                std::optional<std::uint64_t> dropout_key = std::nullopt) const;

 private:
  // What the forward pass leaves for the backward pass, per layer: the pre-activation z (the
  // kind's formula) and the output a = activation(z), each (n, out_features), and what the
  // layer's kind saved for its backward pass (kind.hpp: Forward::saved), most often nothing.
  struct Trace {
    std::vector<std::vector<T>> z, a, saved;
  };

  // A layer's inputs as the constructor resolved them: indices into graph_.layers or
  // ir::kGraphInput (an empty Layer::inputs made explicit), each input's shape and size, and the
  // output's shape (the IR's, or [features] where a hand-built graph left it empty).
  struct Wiring {
    std::vector<std::size_t> inputs;
    std::vector<ir::Shape> in_shapes;
    std::vector<std::size_t> in_sizes;
    ir::Shape out_shape;
  };

  Trace run(const T* x, std::size_t n, std::optional<std::uint64_t> dropout_key, const Replace* replace = nullptr) const;
  // The loss of network outputs y; writes dLoss/dy into dy unless it is null.
  T loss_of(const T* y, const T* target, std::size_t n, T* dy) const;
  void backprop(const Trace& trace, const T* x, const T* dy, std::size_t n,
                std::vector<std::vector<T>>& grads, T* dx) const;

  ir::Graph graph_;
  std::vector<std::vector<T>> params_;
  std::vector<std::size_t> first_param_;  // per layer: index in params_ of its first tensor
  std::vector<Wiring> wiring_;            // per layer
};

extern template class Interpreter<float>;
extern template class Interpreter<double>;

}  // namespace castnet::interp
