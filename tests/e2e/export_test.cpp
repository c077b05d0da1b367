// castnet export: the standalone header, compiled on its own by each compiler, language version and
// form, against the reference interpreter on every layer kind (weights and inputs random, inputs in
// raw units so that the normalisation baked in from the weights' metadata matters); built as the
// runners are, against `castnet predict` and the training header's forward() bit for bit; what its
// object file needs from the outside world; and the errors of a bad export.
#include <catch2/catch.hpp>

#include <castnet/data/normalize.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/train/loss_outputs.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "find_program.hpp"
#include "generate.hpp"
#include "reference/interpreter.hpp"
#include "support/cli_sandbox.hpp"
#include "support/process.hpp"
#include <castnet/io/sha256.hpp>

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::run;
using castnet::test::TempDir;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

const fs::path kSource = CASTNET_SOURCE_DIR;

// The absolute path of `name` on PATH, or empty.
std::string on_path(const std::string& name) {
  const auto found = castnet::cli::find_on_path(name);
  return found ? found->string() : "";
}

// The warnings every exported header must pass, beyond -Wall -Wextra -Werror: users embed it in
// code built with their own strict flags.
const std::vector<std::string> kStrict = {"-O2", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-Wshadow", "-Wconversion"};

struct Build {
  std::string label;  // "g++ -std=c++17"
  std::vector<std::string> command;
};

// The path of g++ or clang++; a missing compiler fails the test (./castnet test installs both).
std::string compiler(const char* name) {
  const std::string exe = on_path(name);
  if (exe.empty()) FAIL(name << " is not on PATH (./castnet test installs it: Debian's g++ and clang)");
  return exe;
}

// g++ and clang++ at C++17 and C++20 in the header's default form, the compilers' vector
// extensions, as wide as -march=native allows; then, with g++, the same form with the baseline's
// SSE2 vectors only and with AVX2 (where the CPU has it), the scalar form, and xsimd.
std::vector<Build> builds() {
  std::vector<Build> b;
  const auto add = [&](std::string label, const std::string& exe, std::vector<std::string> flags, bool strict_conversion) {
    Build one{std::move(label), {exe}};
    one.command.insert(one.command.end(), flags.begin(), flags.end());
    // xsimd's own headers trip -Wconversion.
    one.command.insert(one.command.end(), kStrict.begin(), strict_conversion ? kStrict.end() : kStrict.end() - 1);
    b.push_back(std::move(one));
  };
  for (const char* cxx : {"g++", "clang++"}) {
    const std::string exe = compiler(cxx);
    for (const char* std : {"-std=c++17", "-std=c++20"})
      add(std::string(cxx) + " " + std + " -march=native", exe, {std, "-march=native"}, true);
  }
  const std::string gxx = compiler("g++");
  add("g++ -std=c++17 (SSE2)", gxx, {"-std=c++17"}, true);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    add("g++ -std=c++17 -mavx2 -mfma", gxx, {"-std=c++17", "-mavx2", "-mfma"}, true);
  add("g++ -std=c++17 -march=native -DCASTNET_EXPORT_SCALAR", gxx, {"-std=c++17", "-march=native", "-DCASTNET_EXPORT_SCALAR"}, true);
  add("g++ -std=c++20 -march=native -DCASTNET_USE_XSIMD", gxx, {"-std=c++20", "-march=native", "-DCASTNET_USE_XSIMD"}, false);
  return b;
}

// The runners' compiler and flags (castnet predict's), split at spaces.
std::vector<std::string> runner_command() {
  std::vector<std::string> command = {CASTNET_CXX};
  std::istringstream flags(CASTNET_RUNNER_FLAGS);
  for (std::string f; flags >> f;) command.push_back(f);
  return command;
}

// Prints predict()'s outputs for each sample of a binary file of floats, then predict_batch()'s
// twice: from rows on a 64-byte boundary (which it may read where they are) and from rows one
// float past one (which it copies). Each value as the shortest text that reads back as it (as
// castnet predict prints them), the values of a sample on one line.
std::string driver(const std::string& ns) {
  return "#include \"model.hpp\"\n"
         "#include <algorithm>\n"
         "#include <charconv>\n"
         "#include <cstdint>\n"
         "#include <cstdio>\n"
         "#include <vector>\n"
         "static void print(const std::vector<float>& y) {\n"
         "  for (std::size_t i = 0; i < y.size(); ++i) {\n"
         "    char buf[32];\n"
         "    *std::to_chars(buf, buf + sizeof buf - 1, y[i]).ptr = 0;\n"
         "    std::printf(\"%s%c\", buf, (i + 1) % " + ns + "::kOutputs == 0 ? '\\n' : ',');\n"
         "  }\n"
         "}\n"
         "int main(int argc, char** argv) {\n"
         "  if (argc != 2) return 2;\n"
         "  std::FILE* f = std::fopen(argv[1], \"rb\");\n"
         "  if (!f) return 2;\n"
         "  std::vector<float> x, y;\n"
         "  float row[" + ns + "::kInputs];\n"
         "  while (std::fread(row, sizeof(float), " + ns + "::kInputs, f) == " + ns + "::kInputs) x.insert(x.end(), row, row + " + ns + "::kInputs);\n"
         "  std::fclose(f);\n"
         "  const std::size_t n = x.size() / " + ns + "::kInputs;\n"
         "  y.resize(n * " + ns + "::kOutputs);\n"
         "  for (std::size_t s = 0; s < n; ++s) " + ns + "::predict(x.data() + s * " + ns + "::kInputs, y.data() + s * " + ns + "::kOutputs);\n"
         "  print(y);\n"
         "  std::vector<float> space(x.size() + 32);\n"
         "  float* const aligned = space.data() + (64 - reinterpret_cast<std::uintptr_t>(space.data()) % 64) % 64 / sizeof(float);\n"
         "  for (float* rows : {aligned, aligned + 1}) {\n"
         "    std::copy(x.begin(), x.end(), rows);\n"
         "    " + ns + "::predict_batch(rows, y.data(), n);\n"
         "    print(y);\n"
         "  }\n"
         "  return 0;\n"
         "}\n";
}

struct Case {
  fs::path spec;
  castnet::Normalize normalize;
};

// Random weights (uniform, scaled by each tensor's fan-in) with `normalize` statistics in the
// metadata, and random raw inputs (whole numbers in [0, 255], exact in a CSV file too); the
// interpreter's outputs as `castnet predict` prints them.
struct Fixture {
  castnet::ir::Graph graph;
  std::vector<float> x;         // raw inputs, kRows rows
  std::vector<double> expected;  // the reference's outputs
  static constexpr std::size_t kRows = 7;

  Fixture(const Case& c, const fs::path& weights, unsigned seed) : graph(castnet::gen::load_graph(c.spec)) {
    std::mt19937 rng(seed);
    // In double: the reference, which every build is within float rounding of.
    castnet::interp::Interpreter<double> interp(graph);
    std::vector<castnet::io::TensorData> tensors;
    std::size_t k = 0;
    for (const auto& layer : graph.layers)
      for (const auto& p : layer.params) {
        const float bound = 1.5f / std::sqrt(static_cast<float>(std::max<std::size_t>(p.fan_in, 1)));
        std::uniform_real_distribution<float> u(-bound, bound);
        std::vector<float> values(p.size);
        for (auto& v : values) v = u(rng);
        interp.params()[k++].assign(values.begin(), values.end());
        tensors.push_back({p.torch_name, p.shape, values});
      }

    const std::size_t inputs = graph.input_features(), outputs = graph.output_features();
    std::uniform_int_distribution<int> raw(0, 255);
    x.resize(kRows * inputs);
    for (auto& v : x) v = static_cast<float>(raw(rng));
    castnet::Dataset<double> data;
    data.rows = kRows;
    data.inputs = inputs;
    data.x.assign(x.begin(), x.end());
    const castnet::Normalization norm = castnet::Normalization::fit(c.normalize, data);
    castnet::io::write_safetensors(weights, tensors, norm.metadata());

    norm.apply(data);
    std::vector<double> y(kRows * outputs), p(outputs);
    interp.forward(data.x.data(), kRows, y.data());
    for (std::size_t r = 0; r < kRows; ++r) {
      castnet::output_values(static_cast<castnet::Loss>(graph.loss.kind), y.data() + r * outputs, outputs, p.data());
      expected.insert(expected.end(), p.begin(), p.end());
    }
  }

  void write_binary(const fs::path& path) const {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size() * sizeof(float)));
  }

  // The inputs as a CSV file for castnet predict: a header row, then whole numbers.
  void write_csv(const fs::path& path) const {
    std::string text;
    const std::size_t inputs = graph.input_features();
    for (std::size_t i = 0; i < inputs; ++i) text += (i ? ",x" : "x") + std::to_string(i);
    for (std::size_t i = 0; i < x.size(); ++i) text += (i % inputs ? "," : "\n") + std::to_string(static_cast<int>(x[i]));
    write_file(path, text + "\n");
  }
};

// Lines of comma-separated values.
std::vector<std::vector<std::string>> rows_of(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream cells_in(line);
    for (std::string cell; std::getline(cells_in, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

std::vector<float> floats_of(const std::vector<std::vector<std::string>>& rows) {
  std::vector<float> v;
  for (const auto& row : rows)
    for (const auto& cell : row) v.push_back(std::stof(cell));
  return v;
}

// The relative error of each sample's outputs, max |a - b| / max |b| over the sample (so that an
// output near zero is judged on the scale of the others), and its largest value over the samples.
double worst_relative(const std::vector<float>& a, const std::vector<double>& b, std::size_t outputs) {
  double worst = 0;
  for (std::size_t r = 0; r * outputs < b.size(); ++r) {
    double diff = 0, scale = 0;
    for (std::size_t k = r * outputs; k < (r + 1) * outputs; ++k) {
      diff = std::max(diff, std::abs(static_cast<double>(a[k]) - b[k]));
      scale = std::max(scale, std::abs(b[k]));
    }
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

castnet::test::Result cli(const std::vector<std::string>& args) {
  std::vector<std::string> a = {CASTNET_CLI_EXE};
  a.insert(a.end(), args.begin(), args.end());
  return run(a);
}

// Compiles `source` in `dir` with `command` (compiler and flags) into dir/name and returns its path.
fs::path compile(std::vector<std::string> command, const fs::path& dir, const std::string& source, const std::string& name) {
  command.insert(command.end(), {"-I", dir.string(), (dir / source).string(), "-o", (dir / name).string()});
  const auto compiled = run(command);
  INFO(compiled.err);
  REQUIRE(compiled.exit_code == 0);
  return dir / name;
}

}  // namespace

TEST_CASE("export: every layer kind agrees with the interpreter, with every compiler, language version and form", "[export]") {
  const fs::path numeric = kSource / "tests" / "numeric" / "specs";
  const fs::path e2e = kSource / "tests" / "e2e" / "specs";
  using castnet::Normalize;
  const std::vector<Case> cases = {
      {e2e / "export_kinds.toml", Normalize::standardize},         // every layer kind
      {e2e / "export_activations.toml", Normalize::standardize},   // every activation, binary cross-entropy
      {numeric / "graph_conv.toml", Normalize::scale},             // conv padding and stride, maxpool, softmax
      {numeric / "graph_pool.toml", Normalize::none},              // "same" padding, avgpool, mse
      {numeric / "graph_concat.toml", Normalize::scale},           // concat of images
      {numeric / "graph_glu.toml", Normalize::standardize},        // glu
      {numeric / "graph_prelu.toml", Normalize::scale},            // prelu on channels and on features
      {numeric / "graph_trainable_swish.toml", Normalize::scale},  // trainable_swish on channels and on features
      {numeric / "graph_basis_activation.toml", Normalize::standardize},  // rbf on channels, bspline on features
      {numeric / "graph_kan.toml", Normalize::scale},              // two kan layers, values past the grid
      {numeric / "graph_residual.toml", Normalize::standardize},   // add (of 2 and 3), concat of vectors
      {kSource / "tests" / "golden" / "specs" / "dropout_net.toml", Normalize::scale},  // dropout passes through
  };
  // The cases cover every layer kind of ir/op_kinds.def.
  std::set<castnet::ir::OpKind> covered;
  for (const Case& c : cases)
    for (const auto& l : castnet::gen::load_graph(c.spec).layers) covered.insert(l.kind);
#define CASTNET_OP(name)                                                \
  {                                                                      \
    INFO("export_test.cpp's cases need a spec with a " #name " layer");  \
    CHECK(covered.count(castnet::ir::OpKind::name) == 1);                \
  }
#include "ir/op_kinds.def"
#undef CASTNET_OP

  const auto all_builds = builds();
  unsigned seed = 1;
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.spec.filename().string()) {
      TempDir dir;
      const Fixture f(c, dir / "weights.safetensors", seed++);
      const auto exported = cli({"export", c.spec.string(), "--weights", (dir / "weights.safetensors").string(), "-o",
                                 (dir / "model.hpp").string(), "--namespace", "exported"});
      INFO(exported.err);
      REQUIRE(exported.exit_code == 0);
      // The banner names the exact bytes exported.
      CHECK_THAT(read_file(dir / "model.hpp"),
                 Contains("// weights sha256: " + castnet::io::sha256_file_hex(dir / "weights.safetensors") + "\n"));
      write_file(dir / "main.cpp", driver("exported"));
      f.write_binary(dir / "x.bin");
      // Every build for the first two specs; one per spec otherwise (compiling is the slow part).
      const std::size_t count = &c - &cases.front() < 2 ? all_builds.size() : 1;
      for (std::size_t b = 0; b < count; ++b) {
        const Build& build = all_builds[b];
        INFO(build.label);
        const auto ran = run({compile(build.command, dir.path(), "main.cpp", "predict").string(), (dir / "x.bin").string()});
        REQUIRE(ran.exit_code == 0);
        const std::vector<float> got = floats_of(rows_of(ran.out));
        const auto n = static_cast<std::ptrdiff_t>(f.expected.size());
        REQUIRE(got.size() == 3 * f.expected.size());
        const std::vector<float> one(got.begin(), got.begin() + n), batch(got.begin() + n, got.begin() + 2 * n),
            moved(got.begin() + 2 * n, got.end());
        // predict() runs the single-sample kernels, predict_batch() the batched ones: each sums
        // in its own order, both within float rounding of the reference. Where the rows lie
        // changes nothing (graph_pool.toml's full chunks, unnormalised, are read in place).
        CHECK(worst_relative(one, f.expected, f.graph.output_features()) <= 1e-6);
        CHECK(worst_relative(batch, f.expected, f.graph.output_features()) <= 1e-6);
        CHECK(std::memcmp(batch.data(), moved.data(), batch.size() * sizeof(float)) == 0);
      }
    }
  }
}

// Built as castnet's runners are (same compiler and flags), the exported header runs the same
// code as the training header: predict_batch() prints what `castnet predict` prints, character
// for character, and predict() gives forward()'s outputs bit for bit; in the default form (vector
// extensions) and with xsimd alike.
TEST_CASE("export: bit for bit the code castnet trains and predicts with", "[export]") {
  const fs::path e2e = kSource / "tests" / "e2e" / "specs";
  for (const fs::path& spec : {e2e / "export_kinds.toml", e2e / "export_activations.toml"}) {
    DYNAMIC_SECTION(spec.filename().string()) {
      castnet::test::CliSandbox sandbox;
      const fs::path& dir = sandbox.dir.path();
      const Fixture f({spec, castnet::Normalize::standardize}, dir / "weights.safetensors", 11);
      f.write_csv(dir / "x.csv");
      f.write_binary(dir / "x.bin");
      const auto predicted = sandbox({"predict", spec.string(), "--weights", "weights.safetensors", "--input", "x.csv"});
      INFO(predicted.err);
      REQUIRE(predicted.exit_code == 0);
      auto expected = rows_of(predicted.out);
      REQUIRE(expected.size() == Fixture::kRows + 1);
      expected.erase(expected.begin());  // the header
      for (auto& row : expected) row.resize(f.graph.output_features());  // castnet predict adds the class
      REQUIRE(cli({"export", spec.string(), "--weights", (dir / "weights.safetensors").string(), "-o",
                   (dir / "model.hpp").string(), "--namespace", "exported"}).exit_code == 0);
      write_file(dir / "main.cpp", driver("exported"));
      for (const bool xsimd : {false, true}) {
        INFO((xsimd ? "-DCASTNET_USE_XSIMD" : "vector extensions"));
        auto command = runner_command();
        if (xsimd) command.push_back("-DCASTNET_USE_XSIMD");
        const auto ran = run({compile(command, dir, "main.cpp", "predict").string(), (dir / "x.bin").string()});
        REQUIRE(ran.exit_code == 0);
        const auto rows = rows_of(ran.out);
        REQUIRE(rows.size() == 3 * Fixture::kRows);
        const std::vector<std::vector<std::string>> batch(rows.begin() + Fixture::kRows, rows.begin() + 2 * Fixture::kRows),
            moved(rows.begin() + 2 * Fixture::kRows, rows.end());
        CHECK(batch == expected);
        CHECK(moved == expected);
      }

      // predict() against forward() of the training header, weights without normalisation (so
      // both read the same inputs) copied from the exported header's.
      const Fixture plain({spec, castnet::Normalize::none}, dir / "plain.safetensors", 12);
      REQUIRE(cli({"export", spec.string(), "--weights", (dir / "plain.safetensors").string(), "-o",
                   (dir / "model.hpp").string(), "--namespace", "exported"}).exit_code == 0);
      REQUIRE(run({CASTNET_GEN_EXE, spec.string(), "-o", dir.string(), "--header-name", "trained.hpp", "--namespace",
                   "trained"}).exit_code == 0);
      std::string copy;
      for (const auto& l : plain.graph.layers)
        for (const auto& p : l.params)
          copy += "  std::copy(std::begin(exported::detail::Params::" + p.member + "), std::end(exported::detail::Params::" +
                  p.member + "), params->" + p.member + ");\n";
      write_file(dir / "both.cpp",
                 "#include \"trained.hpp\"\n"
                 "#include \"model.hpp\"\n"
                 "#include <castnet/train/loss_outputs.hpp>\n"
                 "#include <algorithm>\n#include <cstdio>\n#include <cstring>\n#include <iterator>\n#include <memory>\n"
                 "int main(int, char** argv) {\n"
                 "  auto params = std::make_unique<trained::Params>();\n" +
                     copy +
                     "  std::FILE* f = std::fopen(argv[1], \"rb\");\n"
                     "  float x[trained::kInputs], y[trained::kOutputs], p[trained::kOutputs], e[trained::kOutputs];\n"
                     "  int differ = 0, rows = 0;\n"
                     "  while (std::fread(x, sizeof(float), trained::kInputs, f) == trained::kInputs) {\n"
                     "    trained::forward(*params, x, y);\n"
                     "    castnet::output_values(trained::kLoss, y, trained::kOutputs, p);\n"
                     "    exported::predict(x, e);\n"
                     "    differ += std::memcmp(p, e, sizeof p) != 0;\n"
                     "    ++rows;\n"
                     "  }\n"
                     "  std::printf(\"%d of %d differ\\n\", differ, rows);\n"
                     "  return differ != 0 || rows == 0;\n"
                     "}\n");
      for (const bool xsimd : {false, true}) {
        INFO((xsimd ? "-DCASTNET_USE_XSIMD" : "vector extensions"));
        auto command = runner_command();
        command.insert(command.end(), {"-I", CASTNET_RUNTIME_INCLUDE_DIR});
        if (xsimd) command.push_back("-DCASTNET_USE_XSIMD");
        const auto ran = run({compile(command, dir, "both.cpp", "both").string(), (dir / "x.bin").string()});
        INFO(ran.out);
        CHECK(ran.exit_code == 0);
      }
    }
  }
}

// --batch N: predict_batch runs N rows at a time, and says so.
// export --dispatch: the units compiled each with its flags (as the header lists them) into one
// program, run under every CASTNET_ISA the CPU allows: each against the interpreter, as a plain
// export is, and saying which it ran.
TEST_CASE("export: --dispatch runs one program under every instruction set the CPU has", "[export]") {
  const fs::path spec = kSource / "tests" / "e2e" / "specs" / "export_kinds.toml";
  TempDir dir;
  const Fixture f({spec, castnet::Normalize::standardize}, dir / "weights.safetensors", 5);
  const auto exported = cli({"export", spec.string(), "--weights", (dir / "weights.safetensors").string(), "-o",
                             (dir / "model.hpp").string(), "--namespace", "exported", "--dispatch"});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK_THAT(read_file(dir / "model.hpp"), Contains("// regenerate: castnet export") && Contains(" --dispatch\n"));
  write_file(dir / "main.cpp", driver("exported"));
  write_file(dir / "isa.cpp", "#include \"model.hpp\"\n#include <cstdio>\nint main() { std::puts(exported::isa()); }\n");
  f.write_binary(dir / "x.bin");

  struct Unit {
    std::string isa;
    std::vector<std::string> flags;
    bool runs;
  };
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const std::vector<Unit> units = {
      {"avx512", {"-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma", "-mavx2"}, avx512},
      {"avx2", {"-mavx2", "-mfma", "-mno-avx512f"}, avx2},
      {"sse4", {"-msse4.2", "-mno-avx"}, __builtin_cpu_supports("sse4.2") != 0},
      {"scalar", {}, true},
      {"dispatch", {}, false},
  };
  std::vector<std::string> objects;
  for (const Unit& u : units) {
    std::vector<std::string> command = {compiler("g++"), "-std=c++17", "-c"};
    command.insert(command.end(), u.flags.begin(), u.flags.end());
    command.insert(command.end(), kStrict.begin(), kStrict.end());
    objects.push_back((dir / ("model_" + u.isa + ".o")).string());
    command.insert(command.end(), {(dir / ("model_" + u.isa + ".cpp")).string(), "-o", objects.back()});
    const auto compiled = run(command);
    INFO(u.isa << ": " << compiled.err);
    REQUIRE(compiled.exit_code == 0);
  }
  // A unit compiled without its flags stops the compile, naming them.
  const auto unflagged = run({compiler("g++"), "-std=c++17", "-fsyntax-only", (dir / "model_avx2.cpp").string()});
  CHECK(unflagged.exit_code != 0);
  CHECK_THAT(unflagged.err, Contains("this is the avx2 unit of run-time dispatch: compile it with -mavx2 -mfma -mno-avx512f"));

  const auto link = [&](const std::string& main, const std::string& name) {
    std::vector<std::string> command = {compiler("g++"), "-std=c++17"};
    command.insert(command.end(), kStrict.begin(), kStrict.end());
    command.insert(command.end(), {"-I", dir.path().string(), (dir / main).string()});
    command.insert(command.end(), objects.begin(), objects.end());
    command.insert(command.end(), {"-o", (dir / name).string()});
    const auto linked = run(command);
    INFO(linked.err);
    REQUIRE(linked.exit_code == 0);
    return (dir / name).string();
  };
  const std::string predict = link("main.cpp", "predict"), which = link("isa.cpp", "isa");
  std::size_t ran = 0;
  for (const Unit& u : units) {
    if (u.isa == "dispatch") continue;
    INFO("CASTNET_ISA=" << u.isa);
    const std::vector<std::string> env = {"CASTNET_ISA=" + u.isa};
    const auto said = run({which}, {}, env);
    if (!u.runs) {
      CHECK(said.exit_code != 0);
      CHECK_THAT(said.err, Contains("CASTNET_ISA=" + u.isa + ": this CPU does not run that instruction set"));
      WARN("not run: this CPU lacks " << u.isa);
      continue;
    }
    CHECK(said.out == u.isa + "\n");
    const auto out = run({predict, (dir / "x.bin").string()}, {}, env);
    INFO(out.err);
    REQUIRE(out.exit_code == 0);
    const std::vector<float> got = floats_of(rows_of(out.out));
    REQUIRE(got.size() == 3 * f.expected.size());
    const auto n = static_cast<std::ptrdiff_t>(f.expected.size());
    CHECK(worst_relative({got.begin(), got.begin() + n}, f.expected, f.graph.output_features()) <= 1e-6);
    CHECK(worst_relative({got.begin() + n, got.begin() + 2 * n}, f.expected, f.graph.output_features()) <= 1e-6);
    ++ran;
  }
  CHECK(ran >= 1);
}

TEST_CASE("export: --batch sets the rows predict_batch runs at once", "[export]") {
  TempDir dir;
  const fs::path spec = kSource / "tests" / "e2e" / "specs" / "export_kinds.toml";
  const Fixture f({spec, castnet::Normalize::scale}, dir / "weights.safetensors", 5);
  const auto exported = cli({"export", spec.string(), "--weights", (dir / "weights.safetensors").string(), "-o",
                             (dir / "model.hpp").string(), "--namespace", "exported", "--batch", "3"});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  const std::string header = read_file(dir / "model.hpp");
  CHECK_THAT(header, Contains("inline constexpr std::size_t kBatch = 3;") && Contains(" --batch 3\n"));
  write_file(dir / "main.cpp", driver("exported"));
  f.write_binary(dir / "x.bin");
  const auto ran = run({compile(builds().front().command, dir.path(), "main.cpp", "predict").string(), (dir / "x.bin").string()});
  REQUIRE(ran.exit_code == 0);
  const std::vector<float> got = floats_of(rows_of(ran.out));
  REQUIRE(got.size() == 3 * f.expected.size());
  const auto n = static_cast<std::ptrdiff_t>(f.expected.size());
  CHECK(worst_relative(std::vector<float>(got.begin() + n, got.begin() + 2 * n), f.expected, f.graph.output_features()) <= 1e-6);
  CHECK(worst_relative(std::vector<float>(got.begin() + 2 * n, got.end()), f.expected, f.graph.output_features()) <= 1e-6);
}

// What predict() needs from outside: the object file of a function calling it may refer only to
// the C math library (and memcpy/memset, which compilers emit for copies); no operator new,
// malloc, throw or catch, or static initialiser. GCC names the C++ personality routine in the
// unwind tables of the register-tile kernels (noexcept functions whose inlined lambdas it cannot
// prove noexcept, though no call is left): a reference, not a use, which every C++ program links.
// In the default form with the baseline's vectors and with the machine's, and in the scalar form.
TEST_CASE("export: the header needs only libm, allocates nothing and runs nothing before main", "[export]") {
  const std::string gxx = compiler("g++"), nm = on_path("nm"), readelf = on_path("readelf");
  REQUIRE_FALSE(nm.empty());
  REQUIRE_FALSE(readelf.empty());
  TempDir dir;
  const fs::path spec = kSource / "tests" / "e2e" / "specs" / "export_kinds.toml";
  const Fixture f({spec, castnet::Normalize::scale}, dir / "weights.safetensors", 3);
  REQUIRE(cli({"export", spec.string(), "--weights", (dir / "weights.safetensors").string(), "-o", (dir / "model.hpp").string()})
              .exit_code == 0);
  write_file(dir / "unit.cpp",
             "#include \"model.hpp\"\n"
             "void run(const float* x, float* y) noexcept { export_kinds::predict(x, y); }\n"
             "void run_batch(const float* x, float* y, std::size_t n) noexcept { export_kinds::predict_batch(x, y, n); }\n"
             "std::size_t top(const float* x) noexcept { return export_kinds::classify(x); }\n");
  const std::vector<std::vector<std::string>> forms = {
      {"-O0"}, {"-O2"}, {"-O2", "-march=native"}, {"-O2", "-march=native", "-DCASTNET_EXPORT_SCALAR"}};
  for (const auto& flags : forms) {
    std::string label;
    for (const auto& flag : flags) label += flag + " ";
    INFO(label);
    std::vector<std::string> command = {gxx, "-std=c++17", "-c", (dir / "unit.cpp").string(), "-o", (dir / "unit.o").string()};
    command.insert(command.end(), flags.begin(), flags.end());
    const auto compiled = run(command);
    INFO(compiled.err);
    REQUIRE(compiled.exit_code == 0);
    const auto undefined = run({nm, "-u", "-C", (dir / "unit.o").string()});
    REQUIRE(undefined.exit_code == 0);
    std::istringstream symbols(undefined.out);
    std::size_t count = 0;
    for (std::string line; std::getline(symbols, line);) {
      const std::string symbol = line.substr(line.find_last_of(' ') + 1);
      INFO("undefined symbol: " << symbol);
      static const std::vector<std::string> allowed = {"exp",   "expf",  "expm1f", "tanhf",  "log1pf", "erff",
                                                       "erfcf", "sqrtf", "memcpy", "memset", "memmove", "__gxx_personality_v0"};
      CHECK(std::find(allowed.begin(), allowed.end(), symbol) != allowed.end());
      ++count;
    }
    CHECK(count > 0);  // exp at least (the softmax of the outputs): the test sees the symbols
    const auto sections = run({readelf, "-S", "-W", (dir / "unit.o").string()});
    CHECK_THAT(sections.out, Contains(".text"));
    CHECK_THAT(sections.out, !Contains("init_array") && !Contains(".ctors"));
  }
}

TEST_CASE("export: weights that do not fit the spec, and bad arguments, are refused clearly", "[export]") {
  TempDir dir;
  const fs::path conv = kSource / "tests" / "numeric" / "specs" / "graph_conv.toml";
  const fs::path pool = kSource / "tests" / "numeric" / "specs" / "graph_pool.toml";
  const Fixture f({conv, castnet::Normalize::none}, dir / "conv.safetensors", 4);

  const auto other = cli({"export", pool.string(), "--weights", (dir / "conv.safetensors").string(), "-o",
                          (dir / "model.hpp").string()});
  CHECK(other.exit_code == 1);
  CHECK_THAT(other.err, Contains("conv.safetensors: error:") && Contains("tensor"));
  CHECK_FALSE(fs::exists(dir / "model.hpp"));

  const auto missing = cli({"export", conv.string(), "--weights", (dir / "nope.safetensors").string(), "-o",
                            (dir / "model.hpp").string()});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Contains("nope.safetensors"));

  const auto no_weights = cli({"export", conv.string(), "-o", (dir / "model.hpp").string()});
  CHECK(no_weights.exit_code == 2);
  CHECK_THAT(no_weights.err, Contains("--weights"));

  const auto to_dir = cli({"export", conv.string(), "--weights", (dir / "conv.safetensors").string(), "-o", dir.path().string()});
  CHECK(to_dir.exit_code == 2);
  CHECK_THAT(to_dir.err, Contains("not a directory"));

  const auto bad_ns = cli({"export", conv.string(), "--weights", (dir / "conv.safetensors").string(), "-o",
                           (dir / "model.hpp").string(), "--namespace", "x;system(\"rm\")"});
  CHECK(bad_ns.exit_code == 2);
  CHECK_FALSE(fs::exists(dir / "model.hpp"));

  // A weight that is not finite cannot become a C++ literal.
  auto file = castnet::io::read_safetensors(dir / "conv.safetensors");
  file.tensors[0].values[3] = std::nanf("");
  castnet::io::write_safetensors(dir / "nan.safetensors", file.tensors, file.metadata);
  const auto nan = cli({"export", conv.string(), "--weights", (dir / "nan.safetensors").string(), "-o",
                        (dir / "model.hpp").string()});
  CHECK(nan.exit_code == 1);
  CHECK_THAT(nan.err, Contains("nan.safetensors: error: tensor '" + file.tensors[0].name + "'") && Contains("not finite"));
  CHECK_FALSE(fs::exists(dir / "model.hpp"));
}
