// The libtorch peer: the spec's network as torch::nn modules (Linear, Conv2d, MaxPool2d, AvgPool2d,
// PReLU) wired by the graph IR at run time, with activations and losses from torch's functions,
// float32 on the CPU. Torch's headers stay in torch_net.cpp, so code that includes this one needs
// no torch include paths.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "peer.hpp"

namespace castnet::bench {

class TorchNet final : public Peer {
 public:
  // Whether g can be built here (for training too: dropout cannot, torch's masks are not castnet's);
  // if not, why_not (when given) says which layer and why.
  static bool supports(const ir::Graph& g, std::string* why_not, bool training);

  // Throws std::invalid_argument if !supports(g, ..., false). Parameters start as torch
  // initialises them; set_params replaces them.
  explicit TorchNet(const ir::Graph& g);
  ~TorchNet() override;
  TorchNet(const TorchNet&) = delete;
  TorchNet& operator=(const TorchNet&) = delete;

  void set_params(const std::vector<std::vector<float>>& params) override;
  std::vector<std::vector<float>> params() const override;
  void forward(const float* x, std::size_t n, float* y) override;
  // Throws std::logic_error if the graph is not supported for training.
  float train_step(const float* x, const float* target, std::size_t n, float lr) override;

  // torch's intra-op thread count, process-wide (torch::set_num_threads).
  static void set_threads(int n);
  // "libtorch 1.13.0, BLAS <path of each mapped *blas* library>[, OPENBLAS_CORETYPE=<value>]".
  static std::string version();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace castnet::bench
