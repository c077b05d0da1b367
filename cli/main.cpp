// castnet: verb dispatch. Exit codes: 0 success, 1 user error (message on stderr naming file and
// place), 2 usage error.
#include <cstring>
#include <iostream>
#include <string>

#include <castnet/version.hpp>

#include "args.hpp"
#include "ir/diagnostic.hpp"
#include "usage.hpp"
#include "verbs.hpp"

namespace {

// The widest vectors this castnet (and with the default flags, its runners) was compiled for.
constexpr const char* kBuiltFor =
#if defined(__AVX512F__)
    "avx512";
#elif defined(__AVX2__)
    "avx2";
#elif defined(__SSE4_2__)
    "sse4";
#elif defined(__ARM_NEON)
    "neon";
#else
    "scalar";
#endif

struct Verb {
  const char* name;
  int (*run)(int, char**);
};

constexpr Verb kVerbs[] = {{"check", castnet::cli::check},
                           {"gen", castnet::cli::gen},
                           {"train", castnet::cli::train},
                           {"eval", castnet::cli::eval},
                           {"predict", castnet::cli::predict},
                           {"landscape", castnet::cli::landscape},
                           {"sweep", castnet::cli::sweep},
                           {"export", castnet::cli::export_model},
                           {"bench", castnet::cli::bench},
                           {"import", castnet::cli::import_model},
                           {"cache", castnet::cli::cache}};

bool is_help(const char* a) { return std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << castnet::cli::kOverview;
    return 2;
  }
  const std::string verb = argv[1];
  if (verb == "help" || is_help(argv[1])) {
    std::cout << castnet::cli::kOverview;
    return 0;
  }
  if (verb == "--version") {
    std::cout << "castnet " << CASTNET_VERSION_STRING << "\nbuilt for " << kBuiltFor << "; runners: " << CASTNET_CXX
              << " " << CASTNET_RUNNER_FLAGS << "\n";
    return 0;
  }
  for (const auto& v : kVerbs) {
    if (verb != v.name) continue;
    // --help anywhere prints the verb's usage and starts no work.
    for (int i = 2; i < argc; ++i)
      if (is_help(argv[i])) {
        std::cout << castnet::cli::verb_usage(verb);
        return 0;
      }
    try {
      return v.run(argc, argv);
    } catch (const castnet::cli::UsageError& e) {
      std::cerr << "castnet " << verb << ": " << e.what() << " (castnet " << verb << " --help lists the options)\n";
      return 2;
    } catch (const castnet::SpecError& e) {
      std::cerr << e.what() << "\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "castnet: unknown verb '" << verb << "' (castnet --help lists the verbs)\n";
  return 2;
}
