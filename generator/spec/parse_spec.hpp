// Reading a spec (TOML) into the graph IR and its settings. Syntax-level rules only; run_passes()
// completes the graph.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "ir/limits.hpp"
#include "spec/spec.hpp"

namespace castnet::spec {

// Throws castnet::SpecError ("file:line:col: error: ...") on any problem. `file` names the spec in
// diagnostics. The graph carries `limits` for the passes and the emitter.
Spec parse_spec_text(std::string_view text, const std::string& file, const ir::Limits& limits = {});
// Reads the file (at most limits.spec_bytes); if text_out is given it receives the exact bytes
// read (for hashing).
Spec parse_spec_file(const std::filesystem::path& path, std::string* text_out = nullptr,
                          const ir::Limits& limits = {});

}  // namespace castnet::spec
