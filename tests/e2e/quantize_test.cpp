// castnet export --quantize and castnet eval --quantize: an exported int8 or bf16 header of a small
// dense net and of a small conv net, compiled with strict warnings for each of the kernels' paths,
// agrees with the float model within a bound derived from the quantization's own error (the int8
// scales, bf16's 8 significant bits) and from float rounding; eval --quantize reports the loss of
// exactly the weights the header holds; and what cannot be quantized is refused clearly.
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>
#include <castnet/io/sha256.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "emit/quantize.hpp"
#include "find_program.hpp"
#include "generate.hpp"
#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::run;
using castnet::test::TempDir;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

const fs::path kSpecs = fs::path(CASTNET_SOURCE_DIR) / "tests" / "e2e" / "specs";

// The values of the model's tensors and interval bounds on them: a value of the float model, and
// how far the quantized header's may lie from it.
struct Bounded {
  std::vector<double> v, e;
};

// One quantized weight's largest error: half an int8 step of its row (and the division's rounding),
// or half a bf16 unit in the last place, at most 2^-8 of the value.
double weight_error(castnet::ops::WeightFormat f, double w, double scale) {
  return f == castnet::ops::WeightFormat::int8 ? scale * (0.5 + 127 * FLT_EPSILON) : std::ldexp(std::fabs(w), -8);
}

// An affine map y[o] = b[o] + Σ_k w[o][k]·x[taps(o)[k]], with its bound: the inputs' errors through
// |w|, the weights' errors times |x| + e, and a float sum's rounding, (n + 2)·2^-24 of the absolute
// terms (products, bias, the int8 scale's product).
template <class Taps>
Bounded affine(const Bounded& x, const std::vector<float>& w, const std::vector<float>& b, std::size_t out, std::size_t n,
               const Taps& taps, castnet::ops::WeightFormat f) {
  const auto q = castnet::gen::quantize_int8(w, out);
  Bounded y{std::vector<double>(out), std::vector<double>(out)};
  for (std::size_t o = 0; o < out; ++o) {
    double z = b[o], err = 0, abs = std::fabs(b[o]);
    for (std::size_t k = 0; k < n; ++k) {
      const long i = taps(o, k);
      if (i < 0) continue;  // padding
      const double wv = w[o * n + k], dw = weight_error(f, wv, q.scale[o]);
      const double xv = x.v[static_cast<std::size_t>(i)], xe = x.e[static_cast<std::size_t>(i)];
      z += wv * xv;
      err += std::fabs(wv) * xe + dw * (std::fabs(xv) + xe);
      abs += (std::fabs(wv) + dw) * (std::fabs(xv) + xe);
    }
    y.v[o] = z;
    y.e[o] = err + static_cast<double>(n + 2) * FLT_EPSILON / 2 * abs;
  }
  return y;
}

// ReLU moves no value farther from another.
void relu(Bounded& x) {
  for (double& v : x.v) v = std::max(v, 0.0);
}

struct Net {
  castnet::ir::Graph graph;
  std::vector<castnet::io::TensorData> tensors;
  const std::vector<float>& tensor(const std::string& name) const {
    for (const auto& t : tensors)
      if (t.name == name) return t.values;
    FAIL("no tensor " << name);
    return tensors.front().values;
  }
};

// The float model's outputs and their bounds for quantize_dense.toml and quantize_conv.toml.
Bounded model(const Net& net, const float* sample, castnet::ops::WeightFormat f) {
  const auto& g = net.graph;
  Bounded x{std::vector<double>(sample, sample + g.input_features()), std::vector<double>(g.input_features(), 0.0)};
  if (g.name == "quantize_dense") {
    const auto dense = [&](const Bounded& in, const std::string& layer, std::size_t out) {
      const std::size_t n = in.v.size();
      return affine(in, net.tensor(layer + ".weight"), net.tensor(layer + ".bias"), out, n,
                    [](std::size_t, std::size_t k) { return static_cast<long>(k); }, f);
    };
    Bounded h = dense(x, "hidden", 20);
    relu(h);
    return dense(h, "out", 3);
  }
  // conv 2x6x6 -> 8x6x6 (3x3, padding 1), relu, maxpool 2 -> 8x3x3, flatten, dense 3.
  const std::size_t C = 2, H = 6, W = 6, F = 8;
  Bounded conv{std::vector<double>(F * H * W), std::vector<double>(F * H * W)};
  for (std::size_t p = 0; p < H * W; ++p) {
    const long oy = static_cast<long>(p / W), ox = static_cast<long>(p % W);
    const Bounded one = affine(x, net.tensor("conv.weight"), net.tensor("conv.bias"), F, C * 9,
                               [&](std::size_t, std::size_t k) {
                                 const long c = static_cast<long>(k / 9), iy = oy - 1 + static_cast<long>(k % 9 / 3),
                                            ix = ox - 1 + static_cast<long>(k % 3);
                                 if (iy < 0 || ix < 0 || iy >= static_cast<long>(H) || ix >= static_cast<long>(W)) return -1L;
                                 return (c * static_cast<long>(H) + iy) * static_cast<long>(W) + ix;
                               },
                               f);
    for (std::size_t o = 0; o < F; ++o) conv.v[o * H * W + p] = one.v[o], conv.e[o * H * W + p] = one.e[o];
  }
  relu(conv);
  // The max of values each within e of another's is within the largest e of their max.
  Bounded pooled{std::vector<double>(F * 9, -INFINITY), std::vector<double>(F * 9, 0.0)};
  for (std::size_t c = 0; c < F; ++c)
    for (std::size_t y = 0; y < H; ++y)
      for (std::size_t xx = 0; xx < W; ++xx) {
        const std::size_t to = (c * 3 + y / 2) * 3 + xx / 2, from = (c * H + y) * W + xx;
        pooled.v[to] = std::max(pooled.v[to], conv.v[from]);
        pooled.e[to] = std::max(pooled.e[to], conv.e[from]);
      }
  return affine(pooled, net.tensor("out.weight"), net.tensor("out.bias"), 3, F * 9,
                [](std::size_t, std::size_t k) { return static_cast<long>(k); }, f);
}

// Random weights (uniform, scaled by each tensor's fan-in) in `weights`.
Net random_net(const fs::path& spec, const fs::path& weights, unsigned seed) {
  Net net{castnet::gen::load_graph(spec), {}};
  std::mt19937 rng(seed);
  for (const auto& layer : net.graph.layers)
    for (const auto& p : layer.params) {
      const float bound = 1.5f / std::sqrt(static_cast<float>(std::max<std::size_t>(p.fan_in, 1)));
      std::uniform_real_distribution<float> u(-bound, bound);
      std::vector<float> values(p.size);
      for (auto& v : values) v = u(rng);
      net.tensors.push_back({p.torch_name, p.shape, values});
    }
  castnet::io::write_safetensors(weights, net.tensors);
  return net;
}

// Prints predict()'s outputs, then predict_batch()'s, for the samples of a binary file of floats.
const char* kDriver = R"(#include "model.hpp"
#include <cstdio>
#include <vector>
int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::FILE* f = std::fopen(argv[1], "rb");
  if (!f) return 2;
  std::vector<float> x(q::kInputs);
  std::vector<float> all;
  while (std::fread(x.data(), sizeof(float), q::kInputs, f) == q::kInputs) all.insert(all.end(), x.begin(), x.end());
  std::fclose(f);
  const std::size_t n = all.size() / q::kInputs;
  std::vector<float> y(n * q::kOutputs);
  for (std::size_t s = 0; s < n; ++s) q::predict(all.data() + s * q::kInputs, y.data() + s * q::kOutputs);
  for (float v : y) std::printf("%.9g\n", static_cast<double>(v));
  q::predict_batch(all.data(), y.data(), n);
  for (float v : y) std::printf("%.9g\n", static_cast<double>(v));
  return 0;
}
)";

std::vector<double> numbers(const std::string& text) {
  std::vector<double> v;
  std::istringstream in(text);
  for (double d; in >> d;) v.push_back(d);
  return v;
}

castnet::test::Result cli(const std::vector<std::string>& args) {
  std::vector<std::string> a = {CASTNET_CLI_EXE};
  a.insert(a.end(), args.begin(), args.end());
  return run(a);
}

struct Build {
  std::string label;
  std::vector<std::string> flags;
};

// The header's own strict flags (export_test.cpp's).
const std::vector<std::string> kStrict = {"-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-Wshadow", "-Wconversion"};

// dir/main.cpp (kDriver) built against dir/model.hpp by `compiler` with the strict flags and
// `flags`, then run on dir/x.bin: the numbers it prints.
std::vector<double> build_and_run(const std::string& compiler, const std::vector<std::string>& flags, const fs::path& dir) {
  std::vector<std::string> command = {compiler};
  command.insert(command.end(), kStrict.begin(), kStrict.end());
  command.insert(command.end(), flags.begin(), flags.end());
  command.insert(command.end(), {"-I", dir.string(), (dir / "main.cpp").string(), "-o", (dir / "predict").string()});
  const auto compiled = run(command);
  INFO(compiled.err);
  REQUIRE(compiled.exit_code == 0);
  const auto ran = run({(dir / "predict").string(), (dir / "x.bin").string()});
  REQUIRE(ran.exit_code == 0);
  return numbers(ran.out);
}

}  // namespace

TEST_CASE("export --quantize: int8 and bf16 headers agree with the float model within the quantization's bound", "[export][quantize]") {
  const std::string gxx = castnet::cli::find_on_path("g++").value_or("").string();
  REQUIRE(!gxx.empty());
  // The int8 dense net through each path of the kernels: AVX-512 (-march=native, where the CPU
  // has it), AVX2, scalar.
  std::vector<Build> all = {{"-march=native", {"-march=native"}}};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) all.push_back({"-mavx2 -mfma", {"-mavx2", "-mfma"}});
  all.push_back({"scalar", {"-march=native", "-DCASTNET_EXPORT_SCALAR"}});

  unsigned seed = 1;
  for (const char* spec : {"quantize_dense.toml", "quantize_conv.toml"})
    for (const char* mode : {"int8", "bf16"}) {
      DYNAMIC_SECTION(spec << " " << mode) {
        TempDir dir;
        const Net net = random_net(kSpecs / spec, dir / "w.safetensors", seed++);
        const auto format = castnet::gen::parse_quantize(mode);
        const auto exported = cli({"export", (kSpecs / spec).string(), "--weights", (dir / "w.safetensors").string(), "-o",
                                   (dir / "model.hpp").string(), "--namespace", "q", "--quantize", mode});
        INFO(exported.err);
        REQUIRE(exported.exit_code == 0);
        // The banner says what was done; the tensors are stored in the mode's type.
        const std::string header = read_file(dir / "model.hpp");
        CHECK_THAT(header, Contains("--quantize " + std::string(mode)));
        CHECK_THAT(header, Contains("// Quantized weights (--quantize " + std::string(mode) + ")"));
        CHECK_THAT(header, Contains("Accuracy: not measured at export"));
        const std::string type = format == castnet::ops::WeightFormat::int8 ? "std::int8_t " : "std::uint16_t ";
        CHECK_THAT(header, Contains("static constexpr " + type + "out_weight["));
        CHECK_THAT(header, Contains(std::string(net.graph.name == "quantize_dense" ? "hidden" : "conv") + "_weight["));

        std::mt19937 rng(seed * 101);
        std::uniform_real_distribution<float> u(-2.0f, 2.0f);
        const std::size_t rows = 5, inputs = net.graph.input_features(), outputs = net.graph.output_features();
        std::vector<float> x(rows * inputs);
        for (auto& v : x) v = u(rng);
        {
          std::ofstream out(dir / "x.bin", std::ios::binary);
          out.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size() * sizeof(float)));
        }
        write_file(dir / "main.cpp", kDriver);
        const std::size_t builds = net.graph.name == "quantize_dense" && format == castnet::ops::WeightFormat::int8 ? all.size() : 1;
        for (std::size_t b = 0; b < builds; ++b) {
          INFO(all[b].label);
          const std::vector<double> got = build_and_run(gxx, all[b].flags, dir.path());
          REQUIRE(got.size() == 2 * rows * outputs);
          for (std::size_t r = 0; r < rows; ++r) {
            const Bounded want = model(net, x.data() + r * inputs, format);
            for (std::size_t k = 0; k < outputs; ++k)
              for (std::size_t pass = 0; pass < 2; ++pass) {
                const double d = std::fabs(got[pass * rows * outputs + r * outputs + k] - want.v[k]);
                INFO("sample " << r << " output " << k << (pass ? " predict_batch" : " predict") << ": " << d
                               << " from the float model, bound " << want.e[k]);
                CHECK(d <= want.e[k]);
              }
          }
        }
      }
    }
}

TEST_CASE("eval --quantize: the loss of the weights as the exported header holds them", "[quantize]") {
  const castnet::test::CliSandbox box;
  const fs::path spec = kSpecs / "quantize_dense.toml";
  const Net net = random_net(spec, box / "w.safetensors", 42);
  // A CSV of 12 inputs and 3 targets, 30 rows.
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::string csv;
  for (int i = 0; i < 12; ++i) csv += "x" + std::to_string(i) + ",";
  csv += "y0,y1,y2\n";
  for (int r = 0; r < 30; ++r)
    for (int c = 0; c < 15; ++c) csv += std::to_string(u(rng)) + (c == 14 ? "\n" : ",");
  write_file(box / "data.csv", csv);

  const auto loss = [&](const std::string& weights, const std::vector<std::string>& extra) {
    std::vector<std::string> a = {"eval", spec.string(), "--weights", weights, "--data", "data.csv", "--labels", "y0,y1,y2", "--json"};
    a.insert(a.end(), extra.begin(), extra.end());
    const auto r = box(a);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto at = r.out.find("\"loss\":");
    REQUIRE(at != std::string::npos);
    return r.out.substr(at, r.out.find(',', at) - at);
  };
  for (const char* mode : {"int8", "bf16"}) {
    INFO(mode);
    const auto format = castnet::gen::parse_quantize(mode);
    const auto q = castnet::gen::dequantized(net.graph, castnet::io::read_safetensors(box / "w.safetensors"), format);
    castnet::io::write_safetensors(box / "dequantized.safetensors", q.tensors, q.metadata);
    // The same runner on the same values: the same digits.
    CHECK(loss("w.safetensors", {"--quantize", mode}) == loss("dequantized.safetensors", {}));
    CHECK(loss("w.safetensors", {"--quantize", mode}) != loss("w.safetensors", {}));
  }
  const auto plain = box({"eval", spec.string(), "--weights", "w.safetensors", "--data", "data.csv", "--labels", "y0,y1,y2",
                          "--quantize", "int8"});
  CHECK(plain.exit_code == 0);
  CHECK_THAT(plain.out, Contains("weights quantized to int8 as `castnet export --quantize int8` stores them"));
}

namespace {

// ---- Calibrated activations ----

// A calibrated layer by its definition (generator/emit/quantize.hpp, kernels/quantized.hpp), from
// the weights and the input range the header states: s = range / 127, q(x) = clamp(round-half-even
// (x · (1 / s)), ±127), an exact integer sum, then fma(sum, s · scale[o], bias[o]) rounded once.
template <class Taps>
std::vector<float> calibrated_affine(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                                     std::size_t out, std::size_t n, const Taps& taps, float range) {
  const auto q = castnet::gen::quantize_int8(w, out);
  const float s = range / 127.0f, inv = 1.0f / s;
  std::vector<float> y(out);
  for (std::size_t o = 0; o < out; ++o) {
    std::int64_t sum = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const long i = taps(o, k);
      if (i < 0) continue;  // padding: 0
      const float v = std::nearbyint(std::clamp(x[static_cast<std::size_t>(i)] * inv, -127.0f, 127.0f));
      sum += static_cast<std::int64_t>(v) * q.q[o * n + k];
    }
    y[o] = std::fma(static_cast<float>(sum), s * q.scale[o], b[o]);
  }
  return y;
}

// conv 2x6x6 -> 8x6x6 (3x3, padding 1) of quantize_conv.toml: tap k of output pixel p.
long conv_tap(std::size_t p, std::size_t k) {
  const long oy = static_cast<long>(p / 6), ox = static_cast<long>(p % 6);
  const long c = static_cast<long>(k / 9), iy = oy - 1 + static_cast<long>(k % 9 / 3), ix = ox - 1 + static_cast<long>(k % 3);
  if (iy < 0 || ix < 0 || iy >= 6 || ix >= 6) return -1L;
  return (c * 6 + iy) * 6 + ix;
}

long dense_tap(std::size_t, std::size_t k) { return static_cast<long>(k); }

// maxpool 2 of 8x6x6 -> 8x3x3.
template <class V>
std::vector<V> pool(const std::vector<V>& conv) {
  std::vector<V> pooled(8 * 9, V(0));  // after a ReLU: every value >= 0
  for (std::size_t c = 0; c < 8; ++c)
    for (std::size_t y = 0; y < 6; ++y)
      for (std::size_t x = 0; x < 6; ++x) {
        V& to = pooled[(c * 3 + y / 2) * 3 + x / 2];
        to = std::max(to, conv[(c * 6 + y) * 6 + x]);
      }
  return pooled;
}

// The header's outputs for one sample, by definition, with the ranges it states ({first, second
// layer}).
std::vector<float> calibrated_model(const Net& net, const float* sample, const float ranges[2]) {
  const auto& g = net.graph;
  const std::vector<float> x(sample, sample + g.input_features());
  const auto relu = [](std::vector<float> v) {
    for (float& e : v) e = std::max(e, 0.0f);
    return v;
  };
  if (g.name == "quantize_dense") {
    const auto h = relu(calibrated_affine(x, net.tensor("hidden.weight"), net.tensor("hidden.bias"), 20, 12, dense_tap, ranges[0]));
    return calibrated_affine(h, net.tensor("out.weight"), net.tensor("out.bias"), 3, 20, dense_tap, ranges[1]);
  }
  std::vector<float> conv(8 * 36);
  for (std::size_t p = 0; p < 36; ++p) {
    const auto one = calibrated_affine(x, net.tensor("conv.weight"), net.tensor("conv.bias"), 8, 18,
                                       [p](std::size_t, std::size_t k) { return conv_tap(p, k); }, ranges[0]);
    for (std::size_t f = 0; f < 8; ++f) conv[f * 36 + p] = std::max(one[f], 0.0f);
  }
  return calibrated_affine(pool(conv), net.tensor("out.weight"), net.tensor("out.bias"), 3, 72, dense_tap, ranges[1]);
}

// The float model's input to the second layer (relu(hidden), or the pooled conv), in double, and
// the bound on a float computation's distance from it: (n + 2)·2^-24 of the absolute terms.
Bounded second_input(const Net& net, const float* sample) {
  const auto& g = net.graph;
  const bool dense = g.name == "quantize_dense";
  const std::size_t out = dense ? 20 : 8, n = dense ? 12 : 18, pixels = dense ? 1 : 36;
  const auto& w = net.tensor(dense ? "hidden.weight" : "conv.weight");
  const auto& b = net.tensor(dense ? "hidden.bias" : "conv.bias");
  Bounded h{std::vector<double>(out * pixels), std::vector<double>(out * pixels)};
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t o = 0; o < out; ++o) {
      double z = b[o], abs = std::fabs(b[o]);
      for (std::size_t k = 0; k < n; ++k) {
        const long i = dense ? dense_tap(o, k) : conv_tap(p, k);
        if (i < 0) continue;
        const double t = static_cast<double>(w[o * n + k]) * sample[i];
        z += t, abs += std::fabs(t);
      }
      h.v[o * pixels + p] = std::max(z, 0.0);
      h.e[o * pixels + p] = static_cast<double>(n + 2) * FLT_EPSILON / 2 * abs;
    }
  if (dense) return h;
  return {pool(h.v), pool(h.e)};
}

// The range a calibrated header states for `layer` ("... range = 2.5f: the largest |input| ...").
float stated_range(const std::string& header, const std::string& layer) {
  const std::string tail = ": the largest |input| on the calibration data\n  static constexpr float " + layer + "_input_inv";
  const auto end = header.find(tail);
  REQUIRE(end != std::string::npos);
  const auto start = header.rfind("range = ", end);
  REQUIRE(start != std::string::npos);
  return std::stof(header.substr(start + 8, end - start - 8));
}

// A CSV of `rows` random samples for `net` with its label columns.
std::string calibration_csv(const Net& net, std::size_t rows, bool classes, std::vector<float>& x, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  const std::size_t inputs = net.graph.input_features();
  std::string csv;
  for (std::size_t i = 0; i < inputs; ++i) csv += "x" + std::to_string(i) + ",";
  csv += classes ? "y\n" : "y0,y1,y2\n";
  x.resize(rows * inputs);
  char cell[32];
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t i = 0; i < inputs; ++i) {
      // Written with 9 digits: the CSV reads back as exactly these floats.
      x[r * inputs + i] = u(rng);
      std::snprintf(cell, sizeof cell, "%.9g,", static_cast<double>(x[r * inputs + i]));
      csv += cell;
    }
    csv += classes ? std::to_string(rng() % 3) + "\n" : "0.5,-0.5,1\n";
  }
  return csv;
}

// A header's banner, its lines joined again where it wrapped them.
std::string banner(const std::string& header) {
  std::string b = header.substr(0, header.find("#pragma once"));
  for (std::size_t wrap; (wrap = b.find("\n// ")) != std::string::npos;) b.replace(wrap, 4, " ");
  return b;
}

void write_floats(const fs::path& file, const std::vector<float>& x) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size() * sizeof(float)));
}

}  // namespace

TEST_CASE("export --quantize int8 --calibrate: every path computes the calibrated model exactly", "[export][quantize]") {
  const std::string gxx = castnet::cli::find_on_path("g++").value_or("").string();
  const std::string clang = castnet::cli::find_on_path("clang++").value_or("").string();
  REQUIRE(!gxx.empty());
  // The integer paths: AVX-512 VNNI (-march=native, where the CPU has it), AVX2, scalar.
  std::vector<Build> all = {{"-march=native", {"-march=native"}}};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    all.push_back({"-mavx2 -mfma -mno-avx512f", {"-mavx2", "-mfma", "-mno-avx512f"}});
  all.push_back({"scalar", {"-march=native", "-DCASTNET_EXPORT_SCALAR"}});

  unsigned seed = 21;
  for (const char* spec : {"quantize_dense.toml", "quantize_conv.toml"}) {
    DYNAMIC_SECTION(spec) {
      TempDir dir;
      const Net net = random_net(kSpecs / spec, dir / "w.safetensors", seed++);
      const std::size_t rows = 40, inputs = net.graph.input_features(), outputs = net.graph.output_features();
      std::vector<float> x;
      write_file(dir / "data.csv", calibration_csv(net, rows, false, x, seed * 7));
      write_floats(dir / "x.bin", x);
      const auto exported = cli({"export", (kSpecs / spec).string(), "--weights", (dir / "w.safetensors").string(), "-o",
                                 (dir / "model.hpp").string(), "--namespace", "q", "--quantize", "int8", "--calibrate",
                                 (dir / "data.csv").string(), "--labels", "y0,y1,y2"});
      INFO(exported.err);
      REQUIRE(exported.exit_code == 0);
      const std::string header = read_file(dir / "model.hpp");
      // The banner: the mode, the scales' provenance (the weights above it, the data's name,
      // SHA-256 and rows) and the loss measured on the data.
      const std::string told = banner(header);
      CHECK_THAT(told, Contains("Quantized weights and activations (--quantize int8 --calibrate): int8, calibrated activations"));
      CHECK_THAT(told, Contains("Calibration data: data.csv (sha256 " + castnet::io::sha256_hex(read_file(dir / "data.csv")) +
                                ", 40 rows)"));
      CHECK_THAT(told, Contains("Accuracy of this header on the calibration data: loss "));
      CHECK_THAT(told, Contains("--quantize int8 --calibrate data.csv --labels y0,y1,y2"));
      // kStackBytes counts the kernels' longest quantized input row besides the float buffers of
      // a weight-only export: the second layer's, 20 hidden values or 8·3·3 pooled ones.
      const auto weight_only = cli({"export", (kSpecs / spec).string(), "--weights", (dir / "w.safetensors").string(), "-o",
                                    (dir / "weight_only.hpp").string(), "--quantize", "int8"});
      REQUIRE(weight_only.exit_code == 0);
      const auto stack_bytes = [](const std::string& text) {
        const auto at = text.find("kStackBytes = ");
        REQUIRE(at != std::string::npos);
        return std::stoul(text.substr(at + 14));
      };
      CHECK(stack_bytes(header) == stack_bytes(read_file(dir / "weight_only.hpp")) + (net.graph.name == "quantize_dense" ? 20 : 72));

      // The ranges: the first layer's is the data's max |x|, exactly; the second's the float
      // model's largest input to it, within that float computation's rounding.
      const std::string first = net.graph.name == "quantize_dense" ? "hidden" : "conv";
      const float ranges[2] = {stated_range(header, first), stated_range(header, "out")};
      float max_x = 0;
      for (float v : x) max_x = std::max(max_x, std::fabs(v));
      CHECK(ranges[0] == max_x);
      double max_h = 0, bound = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        const Bounded h = second_input(net, x.data() + r * inputs);
        for (std::size_t i = 0; i < h.v.size(); ++i) max_h = std::max(max_h, h.v[i]), bound = std::max(bound, h.e[i]);
      }
      CHECK(std::fabs(ranges[1] - max_h) <= bound);

      std::vector<float> want;
      for (std::size_t r = 0; r < rows; ++r) {
        const auto y = calibrated_model(net, x.data() + r * inputs, ranges);
        want.insert(want.end(), y.begin(), y.end());
      }
      write_file(dir / "main.cpp", kDriver);
      std::vector<Build> builds = all;
      if (!clang.empty()) builds.push_back({"clang++ -march=native", {"-march=native"}});
      for (const Build& b : builds) {
        INFO(b.label);
        const std::vector<double> got = build_and_run(b.label.rfind("clang++", 0) == 0 ? clang : gxx, b.flags, dir.path());
        REQUIRE(got.size() == 2 * rows * outputs);
        // Exact: the integer sums have no rounding, and the rest is the same IEEE operations.
        for (std::size_t i = 0; i < rows * outputs; ++i) {
          INFO("sample " << i / outputs << " output " << i % outputs);
          CHECK(static_cast<float>(got[i]) == want[i]);
          CHECK(static_cast<float>(got[rows * outputs + i]) == want[i]);
        }
      }
    }
  }
}

TEST_CASE("eval --quantize int8 --calibrate: the accuracy of the calibrated header, as its banner states it", "[quantize]") {
  const castnet::test::CliSandbox box;
  // quantize_dense as a 3-class classifier.
  std::string text = read_file(kSpecs / "quantize_dense.toml");
  const auto at = text.find("type = \"mse\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, 12, "type = \"softmax_cross_entropy\"");
  write_file(box / "cls.toml", text);
  const Net net = random_net(box / "cls.toml", box / "w.safetensors", 31);
  std::vector<float> x;
  write_file(box / "data.csv", calibration_csv(net, 60, true, x, 5));
  write_floats(box / "x.bin", x);
  const auto exported = box({"export", "cls.toml", "--weights", "w.safetensors", "-o", "model.hpp", "--namespace", "q",
                             "--quantize", "int8", "--calibrate", "data.csv", "--labels", "y"});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  const auto evaluated = box({"eval", "cls.toml", "--weights", "w.safetensors", "--data", "data.csv", "--labels", "y",
                              "--quantize", "int8", "--calibrate", "data.csv"});
  INFO(evaluated.err);
  REQUIRE(evaluated.exit_code == 0);
  CHECK_THAT(evaluated.out, Contains("int8 weights and activations calibrated on data.csv (60 rows)"));

  // The header's own count: its most probable class against the label column.
  const std::string gxx = castnet::cli::find_on_path("g++").value_or("").string();
  REQUIRE(!gxx.empty());
  write_file(box / "main.cpp", kDriver);
  const std::vector<double> p = build_and_run(gxx, {"-march=native"}, box.dir.path());
  REQUIRE(p.size() == 2 * 60 * 3);
  const std::vector<std::string> lines = [&] {
    std::vector<std::string> v;
    std::istringstream in(read_file(box / "data.csv"));
    for (std::string line; std::getline(in, line);) v.push_back(line);
    return v;
  }();
  std::size_t correct = 0;
  for (std::size_t r = 0; r < 60; ++r) {
    const std::size_t best = static_cast<std::size_t>(std::max_element(p.begin() + 3 * r, p.begin() + 3 * r + 3) - (p.begin() + 3 * r));
    correct += std::to_string(best) == lines[r + 1].substr(lines[r + 1].rfind(',') + 1);
  }
  char accuracy[64];
  std::snprintf(accuracy, sizeof accuracy, "accuracy %.2f%% (%zu/60)", 100.0 * static_cast<double>(correct) / 60, correct);
  CHECK_THAT(evaluated.out, Contains(accuracy));
  CHECK_THAT(banner(read_file(box / "model.hpp")), Contains("Accuracy of this header on the calibration data: " + std::string(accuracy)));
}

TEST_CASE("quantize: unknown modes, --calibrate and layers without a quantized kernel are refused", "[quantize]") {
  TempDir dir;
  const fs::path dense = kSpecs / "quantize_dense.toml";
  random_net(dense, dir / "w.safetensors", 3);
  const std::string out = (dir / "m.hpp").string();
  {
    const auto r = cli({"export", dense.string(), "--weights", (dir / "w.safetensors").string(), "-o", out, "--quantize", "int4"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--quantize 'int4': unknown mode; give int8 or bf16"));
  }
  {
    // --calibrate quantizes int8 activations: not alone, not with bf16, before anything is read.
    const std::string w = (dir / "w.safetensors").string();
    const auto alone = cli({"export", dense.string(), "--weights", w, "-o", out, "--calibrate", "data.csv"});
    CHECK(alone.exit_code == 2);
    CHECK_THAT(alone.err, Contains("--calibrate quantizes the activations of an int8 model: give --quantize int8 too"));
    for (const char* verb : {"export", "eval"}) {
      std::vector<std::string> a = {verb, dense.string(), "--weights", w, "--quantize", "bf16", "--calibrate", "data.csv"};
      if (std::string(verb) == "export") a.insert(a.end(), {"-o", out});
      const auto r = cli(a);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Contains("--calibrate goes with --quantize int8 only (bf16 keeps float activations)"));
    }
    const auto unknown = cli({"eval", dense.string(), "--weights", w, "--quantize", "int4", "--calibrate", "data.csv"});
    CHECK(unknown.exit_code == 2);
    CHECK_THAT(unknown.err, Contains("--quantize 'int4': unknown mode; give int8 or bf16"));
    const auto labels = cli({"export", dense.string(), "--weights", w, "-o", out, "--quantize", "int8", "--calibrate-labels", "l"});
    CHECK(labels.exit_code == 2);
    CHECK_THAT(labels.err, Contains("--calibrate-labels goes with --calibrate DATA"));
    CHECK_FALSE(fs::exists(out));
  }
  {
    const auto r = cli({"eval", dense.string(), "--weights", (dir / "w.safetensors").string(), "--quantize", "fp8"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--quantize 'fp8': unknown mode"));
  }
  {
    // A weight past bf16's largest value: export and eval both name the tensor and the index.
    auto file = castnet::io::read_safetensors(dir / "w.safetensors");
    for (auto& t : file.tensors)
      if (t.name == "hidden.weight") t.values.at(5) = FLT_MAX;
    castnet::io::write_safetensors(dir / "big.safetensors", file.tensors, file.metadata);
    const std::string big = (dir / "big.safetensors").string();
    const std::string what = "error: tensor 'hidden.weight' holds a value beyond bf16's range (at 5)";
    const auto exported = cli({"export", dense.string(), "--weights", big, "-o", out, "--quantize", "bf16"});
    CHECK(exported.exit_code == 1);
    CHECK_THAT(exported.err, Contains("big.safetensors: " + what));
    CHECK_FALSE(fs::exists(out));
    const auto evaluated = cli({"eval", dense.string(), "--weights", big, "--quantize", "bf16"});
    CHECK(evaluated.exit_code == 1);
    CHECK_THAT(evaluated.err, Contains("big.safetensors: " + what));
  }
  {
    // glu has a weight matrix but no quantized kernel: refused at its layer, not exported in float.
    const fs::path glu = fs::path(CASTNET_SOURCE_DIR) / "tests" / "numeric" / "specs" / "graph_glu.toml";
    random_net(glu, dir / "glu.safetensors", 4);
    const auto r = cli({"export", glu.string(), "--weights", (dir / "glu.safetensors").string(), "-o", out, "--quantize", "bf16"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("graph_glu.toml:7:1: error: layer 'g1': --quantize bf16: a glu layer's weights have no quantized "
                               "kernel (dense and conv2d do); export this net in float"));
    CHECK_FALSE(fs::exists(out));
  }
  {
    const fs::path kan = fs::path(CASTNET_SOURCE_DIR) / "tests" / "numeric" / "specs" / "graph_kan.toml";
    random_net(kan, dir / "kan.safetensors", 5);
    const auto r = cli({"export", kan.string(), "--weights", (dir / "kan.safetensors").string(), "-o", out, "--quantize", "int8"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("--quantize int8: a kan layer's weights have no quantized kernel"));
  }
}
