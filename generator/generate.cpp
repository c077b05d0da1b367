// See generate.hpp.
#include "generate.hpp"

#include <castnet/io/atomic_file.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/data/normalize.hpp>
#include <castnet/version.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "emit/emit_export.hpp"
#include "emit/emit_model.hpp"
#include "emit/export_dispatch.hpp"
#include "emit/quantize.hpp"
#include "ir/identifier.hpp"
#include "ir/limits.hpp"
#include "passes/passes.hpp"
#include "spec/parse_spec.hpp"
#include "ir/diagnostic.hpp"
#include <castnet/io/sha256.hpp>
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

// The training header's options (templates/model.hpp.tmpl).
EmitOptions training_options(const GenRequest& req, const std::string& spec_sha256) {
  EmitOptions o;
  o.real_double = req.real_double;
  o.ns = req.ns;
  if (!req.runner) {
    o.spec_label = spec_label(req.spec);
    o.sha256 = spec_sha256;
  }
  o.version = CASTNET_VERSION_STRING;
  o.abi = CASTNET_RUNTIME_ABI;
  o.arch = req.arch;
  if (req.real_double) o.gen_flags += " --real double";
  if (!req.ns.empty()) o.gen_flags += " --namespace " + req.ns;
  if (req.batch != 0) o.gen_flags += " --batch " + std::to_string(req.batch);
  if (!req.arch.empty()) o.gen_flags += " --arch " + req.arch;
  return o;
}

// The standalone inference header: the weights must hold the spec's tensors, names and shapes.
// --arch dispatch (castnet export --dispatch) is for export_dispatch() to wrap: the text is the same.
std::string export_text(const ir::Graph& g, const GenRequest& req, const std::string& spec_sha256, ExportOptions& o) {
  if (req.real_double) throw std::invalid_argument("--real double: an exported model computes in float");
  if (req.runner) throw std::logic_error("a runner's header is a training header");
  if (!req.quantize.empty()) parse_quantize(req.quantize);  // a bad mode before the weights are read
  if (!req.arch.empty() && req.arch != "dispatch")
    throw std::invalid_argument("--arch: an exported header is portable C++; compile it with the flags of your choice "
                                "(or export --dispatch for a unit per instruction set, chosen at run time)");
  // Read once: the banner's SHA-256 is of the very bytes exported.
  const std::string bytes = io::read_file(req.weights);
  const io::SafetensorsFile file = io::parse_safetensors(bytes, req.weights);
  std::vector<io::ExpectedTensor> expected;
  for (const auto& l : g.layers)
    for (const auto& p : l.params) expected.push_back({p.torch_name, p.shape});
  io::check_tensors(file, req.weights, expected);
  const Normalization norm = Normalization::from_metadata(file.metadata, g.input_features(), req.weights);

  o.ns = req.ns;
  o.spec_label = spec_label(req.spec);
  o.weights_label = spec_label(req.weights);
  o.sha256 = spec_sha256;
  o.weights_sha256 = io::sha256_hex(bytes);
  o.version = CASTNET_VERSION_STRING;
  if (!req.ns.empty()) o.gen_flags += " --namespace " + req.ns;
  if (req.batch != 0) o.gen_flags += " --batch " + std::to_string(req.batch);
  if (!req.quantize.empty()) {
    o.weights = parse_quantize(req.quantize);
    o.gen_flags += " --quantize " + req.quantize;
  }
  if (req.calibration) {
    if (o.weights != ops::WeightFormat::int8)
      throw std::invalid_argument("--calibrate quantizes the activations of an int8 export: give --quantize int8");
    o.weights = ops::WeightFormat::int8_calibrated;
    o.calibration = *req.calibration;
    o.calibration.data_label = spec_label(req.calibration->data_label);
    o.gen_flags += " --calibrate " + o.calibration.data_label + o.calibration.data_flags;
  }
  if (req.arch == "dispatch") o.gen_flags += " --dispatch";
  return emit_export(g, file, norm, o);
}

}  // namespace

spec::Spec load_spec(const std::filesystem::path& spec, std::string* spec_text, std::size_t batch,
                     const ir::Limits& limits) {
  if (batch > limits.batch)
    throw std::invalid_argument("--batch " + std::to_string(batch) + " exceeds the largest batch, " +
                                std::to_string(limits.batch) + " (limit 'batch')");
  spec::Spec s = spec::parse_spec_file(spec, spec_text, limits);
  if (batch != 0) s.graph.batch = batch;
  passes::run_passes(s.graph);
  spec::validate_settings(s);
  return s;
}

ir::Graph load_graph(const std::filesystem::path& spec, std::string* spec_text, std::size_t batch,
                     const ir::Limits& limits) {
  return load_spec(spec, spec_text, batch, limits).graph;
}

GenResult emit_header(const GenRequest& req) {
  GenResult r;
  std::string text;
  r.spec = load_spec(req.spec, &text, req.batch, req.limits);
  r.spec_sha256 = io::sha256_hex(text);
  if (!req.ns.empty() && !ir::is_model_name(req.ns))
    throw std::invalid_argument("--namespace '" + req.ns + "': " + ir::model_name_problem(req.ns));

  if (req.weights.empty() && !req.quantize.empty())
    throw std::invalid_argument("--quantize applies to an exported header: give --weights too");
  const std::string name = req.header_name.empty() ? r.spec.graph.name + ".hpp" : req.header_name;
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name.empty() || name[0] == '.')
    throw std::invalid_argument("--header-name '" + name + "' must be a plain file name");
  r.header = req.out_dir / name;

  std::vector<EmittedFile> files;  // the header, then the units of --arch dispatch beside it
  if (req.weights.empty()) {
    const EmitOptions o = training_options(req, r.spec_sha256);
    if (req.arch == "dispatch") files = emit_dispatch(r.spec.graph, o, name);
    else files.push_back({name, emit_model(r.spec.graph, o)});
  } else {
    ExportOptions o;
    std::string text = export_text(r.spec.graph, req, r.spec_sha256, o);
    if (req.arch == "dispatch") files = export_dispatch(r.spec.graph, o, std::move(text), name);
    else files.push_back({name, std::move(text)});
  }
  r.header_text = std::move(files.front().text);
  for (std::size_t i = 1; i < files.size(); ++i) r.units.emplace_back(req.out_dir / files[i].name, std::move(files[i].text));
  return r;
}

GenResult generate(const GenRequest& req) {
  GenResult r = emit_header(req);
  r.changed = support::write_if_changed(r.header, r.header_text);
  for (const auto& [path, text] : r.units) r.changed = support::write_if_changed(path, text) || r.changed;
  std::vector<std::filesystem::path> deps = {req.spec};
  if (!req.weights.empty()) deps.push_back(req.weights);
  if (!req.depfile.empty())
    support::write_if_changed(req.depfile, support::make_depfile(r.header, deps));
  return r;
}

}  // namespace castnet::gen
