// run_view (runner.hpp): the runner's verbs compiled once, for every model of each real type.
#include <castnet/train/erased_model.hpp>
#include <castnet/train/runner.hpp>
#include <castnet/train/verbs.hpp>

namespace castnet {

namespace {

template <class real>
int run(const ModelView<real>& view, int argc, char** argv, const Sharding& sharding) {
  ErasedModel<real>::bind(view);
  return run_verbs<ErasedModel<real>>(argc, argv, sharding);
}

}  // namespace

int run_view(const ModelView<float>& view, int argc, char** argv, const Sharding& sharding) {
  return run(view, argc, argv, sharding);
}

int run_view(const ModelView<double>& view, int argc, char** argv, const Sharding& sharding) {
  return run(view, argc, argv, sharding);
}

}  // namespace castnet
