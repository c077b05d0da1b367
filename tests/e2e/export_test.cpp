// castnet export: the standalone header, compiled on its own by each compiler and language version
// at hand, against the reference interpreter on every layer kind (weights and inputs random,
// inputs in raw units so that the normalisation baked in from the weights' metadata matters);
// what its object file needs from the outside world; and the errors of a bad export.
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>
#include <castnet/train/loss_outputs.hpp>
#include <castnet/data/normalize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "find_program.hpp"
#include "generate.hpp"
#include "reference/interpreter.hpp"
#include "support/process.hpp"
#include "support/sha256.hpp"

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

// Each compiler found times C++17 and C++20, and g++ with xsimd at the machine's widest vectors.
std::vector<Build> builds() {
  std::vector<Build> b;
  for (const char* cxx : {"g++", "clang++"}) {
    const std::string exe = on_path(cxx);
    if (exe.empty()) {
      WARN("skipped " << cxx << ": not on PATH");
      continue;
    }
    for (const char* std : {"-std=c++17", "-std=c++20"}) {
      Build one{std::string(cxx) + " " + std, {exe, std}};
      one.command.insert(one.command.end(), kStrict.begin(), kStrict.end());
      b.push_back(one);
    }
  }
  if (const std::string gxx = on_path("g++"); !gxx.empty()) {
    Build simd{"g++ -std=c++20 -march=native -DCASTNET_USE_XSIMD", {gxx, "-std=c++20", "-march=native", "-DCASTNET_USE_XSIMD"}};
    simd.command.insert(simd.command.end(), kStrict.begin(), kStrict.end() - 1);  // xsimd's own headers trip -Wconversion
    b.push_back(simd);
  }
  return b;
}

// Prints predict()'s outputs for each sample of a binary file of floats, then predict_batch()'s.
std::string driver(const std::string& ns) {
  return "#include \"model.hpp\"\n"
         "#include <cstdio>\n"
         "#include <vector>\n"
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
         "  for (float v : y) std::printf(\"%.9g\\n\", static_cast<double>(v));\n"
         "  " + ns + "::predict_batch(x.data(), y.data(), n);\n"
         "  for (float v : y) std::printf(\"%.9g\\n\", static_cast<double>(v));\n"
         "  return 0;\n"
         "}\n";
}

struct Case {
  fs::path spec;
  castnet::Normalize normalize;
};

// Random weights (uniform, scaled by each tensor's fan-in) with `normalize` statistics in the
// metadata, and random raw inputs; returns the interpreter's outputs as `castnet predict` prints them.
struct Fixture {
  castnet::ir::Graph graph;
  std::vector<float> x;         // raw inputs, kRows rows
  std::vector<double> expected;  // the reference's outputs
  static constexpr std::size_t kRows = 7;

  Fixture(const Case& c, const fs::path& weights, unsigned seed) : graph(castnet::gen::load_graph(c.spec)) {
    std::mt19937 rng(seed);
    // In double: the header sums in double and rounds each layer's outputs to float, so it is
    // within float rounding of the exact result.
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
    std::uniform_real_distribution<float> raw(0.0f, 255.0f);
    x.resize(kRows * inputs);
    for (auto& v : x) v = raw(rng);
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
};

std::vector<float> parse_floats(const std::string& text) {
  std::vector<float> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) v.push_back(std::stof(line));
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

}  // namespace

TEST_CASE("export: every layer kind agrees with the interpreter, with every compiler and language version", "[export]") {
  const fs::path numeric = kSource / "tests" / "numeric" / "specs";
  const fs::path e2e = kSource / "tests" / "e2e" / "specs";
  using castnet::Normalize;
  const std::vector<Case> cases = {
      {e2e / "export_activations.toml", Normalize::standardize},   // every activation, binary cross-entropy
      {numeric / "graph_conv.toml", Normalize::scale},             // conv padding and stride, maxpool, softmax
      {numeric / "graph_pool.toml", Normalize::none},              // "same" padding, avgpool, mse
      {numeric / "graph_concat.toml", Normalize::scale},           // concat of images
      {numeric / "graph_glu.toml", Normalize::standardize},        // glu
      {numeric / "graph_prelu.toml", Normalize::scale},            // prelu on channels and on features
      {numeric / "graph_residual.toml", Normalize::standardize},   // add (of 2 and 3), concat of vectors
      {kSource / "tests" / "golden" / "specs" / "dropout_net.toml", Normalize::scale},  // dropout passes through
  };
  const auto all_builds = builds();
  REQUIRE_FALSE(all_builds.empty());
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
                 Contains("// weights sha256: " + castnet::support::sha256_file_hex(dir / "weights.safetensors") + "\n"));
      write_file(dir / "main.cpp", driver("exported"));
      {
        std::ofstream in(dir / "x.bin", std::ios::binary);
        in.write(reinterpret_cast<const char*>(f.x.data()), static_cast<std::streamsize>(f.x.size() * sizeof(float)));
      }
      // Every build for the first spec; one per spec otherwise (compiling is the slow part).
      const std::size_t count = &c == &cases.front() ? all_builds.size() : 1;
      for (std::size_t b = 0; b < count; ++b) {
        const Build& build = all_builds[b];
        INFO(build.label);
        auto command = build.command;
        command.insert(command.end(), {"-I", dir.path().string(), (dir / "main.cpp").string(), "-o", (dir / "predict").string()});
        const auto compiled = run(command);
        INFO(compiled.err);
        REQUIRE(compiled.exit_code == 0);
        const auto ran = run({(dir / "predict").string(), (dir / "x.bin").string()});
        REQUIRE(ran.exit_code == 0);
        const std::vector<float> got = parse_floats(ran.out);
        REQUIRE(got.size() == 2 * f.expected.size());
        const std::vector<float> one(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(f.expected.size()));
        const std::vector<float> batch(got.begin() + static_cast<std::ptrdiff_t>(f.expected.size()), got.end());
        CHECK(one == batch);
        CHECK(worst_relative(one, f.expected, f.graph.output_features()) <= 1e-6);
      }
    }
  }
}

// What predict() needs from outside: the object file of a function calling it may refer only to
// the C math library (and memcpy/memset, which compilers emit for copies); no operator new,
// malloc, exception machinery or static initialiser.
TEST_CASE("export: the header needs only libm, allocates nothing and runs nothing before main", "[export]") {
  const std::string gxx = on_path("g++"), nm = on_path("nm"), readelf = on_path("readelf");
  if (gxx.empty() || nm.empty() || readelf.empty()) {
    WARN("skipped: g++, nm or readelf not on PATH");
    return;
  }
  TempDir dir;
  const Fixture f({kSource / "tests" / "numeric" / "specs" / "graph_concat.toml", castnet::Normalize::scale},
                  dir / "weights.safetensors", 3);
  REQUIRE(cli({"export", (kSource / "tests" / "numeric" / "specs" / "graph_concat.toml").string(), "--weights",
               (dir / "weights.safetensors").string(), "-o", (dir / "model.hpp").string()})
              .exit_code == 0);
  write_file(dir / "unit.cpp",
             "#include \"model.hpp\"\n"
             "void run(const float* x, float* y) noexcept { graph_concat::predict(x, y); }\n"
             "std::size_t top(const float* x) noexcept { return graph_concat::classify(x); }\n");
  for (const char* opt : {"-O0", "-O2"}) {
    INFO(opt);
    const auto compiled = run({gxx, "-std=c++17", opt, "-c", (dir / "unit.cpp").string(), "-o", (dir / "unit.o").string()});
    INFO(compiled.err);
    REQUIRE(compiled.exit_code == 0);
    const auto undefined = run({nm, "-u", "-C", (dir / "unit.o").string()});
    REQUIRE(undefined.exit_code == 0);
    std::istringstream symbols(undefined.out);
    std::size_t count = 0;
    for (std::string line; std::getline(symbols, line);) {
      const std::string symbol = line.substr(line.find_last_of(' ') + 1);
      INFO("undefined symbol: " << symbol);
      static const std::vector<std::string> allowed = {"exp", "expf", "tanhf", "log1pf", "erff", "sqrtf", "memcpy", "memset", "memmove"};
      CHECK(std::find(allowed.begin(), allowed.end(), symbol) != allowed.end());
      ++count;
    }
    CHECK(count > 0);  // expf at least: the test sees the symbols
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
