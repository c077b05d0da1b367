// See spec.hpp.
#include "spec/spec.hpp"

#include <sstream>

#include "ir/diagnostic.hpp"

namespace castnet::spec {

void validate_settings(const Spec& s) {
  const ir::Graph& g = s.graph;
  if (s.training.label_noise > 0 &&
      (g.loss.kind != ir::LossKind::softmax_cross_entropy || g.output_features() < 2))
    fail(g.spec_path, s.data.label_noise_pos, "",
         "label_noise replaces labels by other classes: it needs a classifier (softmax_cross_entropy with two "
         "outputs or more)");
  if (!s.training.autoencoder) return;
  if (g.loss.kind == ir::LossKind::softmax_cross_entropy)
    fail(g.spec_path, s.data.targets_pos, "", "targets = \"inputs\" (an autoencoder) needs mse or binary_cross_entropy, not softmax_cross_entropy");
  if (g.output_features() != g.input_features())
    fail(g.spec_path, s.data.targets_pos, g.layers.back().name,
         "targets = \"inputs\" (an autoencoder) needs as many outputs as inputs: the network has " +
             std::to_string(g.input_features()) + " inputs and " + std::to_string(g.output_features()) + " outputs");
}

std::string print_settings(const Spec& s) {
  std::ostringstream o;
  const castnet::TrainConfig& t = s.training;
  o << "  optimizer " << castnet::name_of(t.optimizer.kind) << " lr " << t.optimizer.lr;
  if (t.schedule.kind != castnet::ScheduleConfig::Kind::constant) o << " schedule " << castnet::name_of(t.schedule.kind);
  o << "\n  train epochs " << t.epochs << " seed " << t.seed << " shuffle " << (t.shuffle ? "true" : "false") << "\n";
  if (t.subset > 0 || t.label_noise > 0) o << "  data subset " << t.subset << " label_noise " << t.label_noise << "\n";
  return o.str();
}

}  // namespace castnet::spec
