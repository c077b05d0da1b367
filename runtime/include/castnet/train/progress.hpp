// What training prints while it runs.
//
// On a terminal (`live`, the caller passes isatty(fileno(stdout))) one status line is redrawn in
// place with '\r' and clear-to-end-of-line, at most about 10 times a second:
//   epoch  3/20 [#########...........]  45/100  loss 0.1235  accuracy  97.50%  samples/s 15234  ETA 0:03
// The ETA is the whole run's (the epochs after this one at this epoch's pace), without validation
// and saves. The bar is narrowed (and the line cut) to fit the terminal. When an epoch ends, its
// progress_line (metrics.hpp) replaces the status line and ends with a newline, so the scrollback
// holds exactly one line per epoch.
//
// Elsewhere (a pipe, a CI log) batch() prints nothing and epoch_done() prints the progress_line
// and a newline. Every write is flushed.
#pragma once

#include <castnet/train/metrics.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace castnet {

class Progress {
 public:
  // Seconds on some monotonic clock.
  using Clock = std::function<double()>;

  // Uses std::chrono::steady_clock and, when live, the width of the terminal on stdout (else
  // $COLUMNS, else 80).
  Progress(std::ostream& out, bool live, std::size_t epochs, std::size_t batches_per_epoch);
  // For tests: an injected clock and a given terminal width.
  Progress(std::ostream& out, bool live, std::size_t epochs, std::size_t batches_per_epoch,
           Clock clock, std::size_t columns = 80);

  // After batch `batch` (1-based) of epoch `epoch` has been trained: `samples_done_in_epoch` rows
  // so far, and the running mean loss (and accuracy) over them.
  void batch(std::size_t epoch, std::size_t batch, std::size_t samples_done_in_epoch,
             double running_loss, std::optional<double> running_accuracy);
  // After the epoch's figures are known.
  void epoch_done(const EpochStats& stats);

  // Minimum seconds between two redraws of the status line.
  static constexpr double kRedrawInterval = 0.1;

 private:
  std::ostream& out_;
  bool live_;
  std::size_t epochs_, batches_;
  Clock clock_;
  std::size_t columns_;
  double last_draw_ = -1e300;
  // The first batch() call seen in the current epoch, which the rate and ETA are measured from.
  std::size_t epoch_ = 0, first_batch_ = 0, first_samples_ = 0;
  double first_time_ = 0;
};

// "m:ss" (or "h:mm:ss") of a non-negative number of seconds, rounded up; "--:--" if not finite.
std::string format_eta(double seconds);

}  // namespace castnet
