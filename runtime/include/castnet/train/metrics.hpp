// Per-epoch training figures and their two renderings: the progress line on stdout (for people and
// for the CLI's progress bar, progress.hpp) and DIR/metrics.csv (for plots, scripts and resuming),
// rewritten whole each time the trainer saves.
//
// metrics.csv has the header "epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds"
// and one row per epoch. loss, accuracy, val_loss, val_accuracy and lr are written in the shortest
// form that reads back exactly (std::to_chars), accuracies as fractions in [0, 1]. A figure the
// run does not have is an empty cell: accuracy for mse models, val_* without a validation split
// (read the file with a CSV reader that allows empty cells, or with MetricsLog::parse). seconds is
// the wall time of the epoch's training loop (6 significant digits) and samples_per_s is
// rows / seconds (rounded to an integer).
#pragma once

#include <castnet/io/json.hpp>

#include <castnet/error.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace castnet {

struct EpochStats {
  std::size_t epoch = 0;                // 1-based
  double loss = 0;                      // mean training loss over the epoch (includes the L2 penalty when one is set)
  std::optional<double> accuracy;       // fraction of correct predictions; classifiers only
  std::optional<double> val_loss;       // when a validation split is held out
  std::optional<double> val_accuracy;   // classifiers with a validation split
  double lr = 0;                        // learning rate at the epoch's last step
  double samples_per_s = 0;
  double seconds = 0;                   // wall time of the epoch's training loop
};

namespace detail {

template <class... Args>
void append_format(std::string& out, const char* format, Args... args) {
  char buf[96];
  const int n = std::snprintf(buf, sizeof buf, format, args...);
  if (n > 0) out.append(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
}

// "3.5 s" from 1 s up, "12.3 ms" / "0.0421 ms" below.
inline std::string format_seconds(double s) {
  std::string out;
  if (s >= 1.0 || !std::isfinite(s)) append_format(out, "%.1f s", s);
  else append_format(out, "%.3g ms", 1e3 * s);
  return out;
}

inline std::string shortest(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace detail

// One plain line per epoch, the optional figures only when present:
// "epoch  3/20  loss 0.123456  accuracy  97.50%  val_loss 0.1  val_accuracy  97.10%  lr 0.001  samples/s 15234  3.5 s"
// One epoch's figures as one JSON object (castnet train --json prints one per line).
inline std::string epoch_json(const EpochStats& s, std::size_t epochs) {
  return json::Object()
      .add("epoch", std::to_string(s.epoch))
      .add("epochs", std::to_string(epochs))
      .add("loss", json::num(s.loss))
      .add("accuracy", json::num(s.accuracy))
      .add("val_loss", json::num(s.val_loss))
      .add("val_accuracy", json::num(s.val_accuracy))
      .add("lr", json::num(s.lr))
      .add("samples_per_s", json::num(s.samples_per_s))
      .add("seconds", json::num(s.seconds))
      .text();
}

inline std::string progress_line(const EpochStats& s, std::size_t epochs) {
  const int width = static_cast<int>(std::to_string(epochs).size());
  std::string line;
  detail::append_format(line, "epoch %*zu/%zu  loss %.6g", width, s.epoch, epochs, s.loss);
  if (s.accuracy) detail::append_format(line, "  accuracy %6.2f%%", 100.0 * *s.accuracy);
  if (s.val_loss) detail::append_format(line, "  val_loss %.6g", *s.val_loss);
  if (s.val_accuracy) detail::append_format(line, "  val_accuracy %6.2f%%", 100.0 * *s.val_accuracy);
  detail::append_format(line, "  lr %.6g  samples/s %.0f  ", s.lr, s.samples_per_s);
  line += detail::format_seconds(s.seconds);
  return line;
}

// The epochs so far and their metrics.csv text.
class MetricsLog {
 public:
  static constexpr std::string_view kHeader =
      "epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds";

  MetricsLog() = default;

  // Reads back what csv() wrote, for resuming from a checkpoint. Also accepts any subset of the
  // columns in any order as long as it has epoch and loss (the 5-column files of earlier versions
  // read back with lr = 0 and no val_*). Epochs must be positive and strictly increasing. Throws
  // castnet::Error "<name>:<line>: error: <what>" on malformed text.
  static MetricsLog parse(std::string_view csv, std::string_view name = "metrics.csv");

  void append(const EpochStats& s) {
    epochs_.push_back(s);
    text_ += std::to_string(s.epoch);
    text_ += ',';
    text_ += detail::shortest(s.loss);
    for (const std::optional<double>& v : {s.accuracy, s.val_loss, s.val_accuracy}) {
      text_ += ',';
      if (v) text_ += detail::shortest(*v);
    }
    text_ += ',';
    text_ += detail::shortest(s.lr);
    detail::append_format(text_, ",%.0f,%.6g\n", s.samples_per_s, s.seconds);
  }
  const std::vector<EpochStats>& epochs() const { return epochs_; }
  // The header line, then one line per epoch, each ending in '\n'.
  const std::string& csv() const { return text_; }

 private:
  std::vector<EpochStats> epochs_;
  std::string text_ = std::string(kHeader) + '\n';
};

inline MetricsLog MetricsLog::parse(std::string_view csv, std::string_view name) {
  enum Column { kEpoch, kLoss, kAccuracy, kValLoss, kValAccuracy, kLr, kSamplesPerS, kSeconds, kCount };
  static constexpr std::string_view kNames[kCount] = {"epoch",        "loss", "accuracy",      "val_loss",
                                                      "val_accuracy", "lr",   "samples_per_s", "seconds"};
  std::size_t line_no = 0;
  auto fail = [&](const std::string& what) -> Error {
    return Error(std::string(name) + ":" + std::to_string(line_no) + ": error: " + what);
  };
  auto split = [](std::string_view line) {
    std::vector<std::string_view> cells;
    for (std::size_t start = 0;;) {
      const std::size_t comma = line.find(',', start);
      cells.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (comma == std::string_view::npos) return cells;
      start = comma + 1;
    }
  };

  std::vector<int> columns;  // the Column of each cell
  MetricsLog log;
  std::size_t pos = 0;
  while (pos < csv.size()) {
    const std::size_t nl = csv.find('\n', pos);
    std::string_view line = csv.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? csv.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::vector<std::string_view> cells = split(line);

    if (line_no == 1) {
      bool seen[kCount] = {};
      for (const std::string_view cell : cells) {
        int c = 0;
        while (c < kCount && kNames[c] != cell) ++c;
        if (c == kCount) throw fail("unknown column '" + std::string(cell) + "' in the header; expected " + std::string(kHeader));
        if (seen[c]) throw fail("column '" + std::string(cell) + "' appears twice in the header");
        seen[c] = true;
        columns.push_back(c);
      }
      if (!seen[kEpoch] || !seen[kLoss]) throw fail("the header has no 'epoch' or no 'loss' column; expected " + std::string(kHeader));
      continue;
    }
    if (line.empty()) {
      if (pos >= csv.size()) break;  // a blank last line
      throw fail("empty line");
    }
    if (cells.size() != columns.size()) {
      throw fail(std::to_string(cells.size()) + " cells; the header has " + std::to_string(columns.size()));
    }
    EpochStats s;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const int c = columns[i];
      const std::string_view cell = cells[i];
      const std::string column(kNames[c]);
      if (cell.empty()) {
        if (c == kEpoch || c == kLoss) throw fail("empty " + column);
        continue;  // an absent optional; lr, samples_per_s and seconds stay 0
      }
      const char* const end = cell.data() + cell.size();
      if (c == kEpoch) {
        const auto [ptr, ec] = std::from_chars(cell.data(), end, s.epoch);
        if (ec != std::errc() || ptr != end || s.epoch == 0) throw fail(column + " '" + std::string(cell) + "' is not a positive integer");
        continue;
      }
      double v = 0;
      const auto [ptr, ec] = std::from_chars(cell.data(), end, v);
      if (ec != std::errc() || ptr != end) throw fail(column + " '" + std::string(cell) + "' is not a number");
      switch (c) {
        case kLoss: s.loss = v; break;
        case kAccuracy: s.accuracy = v; break;
        case kValLoss: s.val_loss = v; break;
        case kValAccuracy: s.val_accuracy = v; break;
        case kLr: s.lr = v; break;
        case kSamplesPerS: s.samples_per_s = v; break;
        default: s.seconds = v; break;
      }
    }
    if (!log.epochs_.empty() && s.epoch <= log.epochs_.back().epoch) {
      throw fail("epoch " + std::to_string(s.epoch) + " follows epoch " + std::to_string(log.epochs_.back().epoch));
    }
    log.append(s);
  }
  if (line_no == 0) {
    line_no = 1;
    throw fail("the text is empty; expected the header " + std::string(kHeader));
  }
  return log;
}

}  // namespace castnet
