// Emission of the model header from a graph that has been through run_passes().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::gen {

struct EmitOptions {
  bool real_double = false;  // emit `using real = double`
  std::string ns;            // C++ namespace; empty: the spec's name (must be an identifier)
  std::string spec_label;    // how the banner names the spec (no absolute paths: output stays reproducible);
                             // empty: a runner's header (GenRequest::runner), which names no spec
  std::string sha256;        // of the spec's bytes; empty for a runner's header
  std::string version;       // castnet-gen version
  std::string arch;          // --arch: one of arch_names() (emit/arch.hpp) or "dispatch"; empty: none, no guard
  std::string gen_flags;     // the options beyond the defaults, for the banner's "regenerate" line
  std::uint32_t abi = 1;     // must equal CASTNET_RUNTIME_ABI
};

// The training header; options.arch must not be "dispatch".
std::string emit_model(const ir::Graph& g, const EmitOptions& options);

// One file of a generated set.
struct EmittedFile {
  std::string name;  // a plain file name
  std::string text;
};

// --arch dispatch: the header `header_name` (the types, and the functions declared), a unit
// "<stem>_<isa>.cpp" defining the functions for each of dispatch_arches(), and "<stem>_dispatch.cpp",
// which chooses one at the first call. The header comes first.
std::vector<EmittedFile> emit_dispatch(const ir::Graph& g, const EmitOptions& options, const std::string& header_name);

}  // namespace castnet::gen

