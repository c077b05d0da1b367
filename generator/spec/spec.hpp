// A parsed spec: the network (ir::Graph, which the passes complete and the emitter and the
// reference read) and, beside it, how to train it and on what data. The settings never reach the
// IR: they change no generated code, so they travel to a runner as its options.
#pragma once

#include <castnet/train/config.hpp>

#include <string>
#include <vector>

#include "ir/graph.hpp"

namespace castnet::spec {

// The [data] table's files and columns; paths as written (the CLI resolves them against the spec).
struct DataConfig {
  std::string train;                // path or data name (mnist:train)
  std::string test;
  std::string train_labels;         // IDX label files beside IDX image files
  std::string test_labels;
  std::vector<std::string> labels;  // label column names (CSV)
  ir::SourcePos train_pos, test_pos;  // where `train` and `test` name their data (errors point there)
  ir::SourcePos targets_pos;        // `targets`, when given (the autoencoder checks)
  ir::SourcePos label_noise_pos;    // `label_noise`, when given (it needs a classifier)
};

struct Spec {
  ir::Graph graph;
  castnet::TrainConfig training;  // [optimizer], [train] and the settings of [data]
  DataConfig data;
};

// The rules that join the settings to the network, once the passes have run: an autoencoder
// (targets = "inputs") needs as many outputs as inputs and a loss that compares values;
// label_noise needs a classifier (softmax_cross_entropy) with two classes or more.
void validate_settings(const Spec& s);

// "  optimizer ... \n  train ...\n": the settings as `castnet check --ir` prints them after the IR.
std::string print_settings(const Spec& s);

}  // namespace castnet::spec
