// The whole generator as one call: read a spec, run the passes, emit, write. Used by castnet-gen
// (CMake's generator) and by the castnet CLI's gen/train verbs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "emit/quantize.hpp"
#include "ir/graph.hpp"
#include "ir/limits.hpp"
#include "spec/spec.hpp"

namespace castnet::gen {

struct GenRequest {
  std::filesystem::path spec;
  std::filesystem::path out_dir;
  std::string header_name;           // empty: "<name>.hpp"
  std::filesystem::path depfile;     // empty: none. Makefile syntax: the header depends on the spec
  bool real_double = false;
  std::string ns;                    // empty: the spec's name
  std::string arch;                  // empty: none (the compile flags decide). Else one of
                                     // emit/arch.hpp's arch_names(): the header checks (scalar:
                                     // selects) the instruction set before its includes; or
                                     // "dispatch": the header and the units of run-time dispatch
  std::size_t batch = 0;             // 0: the spec's batch. Else the model is planned for this batch
                                     // (castnet bench's data-parallel shards)
  bool runner = false;               // the training header a castnet runner compiles: no spec path,
                                     // hash or line numbers, so the same network gives the same bytes
  std::filesystem::path weights;     // not empty: the standalone inference header with these
                                     // weights baked in (castnet export), not the training header
  std::string quantize;              // with weights: "" (float), "int8" or "bf16" (emit/quantize.hpp)
  std::optional<Calibration> calibration;  // with --quantize int8: the activations quantized too, with
                                     // these ranges (cli/calibrate.hpp measures them); data_label
                                     // is the data's name or path as given
  ir::Limits limits;                 // what the spec may ask for (front-ends: limits_from_environment()
                                     // and --limit); they never change the emitted bytes
};

struct GenResult {
  spec::Spec spec;                   // the graph after all passes, and the settings
  std::filesystem::path header;      // the file written (or left alone, when unchanged)
  bool changed = false;              // false: the bytes were identical, the file was not touched
  std::string spec_sha256;
  std::string header_text;
  // --arch dispatch: the units written beside the header ("<stem>_<isa>.cpp", "<stem>_dispatch.cpp"),
  // each path with its text.
  std::vector<std::pair<std::filesystem::path, std::string>> units;
};

// Parses and validates (throws castnet::SpecError) and emits into header_text; writes nothing.
// With weights, reads them and throws castnet::Error naming the file and the tensor when they do
// not fit the spec.
// out_dir and depfile are ignored; header is the path generate() would write.
GenResult emit_header(const GenRequest& request);
// emit_header, then writes the header (only if its bytes changed) and the depfile.
GenResult generate(const GenRequest& request);

// Parses and validates in memory only (check, tests): the graph after every pass, and the
// settings checked against it. batch, if not 0, replaces the spec's batch before the passes plan
// the memory.
spec::Spec load_spec(const std::filesystem::path& spec, std::string* spec_text = nullptr, std::size_t batch = 0,
                     const ir::Limits& limits = {});
// load_spec's graph.
ir::Graph load_graph(const std::filesystem::path& spec, std::string* spec_text = nullptr, std::size_t batch = 0,
                     const ir::Limits& limits = {});

}  // namespace castnet::gen
