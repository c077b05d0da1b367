// fuzz_spec: bytes -> spec parser (toml++ and castnet's rules) -> every pass -> the training
// header's emission, all in memory. A spec the generator rejects throws castnet::SpecError (or
// castnet::Error); anything else escaping, a crash or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <castnet/error.hpp>
#include <castnet/version.hpp>

#include "emit/emit_model.hpp"
#include "ir/print_ir.hpp"
#include "passes/passes.hpp"
#include "spec/parse_spec.hpp"
#include "ir/diagnostic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    castnet::spec::Spec s = castnet::spec::parse_spec_text(text, "fuzz.toml");
    castnet::ir::Graph& g = s.graph;
    castnet::passes::run_passes(g);
    castnet::spec::validate_settings(s);
    (void)castnet::ir::print_ir(g);
    castnet::gen::EmitOptions o;
    o.spec_label = "fuzz.toml";
    o.sha256 = "0";
    o.version = CASTNET_VERSION_STRING;
    o.abi = CASTNET_RUNTIME_ABI;
    o.real_double = size % 2 == 1;  // both element types, chosen by the input
    (void)castnet::gen::emit_model(g, o);
  } catch (const castnet::SpecError&) {
  } catch (const castnet::Error&) {
  }
  return 0;
}
