// Progress with an injected clock: off a terminal only the epoch lines appear; on one, a status
// line redrawn with '\r' at most every 0.1 s, with the bar, the rate and the ETA, fitted to the
// terminal's width and replaced by the epoch's line when the epoch ends.
#include "castnet/train/progress.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

using castnet::EpochStats;
using castnet::Progress;
using castnet::progress_line;

namespace {

EpochStats stats(std::size_t epoch) {
  EpochStats s;
  s.epoch = epoch;
  s.loss = 0.5 / static_cast<double>(epoch);
  s.accuracy = 0.9;
  s.lr = 0.01;
  s.samples_per_s = 1000;
  s.seconds = 1.25;
  return s;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The redraws of a live output: the pieces between '\r's.
std::vector<std::string> redraws(const std::string& text) {
  std::vector<std::string> pieces;
  std::size_t at = text.find('\r');
  while (at != std::string::npos) {
    const std::size_t next = text.find('\r', at + 1);
    pieces.push_back(text.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next;
  }
  return pieces;
}

}  // namespace

TEST_CASE("progress: off a terminal, exactly one line per epoch", "[progress]") {
  std::ostringstream out;
  double now = 0;
  Progress progress(out, false, 2, 10, [&] { return now; });
  for (std::size_t e = 1; e <= 2; ++e) {
    for (std::size_t b = 1; b <= 10; ++b) {
      now += 0.5;
      progress.batch(e, b, 32 * b, 0.5, 0.9);
    }
    progress.epoch_done(stats(e));
  }
  CHECK(out.str() == progress_line(stats(1), 2) + "\n" + progress_line(stats(2), 2) + "\n");
}

TEST_CASE("progress: on a terminal, a throttled status line with a bar, the rate and the ETA",
          "[progress]") {
  std::ostringstream out;
  double now = 100;
  Progress progress(out, true, 20, 10, [&] { return now; }, 120);

  progress.batch(3, 1, 32, 0.75, 0.5);  // the first call draws, with no rate yet
  REQUIRE(redraws(out.str()).size() == 1);
  CHECK(redraws(out.str())[0] == "epoch  3/20 [###...........................]  1/10  loss 0.75  accuracy  50.00%  ETA --:--\x1b[K");

  // Many calls within 0.1 s: no redraw.
  for (int i = 0; i < 50; ++i) {
    now += 0.001;
    progress.batch(3, 1, 32, 0.75, 0.5);
  }
  CHECK(redraws(out.str()).size() == 1);

  // One batch per second since the first, 32 samples a second: 8 batches left in this epoch and 170
  // in the 17 after it.
  now = 101;
  progress.batch(3, 2, 64, 0.5, 0.75);
  const auto lines = redraws(out.str());
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == "epoch  3/20 [######........................]  2/10  loss 0.5  accuracy  75.00%  samples/s 32  ETA 2:58\x1b[K");

  // Without accuracy (mse), and at the end of the epoch: the later epochs' 170 batches left.
  now = 109;
  progress.batch(3, 10, 320, 0.25, std::nullopt);
  CHECK(redraws(out.str()).back() == "epoch  3/20 [##############################] 10/10  loss 0.25  samples/s 32  ETA 2:50\x1b[K");

  // The epoch's line replaces the status line and ends it.
  const std::size_t before = out.str().size();
  progress.epoch_done(stats(3));
  CHECK(out.str().substr(before) == "\r" + progress_line(stats(3), 20) + "\x1b[K\n");

  // Right after an epoch's line, the next epoch's first batch is not drawn; later ones are, and
  // the rate is measured from the new epoch's first batch.
  now += 0.05;
  progress.batch(4, 1, 32, 0.4, 0.8);
  CHECK(out.str().size() == before + progress_line(stats(3), 20).size() + 5);
  now += 2;
  progress.batch(4, 5, 160, 0.3, 0.85);
  CHECK(redraws(out.str()).back() == "epoch  4/20 [###############...............]  5/10  loss 0.3  accuracy  85.00%  samples/s 64  ETA 1:23\x1b[K");  // 165 batches at 0.5 s
}

TEST_CASE("progress: many batches give at most ten redraws a second", "[progress]") {
  std::ostringstream out;
  double now = 0;
  Progress progress(out, true, 1, 10000, [&] { return now; }, 100);
  for (std::size_t b = 1; b <= 10000; ++b) {
    now = static_cast<double>(b) * 1e-4;  // one second in all
    progress.batch(1, b, b, 1.0, std::nullopt);
  }
  CHECK(count(out.str(), "\r") == 10);
  progress.epoch_done(stats(1));
  CHECK(count(out.str(), "\n") == 1);
}

TEST_CASE("progress: the status line fits the terminal", "[progress]") {
  for (const std::size_t columns : {40, 60, 80, 200}) {
    std::ostringstream out;
    double now = 0;
    Progress progress(out, true, 1000, 60000, [&] { return now; }, columns);
    progress.batch(999, 1, 64, 1.23456789, 0.987654);
    now = 10;
    progress.batch(999, 30000, 1920000, 1.23456789, 0.987654);
    for (std::string line : redraws(out.str())) {
      INFO(line);
      REQUIRE(line.ends_with("\x1b[K"));
      line.resize(line.size() - 3);
      CHECK(line.size() <= columns - 1);
      CHECK(line.starts_with("epoch  999/1000 ["));
      if (columns >= 80) CHECK(line.find("ETA ") != std::string::npos);
      if (columns >= 120 && line.find(" 30000/60000") != std::string::npos) {
        CHECK(line.find("samples/s 191994") != std::string::npos);
      }
    }
    CHECK(redraws(out.str()).size() == 2);
  }
}

TEST_CASE("progress: format_eta", "[progress]") {
  CHECK(castnet::format_eta(0) == "0:00");
  CHECK(castnet::format_eta(0.2) == "0:01");
  CHECK(castnet::format_eta(59.5) == "1:00");
  CHECK(castnet::format_eta(600) == "10:00");
  CHECK(castnet::format_eta(3661) == "1:01:01");
  CHECK(castnet::format_eta(-1) == "--:--");
  CHECK(castnet::format_eta(std::nan("")) == "--:--");
  CHECK(castnet::format_eta(INFINITY) == "--:--");
}
