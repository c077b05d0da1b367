// The optimizer's update that a generated train_step_update applies (update.hpp has the rules):
// outside every instruction set's namespace, since the runtime hands it to a model of any
// (train/model_view.hpp), and a dispatching model's header declares functions that take it
// (castnet/model.hpp includes this). Training only (not bundled into exported headers).
#pragma once

namespace castnet {

enum class UpdateRule : unsigned char { sgd, momentum, nesterov };

template <class T>
struct Update {
  UpdateRule rule = UpdateRule::sgd;
  T lr = 0, momentum = 0;
  bool first = false;  // the optimizer's first step: the velocity starts as the gradient
};

}  // namespace castnet
