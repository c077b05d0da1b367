// See generate.hpp.
#include "generate.hpp"

#include <castnet/version.hpp>

#include <stdexcept>
#include <string>

#include "emit/emit_model.hpp"
#include "ir/identifier.hpp"
#include "ir/limits.hpp"
#include "passes/passes.hpp"
#include "spec/parse_spec.hpp"
#include "support/diagnostic.hpp"
#include "support/sha256.hpp"
#include "support/files.hpp"

namespace castnet::gen {
namespace {

// The banner names the spec without absolute paths, so generated files are reproducible
// across checkouts: relative paths stay as given; absolute ones become relative to the working
// directory when inside it, else just the file name.
std::string spec_label(const std::filesystem::path& spec) {
  if (spec.is_relative()) return spec.lexically_normal().generic_string();
  const auto rel = spec.lexically_relative(std::filesystem::current_path());
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return spec.filename().generic_string();
}

}  // namespace

ir::Graph load_graph(const std::filesystem::path& spec, std::string* spec_text, std::size_t batch) {
  if (batch > ir::kMaxBatch)
    throw std::invalid_argument("--batch " + std::to_string(batch) + " exceeds the largest batch, " +
                                std::to_string(ir::kMaxBatch));
  ir::Graph g = spec::parse_spec_file(spec, spec_text);
  if (batch != 0) g.batch = batch;
  passes::run_passes(g);
  return g;
}

GenResult emit_header(const GenRequest& req) {
  GenResult r;
  std::string text;
  r.graph = load_graph(req.spec, &text, req.batch);
  r.spec_sha256 = support::sha256_hex(text);
  if (!req.ns.empty() && !ir::is_identifier(req.ns))
    throw std::invalid_argument("--namespace '" + req.ns + "': " + ir::identifier_problem(req.ns));

  EmitOptions o;
  o.real_double = req.real_double;
  o.ns = req.ns;
  o.spec_label = spec_label(req.spec);
  o.sha256 = r.spec_sha256;
  o.version = CASTNET_VERSION_STRING;
  o.abi = CASTNET_RUNTIME_ABI;
  o.arch = req.arch;
  if (req.real_double) o.gen_flags += " --real double";
  if (!req.ns.empty()) o.gen_flags += " --namespace " + req.ns;
  if (req.batch != 0) o.gen_flags += " --batch " + std::to_string(req.batch);
  if (!req.arch.empty()) o.gen_flags += " --arch " + req.arch;
  r.header_text = emit_model(r.graph, o);

  const std::string name = req.header_name.empty() ? r.graph.name + ".hpp" : req.header_name;
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name.empty() || name[0] == '.')
    throw std::invalid_argument("--header-name '" + name + "' must be a plain file name");
  r.header = req.out_dir / name;
  return r;
}

GenResult generate(const GenRequest& req) {
  GenResult r = emit_header(req);
  r.changed = support::write_if_changed(r.header, r.header_text);
  if (!req.depfile.empty())
    support::write_if_changed(req.depfile, support::make_depfile(r.header, {req.spec}));
  return r;
}

}  // namespace castnet::gen
