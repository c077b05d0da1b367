// Limits on what a spec may ask for, so hostile or mistaken specs fail early with a clear error
// instead of exhausting memory, compile time or integer ranges. Documented in specs/README.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace castnet::ir {

inline constexpr std::size_t kMaxUnits = 1u << 16;        // units of a layer, and each input size
inline constexpr std::size_t kMaxBatch = 1u << 16;        // compile-time batch
inline constexpr std::size_t kMaxLayers = 1024;           // [[layer]] tables
inline constexpr std::size_t kMaxSpecBytes = 1u << 20;    // spec file size
inline constexpr std::uint64_t kMaxParams = 1ull << 28;   // trainable values (1 GiB of float)
inline constexpr std::uint64_t kMaxWorkspace = 1ull << 28;  // Workspace values (one batch) and its input
inline constexpr std::uint64_t kMaxStack = 1ull << 18;      // values forward() keeps on the stack for one sample
inline constexpr std::size_t kMaxFeatures = 1u << 26;       // values of one sample at a layer's output
inline constexpr std::size_t kMaxWindow = 256;              // conv kernel and pooling window sides, strides, padding
inline constexpr std::size_t kMaxPatch = 1u << 20;          // conv: input channels x kernel height x kernel width

}  // namespace castnet::ir
