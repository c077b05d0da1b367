// The Eigen peer: the network as a user would write it with Eigen's dynamic-size matrices, built
// at run time from the graph IR. Activations are (n, features) row-major, weights (out, in) as
// PyTorch stores them; products are noalias GEMMs into buffers kept between calls, convolutions
// im2col per sample and one GEMM. Eigen stays out of this header (it is a private dependency).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.hpp"
#include "peer.hpp"

namespace castnet::bench {

class EigenNet final : public Peer {
 public:
  // False, with a short reason in *why_not, for a graph this peer cannot run (glu and prelu layers;
  // dropout when training, since it draws no masks).
  static bool supports(const ir::Graph& g, std::string* why_not, bool training);
  static void set_threads(int n);  // Eigen::setNbThreads: the GEMMs' threads (OpenMP)
  static std::string version();    // "Eigen 3.4.0"

  // Parameters start at zero. Throws std::invalid_argument if !supports(g, ..., false).
  explicit EigenNet(const ir::Graph& g);
  ~EigenNet() override;

  void set_params(const std::vector<std::vector<float>>& params) override;
  std::vector<std::vector<float>> params() const override;
  void forward(const float* x, std::size_t n, float* y) override;
  // Throws std::logic_error if the graph cannot be trained (supports(g, ..., true) is false).
  float train_step(const float* x, const float* target, std::size_t n, float lr) override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace castnet::bench
