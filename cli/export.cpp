// castnet export SPEC --weights W -o FILE.hpp [--namespace NS] [--batch N] [--quantize int8|bf16
// [--calibrate DATA [--calibrate-labels F]]] [--dispatch]: the standalone inference header, weights
// baked in (written only if its bytes changed); --batch sets the rows its predict_batch runs at once
// (the spec's batch otherwise); --quantize stores the dense and conv2d weights as int8 or bf16
// (generator/emit/quantize.hpp); --calibrate quantizes their inputs too, with ranges measured on DATA,
// and the banner gives the header's accuracy on DATA (calibrate.hpp); --dispatch writes, beside
// FILE.hpp, the units of run-time dispatch (generator/emit/export_dispatch.hpp).
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "args.hpp"
#include "calibrate.hpp"
#include "generate.hpp"
#include "verbs.hpp"

namespace castnet::cli {

int export_model(int argc, char** argv) {
  const Args args(argc, argv, 2,
                  {"--weights", "-o", "--out", "--namespace", "--batch", "--limit", "--quantize", "--calibrate",
                   "--calibrate-labels", "--labels"},
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
  if (const auto data = args.get("--calibrate")) {
    check_calibrate_mode(req.quantize);
    const spec::Spec s = gen::load_spec(req.spec, nullptr, 0, req.limits);
    const CalibratedModel model(s, req.weights.string());
    const DataFiles files = calibration_files(s, req.spec.string(), *data, args.get("--calibrate-labels").value_or(""));
    const Dataset<float> rows = model.load(files, split_labels(args.get("--labels").value_or(joined_labels(s.data.labels))));
    req.calibration = model.calibrate(rows, files, *data);
    for (const char* option : {"--calibrate-labels", "--labels"})
      if (const auto v = args.get(option)) req.calibration->data_flags += std::string(" ") + option + " " + *v;
    req.calibration->accuracy = evaluation_text(model.evaluate(rows, req.calibration->input_range));
    std::cout << "calibrated on " << *data << " (" << rows.rows << " rows): " << req.calibration->accuracy << "\n";
  } else if (args.get("--calibrate-labels") || args.get("--labels")) {
    throw UsageError(std::string(args.get("--labels") ? "--labels" : "--calibrate-labels") + " goes with --calibrate DATA");
  }
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
