// Names that the C library, POSIX or the compiler hold (functions, variables, types, macros, GNU
// predefines), as a model's name and as a layer's: castnet-gen either refuses each with a
// file:line:col diagnostic, or writes a header that compiles with -Wall -Wextra -Werror beside the
// C and POSIX headers, as C++20 and as GNU C++20 (which predefines linux and unix). None may pass
// validation and then break the build.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::first_line;

namespace {

// Functions, variables and types of the C library (math, stdio, stdlib, time, signal, setjmp),
// of POSIX and glibc's extensions (unistd, sys/select, strings), macros, GNU predefines, and the
// namespaces castnet's own code uses.
const std::vector<std::string> kNames = {
    "log", "exp", "abs", "sin", "cos", "sqrt", "pow", "floor", "round", "erf", "gamma", "y1", "j0",
    "isnan", "signbit", "printf", "remove", "rename", "exit", "free", "malloc", "rand", "random",
    "div", "time", "clock", "tm", "signal", "raise", "setjmp", "read", "write", "open", "close",
    "pipe", "link", "sleep", "select", "index", "stat", "environ", "optarg", "timezone", "size_t",
    "fd_set", "errno", "assert", "stdin", "stdout", "stderr", "offsetof", "va_arg", "EOF", "NULL",
    "min", "max", "linux", "unix", "i386", "simd", "kernels", "losses", "rng", "outputs", "detail",
    "isa_scalar", "model", "forward"};

// The headers a program beside a model commonly includes; before the model's, so that their macros
// are defined where it is read.
const char* const kProgramHeaders =
    "#include <cassert>\n#include <cerrno>\n#include <cmath>\n#include <csetjmp>\n#include <csignal>\n"
    "#include <cstddef>\n#include <cstdio>\n#include <cstdlib>\n#include <cstring>\n#include <ctime>\n"
    "#include <pthread.h>\n#include <strings.h>\n#include <sys/select.h>\n#include <sys/stat.h>\n#include <unistd.h>\n";

std::string spec_named(const std::string& model, const std::vector<std::string>& layers) {
  std::string s = "name = \"" + model + "\"\ninput = [3]\nbatch = 2\n";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    // Dense layers, with a dropout after every other one, whose buffers get suffixes of their own.
    const bool dropout = i % 2 == 1;
    s += "\n[[layer]]\nname = \"" + layers[i] + "\"\n" +
         (dropout ? "type = \"dropout\"\nrate = 0.25\n" : "type = \"dense\"\nunits = 3\nactivation = \"tanh\"\n");
  }
  return s + "\n[loss]\ntype = \"mse\"\n";
}

struct Outcome {
  bool accepted = false;
  std::string header;  // the header written, if accepted
};

// Runs castnet-gen on `text`, the spec of `model`, as <dir>/<file>: either it writes <model>.hpp, or
// it exits 1 with a first line "<file>:<place>: error: invalid name '<name>': ..." and writes nothing.
Outcome generate(const castnet::test::TempDir& dir, const std::string& file, const std::string& model,
                 const std::string& text, const std::string& name, const std::string& place) {
  castnet::test::write_file(dir.path() / file, text);
  const fs::path out = dir.path() / ("gen-" + file);
  fs::remove_all(out);
  const auto r = castnet::test::run({CASTNET_GEN_EXE, file, "-o", out.string()}, dir.path());
  INFO(name << ": " << r.err);
  if (r.exit_code == 0) {
    const fs::path header = out / (model + ".hpp");  // named after the model
    REQUIRE(fs::exists(header));
    return {true, header.string()};
  }
  CHECK(r.exit_code == 1);
  CHECK(first_line(r.err).rfind(file + ":" + place + ": error: ", 0) == 0);
  CHECK(first_line(r.err).find("invalid name '" + name + "'") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  return {};
}

// Compiles a unit that includes the program headers and then `headers`, with the warnings of
// generated code, in C++20 and in GNU C++20.
void check_compiles(const castnet::test::TempDir& dir, const std::vector<std::string>& headers, const std::string& uses) {
  std::string unit = kProgramHeaders;
  for (const auto& h : headers) unit += "#include \"" + h + "\"\n";
  unit += "void use_models();\nvoid use_models() {\n" + uses + "}\n";
  castnet::test::write_file(dir.path() / "unit.cpp", unit);
  for (const std::string dialect : {"-std=c++20", "-std=gnu++20"}) {
    const auto r = castnet::test::run({CASTNET_CXX, dialect, "-O1", "-Wall", "-Wextra", "-Werror", "-I",
                                       CASTNET_RUNTIME_INCLUDE_DIR, "-c", "unit.cpp", "-o", "unit.o"},
                                      dir.path());
    INFO(dialect << ":\n" << unit << "\n" << r.err.substr(0, 4000));
    CHECK(r.exit_code == 0);
  }
}

// A call of each function of the model namespace `ns`, so that its inline code is compiled.
std::string uses_of(const std::string& ns) {
  return "  { static " + ns + "::Params p; static " + ns + "::Grads g; static " + ns +
         "::Workspace ws; static float x[" + ns + "::kBatch * " + ns + "::kInputs], y[" + ns + "::kBatch * " + ns +
         "::kOutputs];\n    " + ns + "::forward(p, x, y); (void)" + ns + "::train_step(p, ws, x, y, g); }\n";
}

}  // namespace

TEST_CASE("names: a model named after a C, POSIX or compiler name is refused at its place, or compiles") {
  castnet::test::TempDir dir;
  std::vector<std::string> headers;
  std::string uses;
  std::size_t refused = 0;
  for (const auto& name : kNames) {
    // One spec per name; castnet-gen names the header after the model, <name>.hpp.
    const std::string file = "m_" + name + ".toml";
    const Outcome o = generate(dir, file, name, spec_named(name, {"fc"}), name, "1:8");
    if (!o.accepted) {
      ++refused;
      continue;
    }
    headers.push_back(o.header);
    uses += uses_of(name);
  }
  INFO(headers.size() << " names accepted, " << refused << " refused");
  // Not vacuous: the list holds names of both outcomes.
  CHECK(refused > 40);
  CHECK(headers.size() > 5);
  check_compiles(dir, headers, uses);
}

TEST_CASE("names: a layer named after a C, POSIX or compiler name is refused at its place, or compiles") {
  castnet::test::TempDir dir;
  std::vector<std::string> accepted, refused;
  for (const auto& name : kNames) {
    // The second layer's name is on line 12.
    const Outcome o = generate(dir, "one.toml", "layers", spec_named("layers", {"first", name}), name, "12:8");
    (o.accepted ? accepted : refused).push_back(name);
  }
  // A layer's name only ever appears with a suffix, so only the identifier rule refuses any.
  CHECK(refused == std::vector<std::string>{"EOF", "NULL"});
  // Every accepted name in one network, as dense and dropout layers.
  const Outcome all = generate(dir, "layers.toml", "layers", spec_named("layers", accepted), "", "");
  REQUIRE(all.accepted);
  check_compiles(dir, {all.header}, uses_of("layers"));
}
