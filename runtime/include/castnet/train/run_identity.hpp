// What identifies a training run: everything that, changed, changes the weights it ends with
// besides the spec (whose hash the checkpoint keeps beside it). A checkpoint records it and
// --resume refuses a checkpoint whose record differs, one line per difference (checkpoint.hpp);
// the ranks of an MPI job compare hashes of it before they start (trainer.hpp).
//
// --epochs is not part of it: a run may be extended. The exception is a cosine schedule, whose
// period is the total number of epochs, so that every step's learning rate depends on it; there
// --epochs is recorded and must stay.
#pragma once

#include <castnet/train/run_options.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace castnet {

struct RunSetting {
  std::string name;   // "data train", "threads", "lr", ...
  std::string value;  // what is compared: "1234 bytes, sha256 ab12...", "2", "0.003"
  std::string file;   // data files only: the path, shown but not compared (the same bytes may move)
};
using RunIdentity = std::vector<RunSetting>;

// The identity of the run `o` describes with `ranks` processes: its data files by size and
// SHA-256 (each file read once, here), label columns, workers and every training setting.
RunIdentity run_identity(const RunOptions& o, std::size_t ranks);

// One line per setting; parse_identity reads it back.
std::string identity_text(const RunIdentity& identity);
RunIdentity parse_identity(const std::string& text);

// "  name: old now new" for each setting that differs (a setting only one side has is "none" on
// the other), in the order of `now`, then the ones only `old` has. Empty when they agree.
std::string identity_differences(const RunIdentity& old, const RunIdentity& now);

}  // namespace castnet
