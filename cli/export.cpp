// castnet export SPEC --weights W -o FILE.hpp [--namespace NS] [--batch N] [--quantize int8|bf16]:
// the standalone inference header, weights baked in (written only if its bytes changed); --batch
// sets the rows its predict_batch runs at once (the spec's batch otherwise); --quantize stores the
// dense and conv2d weights as int8 or bf16 (generator/emit/quantize.hpp); --dispatch writes, beside
// FILE.hpp, the units of run-time dispatch (generator/emit/export_dispatch.hpp).
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "args.hpp"
#include "generate.hpp"
#include "verbs.hpp"

namespace castnet::cli {

int export_model(int argc, char** argv) {
  const Args args(argc, argv, 2, {"--weights", "-o", "--out", "--namespace", "--batch", "--limit", "--quantize", "--calibrate"},
                  {"--dispatch"});
  gen::GenRequest req;
  req.spec = args.spec();
  req.limits = limits_option(args);
  req.weights = args.require("--weights");
  auto out = args.get("-o");
  if (!out) out = args.get("--out");
  if (!out) throw UsageError("no output file given (-o FILE.hpp)");
  const std::filesystem::path file = *out;
  if (file.filename().empty() || std::filesystem::is_directory(file))
    throw UsageError("-o takes the header's file name (-o DIR/model.hpp), not a directory: '" + *out + "'");
  req.out_dir = file.parent_path();
  req.header_name = file.filename().string();
  req.ns = args.get("--namespace").value_or("");
  if (const auto b = args.get("--batch")) req.batch = parse_integer("--batch", *b);
  req.quantize = args.get("--quantize").value_or("");
  if (args.flag("--dispatch")) req.arch = "dispatch";
  // Refused rather than ignored: a user who asks for quantized activations must not get a
  // weight-only header believing otherwise.
  if (args.get("--calibrate"))
    throw UsageError("--calibrate: quantized activations are not implemented; --quantize int8 quantizes the weights "
                     "only (activations stay float)");
  gen::GenResult r;
  try {
    r = gen::generate(req);
  } catch (const std::invalid_argument& e) {  // a bad --namespace or file name
    throw UsageError(e.what());
  }
  std::cout << r.header.string() << (r.changed ? "" : " (unchanged)") << "\n";
  for (const auto& [path, text] : r.units) std::cout << path.string() << "\n";
  return 0;
}

}  // namespace castnet::cli
