// Per-epoch training figures and their two renderings: the progress line on stdout (for people and
// for the CLI's progress bar) and DIR/metrics.csv (for plots and scripts), rewritten whole each
// time the trainer saves. In metrics.csv the loss and accuracy are written in the shortest form
// that reads back exactly, accuracy as a fraction in [0, 1] (empty for mse, so read it with a CSV
// reader that allows empty cells), seconds is the wall time of the epoch's training loop (6
// significant digits) and samples_per_s is rows / seconds.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>

namespace castnet {

struct EpochStats {
  std::size_t epoch = 0;            // 1-based
  double loss = 0;                  // mean training loss over the epoch's samples
  std::optional<double> accuracy;   // fraction of correct predictions; classifiers only
  double samples_per_s = 0;
  double seconds = 0;
};

// "epoch   3/100  loss 0.123456  accuracy  97.50%  samples/s 123456"
inline std::string progress_line(const EpochStats& s, std::size_t epochs) {
  const int width = static_cast<int>(std::to_string(epochs).size());
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "epoch %*zu/%zu  loss %.6g", width, s.epoch, epochs,
                        s.loss);
  if (s.accuracy) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "  accuracy %6.2f%%",
                       100.0 * *s.accuracy);
  }
  std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "  samples/s %.0f",
                s.samples_per_s);
  return buf;
}

// The metrics.csv text of the epochs so far.
class MetricsLog {
 public:
  void append(const EpochStats& s) {
    text_ += std::to_string(s.epoch) + ',' + shortest(s.loss) + ',';
    if (s.accuracy) text_ += shortest(*s.accuracy);
    char buf[64];
    std::snprintf(buf, sizeof buf, ",%.0f,%.6g\n", s.samples_per_s, s.seconds);
    text_ += buf;
  }
  const std::string& csv() const { return text_; }

 private:
  static std::string shortest(double v) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  }
  std::string text_ = "epoch,loss,accuracy,samples_per_s,seconds\n";
};

}  // namespace castnet
