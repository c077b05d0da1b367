// castnet gen SPEC -o DIR: write the generated header (only if its bytes changed).
#include <iostream>
#include <stdexcept>

#include "args.hpp"
#include "generate.hpp"
#include "verbs.hpp"

namespace castnet::cli {

int gen(int argc, char** argv) {
  const Args args(argc, argv, 2, {"-o", "--out", "--real", "--namespace", "--header-name", "--depfile", "--batch", "--arch",
                                  "--limit"});
  gen::GenRequest req;
  req.spec = args.spec();
  req.limits = limits_option(args);
  auto out = args.get("-o");
  if (!out) out = args.get("--out");
  if (!out) throw UsageError("no output directory given (-o DIR)");
  req.out_dir = *out;
  const std::string real = args.get("--real").value_or("float");
  if (real != "float" && real != "double") throw UsageError("--real takes float or double");
  req.real_double = real == "double";
  req.ns = args.get("--namespace").value_or("");
  req.header_name = args.get("--header-name").value_or("");
  req.depfile = args.get("--depfile").value_or("");
  req.arch = args.get("--arch").value_or("");
  if (const auto batch = args.get("--batch")) req.batch = parse_integer("--batch", *batch);
  gen::GenResult r;
  try {
    r = gen::generate(req);
  } catch (const std::invalid_argument& e) {  // a bad --namespace, --header-name or --arch
    throw UsageError(e.what());
  }
  std::cout << r.header.string() << (r.changed ? "" : " (unchanged)") << "\n";
  return 0;
}

}  // namespace castnet::cli
