// Limits on what a spec may ask for, so hostile or mistaken specs fail early with a clear error
// instead of exhausting memory, compile time or integer ranges. Documented in specs/README.md.
//
// Whoever runs the generator may change them (never the spec itself: a hostile spec must not
// raise its own limits): the front-ends read CASTNET_LIMITS from the environment, then
// `--limit key=N,...` (castnet-gen, castnet check|gen|train|eval|predict|export|bench). Limits
// decide only whether a spec is accepted; they never change the code that is emitted.
//
// Each limit has a ceiling it cannot be raised past. The ceilings keep the shape arithmetic in 64
// bits: a layer's inputs and outputs hold at most 2^32 values per sample, units and batch are at
// most 2^24, so a weight matrix (2^56), a batch of outputs (2^56) or a conv's FLOPs (2^61) fit;
// element counts, FLOP totals and the memory plan saturate rather than wrap (ir::sat_mul/sat_add).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

namespace castnet::ir {

struct Limits {
  std::uint64_t units = 1u << 16;        // units of a layer, filters of a conv, and each input size
  std::uint64_t batch = 1u << 16;        // compile-time batch
  std::uint64_t layers = 1024;           // [[layer]] tables, and the names in one layer's `inputs`
  std::uint64_t inputs = 4096;           // names in all layers' `inputs` together (the graph's edges)
  std::uint64_t spec_bytes = 1u << 20;   // spec file size
  std::uint64_t features = 1u << 26;     // values of one sample at the input and at a layer's output
  std::uint64_t window = 256;            // conv kernel and pooling window sides, strides, padding
  std::uint64_t patch = 1u << 20;        // conv: input channels x kernel height x kernel width
  std::uint64_t params = 1ull << 28;     // trainable values (1 GiB of float)
  std::uint64_t workspace = 1ull << 28;  // Workspace values (one batch) and its input
  std::uint64_t stack = 1ull << 18;      // values forward() keeps on the stack for one sample
  std::uint64_t code_bytes = 1ull << 23; // bytes of the generated training header (8 MiB)
};

struct LimitInfo {
  std::string_view key;  // as --limit and CASTNET_LIMITS name it
  std::uint64_t Limits::*value;
  std::uint64_t ceiling;  // the largest value it may be set to
  std::string_view what;
};
// Every limit, in the order of the struct (and of the spec reference's table).
std::span<const LimitInfo> limit_table();

// `base` with the settings of `text` applied: "key=N[,key=N...]", N a positive integer written
// as digits, 2^K or MeK (e.g. params=1e9, layers=2^12). Throws std::invalid_argument naming the
// key and the rule (unknown key, not a number, 0, over the ceiling).
Limits parse_limits(std::string_view text, Limits base);
// The defaults with CASTNET_LIMITS applied (when set); throws as parse_limits, naming the variable.
Limits limits_from_environment();

inline std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}
inline std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  return b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b ? std::numeric_limits<std::uint64_t>::max() : a * b;
}

}  // namespace castnet::ir
