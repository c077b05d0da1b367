// castnet_rt_weights SPEC OUT: writes castnet's seed-1 initial weights for SPEC (what castnet bench
// exports its specs with) so that the build can export the real-time checks' specs.
#include <castnet/io/safetensors.hpp>

#include <exception>
#include <iostream>

#include "generate.hpp"
#include "initial_weights.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: castnet_rt_weights SPEC OUT.safetensors\n";
    return 2;
  }
  try {
    castnet::io::write_safetensors(argv[2], castnet::cli::initial_weights(castnet::gen::load_graph(argv[1]), 1));
  } catch (const std::exception& e) {
    std::cerr << "castnet_rt_weights: " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
