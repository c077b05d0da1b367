// castnet import MODEL.onnx -o SPEC.toml [--weights W.safetensors]: an ONNX model becomes a spec
// and its weights. The spec is checked by the parser and the passes before anything is written,
// so a network castnet cannot hold is reported against the model, and nothing is left half-made.
#include <iostream>
#include <sstream>

#include <castnet/error.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/io/atomic_file.hpp>

#include "args.hpp"
#include "passes/passes.hpp"
#include "spec/parse_spec.hpp"
#include "spec/write_spec.hpp"
#include "ir/diagnostic.hpp"
#include "import_onnx.hpp"
#include "verbs.hpp"

namespace castnet::cli {
namespace {

// import_onnx is built only where libonnx-dev was found (cli/CMakeLists.txt).
ImportedModel read_model([[maybe_unused]] const std::filesystem::path& model) {
#ifdef CASTNET_HAVE_ONNX
  return import_onnx(model);
#else
  throw castnet::Error("castnet import: this castnet was built without ONNX support (apt-get install libonnx-dev)");
#endif
}

}  // namespace

int import_model(int argc, char** argv) {
  const Args args(argc, argv, 2, {"-o", "--out", "--weights"});
  if (args.positional().size() != 1) throw UsageError(args.positional().empty() ? "no model given" : "give one model");
  const std::filesystem::path model = args.positional()[0];
  auto out = args.get("-o");
  if (!out) out = args.get("--out");
  if (!out) throw UsageError("no spec file given (-o SPEC.toml)");
  const std::filesystem::path spec = *out;
  const std::filesystem::path weights = args.get("--weights").value_or(std::filesystem::path(spec).replace_extension(".safetensors").string());
  const ImportedModel m = read_model(model);
  const auto& o = m.spec.training.optimizer;
  std::ostringstream lr;
  lr << o.lr;
  std::vector<std::string> comments = {
      "Imported by `castnet import` from " + model.filename().string() + ", weights in " + weights.filename().string(),
      "(castnet eval/predict --weights, castnet train --init).",
      "ONNX holds no training settings: the loss, " + std::string(ir::to_string(m.spec.graph.loss.kind)) +
          (m.spec.graph.loss.kind == ir::LossKind::mse ? " (the graph ends in no Softmax or Sigmoid)" : "") + ", the batch, " +
          std::to_string(m.spec.graph.batch) + ",",
      "and the optimizer, " + std::string(castnet::name_of(o.kind)) + " with lr " + lr.str() + ", are castnet's choice."};
  comments.insert(comments.end(), m.notes.begin(), m.notes.end());
  const std::string text = spec::write_spec(m.spec, comments);
  ir::Graph g;
  try {
    g = spec::parse_spec_text(text, spec.string()).graph;
    passes::run_passes(g);
  } catch (const SpecError& e) {
    const Diagnostic& d = e.diagnostic();
    throw castnet::Error(model.string() + ": error: castnet cannot hold this network: " +
                         (d.layer.empty() ? "" : "layer '" + d.layer + "': ") + d.message);
  }
  io::write_safetensors(weights, m.weights);
  io::write_file_atomic(spec, text);
  std::cout << spec.string() << ": " << g.name << ", " << g.layers.size() << " layers, loss " << ir::to_string(g.loss.kind) << "\n"
            << weights.string() << ": " << m.weights.size() << " tensors, " << g.param_count() << " parameters\n";
  for (const auto& note : m.notes) std::cout << castnet::printable(note) << "\n";
  return 0;
}

}  // namespace castnet::cli
