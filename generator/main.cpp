// castnet-gen: the generator as CMake's castnet_add_model() runs it. Argument parsing only.
//   castnet-gen SPEC -o DIR [--header-name FILE] [--depfile FILE] [--real float|double] [--namespace NS] [--batch N]
//                     [--arch native|avx512|avx2|sse4|neon|scalar|dispatch] [--limit KEY=N,...]
//   castnet-gen SPEC -o DIR --weights W [--quantize int8|bf16] ...   the standalone inference
//                                             header, weights baked in (castnet export)
// Limits (ir/limits.hpp): the defaults, then CASTNET_LIMITS from the environment, then each
// --limit in order. Exit codes: 0 ok, 1 spec error (file:line:col message on stderr), 2 usage
// (also a bad --limit or CASTNET_LIMITS).
#include <cstdio>
#include <iostream>
#include <string>

#include "generate.hpp"
#include "ir/limits.hpp"
#include "ir/diagnostic.hpp"

namespace {

int usage(const std::string& why) {
  std::cerr << "castnet-gen: " << why << "\n"
            << "usage: castnet-gen SPEC -o DIR [--header-name FILE] [--depfile FILE] [--real float|double] [--namespace NS] [--batch N]\n"
            << "                   [--arch native|avx512|avx2|sse4|neon|scalar|dispatch] [--limit KEY=N,...]\n"
            << "       castnet-gen SPEC -o DIR --weights W [--quantize int8|bf16] [--header-name FILE] [--depfile FILE] [--namespace NS]\n"
            << "limits (also from CASTNET_LIMITS): KEY=N with N as digits, 2^K or MeK; keys:";
  for (const auto& l : castnet::ir::limit_table()) std::cerr << " " << l.key;
  std::cerr << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  castnet::gen::GenRequest req;
  try {
    req.limits = castnet::ir::limits_from_environment();
  } catch (const std::invalid_argument& e) {
    return usage(e.what());
  }
  bool have_out = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& dst) {
      if (i + 1 >= argc) return false;
      dst = argv[++i];
      return true;
    };
    std::string v;
    if (a == "-o" || a == "--out") {
      if (!value(v)) return usage("-o needs a directory");
      req.out_dir = v;
      have_out = true;
    } else if (a == "--header-name") {
      if (!value(req.header_name)) return usage("--header-name needs a file name");
    } else if (a == "--depfile") {
      if (!value(v)) return usage("--depfile needs a file");
      req.depfile = v;
    } else if (a == "--real") {
      if (!value(v) || (v != "float" && v != "double")) return usage("--real takes float or double");
      req.real_double = v == "double";
    } else if (a == "--namespace") {
      if (!value(req.ns)) return usage("--namespace needs a name");
    } else if (a == "--weights") {
      if (!value(v)) return usage("--weights needs a safetensors file");
      req.weights = v;
    } else if (a == "--quantize") {
      if (!value(req.quantize)) return usage("--quantize needs int8 or bf16");  // checked by generate()
    } else if (a == "--arch") {
      if (!value(req.arch)) return usage("--arch needs an instruction set");  // checked by generate()
    } else if (a == "--batch") {
      // At most 9 digits here; load_graph checks the limit on batches.
      if (!value(v) || v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 9 ||
          std::stoul(v) == 0)
        return usage("--batch takes a positive integer");
      req.batch = std::stoul(v);
    } else if (a == "--limit") {
      if (!value(v)) return usage("--limit needs KEY=N[,KEY=N...]");
      try {
        req.limits = castnet::ir::parse_limits(v, req.limits);
      } catch (const std::invalid_argument& e) {
        return usage("--limit: " + std::string(e.what()));
      }
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option " + a);
    } else if (req.spec.empty()) {
      req.spec = a;
    } else {
      return usage("more than one spec given");
    }
  }
  if (req.spec.empty()) return usage("no spec given");
  if (!have_out) return usage("no output directory given (-o DIR)");
  try {
    castnet::gen::generate(req);
  } catch (const castnet::SpecError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::invalid_argument& e) {
    return usage(e.what());
  } catch (const std::exception& e) {
    std::cerr << "castnet-gen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
