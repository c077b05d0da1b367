// Same-run machine probes, the denominators of the suite's tables: the FMA peak of one core and the
// read bandwidth of a cache-resident array. The shared machine's clock moves between runs (3.5 to
// 4.3 GHz), so every repetition measures them again beside the contenders.
#pragma once

#include <cstddef>

namespace castnet::bench {

// Runs one block of 16 independent chains of full-width FMAs (every lane of the widest vector the
// library was built for): fma_block_flops() FLOPs.
void fma_block() noexcept;
double fma_block_flops() noexcept;

// Reads a buffer of `bytes` rounded up to whole steps (set up by the first call with that size, kept
// across calls) with several accumulators of full-width vectors: read_block_bytes(bytes) bytes.
void read_block(std::size_t bytes) noexcept;
double read_block_bytes(std::size_t bytes) noexcept;

}  // namespace castnet::bench
