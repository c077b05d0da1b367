// The libtorch peer, written as a libtorch user would: one torch::nn module per layer with
// parameters, torch functions for the rest, autograd and torch::optim::SGD for training. Each
// layer follows the interpreter's semantics (reference/kinds/<kind>.cpp), which follow
// PyTorch's; where castnet's convention is not torch's default the code says so.
#include "torch_net.hpp"

#include <torch/torch.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace castnet::bench {
namespace {

namespace F = torch::nn::functional;

std::vector<std::int64_t> dims(const ir::Shape& s) { return {s.begin(), s.end()}; }

// (n, dims of one sample)
std::vector<std::int64_t> batched(std::size_t n, const ir::Shape& sample) {
  std::vector<std::int64_t> d = dims(sample);
  d.insert(d.begin(), static_cast<std::int64_t>(n));
  return d;
}

torch::ExpandingArray<2> hw(const std::array<std::size_t, 2>& v) {
  return torch::ExpandingArray<2>({static_cast<std::int64_t>(v[0]), static_cast<std::int64_t>(v[1])});
}

torch::Tensor activate(const ir::ActivationSpec& act, const torch::Tensor& z) {
  switch (act.kind) {
    case ir::Activation::identity:
      return z;
    case ir::Activation::relu:
      return torch::relu(z);
    case ir::Activation::leaky_relu:
      return torch::leaky_relu(z, act.alpha);
    case ir::Activation::elu:
      return torch::elu(z, act.alpha);
    case ir::Activation::gelu:
      return torch::gelu(z);
    case ir::Activation::silu:
      return torch::silu(z);
    case ir::Activation::tanh:
      return torch::tanh(z);
    case ir::Activation::sigmoid:
      return torch::sigmoid(z);
    case ir::Activation::softplus:
      return torch::softplus(z, act.alpha, 20);
    case ir::Activation::softmax:
      // castnet's softmax runs over all of a sample's values, an image's [C, H, W] included.
      return torch::softmax(z.flatten(1), 1).view_as(z);
  }
  throw std::logic_error("TorchNet: unknown activation");
}

// The layer's inputs as Layer::inputs resolves them (empty: the previous layer or the network input).
std::vector<std::size_t> inputs_of(const ir::Graph& g, std::size_t k) {
  if (!g.layers[k].inputs.empty()) return g.layers[k].inputs;
  return {k == 0 ? ir::kGraphInput : k - 1};
}

// Input i of a layer as the layer declares it (the producer's shape or a flat view of it).
ir::Shape in_shape(const ir::Layer& layer, std::size_t i) {
  if (!layer.in_shapes.empty()) return layer.in_shapes[i];
  return {layer.in_features};
}

}  // namespace

struct TorchNet::Impl {
  ir::Graph graph;
  std::string why_not_training;  // empty: train_step works
  torch::nn::Module net;         // the layers' modules, registered under the layers' names
  std::vector<torch::nn::AnyModule> modules;  // per layer; empty for kinds without parameters
  std::vector<std::vector<std::size_t>> inputs;
  std::vector<std::size_t> last_reader;  // per layer: the last layer that reads its output
  std::vector<torch::Tensor> tensors;    // the IR's ParamTensors, in order
  std::unique_ptr<torch::optim::SGD> sgd;

  explicit Impl(const ir::Graph& g);
  torch::Tensor run(const torch::Tensor& x);
};

TorchNet::Impl::Impl(const ir::Graph& g) : graph(g), last_reader(g.layers.size(), g.layers.size()) {
  for (std::size_t k = 0; k < graph.layers.size(); k++) {
    const ir::Layer& layer = graph.layers[k];
    inputs.push_back(inputs_of(graph, k));
    for (auto j : inputs.back())
      if (j != ir::kGraphInput) last_reader[j] = k;
    const auto in = static_cast<std::int64_t>(layer.in_features);
    const auto units = static_cast<std::int64_t>(layer.units);
    torch::nn::AnyModule module;
    auto use = [&](auto holder) { module = torch::nn::AnyModule(net.register_module(layer.name, holder)); };
    switch (layer.kind) {
      case ir::OpKind::dense:
        use(torch::nn::Linear(in, units));
        break;
      case ir::OpKind::glu:
        // value rows then gate rows, as F::glu splits them
        use(torch::nn::Linear(in, 2 * units));
        break;
      case ir::OpKind::conv2d: {
        const auto channels = static_cast<std::int64_t>(in_shape(layer, 0)[0]);
        const auto filters = static_cast<std::int64_t>(layer.filters);
        use(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, filters, hw(layer.kernel))
                                  .stride(hw(layer.stride))
                                  .padding(hw(layer.padding))));
        break;
      }
      case ir::OpKind::maxpool2d:
        use(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(hw(layer.kernel)).stride(hw(layer.stride))));
        break;
      case ir::OpKind::avgpool2d:
        use(torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(hw(layer.kernel)).stride(hw(layer.stride))));
        break;
      case ir::OpKind::prelu:
        // one slope per channel ([C, H, W]) or per feature ([N]): dim 1 of the batch either way
        use(torch::nn::PReLU(
            torch::nn::PReLUOptions().num_parameters(static_cast<std::int64_t>(in_shape(layer, 0)[0]))));
        break;
      case ir::OpKind::activation:
      case ir::OpKind::dropout:
      case ir::OpKind::flatten:
      case ir::OpKind::add:
      case ir::OpKind::concat:
      case ir::OpKind::hardtanh:
      case ir::OpKind::trainable_swish:  // refused by supports()
      case ir::OpKind::basis_activation:
      case ir::OpKind::kan:
      case ir::OpKind::layernorm:
        break;
    }
    modules.push_back(std::move(module));
  }
  // The modules' parameters must be the IR's tensors, in its order and torch's names and shapes.
  const auto named = net.named_parameters();
  std::size_t t = 0;
  for (const auto& layer : graph.layers)
    for (const auto& p : layer.params) {
      if (t >= named.size() || named[t].key() != p.torch_name ||
          named[t].value().sizes() != torch::IntArrayRef(dims(p.shape)))
        throw std::invalid_argument("TorchNet: tensor '" + p.torch_name + "' does not match torch's parameters");
      tensors.push_back(named[t++].value());
    }
  if (t != named.size()) throw std::invalid_argument("TorchNet: torch has parameters the IR does not list");
  supports(graph, &why_not_training, true);
  // lr is set on every train_step
  if (why_not_training.empty()) sgd = std::make_unique<torch::optim::SGD>(tensors, torch::optim::SGDOptions(0.0));
}

torch::Tensor TorchNet::Impl::run(const torch::Tensor& x) {
  const auto n = static_cast<std::size_t>(x.size(0));
  std::vector<torch::Tensor> out(graph.layers.size());
  for (std::size_t k = 0; k < graph.layers.size(); k++) {
    const ir::Layer& layer = graph.layers[k];
    std::vector<torch::Tensor> in;
    for (std::size_t i = 0; i < inputs[k].size(); i++) {
      const std::size_t j = inputs[k][i];
      in.push_back((j == ir::kGraphInput ? x : out[j]).reshape(batched(n, in_shape(layer, i))));
    }
    torch::Tensor z;
    switch (layer.kind) {
      case ir::OpKind::dense:
      case ir::OpKind::conv2d:
      case ir::OpKind::maxpool2d:
      case ir::OpKind::avgpool2d:
      case ir::OpKind::prelu:
        z = modules[k].forward(in[0]);
        break;
      case ir::OpKind::glu:
        z = F::glu(modules[k].forward(in[0]), F::GLUFuncOptions(1));
        break;
      case ir::OpKind::activation:
      case ir::OpKind::dropout:  // inference only (supports): the identity
        z = in[0];
        break;
      case ir::OpKind::flatten:
        z = in[0].flatten(1);
        break;
      case ir::OpKind::trainable_swish:
      case ir::OpKind::basis_activation:
      case ir::OpKind::kan:
      case ir::OpKind::layernorm:
        throw std::logic_error("TorchNet: layer '" + layer.name + "' is refused by supports()");
      case ir::OpKind::hardtanh:
        z = F::hardtanh(in[0], F::HardtanhFuncOptions().min_val(layer.setting("min_val")).max_val(layer.setting("max_val")));
        break;
      case ir::OpKind::add:
        z = in[0];
        for (std::size_t i = 1; i < in.size(); i++) z = z + in[i];
        break;
      case ir::OpKind::concat:
        // images join along channels; anything else joins as each sample's values in a row
        if (layer.out_shape.size() != 3)
          for (auto& t : in) t = t.flatten(1);
        z = torch::cat(in, 1);
        break;
    }
    out[k] = layer.kind == ir::OpKind::dropout ? z : activate(layer.activation, z);
    // Drop values no later layer reads, as a Sequential's forward would.
    for (auto j : inputs[k])
      if (j != ir::kGraphInput && last_reader[j] == k) out[j] = torch::Tensor();
  }
  return out.back().reshape({static_cast<std::int64_t>(n), -1});
}

bool TorchNet::supports(const ir::Graph& g, std::string* why_not, bool training) {
  auto no = [&](std::string why) {
    if (why_not) *why_not = std::move(why);
    return false;
  };
  if (g.layers.empty()) return no("the network has no layers");
  // torch has no module for these kinds (the twin, tests/e2e/torch_twin.py, writes their math)
  for (const auto& layer : g.layers)
    if (layer.kind == ir::OpKind::trainable_swish || layer.kind == ir::OpKind::basis_activation ||
        layer.kind == ir::OpKind::kan)
      return no(std::string(ir::to_string(layer.kind)) + " layer '" + layer.name + "': torch has no module for it");
  // torch has one (nn::LayerNorm), which this peer does not build yet
  for (const auto& layer : g.layers)
    if (layer.kind == ir::OpKind::layernorm)
      return no("layernorm layer '" + layer.name + "': not in this peer yet");
  if (training) {
    for (const auto& layer : g.layers)
      if (layer.kind == ir::OpKind::dropout)
        return no("dropout layer '" + layer.name + "': torch's masks are not castnet's, so training would differ");
    if (g.param_count() == 0) return no("the network has no parameters to train");
  }
  if (why_not) why_not->clear();
  return true;
}

TorchNet::TorchNet(const ir::Graph& g) {
  std::string why;
  if (!supports(g, &why, false)) throw std::invalid_argument("TorchNet: " + why);
  impl_ = std::make_unique<Impl>(g);
}

TorchNet::~TorchNet() = default;

void TorchNet::set_params(const std::vector<std::vector<float>>& params) {
  auto& tensors = impl_->tensors;
  if (params.size() != tensors.size())
    throw std::invalid_argument("TorchNet::set_params: " + std::to_string(params.size()) + " tensors for " +
                                std::to_string(tensors.size()));
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < tensors.size(); i++) {
    if (params[i].size() != static_cast<std::size_t>(tensors[i].numel()))
      throw std::invalid_argument("TorchNet::set_params: tensor " + std::to_string(i) + " has the wrong size");
    tensors[i].copy_(torch::from_blob(const_cast<float*>(params[i].data()), tensors[i].sizes()));
  }
}

std::vector<std::vector<float>> TorchNet::params() const {
  std::vector<std::vector<float>> out;
  for (const auto& t : impl_->tensors) {
    const torch::Tensor c = t.detach().contiguous();
    out.emplace_back(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

void TorchNet::forward(const float* x, std::size_t n, float* y) {
  c10::InferenceMode guard;
  const auto inputs = static_cast<std::int64_t>(impl_->graph.input_features());
  const torch::Tensor in = torch::from_blob(const_cast<float*>(x), {static_cast<std::int64_t>(n), inputs});
  const torch::Tensor out = impl_->run(in).contiguous();
  std::memcpy(y, out.data_ptr<float>(), n * impl_->graph.output_features() * sizeof(float));
}

float TorchNet::train_step(const float* x, const float* target, std::size_t n, float lr) {
  if (!impl_->why_not_training.empty()) throw std::logic_error("TorchNet::train_step: " + impl_->why_not_training);
  const ir::Graph& g = impl_->graph;
  const auto rows = static_cast<std::int64_t>(n);
  auto& sgd = *impl_->sgd;
  static_cast<torch::optim::SGDOptions&>(sgd.param_groups()[0].options()).lr(lr);
  sgd.zero_grad();
  const torch::Tensor in =
      torch::from_blob(const_cast<float*>(x), {rows, static_cast<std::int64_t>(g.input_features())});
  const torch::Tensor y = impl_->run(in);
  const torch::Tensor t =
      torch::from_blob(const_cast<float*>(target), {rows, static_cast<std::int64_t>(g.targets_per_sample())});
  torch::Tensor loss;
  switch (g.loss.kind) {
    case ir::LossKind::mse:
      loss = F::mse_loss(y, t);
      break;
    case ir::LossKind::binary_cross_entropy:
      // castnet's BCE takes logits (nn.BCEWithLogitsLoss), as the interpreter's loss_of does
      loss = F::binary_cross_entropy_with_logits(y, t);
      break;
    case ir::LossKind::softmax_cross_entropy:
      // logits and class indices (stored as floats), as nn.CrossEntropyLoss takes them
      loss = F::cross_entropy(y, t.reshape({rows}).to(torch::kLong));
      break;
  }
  const float value = loss.item<float>();
  loss.backward();
  sgd.step();
  return value;
}

// torch::set_num_threads bounds torch's own OpenMP threads but not OpenBLAS's pool, which runs
// every GEMM on all cores: "1T" would use both. OpenBLAS's own setter, found at run time (the BLAS
// may be another library, or none), bounds it too.
void TorchNet::set_threads(int n) {
  torch::set_num_threads(n);
  using SetThreads = void (*)(int);
  if (auto* openblas = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) openblas(n);
}

std::string TorchNet::version() {
  std::string text = "libtorch " TORCH_VERSION ", BLAS";
  // The BLAS the dynamic loader picked (Debian's alternatives choose libblas.so.3's target).
  std::vector<std::string> blas;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::filesystem::path file = line.substr(slash);
    if (file.filename().string().find("blas") == std::string::npos) continue;
    std::error_code ec;
    const std::filesystem::path real = std::filesystem::canonical(file, ec);
    const std::string name = ec ? file.string() : real.string();
    if (std::find(blas.begin(), blas.end(), name) == blas.end()) blas.push_back(name);
  }
  if (blas.empty()) text += " none mapped";
  for (std::size_t i = 0; i < blas.size(); i++) text += (i == 0 ? " " : " + ") + blas[i];
  if (const char* core = std::getenv("OPENBLAS_CORETYPE")) text += std::string(", OPENBLAS_CORETYPE=") + core;
  if (const char* isa = std::getenv("ATEN_CPU_CAPABILITY")) text += std::string(", ATEN_CPU_CAPABILITY=") + isa;
  if (const char* isa = std::getenv("ONEDNN_MAX_CPU_ISA")) text += std::string(", ONEDNN_MAX_CPU_ISA=") + isa;
  return text;
}

}  // namespace castnet::bench
