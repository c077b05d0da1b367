// The weights castnet bench's contenders start from, as a weights file can hold them: castnet's
// initialisation of every tensor of a graph with one seed. The tests' real-time checks export
// specs with them too (tests/realtime/).
#pragma once

#include <castnet/io/safetensors.hpp>

#include <cstdint>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::cli {

// Tensor by tensor in the order of the generated header's kTensors (the graph's layers, then each
// layer's tensors), as init_params<M>(p, seed) fills a generated model's Params.
std::vector<io::TensorData> initial_weights(const ir::Graph& g, std::uint64_t seed);

}  // namespace castnet::cli
