// Writes fuzz/corpus/fuzz_onnx/'s seed models with the ONNX protobuf classes (the same way
// tests/e2e/import_onnx_test.cpp builds its models): small networks castnet imports, so the fuzzer
// starts from inputs that reach every layer converter. Run once by hand:
//   build-fuzz/fuzz/make_onnx_seeds fuzz/corpus/fuzz_onnx
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace pb = ::ONNX_NAMESPACE;

namespace {

struct Model {
  pb::ModelProto m;
  pb::GraphProto* g = m.mutable_graph();

  explicit Model(const std::vector<std::int64_t>& sample) {
    m.set_ir_version(8);
    m.add_opset_import()->set_version(17);
    auto* t = g->add_input();
    t->set_name("x");
    auto* tt = t->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(pb::TensorProto_DataType_FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("N");
    for (auto d : sample) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void weight(const std::string& name, const std::vector<std::int64_t>& dims) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(pb::TensorProto_DataType_FLOAT);
    std::int64_t n = 1;
    for (auto d : dims) {
      t->add_dims(d);
      n *= d;
    }
    const std::vector<float> v(static_cast<std::size_t>(n), 0.25f);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  }
  pb::NodeProto& node(const std::string& op, const std::vector<std::string>& in, const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
    return *n;
  }
  void ints(pb::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(pb::AttributeProto_AttributeType_INTS);
    for (auto x : v) a->add_ints(x);
  }
  void save(const std::filesystem::path& path, const std::string& out) {
    g->add_output()->set_name(out);
    std::ofstream f(path, std::ios::binary);
    if (!m.SerializeToOstream(&f)) std::fprintf(stderr, "cannot write %s\n", path.c_str());
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_onnx_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  {  // MLP: Gemm, Relu, Gemm, Softmax
    Model m({3});
    m.weight("w1", {4, 3});
    m.weight("b1", {4});
    m.weight("w2", {2, 4});
    m.weight("b2", {2});
    auto& g1 = m.node("Gemm", {"x", "w1", "b1"}, "h");
    auto* t = g1.add_attribute();
    t->set_name("transB");
    t->set_type(pb::AttributeProto_AttributeType_INT);
    t->set_i(1);
    m.node("Relu", {"h"}, "r");
    auto& g2 = m.node("Gemm", {"r", "w2", "b2"}, "z");
    g2.add_attribute()->CopyFrom(*t);
    m.node("Softmax", {"z"}, "y");
    m.save(dir / "mlp_softmax.onnx", "y");
  }
  {  // MatMul + Add, residual Add, Sigmoid
    Model m({2});
    m.weight("w", {2, 2});
    m.weight("b", {2});
    m.node("MatMul", {"x", "w"}, "p");
    m.node("Add", {"p", "b"}, "z");
    m.node("Tanh", {"z"}, "t");
    m.node("Add", {"t", "x"}, "s");
    m.node("Sigmoid", {"s"}, "y");
    m.save(dir / "matmul_residual.onnx", "y");
  }
  {  // ConvNet: Conv, Relu, MaxPool, Flatten, Gemm
    Model m({1, 4, 4});
    m.weight("k", {2, 1, 3, 3});
    m.weight("kb", {2});
    m.weight("w", {3, 8});
    m.weight("b", {3});
    auto& c = m.node("Conv", {"x", "k", "kb"}, "c");
    m.ints(c, "kernel_shape", {3, 3});
    m.ints(c, "pads", {1, 1, 1, 1});
    m.node("Relu", {"c"}, "r");
    auto& p = m.node("MaxPool", {"r"}, "p");
    m.ints(p, "kernel_shape", {2, 2});
    m.ints(p, "strides", {2, 2});
    m.node("Flatten", {"p"}, "f");
    auto& g = m.node("Gemm", {"f", "w", "b"}, "y");
    auto* t = g.add_attribute();
    t->set_name("transB");
    t->set_type(pb::AttributeProto_AttributeType_INT);
    t->set_i(1);
    m.save(dir / "convnet.onnx", "y");
  }
  return 0;
}
