// What a layer kind gives the reference interpreter: how many inputs it reads, the check of its
// tensors and shapes against its formula, its forward pass and its backward pass. Each kind writes
// these side by side in kinds/<kind>.cpp (llm.c's layernorm_forward beside layernorm_backward),
// and kinds/registry.cpp maps ir::OpKind to them. The interpreter (interpreter.cpp) does the rest:
// it resolves each layer's inputs, applies the layer's activation after the kind's forward pass
// and before its backward pass (activations.cpp), sums the gradients of a value read by several
// layers, and computes the loss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::interp {

// Throws std::invalid_argument("interpreter: " + what) unless ok.
void require(bool ok, const std::string& what);

// A layer as the interpreter's constructor checks it. Before check_inputs, the shared checks have
// found that its inputs come before it and give the shapes it reads; before check, also that
// out_shape holds out_features values and that every tensor's size fits its shape.
struct Check {
  const ir::Layer& layer;
  const std::string& what;                   // "<kind> layer '<name>'", for messages
  const std::vector<ir::Shape>& in_shapes;   // input i as the layer reads it
  const std::vector<std::size_t>& in_sizes;  // input i's values per sample
  const ir::Shape& out_shape;                // the IR's, or [out_features] where it is empty

  // Whether the layer's param tensors are exactly these shapes, in this order.
  bool params_are(const std::vector<ir::Shape>& shapes) const;
  // The output shape the kind's formula gives: an explicit out_shape must be it, an empty one must
  // hold as many values.
  void expect_out(const ir::Shape& expected) const;
};

// The rule for how a layer's inputs make up its in_features that every kind but add follows: the
// inputs' values one after another (a single input: its size).
void check_input_total(const Check& c);

// One layer's pass over n samples. Every buffer is row-major, one row per sample.
template <class T>
struct Pass {
  const ir::Layer& layer;
  std::size_t index;  // the layer's position in the graph (dropout's stream of masks)
  std::size_t n, m_in, m_out;  // samples, layer.in_features, layer.out_features
  const std::vector<ir::Shape>& in_shapes;   // input i's shape as the layer reads it
  const std::vector<std::size_t>& in_sizes;  // input i's values per sample
  const std::vector<const T*>& in;           // input i, (n, in_sizes[i])
  std::span<const std::vector<T>> params;    // the layer's tensors, in ParamTensor order, torch layout
};

template <class T>
struct Forward : Pass<T> {
  T* z;  // the kind's formula goes here, (n, m_out); the interpreter then applies layer.activation
  // Whatever the backward pass needs beyond the inputs (dropout's mask, glu's linear output),
  // sized by the kind; it comes back to backward as it was left.
  std::vector<T>& saved;
  std::optional<std::uint64_t> dropout_key;  // a training pass's key, or none (dropout: the identity)
};

template <class T>
struct Backward : Pass<T> {
  const T* dz;  // dLoss/dz, (n, m_out): the activation's derivative is applied already
  const std::vector<T>& saved;  // as the forward pass left it
  // dLoss/d(input i), (n, in_sizes[i]), and dLoss/d(each param tensor): the kind ADDS its share
  // (a value read by several layers gets the sum; the tensors start at zero).
  const std::vector<T*>& gin;
  std::span<std::vector<T>> grads;
};

inline constexpr std::size_t kAnyNumber = std::numeric_limits<std::size_t>::max();

// A layer kind, as kinds/<kind>.cpp defines it (kinds::<kind><T>()).
template <class T>
struct Kind {
  std::size_t min_inputs = 1, max_inputs = 1;  // how many inputs it reads (kAnyNumber: no limit)
  // How the inputs' sizes make up layer.in_features, checked before the out_shape and tensor sizes.
  void (*check_inputs)(const Check&) = check_input_total;
  // The tensors and shapes its formula needs; throws through require() when they do not fit.
  void (*check)(const Check&) = nullptr;
  void (*forward)(const Forward<T>&) = nullptr;
  void (*backward)(const Backward<T>&) = nullptr;
};

// The kind's functions (kinds/registry.cpp).
template <class T>
Kind<T> kind_of(ir::OpKind kind);

}  // namespace castnet::interp
