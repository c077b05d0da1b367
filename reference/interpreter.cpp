// The reference interpreter's graph walk: it wires each layer to its inputs and checks the IR
// fields every kind relies on, then hands the layer to its kind (kind.hpp, kinds/<kind>.cpp) for
// the check of its formula's tensors and shapes, the forward pass and the backward pass, applying
// the layer's activation (activations.cpp) between the kind and the next layer. The losses are
// written out here, llm.c style: one plain loop nest per formula, following PyTorch's definition,
// the math of the derivative written once beside the code. Switches over the IR's enums have no
// default, so a new loss fails to compile (-Werror=switch) until it is written out here too.
#include "reference/interpreter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "reference/activations.hpp"
#include "reference/kind.hpp"

namespace castnet::interp {

template <class T>
Interpreter<T>::Interpreter(const ir::Graph& g) : graph_(g) {
  // The passes guarantee these; checking them here keeps a malformed hand-built graph from turning
  // into out-of-bounds reads in the reference everything else is judged by.
  const ir::Shape input_shape =
      graph_.input_shape.empty() ? ir::Shape{graph_.input_features()} : graph_.input_shape;
  for (std::size_t k = 0; k < graph_.layers.size(); k++) {
    const auto& layer = graph_.layers[k];
    const Kind<T> kind = kind_of<T>(layer.kind);
    const std::string what = std::string(ir::to_string(layer.kind)) + " layer '" + layer.name + "'";
    const std::size_t out = layer.out_features;

    // Inputs: an empty list means the previous layer (layer 0: the network's input).
    Wiring wire;
    wire.inputs = layer.inputs;
    if (wire.inputs.empty()) wire.inputs.push_back(k == 0 ? ir::kGraphInput : k - 1);
    require(wire.inputs.size() >= kind.min_inputs && wire.inputs.size() <= kind.max_inputs,
            what + " reads " + std::to_string(wire.inputs.size()) + " inputs but needs " +
                (kind.min_inputs == kind.max_inputs ? std::to_string(kind.min_inputs)
                                                    : "at least " + std::to_string(kind.min_inputs)));
    require(layer.in_shapes.empty() || layer.in_shapes.size() == wire.inputs.size(),
            what + " has " + std::to_string(layer.in_shapes.size()) + " input shapes for " +
                std::to_string(wire.inputs.size()) + " inputs");
    for (std::size_t i = 0; i < wire.inputs.size(); i++) {
      const std::size_t j = wire.inputs[i];
      require(j == ir::kGraphInput || j < k,
              what + " reads layer " + std::to_string(j) + ", which does not come before it");
      const ir::Shape& produced = j == ir::kGraphInput ? input_shape : wiring_[j].out_shape;
      const std::string source = j == ir::kGraphInput ? "the network input" : "layer '" + graph_.layers[j].name + "'";
      const std::size_t size = ir::elements(produced);
      // A layer sees its input as the shape it declares: the producer's, or a flat view of it.
      ir::Shape shape = layer.in_shapes.empty() ? ir::Shape{size} : layer.in_shapes[i];
      require(shape == produced || (shape.size() == 1 && shape[0] == size),
              what + " reads " + ir::shape_text(shape) + " from " + source + ", which gives " + ir::shape_text(produced));
      wire.in_shapes.push_back(std::move(shape));
      wire.in_sizes.push_back(size);
    }
    wire.out_shape = layer.out_shape.empty() ? ir::Shape{out} : layer.out_shape;
    const Check check{layer, what, wire.in_shapes, wire.in_sizes, wire.out_shape};
    kind.check_inputs(check);
    require(ir::elements(wire.out_shape) == out, what + " has out_shape " + ir::shape_text(wire.out_shape) +
                                                     " but " + std::to_string(out) + " out_features");
    for (const auto& p : layer.params) {
      std::size_t size = 1;
      for (auto d : p.shape) size *= d;
      require(p.size == size, "tensor '" + p.torch_name + "' has size " + std::to_string(p.size) +
                                  " but its shape holds " + std::to_string(size));
    }
    kind.check(check);
    first_param_.push_back(params_.size());
    for (const auto& p : layer.params) params_.emplace_back(p.size, T(0));
    wiring_.push_back(std::move(wire));
  }
}

template <class T>
typename Interpreter<T>::Trace Interpreter<T>::run(const T* x, std::size_t n, std::optional<std::uint64_t> dropout_key,
                                                  const Replace* replace) const {
  Trace trace;
  const std::size_t layers = graph_.layers.size();
  trace.z.reserve(layers);
  trace.a.reserve(layers);
  trace.saved.reserve(layers);
  for (std::size_t k = 0; k < layers; k++) {
    const auto& layer = graph_.layers[k];
    const Wiring& wire = wiring_[k];
    const std::size_t m_out = layer.out_features;
    // in[i]: input i for all n samples, (n, wire.in_sizes[i]).
    std::vector<const T*> in;
    for (auto j : wire.inputs) in.push_back(j == ir::kGraphInput ? x : trace.a[j].data());
    std::vector<T>& z = trace.z.emplace_back(n * m_out);
    std::vector<T>& a = trace.a.emplace_back(n * m_out);
    std::vector<T>& saved = trace.saved.emplace_back();
    const std::span<const std::vector<T>> params(params_.begin() + first_param_[k], layer.params.size());
    const Pass<T> pass{layer, k, n, layer.in_features, m_out, wire.in_shapes, wire.in_sizes, in, params};
    if (!replace || !(*replace)(k, in, n, z.data())) kind_of<T>(layer.kind).forward(Forward<T>{pass, z.data(), saved, dropout_key});
    for (std::size_t s = 0; s < n; s++) activate(layer.activation, &z[s * m_out], m_out, &a[s * m_out]);
  }
  return trace;
}

template <class T>
void Interpreter<T>::forward(const T* x, std::size_t n, T* y) const {
  forward(x, n, y, Replace{});
}

template <class T>
void Interpreter<T>::forward(const T* x, std::size_t n, T* y, const Replace& replace) const {
  const Trace trace = run(x, n, std::nullopt, replace ? &replace : nullptr);
  const T* out = trace.a.empty() ? x : trace.a.back().data();
  std::copy(out, out + n * graph_.output_features(), y);
}

template <class T>
T Interpreter<T>::loss_of(const T* y, const T* target, std::size_t n, T* dy) const {
  require(n > 0, "a loss needs at least one sample");
  const std::size_t m = graph_.output_features();
  switch (graph_.loss.kind) {
    case ir::LossKind::mse: {
      // nn.MSELoss: L = sum (y - t)^2 / (n m)  =>  dL/dy = 2 (y - t) / (n m).
      const T count = static_cast<T>(n * m);
      T sum = 0;
      for (std::size_t i = 0; i < n * m; i++) {
        const T d = y[i] - target[i];
        sum += d * d;
        if (dy) dy[i] = T(2) * d / count;
      }
      return sum / count;
    }
    case ir::LossKind::binary_cross_entropy: {
      // nn.BCEWithLogitsLoss on logits y: per element l = -t log s(y) - (1 - t) log(1 - s(y))
      // = log(1 + e^y) - t y, written max(y, 0) - t y + log1p(e^-|y|) so no exp overflows.
      // dl/dy = s(y) - t; the mean is over all n m elements.
      const T count = static_cast<T>(n * m);
      T sum = 0;
      for (std::size_t i = 0; i < n * m; i++) {
        sum += std::max(y[i], T(0)) - target[i] * y[i] + std::log1p(std::exp(-std::abs(y[i])));
        if (dy) dy[i] = (sigmoid(y[i]) - target[i]) / count;
      }
      return sum / count;
    }
    case ir::LossKind::softmax_cross_entropy: {
      // nn.CrossEntropyLoss on logits y with class c: per sample l = logsumexp(y) - y_c, the max
      // subtracted inside logsumexp.  dl/dy_j = softmax(y)_j - [j == c]; the mean is over n samples.
      T sum = 0;
      for (std::size_t s = 0; s < n; s++) {
        const T* row = y + s * m;
        const T c = target[s];
        require(c >= T(0) && c < static_cast<T>(m) && c == std::floor(c),
                "sample " + std::to_string(s) + ": class index " + std::to_string(c) + " is not one of 0.." +
                    std::to_string(m - 1));
        const auto cls = static_cast<std::size_t>(c);
        T ymax = -std::numeric_limits<T>::infinity();
        for (std::size_t j = 0; j < m; j++) ymax = std::max(ymax, row[j]);
        T sumexp = 0;
        for (std::size_t j = 0; j < m; j++) sumexp += std::exp(row[j] - ymax);
        sum += ymax + std::log(sumexp) - row[cls];
        if (dy)
          for (std::size_t j = 0; j < m; j++)
            dy[s * m + j] = (std::exp(row[j] - ymax) / sumexp - (j == cls ? T(1) : T(0))) / static_cast<T>(n);
      }
      return sum / static_cast<T>(n);
    }
  }
  throw std::logic_error("interpreter: unknown loss kind");
}

template <class T>
void Interpreter<T>::backprop(const Trace& trace, const T* x, const T* dy, std::size_t n,
                              std::vector<std::vector<T>>& grads, T* dx) const {
  grads.resize(params_.size());
  for (std::size_t p = 0; p < params_.size(); p++) grads[p].assign(params_[p].size(), T(0));
  const std::size_t layers = graph_.layers.size();
  // gx is dLoss/dx and g[k] dLoss/d(output of layer k), each summed over the layers that read the
  // value; walking from the last layer to the first, every reader of layer k has added its share
  // by the time k is reached (readers come after what they read).
  std::vector<T> gx(n * graph_.input_features(), T(0));
  if (layers == 0) std::copy(dy, dy + gx.size(), gx.begin());
  std::vector<std::vector<T>> g(layers);
  for (std::size_t k = 0; k < layers; k++) g[k].assign(n * graph_.layers[k].out_features, T(0));
  if (layers > 0) std::copy(dy, dy + g.back().size(), g.back().begin());
  for (std::size_t k = layers; k-- > 0;) {
    const auto& layer = graph_.layers[k];
    const Wiring& wire = wiring_[k];
    const std::size_t m_out = layer.out_features;
    // in[i] as in run(); gin[i] accumulates dLoss/d(input i).
    std::vector<const T*> in;
    std::vector<T*> gin;
    for (auto j : wire.inputs) {
      in.push_back(j == ir::kGraphInput ? x : trace.a[j].data());
      gin.push_back(j == ir::kGraphInput ? gx.data() : g[j].data());
    }
    std::vector<T> dz(n * m_out);
    for (std::size_t s = 0; s < n; s++)
      activate_backward(layer.activation, &trace.z[k][s * m_out], &trace.a[k][s * m_out], &g[k][s * m_out], m_out,
                        &dz[s * m_out]);
    const std::span<const std::vector<T>> params(params_.begin() + first_param_[k], layer.params.size());
    const Pass<T> pass{layer, k, n, layer.in_features, m_out, wire.in_shapes, wire.in_sizes, in, params};
    const std::span<std::vector<T>> layer_grads(grads.begin() + first_param_[k], layer.params.size());
    kind_of<T>(layer.kind).backward(Backward<T>{pass, dz.data(), trace.saved[k], gin, layer_grads});
    std::vector<T>().swap(g[k]);  // read by no one else: every reader came after it
  }
  if (dx) std::copy(gx.begin(), gx.end(), dx);
}

template <class T>
T Interpreter<T>::loss(const T* x, const T* target, std::size_t n) const {
  const Trace trace = run(x, n, std::nullopt);
  return loss_of(trace.a.empty() ? x : trace.a.back().data(), target, n, nullptr);
}

template <class T>
T Interpreter<T>::loss_and_grad(const T* x, const T* target, std::size_t n, std::vector<std::vector<T>>& grads,
                                T* dx, std::optional<std::uint64_t> dropout_key) const {
  const Trace trace = run(x, n, dropout_key);
  std::vector<T> dy(n * graph_.output_features());
  const T value = loss_of(trace.a.empty() ? x : trace.a.back().data(), target, n, dy.data());
  backprop(trace, x, dy.data(), n, grads, dx);
  return value;
}

template <class T>
void Interpreter<T>::backward(const T* x, const T* dy, std::size_t n, std::vector<std::vector<T>>& grads,
                              T* dx, std::optional<std::uint64_t> dropout_key) const {
  backprop(run(x, n, dropout_key), x, dy, n, grads, dx);
}

template class Interpreter<float>;
template class Interpreter<double>;

}  // namespace castnet::interp
