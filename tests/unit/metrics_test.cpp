// progress_line's exact text, metrics.csv's exact text, and MetricsLog::parse: it reads back
// every figure csv() writes exactly (the shortest round-trip forms), also the 5-column files of
// earlier versions, and names the line of every malformed one.
#include "castnet/train/metrics.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "castnet/error.hpp"

using castnet::EpochStats;
using castnet::MetricsLog;
using castnet::progress_line;

namespace {

EpochStats regression_epoch() {
  EpochStats s;
  s.epoch = 3;
  s.loss = 0.123456789;
  s.lr = 0.001;
  s.samples_per_s = 15234.4;
  s.seconds = 3.5;
  return s;
}

EpochStats classifier_epoch() {
  EpochStats s = regression_epoch();
  s.accuracy = 0.975;
  s.val_loss = 0.1;
  s.val_accuracy = 0.971;
  return s;
}

// The message parse throws for `text`, or "" if it does not throw.
std::string error_for(const std::string& text) {
  try {
    MetricsLog::parse(text);
  } catch (const castnet::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("metrics: progress_line shows the figures a run has", "[metrics]") {
  CHECK(progress_line(regression_epoch(), 20) == "epoch  3/20  loss 0.123457  lr 0.001  samples/s 15234  3.5 s");
  CHECK(progress_line(classifier_epoch(), 20) ==
        "epoch  3/20  loss 0.123457  accuracy  97.50%  val_loss 0.1  val_accuracy  97.10%  lr 0.001  "
        "samples/s 15234  3.5 s");
  EpochStats fast = regression_epoch();
  fast.epoch = 1;
  fast.seconds = 0.0123;
  CHECK(progress_line(fast, 1) == "epoch 1/1  loss 0.123457  lr 0.001  samples/s 15234  12.3 ms");
  fast.seconds = 4.2e-6;
  CHECK(progress_line(fast, 300).ends_with("  0.0042 ms"));
  CHECK(progress_line(fast, 300).starts_with("epoch   1/300  loss "));
}

TEST_CASE("metrics: csv writes the header and one row per epoch, empty cells for absent figures",
          "[metrics]") {
  MetricsLog log;
  CHECK(log.csv() == "epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds\n");
  log.append(regression_epoch());
  log.append(classifier_epoch());
  CHECK(log.csv() ==
        "epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds\n"
        "3,0.123456789,,,,0.001,15234,3.5\n"
        "3,0.123456789,0.975,0.1,0.971,0.001,15234,3.5\n");
  REQUIRE(log.epochs().size() == 2);
  CHECK(log.epochs()[1].val_accuracy == 0.971);
}

TEST_CASE("metrics: parse reads back exactly what csv wrote", "[metrics]") {
  MetricsLog log;
  const std::vector<double> awkward = {0.1 + 0.2, 1e-300, std::numeric_limits<double>::denorm_min(),
                                       std::nextafter(1.0, 2.0), 123456789.123456789, 0.0};
  for (std::size_t i = 0; i < awkward.size(); ++i) {
    EpochStats s;
    s.epoch = i + 1;
    s.loss = awkward[i];
    s.lr = awkward[awkward.size() - 1 - i];
    if (i % 2 == 0) s.accuracy = awkward[(i + 1) % awkward.size()];
    if (i % 3 == 0) s.val_loss = awkward[(i + 2) % awkward.size()];
    if (i % 3 == 0) s.val_accuracy = 1.0 / 3.0;
    s.samples_per_s = 1234.0 * static_cast<double>(i);
    s.seconds = 0.000123456 * static_cast<double>(i + 1);
    log.append(s);
  }
  const MetricsLog back = MetricsLog::parse(log.csv());
  CHECK(back.csv() == log.csv());
  REQUIRE(back.epochs().size() == log.epochs().size());
  for (std::size_t i = 0; i < awkward.size(); ++i) {
    const EpochStats& a = log.epochs()[i];
    const EpochStats& b = back.epochs()[i];
    CHECK(b.epoch == a.epoch);
    CHECK(b.loss == a.loss);  // exact
    CHECK(b.accuracy == a.accuracy);
    CHECK(b.val_loss == a.val_loss);
    CHECK(b.val_accuracy == a.val_accuracy);
    CHECK(b.lr == a.lr);
    CHECK(b.samples_per_s == Approx(a.samples_per_s).margin(0.5));
    CHECK(b.seconds == Approx(a.seconds).epsilon(1e-5));
  }
  // Appending after a parse continues the same text.
  MetricsLog resumed = MetricsLog::parse(log.csv());
  EpochStats next;
  next.epoch = 7;
  next.loss = 0.5;
  resumed.append(next);
  CHECK(resumed.csv() == log.csv() + "7,0.5,,,,0,0,0\n");
}

TEST_CASE("metrics: parse accepts a header only, CRLF, and the 5-column files of earlier versions",
          "[metrics]") {
  CHECK(MetricsLog::parse("epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds\n").epochs().empty());
  const MetricsLog crlf = MetricsLog::parse(
      "epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds\r\n1,0.5,,,,0.1,10,1\r\n");
  REQUIRE(crlf.epochs().size() == 1);
  CHECK(crlf.epochs()[0].lr == 0.1);
  const MetricsLog old = MetricsLog::parse("epoch,loss,accuracy,samples_per_s,seconds\n1,0.5,0.75,100,2\n2,0.25,,200,1");
  REQUIRE(old.epochs().size() == 2);
  CHECK(old.epochs()[0].accuracy == 0.75);
  CHECK_FALSE(old.epochs()[1].accuracy.has_value());
  CHECK_FALSE(old.epochs()[0].val_loss.has_value());
  CHECK(old.epochs()[0].lr == 0);
  CHECK(old.epochs()[1].samples_per_s == 200);
  CHECK(old.csv() ==
        "epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds\n"
        "1,0.5,0.75,,,0,100,2\n"
        "2,0.25,,,,0,200,1\n");
}

TEST_CASE("metrics: parse names the line of malformed text", "[metrics]") {
  const std::string header = "epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds\n";
  CHECK(error_for("") == "metrics.csv:1: error: the text is empty; expected the header " + header.substr(0, header.size() - 1));
  CHECK(error_for("epoch,loss,acc\n").starts_with("metrics.csv:1: error: unknown column 'acc' in the header"));
  CHECK(error_for("epoch,loss,loss\n") == "metrics.csv:1: error: column 'loss' appears twice in the header");
  CHECK(error_for("epoch,accuracy\n").starts_with("metrics.csv:1: error: the header has no 'epoch' or no 'loss' column"));
  CHECK(error_for(header + "1,0.5,,,,0.1,10,1\n2,0.5,,,,0.1,10\n") == "metrics.csv:3: error: 7 cells; the header has 8");
  CHECK(error_for(header + "1,0.5x,,,,0.1,10,1\n") == "metrics.csv:2: error: loss '0.5x' is not a number");
  CHECK(error_for(header + "1, 0.5,,,,0.1,10,1\n") == "metrics.csv:2: error: loss ' 0.5' is not a number");
  CHECK(error_for(header + "1,,,,,0.1,10,1\n") == "metrics.csv:2: error: empty loss");
  CHECK(error_for(header + ",0.5,,,,0.1,10,1\n") == "metrics.csv:2: error: empty epoch");
  CHECK(error_for(header + "0,0.5,,,,0.1,10,1\n") == "metrics.csv:2: error: epoch '0' is not a positive integer");
  CHECK(error_for(header + "1.5,0.5,,,,0.1,10,1\n") == "metrics.csv:2: error: epoch '1.5' is not a positive integer");
  CHECK(error_for(header + "2,0.5,,,,0.1,10,1\n2,0.5,,,,0.1,10,1\n") == "metrics.csv:3: error: epoch 2 follows epoch 2");
  CHECK(error_for(header + "1,0.5,,,,0.1,10,1\n\n2,0.5,,,,0.1,10,1\n") == "metrics.csv:3: error: empty line");
  CHECK(error_for(header + "1,0.5,x,,,0.1,10,1\n") == "metrics.csv:2: error: accuracy 'x' is not a number");
  try {
    MetricsLog::parse(header + "1,oops,,,,0.1,10,1\n", "runs/mnist/metrics.csv");
    FAIL("no error");
  } catch (const castnet::Error& e) {
    CHECK(std::string(e.what()) == "runs/mnist/metrics.csv:2: error: loss 'oops' is not a number");
  }
}
