// The same-run bandwidth probe, the denominator of the latency tables' floor: the read bandwidth of
// an array as large as a model's weights (the FMA peak's probe is fma_probe.hpp, built with the
// runner's instruction set). The shared machine's clock moves between runs, so every repetition
// measures both again beside the contenders.
#pragma once

#include <cstddef>

namespace castnet::bench {

// Reads a buffer of `bytes` rounded up to whole steps (set up by the first call with that size, kept
// across calls) with several accumulators of full-width vectors: read_block_bytes(bytes) bytes.
void read_block(std::size_t bytes) noexcept;
double read_block_bytes(std::size_t bytes) noexcept;

}  // namespace castnet::bench
