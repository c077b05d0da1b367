// Ctrl-C during training: the first SIGINT asks the trainer to stop after the batch in progress,
// which then says where it stopped and how to resume (trainer.hpp); a second one ends the process
// as SIGINT always does. Not under MPI: ranks told at different batches would wait for each other
// in a collective, so there SIGINT keeps its default.
#pragma once

#include <castnet/error.hpp>

#include <csignal>

namespace castnet {

// Thrown by the trainer when it stops on Ctrl-C; the runner exits 130, as a shell reports SIGINT.
struct Interrupted : Error {
  using Error::Error;
};

inline volatile std::sig_atomic_t& interrupt_requested() {
  static volatile std::sig_atomic_t requested = 0;
  return requested;
}

inline void on_interrupt(int) {
  if (interrupt_requested()) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  interrupt_requested() = 1;
}

// Catches SIGINT while it lives (when `enable`), restoring the previous handler after.
class InterruptGuard {
 public:
  explicit InterruptGuard(bool enable) : enabled_(enable) {
    if (enabled_) previous_ = std::signal(SIGINT, on_interrupt);
  }
  ~InterruptGuard() {
    if (enabled_) std::signal(SIGINT, previous_);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  bool enabled_;
  void (*previous_)(int) = SIG_DFL;
};

}  // namespace castnet
