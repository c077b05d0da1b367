// castnet import of ONNX models. Each test builds a small model with the ONNX protobuf classes,
// imports it (through import_onnx and spec::write_spec, or through the CLI), checks that `castnet check`
// takes the spec, and runs the imported network in the interpreter with the imported weights
// against a plain reference computed here from the same weights, with ONNX's definitions of the
// operators. Rejections name the file, the node and the operator. Without ONNX support, `castnet
// import` must say so.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using castnet::test::run;
using castnet::test::TempDir;

namespace {

castnet::test::Result cli(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), CASTNET_CLI_EXE);
  return run(args, dir.path());
}

}  // namespace

#ifndef CASTNET_HAVE_ONNX

TEST_CASE("onnx import: a castnet without ONNX says so") {
  TempDir dir;
  castnet::test::write_file(dir / "m.onnx", "not read");
  const auto r = cli(dir, {"import", "m.onnx", "-o", "m.toml"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("built without ONNX support (apt-get install libonnx-dev)"));
  CHECK_FALSE(fs::exists(dir / "m.toml"));
}

#else

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <random>

#include <castnet/error.hpp>
#include <castnet/io/safetensors.hpp>

#include "generate.hpp"
#include "import_onnx.hpp"
#include "reference/interpreter.hpp"
#include "spec/write_spec.hpp"

namespace pb = ::ONNX_NAMESPACE;

namespace {

using Vec = std::vector<float>;
constexpr std::size_t kSamples = 3;

Vec random_values(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Vec v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// A model under construction: one float input [N, dims...] named "x", opset 17 unless given.
struct Model {
  pb::ModelProto m;
  pb::GraphProto* g = m.mutable_graph();

  explicit Model(const std::vector<std::int64_t>& sample, std::int64_t opset = 17) {
    m.set_ir_version(8);
    auto* o = m.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    g->set_name("test");
    auto* in = g->add_input();
    in->set_name("x");
    auto* t = in->mutable_type()->mutable_tensor_type();
    t->set_elem_type(pb::TensorProto_DataType_FLOAT);
    t->mutable_shape()->add_dim()->set_dim_param("N");
    for (auto d : sample) t->mutable_shape()->add_dim()->set_dim_value(d);
  }

  void weight(const std::string& name, const std::vector<std::int64_t>& dims, const Vec& values) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(pb::TensorProto_DataType_FLOAT);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  }

  void int64s(const std::string& name, const std::vector<std::int64_t>& values) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(pb::TensorProto_DataType_INT64);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (auto v : values) t->add_int64_data(v);
  }

  pb::NodeProto& node(const std::string& op, const std::vector<std::string>& in, const std::string& out,
                      const std::string& name = "") {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return *n;
  }

  void output(const std::string& name) {
    auto* o = g->add_output();
    o->set_name(name);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(pb::TensorProto_DataType_FLOAT);
  }

  fs::path save(const TempDir& dir, const std::string& file) const {
    std::ofstream out(dir / file, std::ios::binary);
    REQUIRE(m.SerializeToOstream(&out));
    return dir / file;
  }
};

void attr(pb::NodeProto& n, const std::string& name, std::int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(pb::AttributeProto_AttributeType_INT);
  a->set_i(v);
}
void attr(pb::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(pb::AttributeProto_AttributeType_FLOAT);
  a->set_f(v);
}
void attr(pb::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(pb::AttributeProto_AttributeType_INTS);
  for (auto x : v) a->add_ints(x);
}

// ---- the reference: ONNX's operators, per sample, over kSamples rows -----------------------------

// y = x·Wᵀ + b, W [out, in] (Gemm with transB = 1; MatMul's B is Wᵀ).
Vec linear(const Vec& x, const Vec& w, const Vec& b, std::size_t in, std::size_t out) {
  Vec y(kSamples * out);
  for (std::size_t s = 0; s < kSamples; ++s)
    for (std::size_t o = 0; o < out; ++o) {
      double z = b[o];
      for (std::size_t i = 0; i < in; ++i) z += static_cast<double>(x[s * in + i]) * w[o * in + i];
      y[s * out + o] = static_cast<float>(z);
    }
  return y;
}

Vec transpose(const Vec& w, std::size_t rows, std::size_t cols) {
  Vec t(w.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) t[c * rows + r] = w[r * cols + c];
  return t;
}

Vec each(Vec v, const std::function<double(double)>& f) {
  for (auto& x : v) x = static_cast<float>(f(x));
  return v;
}

Vec sum(const Vec& a, const Vec& b) {
  Vec y(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) y[i] = a[i] + b[i];
  return y;
}

// Per sample, a's values then b's.
Vec concat(const Vec& a, std::size_t na, const Vec& b, std::size_t nb) {
  Vec y;
  for (std::size_t s = 0; s < kSamples; ++s) {
    y.insert(y.end(), a.begin() + static_cast<long>(s * na), a.begin() + static_cast<long>((s + 1) * na));
    y.insert(y.end(), b.begin() + static_cast<long>(s * nb), b.begin() + static_cast<long>((s + 1) * nb));
  }
  return y;
}

Vec softmax_rows(const Vec& z, std::size_t k) {
  Vec y(z.size());
  for (std::size_t s = 0; s < kSamples; ++s) {
    const float* row = z.data() + s * k;
    const double top = *std::max_element(row, row + k);
    double total = 0;
    for (std::size_t j = 0; j < k; ++j) total += std::exp(row[j] - top);
    for (std::size_t j = 0; j < k; ++j) y[s * k + j] = static_cast<float>(std::exp(row[j] - top) / total);
  }
  return y;
}

struct Image {
  std::size_t c, h, w;
};

// Conv with square kernel k, stride, symmetric zero padding; W [f, c, k, k].
Vec conv(const Vec& x, Image in, const Vec& w, const Vec& b, std::size_t f, std::size_t k, std::size_t stride, std::size_t pad,
         Image& out) {
  out = {f, (in.h + 2 * pad - k) / stride + 1, (in.w + 2 * pad - k) / stride + 1};
  Vec y(kSamples * f * out.h * out.w);
  for (std::size_t s = 0; s < kSamples; ++s)
    for (std::size_t o = 0; o < f; ++o)
      for (std::size_t oy = 0; oy < out.h; ++oy)
        for (std::size_t ox = 0; ox < out.w; ++ox) {
          double z = b[o];
          for (std::size_t ci = 0; ci < in.c; ++ci)
            for (std::size_t ky = 0; ky < k; ++ky)
              for (std::size_t kx = 0; kx < k; ++kx) {
                const long iy = static_cast<long>(oy * stride + ky) - static_cast<long>(pad);
                const long ix = static_cast<long>(ox * stride + kx) - static_cast<long>(pad);
                if (iy < 0 || ix < 0 || iy >= static_cast<long>(in.h) || ix >= static_cast<long>(in.w)) continue;
                z += static_cast<double>(w[((o * in.c + ci) * k + ky) * k + kx]) *
                     x[((s * in.c + ci) * in.h + static_cast<std::size_t>(iy)) * in.w + static_cast<std::size_t>(ix)];
              }
          y[((s * f + o) * out.h + oy) * out.w + ox] = static_cast<float>(z);
        }
  return y;
}

Vec maxpool(const Vec& x, Image in, std::size_t k, Image& out) {
  out = {in.c, (in.h - k) / k + 1, (in.w - k) / k + 1};
  Vec y(kSamples * in.c * out.h * out.w);
  for (std::size_t s = 0; s < kSamples; ++s)
    for (std::size_t c = 0; c < in.c; ++c)
      for (std::size_t oy = 0; oy < out.h; ++oy)
        for (std::size_t ox = 0; ox < out.w; ++ox) {
          float m = -INFINITY;
          for (std::size_t ky = 0; ky < k; ++ky)
            for (std::size_t kx = 0; kx < k; ++kx) m = std::max(m, x[((s * in.c + c) * in.h + oy * k + ky) * in.w + ox * k + kx]);
          y[((s * in.c + c) * out.h + oy) * out.w + ox] = m;
        }
  return y;
}

// ---- import and run -----------------------------------------------------------------------------

struct Imported {
  castnet::ir::Graph graph;  // after the passes
  std::string spec_text;
  castnet::io::SafetensorsFile weights;
  Vec outputs;  // as castnet predict gives them: the loss's output function applied
};

// Runs the imported network (spec + weights) in the interpreter on x; `castnet check` must take the spec.
Imported run_imported(const TempDir& dir, const fs::path& spec, const fs::path& weights, const Vec& x) {
  const auto check = cli(dir, {"check", spec.string()});
  INFO(check.err);
  REQUIRE(check.exit_code == 0);
  Imported r;
  r.spec_text = castnet::test::read_file(spec);
  r.graph = castnet::gen::load_graph(spec);
  r.weights = castnet::io::read_safetensors(weights);
  castnet::interp::Interpreter<float> net(r.graph);
  std::size_t k = 0;
  for (const auto& l : r.graph.layers)
    for (const auto& p : l.params) {
      const castnet::io::TensorData* t = r.weights.find(p.torch_name);
      INFO(p.torch_name);
      REQUIRE(t != nullptr);
      REQUIRE(t->shape == p.shape);
      net.params()[k++] = t->values;
    }
  REQUIRE(k == r.weights.tensors.size());
  const std::size_t outs = r.graph.output_features();
  Vec y(kSamples * outs);
  net.forward(x.data(), kSamples, y.data());
  using castnet::ir::LossKind;
  if (r.graph.loss.kind == LossKind::softmax_cross_entropy) y = softmax_rows(y, outs);
  if (r.graph.loss.kind == LossKind::binary_cross_entropy) y = each(y, [](double v) { return 1 / (1 + std::exp(-v)); });
  r.outputs = y;
  return r;
}

// import_onnx + spec::write_spec, written as the CLI writes them.
Imported import_with_library(const TempDir& dir, const fs::path& model, const Vec& x) {
  const castnet::cli::ImportedModel m = castnet::cli::import_onnx(model);
  castnet::test::write_file(dir / "spec.toml", castnet::spec::write_spec(m.spec, m.notes));
  castnet::io::write_safetensors(dir / "weights.safetensors", m.weights);
  return run_imported(dir, dir / "spec.toml", dir / "weights.safetensors", x);
}

void require_close(const Vec& got, const Vec& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("value " << i << ": got " << got[i] << ", want " << want[i]);
    REQUIRE(std::abs(got[i] - want[i]) <= 1e-5f * (1.0f + std::abs(want[i])));
  }
}

std::string import_error(const fs::path& model) {
  try {
    castnet::cli::import_onnx(model);
  } catch (const castnet::Error& e) {
    return e.what();
  }
  FAIL("the import did not fail");
  return {};
}

// The MLP of the first two tests: Gemm (transB = 1) + Relu, MatMul + Add + Tanh, Gemm (transB = 0)
// + Softmax. Its reference output in `want`.
Model mlp(const Vec& x, Vec& want) {
  std::mt19937 rng(7);
  const Vec w1 = random_values(6 * 4, rng), b1 = random_values(6, rng);
  const Vec w2 = random_values(5 * 6, rng), b2 = random_values(5, rng);
  const Vec w3 = random_values(3 * 5, rng), b3 = random_values(3, rng);
  Model m({4});
  m.weight("fc1.weight", {6, 4}, w1);
  m.weight("fc1.bias", {6}, b1);
  m.weight("w2", {6, 5}, transpose(w2, 5, 6));
  m.weight("b2", {5}, b2);
  m.weight("w3", {5, 3}, transpose(w3, 3, 5));
  m.weight("b3", {3}, b3);
  attr(m.node("Gemm", {"x", "fc1.weight", "fc1.bias"}, "h1", "/fc1/Gemm"), "transB", std::int64_t{1});
  m.node("Relu", {"h1"}, "a1", "/relu/Relu");
  m.node("MatMul", {"a1", "w2"}, "h2");
  m.node("Add", {"h2", "b2"}, "z2");
  m.node("Tanh", {"z2"}, "a2");
  m.node("Gemm", {"a2", "w3", "b3"}, "logits", "Out Layer!");
  m.node("Softmax", {"logits"}, "probs", "/Softmax");
  m.output("probs");
  const Vec a1 = each(linear(x, w1, b1, 4, 6), [](double v) { return std::max(v, 0.0); });
  const Vec a2 = each(linear(a1, w2, b2, 6, 5), [](double v) { return std::tanh(v); });
  want = softmax_rows(linear(a2, w3, b3, 5, 3), 3);
  return m;
}

}  // namespace

TEST_CASE("onnx import: an MLP of Gemm, MatMul + Add and a final Softmax gives the model's outputs") {
  TempDir dir;
  std::mt19937 rng(1);
  const Vec x = random_values(kSamples * 4, rng);
  Vec want;
  const fs::path model = mlp(x, want).save(dir, "mlp.onnx");
  const Imported r = import_with_library(dir, model, x);
  require_close(r.outputs, want);

  // Three dense layers, the activations fused, the Softmax left to the loss.
  REQUIRE(r.graph.layers.size() == 3);
  CHECK(r.graph.name == "mlp");
  CHECK(r.graph.loss.kind == castnet::ir::LossKind::softmax_cross_entropy);
  CHECK(r.graph.layers[0].name == "fc1");  // "/fc1/Gemm": the torch module's name
  CHECK(r.graph.layers[1].name == "fc2");  // unnamed: the next free fc<k>
  CHECK(r.graph.layers[2].name == "out_layer");
  CHECK(r.graph.layers[0].activation.kind == castnet::ir::Activation::relu);
  CHECK(r.graph.layers[1].activation.kind == castnet::ir::Activation::tanh);
  CHECK(r.graph.layers[2].activation.kind == castnet::ir::Activation::identity);
  CHECK_THAT(r.spec_text, Contains("The final node '/Softmax' (Softmax) is left out"));
}

TEST_CASE("onnx import: the CLI writes a spec that castnet check takes and weights that give the model's outputs") {
  TempDir dir;
  std::mt19937 rng(2);
  const Vec x = random_values(kSamples * 4, rng);
  Vec want;
  mlp(x, want).save(dir, "My MLP.onnx");
  const auto r = cli(dir, {"import", "My MLP.onnx", "-o", "imported.toml", "--weights", "w.safetensors"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("imported.toml: my_mlp, 3 layers, loss softmax_cross_entropy"));
  const Imported got = run_imported(dir, dir / "imported.toml", dir / "w.safetensors", x);
  require_close(got.outputs, want);
  CHECK_THAT(got.spec_text, Contains("# Imported by `castnet import` from My MLP.onnx, weights in w.safetensors\n"));
  CHECK_THAT(got.spec_text, Contains("# ONNX holds no training settings: the loss, softmax_cross_entropy, the batch, 32,\n"));
  CHECK(got.graph.batch == 32);
}

TEST_CASE("onnx import: a file named as the C library or the compiler names something gives a model name it can take") {
  // log: a C library function; linux: a macro of GNU C++. Either would be a namespace beside it.
  for (const std::string stem : {"log", "linux"}) {
    TempDir dir;
    std::mt19937 rng(4);
    const Vec x = random_values(kSamples * 4, rng);
    Vec want;
    mlp(x, want).save(dir, stem + ".onnx");
    const auto r = cli(dir, {"import", stem + ".onnx", "-o", "m.toml"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("m.toml: " + stem + "_model, 3 layers"));
    CHECK_THAT(r.out, Contains("The model is named '" + stem + "_model', not '" + stem + "': '" + stem + "' is "));
    const Imported got = run_imported(dir, dir / "m.toml", dir / "m.safetensors", x);
    CHECK(got.graph.name == stem + "_model");
    CHECK_THAT(got.spec_text, Contains("# The model is named '" + stem + "_model'"));
    require_close(got.outputs, want);
  }
}

TEST_CASE("onnx import: a ConvNet of Conv with padding and stride, Relu, MaxPool, Flatten and Gemm") {
  TempDir dir;
  std::mt19937 rng(3);
  const Image in{2, 7, 7};
  const Vec x = random_values(kSamples * 2 * 7 * 7, rng);
  const Vec wc = random_values(3 * 2 * 3 * 3, rng), bc = random_values(3, rng);
  const Vec wf = random_values(4 * 12, rng), bf = random_values(4, rng);
  Model m({2, 7, 7});
  m.weight("conv.weight", {3, 2, 3, 3}, wc);
  m.weight("conv.bias", {3}, bc);
  m.weight("fc.weight", {4, 12}, wf);
  m.weight("fc.bias", {4}, bf);
  auto& c = m.node("Conv", {"x", "conv.weight", "conv.bias"}, "c", "/conv/Conv");
  attr(c, "kernel_shape", std::vector<std::int64_t>{3, 3});
  attr(c, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
  attr(c, "strides", std::vector<std::int64_t>{2, 2});
  m.node("Relu", {"c"}, "r");
  auto& p = m.node("MaxPool", {"r"}, "p", "/pool/MaxPool");
  attr(p, "kernel_shape", std::vector<std::int64_t>{2, 2});
  attr(p, "strides", std::vector<std::int64_t>{2, 2});
  m.node("Flatten", {"p"}, "f");
  attr(m.node("Gemm", {"f", "fc.weight", "fc.bias"}, "y", "/fc/Gemm"), "transB", std::int64_t{1});
  m.output("y");
  const Imported r = import_with_library(dir, m.save(dir, "cnn.onnx"), x);

  Image ci{}, pi{};
  const Vec conv_out = each(conv(x, in, wc, bc, 3, 3, 2, 1, ci), [](double v) { return std::max(v, 0.0); });
  REQUIRE(ci.h == 4);
  const Vec pooled = maxpool(conv_out, ci, 2, pi);
  require_close(r.outputs, linear(pooled, wf, bf, 12, 4));
  CHECK(r.graph.loss.kind == castnet::ir::LossKind::mse);
  REQUIRE(r.graph.layers.size() == 4);  // conv (relu fused), pool, flatten, fc
  CHECK(r.graph.layers[0].name == "conv");
  CHECK(r.graph.layers[0].activation.kind == castnet::ir::Activation::relu);
  CHECK(r.graph.layers[0].stride == std::array<std::size_t, 2>{2, 2});
  CHECK(r.graph.layers[0].padding == std::array<std::size_t, 2>{1, 1});
  CHECK(r.graph.layers[1].kind == castnet::ir::OpKind::maxpool2d);
  CHECK(r.graph.layers[2].kind == castnet::ir::OpKind::flatten);
}

TEST_CASE("onnx import: a residual Add and a Concat become add and concat layers with inputs") {
  TempDir dir;
  std::mt19937 rng(4);
  const Vec x = random_values(kSamples * 5, rng);
  const Vec w1 = random_values(4 * 5, rng), b1 = random_values(4, rng);
  const Vec w2 = random_values(4 * 4, rng), b2 = random_values(4, rng);
  const Vec w3 = random_values(2 * 8, rng), b3 = random_values(2, rng);
  Model m({5});
  m.weight("w1", {4, 5}, w1);
  m.weight("b1", {4}, b1);
  m.weight("w2", {4, 4}, w2);
  m.weight("b2", {4}, b2);
  m.weight("w3", {2, 8}, w3);
  m.weight("b3", {2}, b3);
  attr(m.node("Gemm", {"x", "w1", "b1"}, "h1", "/block/fc_in/Gemm"), "transB", std::int64_t{1});
  m.node("Relu", {"h1"}, "a1");
  attr(m.node("Gemm", {"a1", "w2", "b2"}, "h2", "/block/fc_inner/Gemm"), "transB", std::int64_t{1});
  m.node("Add", {"a1", "h2"}, "skip", "/block/Add");
  attr(m.node("Concat", {"skip", "a1"}, "joined", "/Concat"), "axis", std::int64_t{1});
  attr(m.node("Gemm", {"joined", "w3", "b3"}, "y", "/head/Gemm"), "transB", std::int64_t{1});
  m.output("y");
  const Imported r = import_with_library(dir, m.save(dir, "residual.onnx"), x);

  const Vec a1 = each(linear(x, w1, b1, 5, 4), [](double v) { return std::max(v, 0.0); });
  const Vec skip = sum(a1, linear(a1, w2, b2, 4, 4));
  require_close(r.outputs, linear(concat(skip, 4, a1, 4), w3, b3, 8, 2));
  REQUIRE(r.graph.layers.size() == 5);
  const auto& add = r.graph.layers[2];
  CHECK(add.kind == castnet::ir::OpKind::add);
  CHECK(add.name == "block");
  CHECK(add.input_names == std::vector<std::string>{"block_fc_in", "block_fc_inner"});
  const auto& cat = r.graph.layers[3];
  CHECK(cat.kind == castnet::ir::OpKind::concat);
  CHECK(cat.input_names == std::vector<std::string>{"block", "block_fc_in"});
  CHECK_THAT(r.spec_text, Contains("inputs = [\"block\", \"block_fc_in\"]"));
}

TEST_CASE("onnx import: LeakyRelu and Elu keep their alpha, PRelu its slopes") {
  TempDir dir;
  std::mt19937 rng(5);
  const Vec x = random_values(kSamples * 3, rng);
  const Vec w1 = random_values(4 * 3, rng), b1 = random_values(4, rng);
  const Vec w2 = random_values(4 * 4, rng), b2 = random_values(4, rng);
  const Vec w3 = random_values(2 * 4, rng), b3 = random_values(2, rng);
  const Vec slope = {0.1f, -0.3f, 0.7f, 0.25f};
  Model m({3});
  m.weight("w1", {4, 3}, w1);
  m.weight("b1", {4}, b1);
  m.weight("w2", {4, 4}, w2);
  m.weight("b2", {4}, b2);
  m.weight("w3", {2, 4}, w3);
  m.weight("b3", {2}, b3);
  m.weight("slope", {4}, slope);
  attr(m.node("Gemm", {"x", "w1", "b1"}, "h1"), "transB", std::int64_t{1});
  attr(m.node("LeakyRelu", {"h1"}, "a1"), "alpha", 0.2f);
  attr(m.node("Gemm", {"a1", "w2", "b2"}, "h2"), "transB", std::int64_t{1});
  m.node("PRelu", {"h2", "slope"}, "p2", "/act/PRelu");
  attr(m.node("Elu", {"p2"}, "e2", "/act2/Elu"), "alpha", 0.5f);
  attr(m.node("Gemm", {"e2", "w3", "b3"}, "y"), "transB", std::int64_t{1});
  m.output("y");
  const Imported r = import_with_library(dir, m.save(dir, "acts.onnx"), x);

  const Vec a1 = each(linear(x, w1, b1, 3, 4), [](double v) { return v > 0 ? v : 0.2f * v; });
  Vec p2 = linear(a1, w2, b2, 4, 4);
  for (std::size_t i = 0; i < p2.size(); ++i) p2[i] = p2[i] > 0 ? p2[i] : slope[i % 4] * p2[i];
  const Vec e2 = each(p2, [](double v) { return v > 0 ? v : 0.5f * std::expm1(v); });
  require_close(r.outputs, linear(e2, w3, b3, 4, 2));
  REQUIRE(r.graph.layers.size() == 5);  // fc1 (leaky_relu fused), fc2, prelu, elu, fc3
  CHECK(r.graph.layers[0].activation.kind == castnet::ir::Activation::leaky_relu);
  CHECK(r.graph.layers[0].activation.alpha == 0.2);
  CHECK(r.graph.layers[2].kind == castnet::ir::OpKind::prelu);
  CHECK(r.graph.layers[3].activation.kind == castnet::ir::Activation::elu);
  CHECK(r.graph.layers[3].activation.alpha == 0.5);
  CHECK_THAT(r.spec_text, Contains("alpha = 0.2\n"));
  CHECK_THAT(r.spec_text, Contains("alpha = 0.5\n"));
  CHECK(r.weights.find("act.weight")->values == slope);
}

TEST_CASE("onnx import: LayerNormalization keeps its epsilon, scale and bias") {
  TempDir dir;
  std::mt19937 rng(8);
  const Vec x = random_values(kSamples * 3, rng);
  const Vec w1 = random_values(6 * 3, rng), b1 = random_values(6, rng);
  const Vec scale = random_values(6, rng), shift = random_values(6, rng);
  const Vec w2 = random_values(2 * 6, rng), b2 = random_values(2, rng);
  Model m({3});
  m.weight("w1", {6, 3}, w1);
  m.weight("b1", {6}, b1);
  m.weight("scale", {6}, scale);
  m.weight("shift", {6}, shift);
  m.weight("w2", {2, 6}, w2);
  m.weight("b2", {2}, b2);
  attr(m.node("Gemm", {"x", "w1", "b1"}, "h"), "transB", std::int64_t{1});
  auto& ln = m.node("LayerNormalization", {"h", "scale", "shift"}, "n", "/norm/LayerNormalization");
  attr(ln, "epsilon", 0.01f);
  attr(ln, "axis", std::int64_t{-1});
  attr(m.node("Gemm", {"n", "w2", "b2"}, "y"), "transB", std::int64_t{1});
  m.output("y");
  const Imported r = import_with_library(dir, m.save(dir, "norm.onnx"), x);

  const Vec h = linear(x, w1, b1, 3, 6);
  Vec n(h.size());
  for (std::size_t s = 0; s < kSamples; ++s) {
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < 6; ++i) mean += h[s * 6 + i] / 6.0;
    for (std::size_t i = 0; i < 6; ++i) var += (h[s * 6 + i] - mean) * (h[s * 6 + i] - mean) / 6.0;
    for (std::size_t i = 0; i < 6; ++i)
      n[s * 6 + i] = static_cast<float>((h[s * 6 + i] - mean) / std::sqrt(var + 0.01f) * scale[i] + shift[i]);
  }
  require_close(r.outputs, linear(n, w2, b2, 6, 2));
  REQUIRE(r.graph.layers.size() == 3);
  CHECK(r.graph.layers[1].kind == castnet::ir::OpKind::layernorm);
  CHECK(r.graph.layers[1].name == "norm");
  CHECK(r.graph.layers[1].setting("eps") == 0.01);  // as written, not 0.009999999776
  CHECK(r.weights.find("norm.weight")->values == scale);
  CHECK(r.weights.find("norm.bias")->values == shift);
}

TEST_CASE("onnx import: GlobalAveragePool, Reshape, Gelu (opset 20), Dropout and a final Sigmoid") {
  TempDir dir;
  std::mt19937 rng(6);
  const Image in{2, 4, 4};
  const Vec x = random_values(kSamples * 2 * 4 * 4, rng);
  const Vec wc = random_values(3 * 2, rng), bc = random_values(3, rng);
  const Vec w1 = random_values(5 * 3, rng), b1 = random_values(5, rng);
  const Vec w2 = random_values(2 * 5, rng), b2 = random_values(2, rng);
  Model m({2, 4, 4}, 20);
  m.weight("wc", {3, 2, 1, 1}, wc);
  m.weight("bc", {3}, bc);
  m.weight("w1", {3, 5}, transpose(w1, 5, 3));
  m.weight("b1", {5}, b1);
  m.weight("w2", {2, 5}, w2);
  m.weight("b2", {2}, b2);
  m.weight("ratio", {}, {0.25f});
  m.int64s("shape", {0, -1});
  m.node("Conv", {"x", "wc", "bc"}, "c");
  m.node("GlobalAveragePool", {"c"}, "g");
  m.node("Reshape", {"g", "shape"}, "f");
  m.node("Gemm", {"f", "w1", "b1"}, "h");
  m.node("Gelu", {"h"}, "a");
  m.node("Dropout", {"a", "ratio"}, "d");
  attr(m.node("Gemm", {"d", "w2", "b2"}, "z"), "transB", std::int64_t{1});
  m.node("Sigmoid", {"z"}, "y");
  m.output("y");
  const Imported r = import_with_library(dir, m.save(dir, "gap.onnx"), x);

  Image ci{};
  const Vec c = conv(x, in, wc, bc, 3, 1, 1, 0, ci);
  Vec pooled(kSamples * 3, 0.0f);
  for (std::size_t i = 0; i < c.size(); ++i) pooled[i / 16] += c[i] / 16;
  const Vec a = each(linear(pooled, w1, b1, 3, 5), [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); });
  require_close(r.outputs, each(linear(a, w2, b2, 5, 2), [](double v) { return 1 / (1 + std::exp(-v)); }));
  CHECK(r.graph.loss.kind == castnet::ir::LossKind::binary_cross_entropy);
  REQUIRE(r.graph.layers.size() == 6);  // conv, pool, flatten, fc (gelu fused), dropout, fc
  CHECK(r.graph.layers[1].kind == castnet::ir::OpKind::avgpool2d);
  CHECK(r.graph.layers[1].kernel == std::array<std::size_t, 2>{4, 4});
  CHECK(r.graph.layers[3].activation.kind == castnet::ir::Activation::gelu);
  CHECK(r.graph.layers[4].kind == castnet::ir::OpKind::dropout);
  CHECK(r.graph.layers[4].rate == 0.25);
}

TEST_CASE("onnx import: an operator castnet has no layer for is an error naming the file, the node and the operator") {
  TempDir dir;
  Model m({4});
  m.weight("w", {4, 4}, Vec(16, 0.5f));
  m.node("MatMul", {"x", "w"}, "h");
  m.node("Mul", {"h", "x"}, "y", "gate");
  m.output("y");
  const fs::path model = m.save(dir, "gated.onnx");
  const std::string e = import_error(model);
  CHECK_THAT(e, Contains(model.string() + ": error: node 'gate' (Mul): castnet has no layer for this operator"));

  // Through the CLI: exit 1, and no spec or weights written.
  const auto r = cli(dir, {"import", "gated.onnx", "-o", "gated.toml"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("gated.onnx: error: node 'gate' (Mul)"));
  CHECK_FALSE(fs::exists(dir / "gated.toml"));
  CHECK_FALSE(fs::exists(dir / "gated.safetensors"));

  // An unnamed node is named by its index.
  m.g->mutable_node(1)->clear_name();
  CHECK_THAT(import_error(m.save(dir, "gated.onnx")), Contains("node #1 (Mul)"));
}

// ONNX has no operator for trainable_swish, basis_activation or kan: a custom one named after
// them is refused with that reason (castnet writes no ONNX, so import is the only way in).
TEST_CASE("onnx import: a custom operator named after a castnet-only layer kind is refused naming the kind") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> ops = {
      {"TrainableSwish", "trainable_swish"}, {"BasisActivation", "basis_activation"}, {"KANLinear", "kan"}};
  for (const auto& [op, kind] : ops) {
    INFO(op);
    Model m({4});
    m.node(op, {"x"}, "y", "act").set_domain("com.example");
    m.output("y");
    CHECK_THAT(import_error(m.save(dir, "custom.onnx")),
               Contains("node 'act' (" + op + "): castnet's " + kind + " layer has no ONNX operator") &&
                   Contains("type = \"" + kind + "\""));
  }
}

TEST_CASE("onnx import: what castnet cannot express exactly is an error naming the node") {
  TempDir dir;
  SECTION("Gemm with alpha other than 1") {
    Model m({2});
    m.weight("w", {2, 2}, Vec(4, 1.0f));
    attr(m.node("Gemm", {"x", "w"}, "y", "scaled"), "alpha", 2.0f);
    m.output("y");
    CHECK_THAT(import_error(m.save(dir, "m.onnx")), Contains("node 'scaled' (Gemm): alpha and beta must be 1"));
  }
  SECTION("Conv with asymmetric padding") {
    Model m({1, 4, 4});
    m.weight("w", {1, 1, 3, 3}, Vec(9, 1.0f));
    attr(m.node("Conv", {"x", "w"}, "y", "c"), "pads", std::vector<std::int64_t>{0, 0, 1, 1});
    m.output("y");
    CHECK_THAT(import_error(m.save(dir, "m.onnx")), Contains("node 'c' (Conv): castnet pads symmetrically"));
  }
  SECTION("a network castnet's passes reject (an image output) names the model") {
    Model m({1, 4, 4});
    m.weight("w", {1, 1, 3, 3}, Vec(9, 1.0f));
    m.node("Conv", {"x", "w"}, "y", "c");
    m.output("y");
    const auto r = cli(dir, {"import", m.save(dir, "m.onnx").string(), "-o", "m.toml"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("m.onnx: error: castnet cannot hold this network"));
    CHECK_FALSE(fs::exists(dir / "m.toml"));
  }
}

TEST_CASE("onnx import: a truncated or garbage file is an error naming the file") {
  TempDir dir;
  castnet::test::write_file(dir / "garbage.onnx", "this is not an ONNX model at all\n");
  auto r = cli(dir, {"import", "garbage.onnx", "-o", "g.toml"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("garbage.onnx: error: not an ONNX model"));

  Vec want;
  const std::string whole = castnet::test::read_file(mlp(Vec(kSamples * 4, 0.0f), want).save(dir, "whole.onnx"));
  castnet::test::write_file(dir / "cut.onnx", whole.substr(0, whole.size() / 2));
  r = cli(dir, {"import", "cut.onnx", "-o", "c.toml"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("cut.onnx: error: not an ONNX model"));
  CHECK_FALSE(fs::exists(dir / "c.toml"));

  r = cli(dir, {"import", "missing.onnx", "-o", "c.toml"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("missing.onnx: error: cannot read the model file"));
}

#endif
