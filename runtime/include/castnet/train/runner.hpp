// The runner: the main() of the small program the castnet CLI compiles per network,
//   int main(int argc, char** argv) { return castnet::run_model<xor_net::Model>(argc, argv); }
// The verbs (train, eval, predict: verbs.hpp) are compiled once into libcastnet_runtime for float
// and for double, and reach the model through its ModelView (model_view.hpp): compiling a runner
// compiles the generated model and this adapter, not the training library.
#pragma once

#include <castnet/train/collective.hpp>
#include <castnet/train/model_view.hpp>

#include <cstddef>
#include <memory>

namespace castnet {

// What a runner built for data-parallel training passes to run_model (the CLI writes it into the
// runner's main).
struct Sharding {
  std::size_t global_batch = 0;  // rows per step (the spec's batch); 0: the model's kBatch
  // Runners for mpirun: joins the job (connect_mpi, mpi.hpp). Null: this process alone.
  std::unique_ptr<Collective> (*connect)(int& argc, char**& argv) = nullptr;
};

// Runs one verb of the runner's command line for the model `view` shows; returns the process exit
// code (src/train/runner.cpp).
int run_view(const ModelView<float>& view, int argc, char** argv, const Sharding& sharding = {});
int run_view(const ModelView<double>& view, int argc, char** argv, const Sharding& sharding = {});

template <GeneratedModel M>
int run_model(int argc, char** argv, const Sharding& sharding = {}) {
  return run_view(view_of<M>(), argc, argv, sharding);
}

}  // namespace castnet
