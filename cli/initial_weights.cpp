// See initial_weights.hpp.
#include "initial_weights.hpp"

#include <castnet/train/init.hpp>

#include <algorithm>
#include <span>
#include <utility>

namespace castnet::cli {
namespace {

Init runtime_init(ir::Init init) {
  switch (init) {
    case ir::Init::zeros: return Init::zeros;
    case ir::Init::he_normal: return Init::he_normal;
    case ir::Init::glorot_uniform: return Init::glorot_uniform;
    case ir::Init::prelu_slope: return Init::prelu_slope;
    case ir::Init::ones: return Init::ones;
    case ir::Init::silu_rbf: return Init::silu_rbf;
    case ir::Init::silu_bspline: return Init::silu_bspline;
    case ir::Init::uniform_fan_in: return Init::uniform_fan_in;
    case ir::Init::kan_spline: return Init::kan_spline;
  }
  __builtin_unreachable();  // every enumerator returns above; -Wswitch flags a new one
}

}  // namespace

std::vector<io::TensorData> initial_weights(const ir::Graph& g, std::uint64_t seed) {
  std::vector<io::TensorData> out;
  for (const auto& l : g.layers)
    for (const auto& p : l.params) {
      TensorInfo info{p.torch_name, {}, p.shape.size(), p.size, runtime_init(p.init), p.fan_in, p.fan_out, p.lo, p.hi};
      std::copy_n(p.shape.begin(), std::min(p.shape.size(), info.shape.size()), info.shape.begin());
      io::TensorData t{p.torch_name, p.shape, std::vector<float>(p.size)};
      init_tensor(std::span(t.values), info, seed, out.size());
      out.push_back(std::move(t));
    }
  return out;
}

}  // namespace castnet::cli
