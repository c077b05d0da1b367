// What the suite's workloads need from the graph: FLOP counts, inputs and targets, and the check
// that a contender's outputs match the generated code's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::bench {

// FLOPs per sample: the forward pass, and a training step (forward, parameter gradients, and the
// input gradient of every layer but those that read only the network's input).
double forward_flops(const ir::Graph& g);
double training_flops(const ir::Graph& g);

// Memory on 64-byte boundaries, as castnet's trainer keeps its batches (castnet/data/dataset.hpp's
// Batch): a row of a multiple of 16 floats then starts a cache line, so that no full-width load of
// a kernel reading it straddles two. With malloc's 16-byte alignment, every AVX-512 load of the
// rows of a 784-input batch did, and forward_batch took 1.3 times as long.
template <class T>
struct CacheAligned {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheAligned() = default;
  template <class U>
  CacheAligned(const CacheAligned<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlign); }
  friend bool operator==(const CacheAligned&, const CacheAligned&) { return true; }
};
using Floats = std::vector<float, CacheAligned<float>>;

// Random inputs in [0, 1) and targets that fit the loss, for n samples.
struct Data {
  Floats x, target;
};
Data make_data(const ir::Graph& g, std::size_t n, std::uint64_t seed);

// "" if got matches want (max |got - want| <= tol · max(1, max |want|)), else what differs.
std::string mismatch(const float* got, const float* want, std::size_t n, double tol);
// "" if got and want hold the same bits, else how many outputs differ and the largest difference.
std::string bitwise_mismatch(const float* got, const float* want, std::size_t n);

}  // namespace castnet::bench
