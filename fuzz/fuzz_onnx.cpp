// fuzz_onnx: bytes -> a scratch file -> cli::import_onnx, then what `castnet import` does with the
// result (cli/import.cpp): the spec text written, parsed back and run through the passes. A model
// castnet cannot hold throws castnet::Error (import) or castnet::SpecError (the passes); anything
// else escaping (such as write_spec's std::logic_error for a name the import let through), a crash
// or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>

#include <castnet/error.hpp>

#include "import_onnx.hpp"
#include "passes/passes.hpp"
#include "spec/parse_spec.hpp"
#include "spec/write_spec.hpp"
#include "ir/diagnostic.hpp"

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static castnet::fuzz::ScratchFile file;
  try {
    const castnet::cli::ImportedModel m = castnet::cli::import_onnx(file.write(data, size));
    const std::string text = castnet::spec::write_spec(m.spec, m.notes);
    castnet::ir::Graph g = castnet::spec::parse_spec_text(text, "imported.toml").graph;
    castnet::passes::run_passes(g);
  } catch (const castnet::Error&) {
  } catch (const castnet::SpecError&) {
  }
  return 0;
}
