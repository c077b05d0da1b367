#include "castnet/train/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace castnet {

namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The width of the terminal on stdout, else $COLUMNS, else 80.
std::size_t terminal_columns() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* env = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0) return static_cast<std::size_t>(n);
  }
  return 80;
}

template <class... Args>
std::string format(const char* fmt, Args... args) {
  char buf[128];
  const int n = std::snprintf(buf, sizeof buf, fmt, args...);
  return n <= 0 ? std::string() : std::string(buf, std::min(static_cast<std::size_t>(n), sizeof buf - 1));
}

}  // namespace

std::string format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) return "--:--";
  const auto s = static_cast<unsigned long long>(std::ceil(seconds));
  if (s >= 3600) return format("%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
  return format("%llu:%02llu", s / 60, s % 60);
}

Progress::Progress(std::ostream& out, bool live, std::size_t epochs, std::size_t batches_per_epoch)
    : Progress(out, live, epochs, batches_per_epoch, steady_seconds, 0) {}

Progress::Progress(std::ostream& out, bool live, std::size_t epochs, std::size_t batches_per_epoch,
                   Clock clock, std::size_t columns)
    : out_(out), live_(live), epochs_(epochs), batches_(batches_per_epoch), clock_(std::move(clock)),
      columns_(columns) {}

void Progress::batch(std::size_t epoch, std::size_t batch, std::size_t samples_done_in_epoch,
                     double running_loss, std::optional<double> running_accuracy) {
  if (!live_) return;
  const double now = clock_();
  if (epoch != epoch_ || batch < first_batch_) {
    epoch_ = epoch;
    first_batch_ = batch;
    first_samples_ = samples_done_in_epoch;
    first_time_ = now;
  }
  if (now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;

  // The pieces around the bar, then the widest bar that fits.
  const int epoch_width = static_cast<int>(std::to_string(epochs_).size());
  const int batch_width = static_cast<int>(std::to_string(batches_).size());
  const std::string head = format("epoch %*zu/%zu ", epoch_width, epoch, epochs_);
  std::string tail = format(" %*zu/%zu  loss %.4g", batch_width, batch, batches_, running_loss);
  if (running_accuracy) tail += format("  accuracy %6.2f%%", 100.0 * *running_accuracy);
  std::string rate;
  double eta = -1;  // unknown until two batches of this epoch have been seen
  const double elapsed = now - first_time_;
  if (batch > first_batch_ && elapsed > 0) {
    rate = format("  samples/s %.0f", (static_cast<double>(samples_done_in_epoch) - static_cast<double>(first_samples_)) / elapsed);
    // The whole run's: this epoch's batches left, and every later epoch's, at this epoch's pace.
    const std::size_t left = (batches_ > batch ? batches_ - batch : 0) + (epochs_ > epoch ? epochs_ - epoch : 0) * batches_;
    eta = static_cast<double>(left) * elapsed / static_cast<double>(batch - first_batch_);
  }
  const std::string eta_text = "  ETA " + format_eta(eta);

  const std::size_t columns = columns_ > 0 ? columns_ : terminal_columns();
  const std::size_t room = columns > 1 ? columns - 1 : 1;  // the last column would wrap on some terminals
  // The bar takes what is left, up to 30 columns; below 10 the rate makes room for it, and below 5
  // the line is cut at the terminal's edge.
  constexpr std::size_t kMaxBar = 30, kWantBar = 10, kMinBar = 5;
  std::size_t fixed = head.size() + 2 + tail.size() + rate.size() + eta_text.size();
  if (fixed + kWantBar > room) {
    fixed -= rate.size();
    rate.clear();
  }
  const std::size_t bar_width = std::clamp(room > fixed ? room - fixed : 0, kMinBar, kMaxBar);
  const std::size_t done = batches_ == 0 ? bar_width : std::min(bar_width, bar_width * batch / batches_);
  std::string line = head + '[' + std::string(done, '#') + std::string(bar_width - done, '.') + ']' + tail + rate + eta_text;
  if (line.size() > room) line.resize(room);

  out_ << '\r' << line << "\x1b[K" << std::flush;
}

void Progress::epoch_done(const EpochStats& stats) {
  const std::string line = progress_line(stats, epochs_);
  if (live_) {
    out_ << '\r' << line << "\x1b[K\n" << std::flush;
    last_draw_ = clock_();  // no status line straight after an epoch's line: short epochs stay quiet
  } else {
    out_ << line << '\n' << std::flush;
  }
}

}  // namespace castnet
