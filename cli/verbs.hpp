// The CLI's verbs. Each returns the process exit code; user errors are thrown (SpecError,
// castnet::Error, std::runtime_error) and usage errors as UsageError, both handled in main.cpp.
#pragma once

namespace castnet::cli {

int check(int argc, char** argv);
int gen(int argc, char** argv);
int train(int argc, char** argv);
int eval(int argc, char** argv);
int predict(int argc, char** argv);
int landscape(int argc, char** argv);     // `castnet landscape`: the loss around trained weights
int sweep(int argc, char** argv);         // `castnet sweep`: train a grid of settings
int export_model(int argc, char** argv);  // `castnet export`
int bench(int argc, char** argv);
int import_model(int argc, char** argv);  // `castnet import` (`import` starts a C++20 module import)
int cache(int argc, char** argv);         // `castnet cache list|clean`

}  // namespace castnet::cli
