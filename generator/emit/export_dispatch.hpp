// `castnet export --dispatch`: the standalone export (emit_export) as the implementation of a set
// of files for run-time dispatch, as --arch dispatch makes for the training header (emit_model).
#pragma once

#include <string>
#include <vector>

#include "emit/emit_export.hpp"
#include "emit/emit_model.hpp"
#include "ir/graph.hpp"

namespace castnet::gen {

// The files, the header first: `header_name` declares predict, predict_batch (classify for a
// classifier) and isa(); "<stem>_impl.hpp" is `export_text`, the single-instruction-set export;
// "<stem>_<isa>.cpp" compiles it for each of dispatch_arches(); "<stem>_dispatch.cpp" chooses.
std::vector<EmittedFile> export_dispatch(const ir::Graph& g, const ExportOptions& options, std::string export_text,
                                         const std::string& header_name);

}  // namespace castnet::gen
