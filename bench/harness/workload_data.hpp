// What the suite's workloads need from the graph: FLOP counts, inputs and targets, and the check
// that a contender's outputs match the generated code's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::bench {

// FLOPs per sample: the forward pass, and a training step (forward, parameter gradients, and the
// input gradient of every layer but those that read only the network's input).
double forward_flops(const ir::Graph& g);
double training_flops(const ir::Graph& g);

// Random inputs in [0, 1) and targets that fit the loss, for n samples.
struct Data {
  std::vector<float> x, target;
};
Data make_data(const ir::Graph& g, std::size_t n, std::uint64_t seed);

// "" if got matches want (max |got - want| <= tol · max(1, max |want|)), else what differs.
std::string mismatch(const float* got, const float* want, std::size_t n, double tol);
// "" if got and want hold the same bits, else how many outputs differ and the largest difference.
std::string bitwise_mismatch(const float* got, const float* want, std::size_t n);

}  // namespace castnet::bench
