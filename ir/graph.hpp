// The graph IR: a validated network with static shapes. It holds no C++ text and no TOML; the
// spec parser builds it, the passes complete it, and both the emitter and the interpreter read it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <castnet/train/config.hpp>

#include "ir/limits.hpp"
#include "ir/plan.hpp"

namespace castnet::ir {

// Where a value came from in the spec, for diagnostics and for the comment above each emitted layer.
struct SourcePos {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// Layer kinds: op_kinds.def is the single list; every switch over OpKind has no default, so
// adding a kind fails to compile (-Werror=switch) until every table knows it.
enum class OpKind : std::uint8_t {
#define CASTNET_OP(name) name,
#include "op_kinds.def"
#undef CASTNET_OP
};

// Activations, usable fused into a dense layer or standing as their own layer.
#define CASTNET_ACTIVATIONS(X) \
  X(identity)                  \
  X(relu)                      \
  X(leaky_relu)                \
  X(elu)                       \
  X(gelu)                      \
  X(silu)                      \
  X(tanh)                      \
  X(sigmoid)                   \
  X(softplus)                  \
  X(softmax)

enum class Activation : std::uint8_t {
#define CASTNET_X(name) name,
  CASTNET_ACTIVATIONS(CASTNET_X)
#undef CASTNET_X
};

enum class LossKind : std::uint8_t { mse, binary_cross_entropy, softmax_cross_entropy };
// What a tensor starts from (runtime/include/castnet/train/init.hpp says how each is drawn).
enum class Init : std::uint8_t {
  zeros, he_normal, glorot_uniform, prelu_slope,
  ones,            // trainable_swish's a and c
  silu_rbf,        // basis_activation's coefficients: the least-squares fit of SiLU over [lo, hi]
  silu_bspline,
  uniform_fan_in,  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)): torch.nn.Linear's weight (kan's base_weight)
  kan_spline       // U(-0.1/fan_in, 0.1/fan_in), fan_in the basis count (kan's spline_weight)
};

// The shape of one sample: [features] or [channels, height, width] (row-major, channels outermost,
// as PyTorch's NCHW without the batch).
using Shape = std::vector<std::size_t>;
// Saturates at the largest std::size_t: a product past 64 bits fails every limit instead of wrapping.
inline std::size_t elements(const Shape& s) {
  std::size_t n = 1;
  for (auto d : s) n = sat_mul(n, d);
  return n;
}

// Layer::inputs entry that names the network's input rather than a layer, and its name in specs.
inline constexpr std::size_t kGraphInput = std::numeric_limits<std::size_t>::max();
inline constexpr const char* kInputName = "input";

struct ActivationSpec {
  Activation kind = Activation::identity;
  // leaky_relu: negative slope (default 0.01); elu: alpha (default 1.0); softplus: beta (default 1.0).
  double alpha = 0.0;
};

// One trainable tensor, named and shaped as PyTorch names it (DESIGN.md: weight naming).
struct ParamTensor {
  std::string torch_name;          // "<layer>.weight" / "<layer>.bias"
  std::string member;              // "<layer>_weight": the C++ member in Params and Grads
  std::vector<std::size_t> shape;  // [out, in] for dense weights, [out] for biases
  std::string layout;              // the axes of shape in comments: "(out, in)", "(channels)"
  std::size_t size = 0;            // product of shape
  Init init = Init::zeros;
  std::size_t fan_in = 0, fan_out = 0;
  double lo = 0, hi = 0;  // silu_rbf, silu_bspline: the grid's range (the basis count is shape[1])
};

struct Layer {
  std::string name;  // a validated identifier (see identifier.hpp)
  OpKind kind{};
  SourcePos pos;       // the [[layer]] table's position
  SourcePos name_pos;  // the name's position (the table's when the name is a default)
  // Inputs as the spec names them (`inputs = ["a", "b"]`, "input" for the network's input; empty:
  // the previous layer), and as resolve_inputs finds them: indices into Graph::layers, or
  // kGraphInput. An empty `inputs` means the previous layer (layer 0: the network's input), so a
  // hand-built chain needs none.
  std::vector<std::string> input_names;
  std::vector<SourcePos> input_name_pos;  // each name's position in the spec
  std::vector<std::size_t> inputs;
  // dense, glu
  std::size_t units = 0;
  // conv2d: output channels
  std::size_t filters = 0;
  // conv2d, maxpool2d, avgpool2d: (height, width) of the window, its step and the zero padding
  // added on each side (pools: no padding)
  std::array<std::size_t, 2> kernel{1, 1}, stride{1, 1}, padding{0, 0};
  // dense (fused) or activation (standalone)
  ActivationSpec activation;
  // dropout: the probability of zeroing a value in training, in [0, 1)
  double rate = 0.0;
  // The numeric settings of kinds without a field above, by their spec key (hardtanh: min_val,
  // max_val): the kind's op file reads them from the spec, its reference file reads them here.
  std::map<std::string, double> settings;
  double setting(const std::string& key) const;  // std::out_of_range naming the key if absent
  // Filled by infer_shapes: the shape of each input and of the output (one sample), and their
  // sizes. in_features is the input's size (concat: the sum over its inputs; add: one input's).
  // A hand-built chain may leave the shapes empty: they then mean [in_features], [out_features].
  std::vector<Shape> in_shapes;
  Shape out_shape;
  std::size_t in_features = 0, out_features = 0;
  // Filled by count: trainable tensors and forward FLOPs per sample.
  std::vector<ParamTensor> params;
  std::uint64_t flops = 0;
  // Filled by plan: emit this layer as straight-line code instead of a call into a kernel.
  bool unrolled = false;
};

struct Loss {
  LossKind kind = LossKind::mse;
  SourcePos pos;
};

struct Graph {
  std::string name;       // validated identifier: the C++ namespace and the CMake target
  std::string spec_path;  // as given on the command line (banner and diagnostics)
  std::vector<std::size_t> input_shape;
  SourcePos input_pos;
  std::size_t batch = 1;
  Limits limits;          // what the generator's caller allows (never the spec itself)
  // In topological order (resolve_inputs sorts them, keeping the file's order where it can): every
  // layer comes after the layers it reads, and the last is the network's output.
  std::vector<Layer> layers;
  Loss loss;
  // Filled by plan: train_step's (its arena is the Workspace) and forward()'s for one sample (a
  // stack arena).
  PassPlan step_plan, forward_plan;

  std::size_t input_features() const {
    std::size_t n = 1;
    for (auto d : input_shape) n = sat_mul(n, d);
    return n;
  }
  std::size_t output_features() const { return layers.empty() ? input_features() : layers.back().out_features; }
  // Values of the target per sample: a class index for softmax cross-entropy, else one per output.
  std::size_t targets_per_sample() const {
    return loss.kind == LossKind::softmax_cross_entropy ? 1 : output_features();
  }
  std::size_t param_count() const {
    std::size_t n = 0;
    for (const auto& l : layers)
      for (const auto& p : l.params) n = sat_add(n, p.size);
    return n;
  }
};

const char* to_string(OpKind k);
std::string shape_text(const Shape& s);  // "[512]", "[32, 28, 28]"
const char* to_string(Activation a);
const char* to_string(LossKind k);
bool activation_from_string(const std::string& s, Activation& out);
std::string activation_names();      // "identity, relu, ...", for messages
double default_alpha(Activation a);  // the torch default of the activation's parameter, 0 if none

}  // namespace castnet::ir
