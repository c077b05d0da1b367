// quality_report: every figure checked against counts worked out by hand, and undefined ratios
// (a class never predicted, a constant target) shown as "-", not as 0.
#include <castnet/train/report.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

using castnet::Loss;

namespace {

std::string quality_report(Loss loss, std::size_t k, const std::vector<double>& y, const std::vector<double>& t) {
  return castnet::to_text(castnet::quality(loss, k, y, t));
}

}  // namespace
using Catch::Matchers::Contains;

TEST_CASE("report: softmax classes' precision, recall, F1 and their macro averages") {
  // True classes 0,0,0,1,1,2; predicted (argmax) 0,0,1,1,1,1: class 2 is never predicted.
  const std::vector<double> y = {5, 0, 0, 5, 0, 0, 0, 5, 0, 0, 5, 0, 0, 5, 0, 0, 5, 0};
  const std::vector<double> t = {0, 0, 0, 1, 1, 2};
  const std::string r = quality_report(Loss::softmax_cross_entropy, 3, y, t);
  INFO(r);
  CHECK_THAT(r, Contains("     0   2   1   0\n"));  // confusion row of class 0
  // class 0: precision 2/2, recall 2/3; class 1: precision 2/4, recall 2/2; class 2: -, 0/1.
  CHECK_THAT(r, Contains("     0    1.0000    0.6667    0.8000         3\n"));
  CHECK_THAT(r, Contains("     1    0.5000    1.0000    0.6667         2\n"));
  CHECK_THAT(r, Contains("     2         -    0.0000         -         1\n"));
  // Macro over the defined values: precision (1 + 0.5) / 2, recall (2/3 + 1 + 0) / 3, F1 (0.8 + 2/3) / 2.
  CHECK_THAT(r, Contains(" macro    0.7500    0.5556    0.7333         6\n"));
}

TEST_CASE("report: binary outputs' confusion counts, precision, recall, F1 and ROC AUC") {
  // Logits (p >= 0.5 at logit >= 0) and targets: TP 2 (rows 3, 4), FP 1 (row 2), FN 1 (row 1), TN 1.
  const std::vector<double> y = {-2, -0.5, 0.3, 1.5, 0.2};
  const std::vector<double> t = {0, 1, 0, 1, 1};
  const std::string r = quality_report(Loss::binary_cross_entropy, 1, y, t);
  INFO(r);
  // AUC: of the 6 (positive, negative) pairs, the positive scores higher in 4: -0.5 > -2, 1.5 > -2,
  // 1.5 > 0.3, 0.2 > -2.
  CHECK_THAT(r, Contains("     0     2     1     1     1    0.6667    0.6667    0.6667    0.6667\n"));
  // One class only: no AUC.
  CHECK_THAT(quality_report(Loss::binary_cross_entropy, 1, {1, 2}, {1, 1}), Contains("         -\n"));
}

TEST_CASE("report: regression MSE, MAE and R^2 per target, and their means") {
  // Target 0: errors 1, -1, 0 on targets 1, 2, 3 (variance sum 2): MSE 2/3, MAE 2/3, R^2 1 - 2/2 = 0.
  // Target 1: constant target 5, no R^2.
  const std::vector<double> y = {2, 5, 1, 6, 3, 5};
  const std::vector<double> t = {1, 5, 2, 5, 3, 5};
  const std::string r = quality_report(Loss::mse, 2, y, t);
  INFO(r);
  CHECK_THAT(r, Contains("     0    0.6667    0.6667    0.0000\n"));
  CHECK_THAT(r, Contains("     1    0.3333    0.3333         -\n"));
  CHECK_THAT(r, Contains("  mean    0.5000    0.5000    0.0000\n"));
}
