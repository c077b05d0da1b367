// castnet: verb dispatch. Exit codes: 0 success, 1 user error (message on stderr naming file and
// place), 2 usage error.
#include <cstring>
#include <iostream>
#include <string>

#include "args.hpp"
#include "ir/diagnostic.hpp"
#include "verbs.hpp"

namespace {

constexpr const char* kUsage =
    "usage: castnet <verb> ...\n"
    "  check   SPEC [--ir]                           validate; print the layer table (or the IR)\n"
    "  gen     SPEC -o DIR [--real float|double] [--namespace NS] [--batch N]\n"
    "          [--arch native|avx512|avx2|sse4|neon|scalar]\n"
    "                                                write the generated header (for that\n"
    "                                                instruction set: it checks the compile flags)\n"
    "  train   SPEC [--data F.csv] [--labels a,b] [--epochs N] [--init W] [--out DIR]\n"
    "          [--threads N] [--distributed]           generate, compile (cached), train;\n"
    "                                                each batch shared by N threads (and, under\n"
    "                                                mpirun, by the ranks)\n"
    "  eval    SPEC --weights W [--data F.csv] [--labels a,b]\n"
    "                                                mean loss (and accuracy)\n"
    "  predict SPEC --weights W --input F.csv        one output row per input row\n"
    "  export  SPEC --weights W -o FILE.hpp [--namespace NS] [--batch N]\n"
    "                                                a standalone inference header, weights baked in\n"
    "  bench   SPEC [--arch avx512,avx2,sse4|native] [--workloads latency,batch,step,epoch]\n"
    "          [--repetitions N] [--markdown F]      generated code vs the interpreter, Eigen and libtorch,\n"
    "                                                per instruction set (default: each the CPU runs)\n"
    "  import  MODEL.onnx -o SPEC.toml [--weights W.safetensors]\n"
    "                                                an ONNX model as a spec and its weights\n"
    "Verbs that read a spec take --limit KEY=N,... (bench: CASTNET_LIMITS only) to change the\n"
    "generator's limits, after CASTNET_LIMITS=KEY=N,... from the environment; keys and defaults\n"
    "are listed in specs/README.md (Limits).\n";

struct Verb {
  const char* name;
  int (*run)(int, char**);
};

constexpr Verb kVerbs[] = {{"check", castnet::cli::check},
                           {"gen", castnet::cli::gen},
                           {"train", castnet::cli::train},
                           {"eval", castnet::cli::eval},
                           {"predict", castnet::cli::predict},
                           {"export", castnet::cli::export_model},
                           {"bench", castnet::cli::bench},
                           {"import", castnet::cli::import_model}};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0) {
    std::cerr << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string verb = argv[1];
  for (const auto& v : kVerbs) {
    if (verb != v.name) continue;
    try {
      return v.run(argc, argv);
    } catch (const castnet::cli::UsageError& e) {
      std::cerr << "castnet " << verb << ": " << e.what() << "\n" << kUsage;
      return 2;
    } catch (const castnet::SpecError& e) {
      std::cerr << e.what() << "\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "castnet: unknown verb '" << verb << "'\n" << kUsage;
  return 2;
}
