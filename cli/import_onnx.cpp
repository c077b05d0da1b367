// See import_onnx.hpp. The nodes are read in the file's order (ONNX requires a topological one),
// each becoming a castnet layer, a change to the layer just made (a bias, a fused activation), or
// nothing (Identity, Flatten of flat features): every ONNX tensor maps to the castnet layer whose
// output holds it. Shapes are tracked per sample as castnet sees them ([features] or
// [channels, height, width]), so each node's rule is checked where the node is named; the batch
// dimension never appears. Anything castnet cannot express exactly is an error naming the node:
// the import never approximates.
#include "import_onnx.hpp"

#include <onnx/onnx_pb.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <castnet/error.hpp>

#include "ir/diagnostic.hpp"
#include "ir/identifier.hpp"
#include "ops/op_def.hpp"

namespace castnet::cli {
namespace {

namespace pb = ::ONNX_NAMESPACE;

// An ONNX tensor as castnet computes it: the layer whose output holds it ("input" for the
// network's input) and its shape per sample. `layer_index` is set only on a dense or conv2d
// layer's own output, the one place a bias or an activation may still be folded into the layer.
struct Value {
  std::string layer;
  ir::Shape shape;
  std::optional<std::size_t> layer_index;
};

// A float attribute as a double that prints as it was written: the shortest decimal text that
// reads back as the float (0.01, not 0.009999999776), so the spec shows the model's value and
// reads back to the same float.
double decimal(float f) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, f);
  double d = 0;
  std::from_chars(buf, r.ptr, d);
  return d;
}

class Importer {
 public:
  explicit Importer(const std::filesystem::path& path) : file_(path.string()) {}

  ImportedModel run() {
    load();
    const pb::GraphProto& g = model_.graph();
    for (const auto& t : g.initializer()) constants_[t.name()] = &t;
    for (const auto& n : g.node())
      if (n.op_type() == "Constant" && is_onnx_domain(n) && n.output_size() == 1)
        if (const auto* a = find_attr(n, "value"); a && a->has_t()) constants_[n.output(0)] = &a->t();
    read_input();
    if (g.output_size() != 1)
      fail("a castnet network has one output; the graph has " + std::to_string(g.output_size()));
    const std::string output = g.output(0).name();
    const std::vector<bool> live = live_nodes(output);
    for (int i = 0; i < g.node_size(); ++i) {
      if (!live[static_cast<std::size_t>(i)]) continue;
      const pb::NodeProto& n = g.node(i);
      if (n.op_type() == "Constant" && is_onnx_domain(n)) continue;  // collected above
      node_ = i;
      convert(n, n.output(0) == output);
    }
    const auto out = values_.find(output);
    if (out == values_.end() || out->second.layer == ir::kInputName)
      fail("the graph's output '" + castnet::printable(output, 80) + "' is not computed by any layer castnet can hold");
    if (m_.spec.graph.layers.empty() || out->second.layer != m_.spec.graph.layers.back().name)
      throw std::logic_error("import_onnx: the output is not the last layer");
    // ONNX holds no training settings: a common mini-batch and torch.optim.Adam's defaults.
    m_.spec.graph.batch = 32;
    m_.spec.training.optimizer.kind = castnet::OptimizerConfig::Kind::adam;
    m_.spec.training.optimizer.lr = 1e-3;
    return std::move(m_);
  }

 private:
  // ---- errors ----------------------------------------------------------------------------------

  [[noreturn]] void fail(const std::string& message) const { throw castnet::Error(file_ + ": error: " + message); }

  // The current node, by name or, when it has none, by its index in the graph's node list.
  std::string node_label() const {
    const pb::NodeProto& n = model_.graph().node(node_);
    const std::string op = castnet::printable(n.op_type(), 40);
    if (n.name().empty()) return "node #" + std::to_string(node_) + " (" + op + ")";
    return "node '" + castnet::printable(n.name(), 80) + "' (" + op + ")";
  }
  [[noreturn]] void node_fail(const std::string& message) const { fail(node_label() + ": " + message); }

  // ---- the file --------------------------------------------------------------------------------

  void load() {
    std::ifstream in(file_, std::ios::binary);
    if (!in) fail("cannot read the model file");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!model_.ParseFromString(bytes.str()))
      fail("not an ONNX model: the file does not parse as an ONNX ModelProto (truncated or not ONNX)");
    // Protobuf accepts many byte strings as a message with unknown fields: a model has a graph.
    if (!model_.has_graph() || model_.graph().node_size() == 0) fail("not an ONNX model: it holds no graph nodes");
    for (const auto& o : model_.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = o.version();
  }

  static bool is_onnx_domain(const pb::NodeProto& n) { return n.domain().empty() || n.domain() == "ai.onnx"; }

  // The castnet layer kind without an ONNX operator that `op` names, letters and digits compared
  // without case ("TrainableSwish", "trainable_swish", "KANLinear"), or nullptr.
  static const char* castnet_only_kind(const std::string& op) {
    std::string key;
    for (char c : op)
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) key += c;
      else if (c >= 'A' && c <= 'Z') key += static_cast<char>(c - 'A' + 'a');
    if (key == "trainableswish") return "trainable_swish";
    if (key == "basisactivation") return "basis_activation";
    if (key == "kan" || key == "kanlinear") return "kan";
    return nullptr;
  }

  // The graph's one input that is not a weight: castnet's input, [N, F] -> [F], [N, C, H, W] -> [C, H, W].
  void read_input() {
    const pb::ValueInfoProto* input = nullptr;
    for (const auto& v : model_.graph().input()) {
      if (constants_.count(v.name())) continue;  // older exporters list initializers as inputs too
      if (input) fail("castnet networks have one input; the graph has '" + castnet::printable(input->name(), 80) + "' and '" +
                      castnet::printable(v.name(), 80) + "'");
      input = &v;
    }
    if (!input) fail("the graph has no input");
    const std::string label = "the input '" + castnet::printable(input->name(), 80) + "'";
    if (!input->type().has_tensor_type() || input->type().tensor_type().elem_type() != pb::TensorProto_DataType_FLOAT)
      fail(label + " must be a float32 tensor");
    const auto& dims = input->type().tensor_type().shape().dim();
    if (dims.size() != 2 && dims.size() != 4)
      fail(label + " must be [batch, features] or [batch, channels, height, width]; it has " + std::to_string(dims.size()) +
           " dimensions");
    for (int d = 1; d < dims.size(); ++d) {
      if (!dims[d].has_dim_value() || dims[d].dim_value() <= 0)
        fail(label + ": dimension " + std::to_string(d) + " must be a fixed size (castnet's sizes are static)");
      m_.spec.graph.input_shape.push_back(static_cast<std::size_t>(dims[d].dim_value()));
    }
    values_[input->name()] = {ir::kInputName, m_.spec.graph.input_shape, {}};
  }

  // Nodes that lead to the output: others are left out (castnet requires every layer to reach it).
  // Counts the readers of each tensor among them, the graph's output counting as one.
  std::vector<bool> live_nodes(const std::string& output) {
    const auto& nodes = model_.graph().node();
    std::vector<bool> live(static_cast<std::size_t>(nodes.size()), false);
    std::set<std::string> needed = {output};
    ++uses_[output];
    for (int i = nodes.size() - 1; i >= 0; --i) {
      bool used = false;
      for (const auto& o : nodes[i].output()) used = used || needed.count(o);
      if (!used) continue;
      live[static_cast<std::size_t>(i)] = true;
      for (const auto& in : nodes[i].input()) {
        needed.insert(in);
        ++uses_[in];
      }
    }
    return live;
  }

  // ---- reading a node --------------------------------------------------------------------------

  const pb::AttributeProto* find_attr(const pb::NodeProto& n, const char* name) const {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  std::int64_t attr_int(const pb::NodeProto& n, const char* name, std::int64_t dflt) const {
    const auto* a = find_attr(n, name);
    return a ? a->i() : dflt;
  }
  double attr_float(const pb::NodeProto& n, const char* name, float dflt) const {
    const auto* a = find_attr(n, name);
    return decimal(a ? a->f() : dflt);
  }
  std::string attr_string(const pb::NodeProto& n, const char* name, const char* dflt) const {
    const auto* a = find_attr(n, name);
    return a ? a->s() : dflt;
  }
  std::vector<std::int64_t> attr_ints(const pb::NodeProto& n, const char* name) const {
    const auto* a = find_attr(n, name);
    return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : std::vector<std::int64_t>{};
  }

  bool has_input(const pb::NodeProto& n, int k) const { return n.input_size() > k && !n.input(k).empty(); }

  // Input k as a computed tensor (not a weight).
  const Value& value(const pb::NodeProto& n, int k) const {
    if (!has_input(n, k)) node_fail("input " + std::to_string(k) + " is missing");
    const auto it = values_.find(n.input(k));
    if (it != values_.end()) return it->second;
    if (constants_.count(n.input(k)))
      node_fail("input " + std::to_string(k) + " ('" + castnet::printable(n.input(k), 80) +
                "') is a constant; castnet needs it computed from the network's input");
    node_fail("reads '" + castnet::printable(n.input(k), 80) + "', which no node before it computes");
  }

  // Input k as a weight: an initializer or a Constant node's tensor.
  const pb::TensorProto& constant(const pb::NodeProto& n, int k, const std::string& what) const {
    if (!has_input(n, k)) node_fail(what + " is missing");
    const auto it = constants_.find(n.input(k));
    if (it == constants_.end())
      node_fail(what + " ('" + castnet::printable(n.input(k), 80) + "') must be a constant (an initializer)");
    return *it->second;
  }

  static std::vector<std::size_t> dims(const pb::TensorProto& t) {
    return std::vector<std::size_t>(t.dims().begin(), t.dims().end());
  }
  static std::string dims_text(const pb::TensorProto& t) { return ir::shape_text(dims(t)); }

  // A float32 weight's values, row-major.
  std::vector<float> floats(const pb::TensorProto& t) const {
    const std::string label = "the weight '" + castnet::printable(t.name(), 80) + "'";
    if (t.data_type() != pb::TensorProto_DataType_FLOAT) node_fail(label + " must be float32");
    if (t.data_location() == pb::TensorProto_DataLocation_EXTERNAL)
      node_fail(label + " is stored in an external file, which castnet import does not read");
    // The values present bound the count, so a hostile shape cannot make us allocate more than the file holds.
    const std::size_t present = t.has_raw_data() ? t.raw_data().size() / sizeof(float) : static_cast<std::size_t>(t.float_data_size());
    std::size_t n = 1;
    for (auto d : t.dims()) {
      if (d < 0) node_fail(label + " has a negative dimension");
      if (d != 0 && n > present / static_cast<std::size_t>(d) + 1) n = present + 1;  // more than present: reported below
      else n *= static_cast<std::size_t>(d);
    }
    if (n != present || (t.has_raw_data() && t.raw_data().size() % sizeof(float)))
      node_fail(label + " holds " + std::to_string(present) + " values, its shape " + dims_text(t) + " needs another number");
    std::vector<float> v(n);
    if (t.has_raw_data()) std::memcpy(v.data(), t.raw_data().data(), n * sizeof(float));  // little-endian, as on x86
    else std::copy(t.float_data().begin(), t.float_data().end(), v.begin());
    return v;
  }

  // An int64 constant's values (Reshape's shape).
  std::vector<std::int64_t> ints(const pb::TensorProto& t) const {
    if (t.data_type() != pb::TensorProto_DataType_INT64) node_fail("the shape '" + castnet::printable(t.name(), 80) + "' must be int64");
    if (!t.has_raw_data()) return {t.int64_data().begin(), t.int64_data().end()};
    std::vector<std::int64_t> v(t.raw_data().size() / sizeof(std::int64_t));
    std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(std::int64_t));
    return v;
  }

  // An axis attribute made non-negative for a tensor of `rank` dimensions (the batch included).
  std::int64_t axis(const pb::NodeProto& n, std::int64_t dflt, std::size_t rank) const {
    const std::int64_t a = attr_int(n, "axis", dflt), r = static_cast<std::int64_t>(rank);
    if (a < -r || a >= r) node_fail("axis " + std::to_string(a) + " is out of range for a tensor of rank " + std::to_string(r));
    return a < 0 ? a + r : a;
  }

  const Value& image(const pb::NodeProto& n) const {
    const Value& x = value(n, 0);
    if (x.shape.size() != 3) node_fail("needs an image input [batch, channels, height, width], got [batch] + " + ir::shape_text(x.shape));
    return x;
  }
  const Value& flat(const pb::NodeProto& n) const {
    const Value& x = value(n, 0);
    if (x.shape.size() != 1)
      node_fail("needs flat features [batch, features], got [batch] + " + ir::shape_text(x.shape) + " (flatten it first)");
    return x;
  }

  // ---- naming ----------------------------------------------------------------------------------

  // The layer's name: the node's name made a castnet identifier, or <prefix><k>. PyTorch names
  // nodes "/fc1/Gemm" after the module and the operator; the module part, "fc1", keeps the
  // weights' torch names ("fc1.weight") as a torch.nn twin of the model has them.
  std::string layer_name(const pb::NodeProto& n, const std::string& prefix) {
    std::string raw = n.name();
    if (const auto slash = raw.rfind('/'); slash != std::string::npos && slash > 0 && raw.substr(slash + 1) == n.op_type())
      raw.erase(slash);
    std::string s;
    for (char c : raw) {
      const char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      const bool keep = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
      if (keep) s += l;
      else if (!s.empty() && s.back() != '_') s += '_';
    }
    if (s.size() > ir::kMaxLayerNameLength - 8) s.resize(ir::kMaxLayerNameLength - 8);  // room for a prefix and a "_<k>"
    while (!s.empty() && s.back() == '_') s.pop_back();
    if (!s.empty() && s[0] >= '0' && s[0] <= '9') s = prefix + "_" + s;  // nn.Sequential's "/0/Gemm"
    if (!ir::is_identifier(s) || s == ir::kInputName) {
      for (int k = 1;; ++k)
        if (!names_.count(prefix + std::to_string(k))) return claim(prefix + std::to_string(k));
    }
    if (!names_.count(s)) return claim(s);
    for (int k = 2;; ++k)
      if (!names_.count(s + "_" + std::to_string(k))) return claim(s + "_" + std::to_string(k));
  }
  std::string claim(const std::string& name) {
    names_.insert(name);
    return name;
  }

  // ---- building layers -------------------------------------------------------------------------

  // Appends a layer reading `inputs` (castnet layer names); `inputs` stays unwritten when it is the
  // default, the previous layer. The node's first output is the layer's output.
  std::size_t add_layer(const pb::NodeProto& n, ir::Layer l, const std::vector<std::string>& inputs, ir::Shape out) {
    const auto& layers = m_.spec.graph.layers;
    const std::string previous = layers.empty() ? ir::kInputName : layers.back().name;
    const ops::OpDef& op = ops::op_def(l.kind);
    if (inputs.size() != 1 || inputs[0] != previous || op.merges()) l.input_names = inputs;
    const bool can_fold = op.fuses_activation();
    values_[n.output(0)] = {l.name, std::move(out), can_fold ? std::optional<std::size_t>(layers.size()) : std::nullopt};
    m_.spec.graph.layers.push_back(std::move(l));
    bias_open_.push_back(false);
    return m_.spec.graph.layers.size() - 1;
  }

  void alias(const pb::NodeProto& n, const Value& v) { values_[n.output(0)] = {v.layer, v.shape, {}}; }

  // The layer of a value that a following node may still change: its producer's own output, read
  // by that node only.
  std::optional<std::size_t> foldable(const pb::NodeProto& n, int k) const {
    const auto it = values_.find(n.input(k));
    if (it == values_.end() || !it->second.layer_index || uses_.at(n.input(k)) != 1) return std::nullopt;
    return it->second.layer_index;
  }

  void weights(const std::string& layer, std::vector<std::size_t> w_shape, std::vector<float> w, std::vector<float> bias) {
    const std::size_t units = w_shape.front();
    m_.weights.push_back({layer + ".weight", std::move(w_shape), std::move(w)});
    m_.weights.push_back({layer + ".bias", {units}, std::move(bias)});
  }

  // dense from Gemm (y = A·B' + C, B' = B or Bᵀ) or MatMul (y = A·B).
  void dense(const pb::NodeProto& n, bool gemm) {
    const Value& x = flat(n);
    const pb::TensorProto& b = constant(n, 1, "the weight B");
    if (b.dims_size() != 2) node_fail("the weight B must have 2 dimensions, got " + dims_text(b));
    if (gemm) {
      const double alpha = attr_float(n, "alpha", 1.0f), beta = attr_float(n, "beta", 1.0f);
      if (alpha != 1.0 || beta != 1.0)
        node_fail("alpha and beta must be 1 (a dense layer computes x·Wᵀ + b), got alpha " + std::to_string(alpha) + ", beta " +
                  std::to_string(beta));
      if (attr_int(n, "transA", 0) != 0) node_fail("transA must be 0 (the input is [batch, features])");
    }
    // W as castnet stores it: [units, in]. B is [in, units] unless Gemm's transB says [units, in].
    const bool transposed = gemm && attr_int(n, "transB", 0) != 0;
    const std::vector<float> bv = floats(b);
    const std::size_t in = static_cast<std::size_t>(b.dims(transposed ? 1 : 0)), units = static_cast<std::size_t>(b.dims(transposed ? 0 : 1));
    if (in != x.shape[0])
      node_fail("the weight B " + dims_text(b) + (transposed ? " (transB = 1)" : "") + " takes " + std::to_string(in) +
                " features, the input has " + std::to_string(x.shape[0]));
    std::vector<float> w(in * units);
    for (std::size_t o = 0; o < units; ++o)
      for (std::size_t i = 0; i < in; ++i) w[o * in + i] = transposed ? bv[o * in + i] : bv[i * units + o];
    std::vector<float> bias(units, 0.0f);
    const bool has_c = gemm && has_input(n, 2);
    if (has_c) bias = bias_values(constant(n, 2, "the bias C"), units, false);
    ir::Layer l;
    l.kind = ir::OpKind::dense;
    l.name = layer_name(n, "fc");
    l.units = units;
    weights(l.name, {units, in}, std::move(w), std::move(bias));
    const std::size_t i = add_layer(n, std::move(l), {x.layer}, {units});
    bias_open_[i] = !has_c;
  }

  // A bias for `units` outputs: [units] or [1, units] (dense); [units, 1, 1] or [1, units, 1, 1]
  // (conv2d, broadcast over height and width); a single value broadcast to all.
  std::vector<float> bias_values(const pb::TensorProto& t, std::size_t units, bool image) {
    std::vector<float> v = floats(t);
    if (v.size() == 1) return std::vector<float>(units, v[0]);
    std::vector<std::size_t> d = dims(t);
    while (!d.empty() && d.front() == 1 && d.size() > (image ? 3u : 1u)) d.erase(d.begin());
    const std::vector<std::size_t> want = image ? std::vector<std::size_t>{units, 1, 1} : std::vector<std::size_t>{units};
    if (d != want) node_fail("the bias '" + castnet::printable(t.name(), 80) + "' " + dims_text(t) + " must hold one value per output (" +
                             ir::shape_text(want) + ")");
    return v;
  }

  void conv(const pb::NodeProto& n) {
    const Value& x = image(n);
    const pb::TensorProto& w = constant(n, 1, "the weight W");
    if (w.dims_size() != 4) node_fail("castnet convolves images with a 4-d weight [filters, channels, kh, kw], got " + dims_text(w));
    if (attr_int(n, "group", 1) != 1) node_fail("grouped convolution (group = " + std::to_string(attr_int(n, "group", 1)) + ") is not supported");
    for (auto d : attr_ints(n, "dilations"))
      if (d != 1) node_fail("dilated convolution is not supported (dilations must be 1)");
    std::vector<float> wv = floats(w);
    const std::vector<std::size_t> wd = dims(w);
    if (wd[1] != x.shape[0]) node_fail("the weight " + dims_text(w) + " takes " + std::to_string(wd[1]) + " channels, the input has " + std::to_string(x.shape[0]));
    if (const auto k = attr_ints(n, "kernel_shape"); !k.empty() && (k.size() != 2 || static_cast<std::size_t>(k[0]) != wd[2] || static_cast<std::size_t>(k[1]) != wd[3]))
      node_fail("kernel_shape disagrees with the weight " + dims_text(w));
    ir::Layer l;
    l.kind = ir::OpKind::conv2d;
    l.filters = wd[0];
    l.kernel = {wd[2], wd[3]};
    l.stride = strides(n);
    l.padding = conv_padding(n, x.shape, l.kernel, l.stride);
    const std::size_t ph = x.shape[1] + 2 * l.padding[0], pw = x.shape[2] + 2 * l.padding[1];
    if (l.kernel[0] > ph || l.kernel[1] > pw) node_fail("the kernel is larger than its padded input");
    const ir::Shape out = {l.filters, (ph - l.kernel[0]) / l.stride[0] + 1, (pw - l.kernel[1]) / l.stride[1] + 1};
    const bool has_b = has_input(n, 2);
    std::vector<float> bias = has_b ? floats(constant(n, 2, "the bias B")) : std::vector<float>(l.filters, 0.0f);
    if (bias.size() != l.filters) node_fail("the bias B must hold " + std::to_string(l.filters) + " values, got " + std::to_string(bias.size()));
    l.name = layer_name(n, "conv");
    weights(l.name, wd, std::move(wv), std::move(bias));
    const std::size_t i = add_layer(n, std::move(l), {x.layer}, out);
    bias_open_[i] = !has_b;
  }

  std::array<std::size_t, 2> strides(const pb::NodeProto& n) const {
    const auto s = attr_ints(n, "strides");
    if (s.empty()) return {1, 1};
    if (s.size() != 2 || s[0] < 1 || s[1] < 1) node_fail("strides must be two positive values");
    return {static_cast<std::size_t>(s[0]), static_cast<std::size_t>(s[1])};
  }

  // castnet pads the same on both sides: pads [top, left, bottom, right] with top = bottom and
  // left = right, or auto_pad SAME_* where that works out even.
  std::array<std::size_t, 2> conv_padding(const pb::NodeProto& n, const ir::Shape& in, std::array<std::size_t, 2> k,
                                          std::array<std::size_t, 2> s) const {
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    if (auto_pad == "VALID") return {0, 0};
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      std::array<std::size_t, 2> p{};
      for (int d = 0; d < 2; ++d) {
        const std::size_t size = in[1 + d], out = (size + s[d] - 1) / s[d], need = (out - 1) * s[d] + k[d];
        const std::size_t total = need > size ? need - size : 0;
        if (total % 2) node_fail("auto_pad " + auto_pad + " pads one side more than the other here; castnet pads symmetrically");
        p[d] = total / 2;
      }
      return p;
    }
    if (auto_pad != "NOTSET") node_fail("unknown auto_pad '" + castnet::printable(auto_pad, 40) + "'");
    const auto p = attr_ints(n, "pads");
    if (p.empty()) return {0, 0};
    if (p.size() != 4 || p[0] != p[2] || p[1] != p[3] || p[0] < 0 || p[1] < 0)
      node_fail("castnet pads symmetrically: pads [top, left, bottom, right] need top = bottom and left = right");
    return {static_cast<std::size_t>(p[0]), static_cast<std::size_t>(p[1])};
  }

  // MaxPool, AveragePool (no padding), GlobalMaxPool, GlobalAveragePool.
  void pool(const pb::NodeProto& n, bool max, bool global) {
    const Value& x = image(n);
    if (n.output_size() > 1 && !n.output(1).empty() && uses_.count(n.output(1)))
      node_fail("the Indices output is not supported");
    ir::Layer l;
    l.kind = max ? ir::OpKind::maxpool2d : ir::OpKind::avgpool2d;
    if (global) {
      l.kernel = l.stride = {x.shape[1], x.shape[2]};
    } else {
      const auto k = attr_ints(n, "kernel_shape");
      if (k.size() != 2 || k[0] < 1 || k[1] < 1) node_fail("kernel_shape must be two positive sizes");
      l.kernel = {static_cast<std::size_t>(k[0]), static_cast<std::size_t>(k[1])};
      l.stride = strides(n);
      for (auto p : attr_ints(n, "pads"))
        if (p != 0) node_fail("castnet's pools do not pad (pads must be 0)");
      if (const auto a = attr_string(n, "auto_pad", "NOTSET"); a != "NOTSET" && a != "VALID")
        node_fail("castnet's pools do not pad (auto_pad " + castnet::printable(a, 40) + ")");
      for (auto d : attr_ints(n, "dilations"))
        if (d != 1) node_fail("dilated pooling is not supported (dilations must be 1)");
    }
    if (l.kernel[0] > x.shape[1] || l.kernel[1] > x.shape[2]) node_fail("the window is larger than its input " + ir::shape_text(x.shape));
    // ceil_mode only differs from castnet's floor where a window would run off the edge.
    if (attr_int(n, "ceil_mode", 0) != 0 &&
        ((x.shape[1] - l.kernel[0]) % l.stride[0] != 0 || (x.shape[2] - l.kernel[1]) % l.stride[1] != 0))
      node_fail("ceil_mode = 1 adds a partial window here; castnet's pools round down");
    const ir::Shape out = {x.shape[0], (x.shape[1] - l.kernel[0]) / l.stride[0] + 1, (x.shape[2] - l.kernel[1]) / l.stride[1] + 1};
    l.name = layer_name(n, "pool");
    add_layer(n, std::move(l), {x.layer}, out);
  }

  // Flatten (axis 1) and Reshape to [batch, features]: castnet's flatten; a no-op on flat features.
  void flatten(const pb::NodeProto& n, const Value& x) {
    if (x.shape.size() == 1) return alias(n, x);
    ir::Layer l;
    l.kind = ir::OpKind::flatten;
    l.name = layer_name(n, "flatten");
    add_layer(n, std::move(l), {x.layer}, {ir::elements(x.shape)});
  }

  void reshape(const pb::NodeProto& n) {
    const Value& x = value(n, 0);
    const std::vector<std::int64_t> s = ints(constant(n, 1, "the shape"));
    const auto f = static_cast<std::int64_t>(ir::elements(x.shape));
    // [0 or -1, F] and [0, -1] keep the batch and flatten the sample: a 1 as the batch is fine too
    // when the batch is all there is.
    const bool keeps_batch = s.size() == 2 && (s[0] == 0 || s[0] == -1 || s[0] == 1) && (s[1] == f || (s[1] == -1 && s[0] != -1));
    if (!keeps_batch) node_fail("only a reshape to [batch, features] (a flatten) is supported");
    flatten(n, x);
  }

  // The activation in a node, for the current opset; nullopt when the node is no activation.
  std::optional<ir::ActivationSpec> activation(const pb::NodeProto& n) const {
    const std::string& op = n.op_type();
    using A = ir::Activation;
    if (n.domain() == "com.microsoft" && op == "Gelu") return ir::ActivationSpec{A::gelu, 0.0};
    if (!is_onnx_domain(n)) return std::nullopt;
    if (op == "Relu") return ir::ActivationSpec{A::relu, 0.0};
    if (op == "Sigmoid") return ir::ActivationSpec{A::sigmoid, 0.0};
    if (op == "Tanh") return ir::ActivationSpec{A::tanh, 0.0};
    if (op == "Softplus") return ir::ActivationSpec{A::softplus, 1.0};
    if (op == "LeakyRelu" || op == "Elu") {
      const double alpha = attr_float(n, "alpha", op == "Elu" ? 1.0f : 0.01f);
      if (alpha < 0 || alpha > 1e3) node_fail("castnet takes alpha in [0, 1000], got " + std::to_string(alpha));
      return ir::ActivationSpec{op == "Elu" ? A::elu : A::leaky_relu, alpha};
    }
    if (op == "Gelu") {
      if (const std::string a = attr_string(n, "approximate", "none"); a != "none")
        node_fail("castnet's gelu is the exact erf form; approximate = '" + castnet::printable(a, 40) + "' is not supported");
      return ir::ActivationSpec{A::gelu, 0.0};
    }
    if (op == "Softmax") {
      // castnet's softmax runs over all of a sample's features: ONNX's over axis 1 of [batch,
      // features], or before opset 13 (which coerced the input to 2-d at axis) over axis 1 of any input.
      const std::size_t rank = value(n, 0).shape.size() + 1;
      const std::int64_t a = axis(n, opset_ >= 13 ? -1 : 1, rank);
      if (a != 1 || (opset_ >= 13 && rank != 2))
        node_fail("castnet's softmax runs over all of a sample's features; this one runs over axis " + std::to_string(a) +
                  " of a rank-" + std::to_string(rank) + " tensor");
      return ir::ActivationSpec{A::softmax, 0.0};
    }
    return std::nullopt;
  }

  void activation_layer(const pb::NodeProto& n, ir::ActivationSpec a, bool is_output) {
    const Value& x = value(n, 0);
    // The loss castnet trains with takes logits, and predict applies the function itself.
    if (is_output && (a.kind == ir::Activation::softmax || a.kind == ir::Activation::sigmoid)) {
      const bool softmax = a.kind == ir::Activation::softmax;
      m_.spec.graph.loss.kind = softmax ? ir::LossKind::softmax_cross_entropy : ir::LossKind::binary_cross_entropy;
      m_.notes.push_back("The final " + node_label() + " is left out: the loss takes logits, and castnet predict applies the " +
                         (softmax ? "softmax." : "sigmoid."));
      return alias(n, x);
    }
    if (const auto i = foldable(n, 0); i && m_.spec.graph.layers[*i].activation.kind == ir::Activation::identity) {
      m_.spec.graph.layers[*i].activation = a;
      bias_open_[*i] = false;  // a bias after the activation is not the layer's bias
      values_[n.output(0)] = {x.layer, x.shape, {}};
      return;
    }
    ir::Layer l;
    l.kind = ir::OpKind::activation;
    l.activation = a;
    l.name = layer_name(n, ir::to_string(a.kind));
    add_layer(n, std::move(l), {x.layer}, x.shape);
  }

  void prelu(const pb::NodeProto& n) {
    const Value& x = value(n, 0);
    const pb::TensorProto& t = constant(n, 1, "the slope");
    std::vector<float> slope = floats(t);
    const std::size_t c = x.shape[0];
    // One slope per channel (or feature), as torch.nn.PReLU(C) exports it: [C] for flat features,
    // [C, 1, 1] for images; a single slope is C equal ones.
    std::vector<std::size_t> d = dims(t);
    while (d.size() > x.shape.size()) {
      if (d.front() != 1) node_fail("the slope " + dims_text(t) + " does not fit the input [batch] + " + ir::shape_text(x.shape));
      d.erase(d.begin());
    }
    ir::Shape per_channel(x.shape.size(), 1);
    per_channel[0] = c;
    if (slope.size() == 1) slope.assign(c, slope[0]);
    else if (d != per_channel)
      node_fail("castnet's prelu has one slope per channel: the slope must be " + ir::shape_text(per_channel) + " or one value, got " + dims_text(t));
    ir::Layer l;
    l.kind = ir::OpKind::prelu;
    l.name = layer_name(n, "prelu");
    m_.weights.push_back({l.name + ".weight", {c}, std::move(slope)});
    add_layer(n, std::move(l), {x.layer}, x.shape);
  }

  void add(const pb::NodeProto& n) {
    if (n.input_size() != 2) node_fail("Add takes two inputs");
    // A constant added to a dense or conv2d output is that layer's bias (MatMul + Add).
    for (int k = 0; k < 2; ++k) {
      if (!constants_.count(n.input(1 - k))) continue;
      const auto i = foldable(n, k);
      if (!i || !bias_open_[*i])
        node_fail("adding a constant is supported only as the bias of the MatMul, Gemm or Conv just before it");
      const ir::Layer& l = m_.spec.graph.layers[*i];
      const bool image = l.kind == ir::OpKind::conv2d;
      const std::size_t units = image ? l.filters : l.units;
      const std::vector<float> b = bias_values(*constants_.at(n.input(1 - k)), units, image);
      for (auto& t : m_.weights)
        if (t.name == l.name + ".bias") t.values = b;
      bias_open_[*i] = false;
      values_[n.output(0)] = values_.at(n.input(k));
      return;
    }
    const Value &a = value(n, 0), &b = value(n, 1);
    if (a.shape != b.shape)
      node_fail("castnet's add needs inputs of one shape (no broadcasting), got " + ir::shape_text(a.shape) + " and " + ir::shape_text(b.shape));
    ir::Layer l;
    l.kind = ir::OpKind::add;
    l.name = layer_name(n, "add");
    add_layer(n, std::move(l), {a.layer, b.layer}, a.shape);
  }

  void concat(const pb::NodeProto& n) {
    if (n.input_size() < 2) node_fail("castnet's concat joins two or more inputs");
    const ir::Shape& first = value(n, 0).shape;
    if (axis(n, 1, first.size() + 1) != 1) node_fail("castnet's concat joins features or channels (axis 1)");
    ir::Shape out = first;
    out[0] = 0;
    std::vector<std::string> inputs;
    for (int k = 0; k < n.input_size(); ++k) {
      const Value& v = value(n, k);
      if (v.shape.size() != first.size() || (v.shape.size() == 3 && (v.shape[1] != first[1] || v.shape[2] != first[2])))
        node_fail("castnet's concat joins flat inputs, or images of one height and width: got " + ir::shape_text(first) + " and " + ir::shape_text(v.shape));
      out[0] += v.shape[0];
      inputs.push_back(v.layer);
    }
    ir::Layer l;
    l.kind = ir::OpKind::concat;
    l.name = layer_name(n, "concat");
    add_layer(n, std::move(l), inputs, out);
  }

  void dropout(const pb::NodeProto& n) {
    const Value& x = value(n, 0);
    if (n.output_size() > 1 && !n.output(1).empty() && uses_.count(n.output(1))) node_fail("the mask output is not supported");
    // The ratio: an attribute before opset 12, an optional input from then on; 0.5 by default.
    double rate = attr_float(n, "ratio", 0.5f);
    if (has_input(n, 1)) {
      const std::vector<float> r = floats(constant(n, 1, "the ratio"));
      if (r.size() != 1) node_fail("the ratio must be one value");
      rate = decimal(r[0]);
    }
    if (rate < 0 || rate >= 1) node_fail("castnet's dropout rate must lie in [0, 1), got " + std::to_string(rate));
    ir::Layer l;
    l.kind = ir::OpKind::dropout;
    l.rate = rate;
    l.name = layer_name(n, "dropout");
    add_layer(n, std::move(l), {x.layer}, x.shape);
  }

  // LayerNormalization (opset 17) over the last axis of flat features, as torch.nn.LayerNorm(N)
  // exports it: a scale [N] and a bias [N] (absent: zeros).
  void layernorm(const pb::NodeProto& n) {
    const Value& x = flat(n);
    for (int k = 1; k < n.output_size(); ++k)
      if (!n.output(k).empty() && uses_.count(n.output(k))) node_fail("the Mean and InvStdDev outputs are not supported");
    if (axis(n, -1, x.shape.size() + 1) != 1) node_fail("castnet's layernorm normalises the last axis of [batch, features] (axis -1)");
    const double eps = attr_float(n, "epsilon", 1e-5f);
    if (!(eps > 0 && eps <= 1)) node_fail("castnet's layernorm needs an epsilon in (0, 1], got " + std::to_string(eps));
    const std::size_t f = x.shape[0];
    const auto per_feature = [&](int i, const char* what) {
      std::vector<float> v = floats(constant(n, i, what));
      if (v.size() != f) node_fail(std::string(what) + " must hold " + std::to_string(f) + " values, one per feature, got " + std::to_string(v.size()));
      return v;
    };
    ir::Layer l;
    l.kind = ir::OpKind::layernorm;
    l.settings = {{"eps", eps}};
    l.name = layer_name(n, "layernorm");
    m_.weights.push_back({l.name + ".weight", {f}, per_feature(1, "the scale")});
    m_.weights.push_back({l.name + ".bias", {f}, has_input(n, 2) ? per_feature(2, "the bias") : std::vector<float>(f, 0.0f)});
    add_layer(n, std::move(l), {x.layer}, x.shape);
  }

  void convert(const pb::NodeProto& n, bool is_output) {
    if (const auto a = activation(n)) return activation_layer(n, *a, is_output);
    const std::string& op = n.op_type();
    if (is_onnx_domain(n)) {
      if (op == "Gemm" || op == "MatMul") return dense(n, op == "Gemm");
      if (op == "Conv") return conv(n);
      if (op == "MaxPool" || op == "AveragePool") return pool(n, op == "MaxPool", false);
      if (op == "GlobalMaxPool" || op == "GlobalAveragePool") return pool(n, op == "GlobalMaxPool", true);
      if (op == "Flatten") {
        const Value& x = value(n, 0);
        if (axis(n, 1, x.shape.size() + 1) != 1) node_fail("castnet's flatten keeps the batch and flattens the rest (axis 1)");
        return flatten(n, x);
      }
      if (op == "Reshape") return reshape(n);
      if (op == "PRelu") return prelu(n);
      if (op == "LayerNormalization") return layernorm(n);
      if (op == "Add") return add(n);
      if (op == "Concat") return concat(n);
      if (op == "Dropout") return dropout(n);
      if (op == "Identity") return alias(n, value(n, 0));
    }
    // castnet's trainable activations and KAN layers have no ONNX operator; a custom operator
    // that names one (a converter's TrainableSwish, KANLinear, ...) gets that reason, not a list.
    if (const char* kind = castnet_only_kind(op))
      node_fail(std::string("castnet's ") + kind + " layer has no ONNX operator, so castnet cannot import it: write the "
                "layer in the spec (type = \"" + kind + "\") and load its weights from safetensors");
    node_fail("castnet has no layer for this operator" +
              (is_onnx_domain(n) ? std::string() : " (domain '" + castnet::printable(n.domain(), 40) + "')") +
              "; castnet import supports Gemm, MatMul (+ Add), Conv, MaxPool, AveragePool, GlobalMaxPool, "
              "GlobalAveragePool, Flatten, Reshape (to [batch, features]), Relu, LeakyRelu, Elu, Gelu, Sigmoid, "
              "Tanh, Softplus, Softmax, PRelu, LayerNormalization, Add, Concat, Dropout, Identity");
  }

  std::string file_;
  pb::ModelProto model_;
  std::int64_t opset_ = 1;
  int node_ = 0;                                           // the node being converted
  std::map<std::string, const pb::TensorProto*> constants_;  // initializers and Constant outputs
  std::map<std::string, Value> values_;                    // computed tensors
  std::map<std::string, int> uses_;                        // readers of each tensor (the output counts)
  std::set<std::string> names_;                            // layer names taken
  std::vector<bool> bias_open_;                            // per layer: a following Add may still set its bias
  ImportedModel m_;
};

// The spec's name: the model file's name made an identifier ("LeNet-5.onnx" -> "lenet_5"). A name
// the C library or the compiler holds ("log.onnx") cannot be a namespace: it gets "_model"
// appended, and a note says so.
std::string model_name(const std::filesystem::path& path, std::vector<std::string>& notes) {
  std::string s;
  for (char c : path.stem().string()) {
    const char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) s += l;
    else if (!s.empty() && s.back() != '_') s += '_';
  }
  if (s.size() > ir::kMaxIdentifierLength) s.resize(ir::kMaxIdentifierLength);
  while (!s.empty() && s.back() == '_') s.pop_back();
  if (!ir::is_identifier(s)) return "imported";
  if (ir::is_model_name(s)) return s;
  std::string named = s.substr(0, ir::kMaxIdentifierLength - 6);
  while (named.back() == '_') named.pop_back();
  named += "_model";
  if (!ir::is_model_name(named)) return "imported";
  notes.push_back("The model is named '" + named + "', not '" + s + "': " + ir::model_name_problem(s) + ".");
  return named;
}

}  // namespace

ImportedModel import_onnx(const std::filesystem::path& model) {
  ImportedModel m = Importer(model).run();
  m.spec.graph.name = model_name(model, m.notes);
  return m;
}

}  // namespace castnet::cli
