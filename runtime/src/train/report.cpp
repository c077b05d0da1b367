// See report.hpp. Ratios with an empty denominator (a class never predicted, a target of constant
// value) print as "-": they are undefined, not zero.
#include "castnet/train/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>

namespace castnet {
namespace {

std::optional<double> ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

std::string cell(const std::optional<double>& v, int width = 10) {
  char text[32];
  if (v) std::snprintf(text, sizeof text, "%*.4f", width, *v);
  else std::snprintf(text, sizeof text, "%*s", width, "-");
  return text;
}

// `text` right-aligned in `width` characters.
std::string pad(const std::string& text, std::size_t width) {
  return std::string(width - std::min(width, text.size()), ' ') + text;
}

std::optional<double> f1(const std::optional<double>& p, const std::optional<double>& r) {
  if (!p || !r) return std::nullopt;
  return ratio(2 * *p * *r, *p + *r);
}

// The mean of the defined values; undefined when none is.
std::optional<double> macro(const std::vector<std::optional<double>>& v) {
  double sum = 0;
  std::size_t n = 0;
  for (const auto& x : v)
    if (x) {
      sum += *x;
      ++n;
    }
  return n ? std::optional<double>(sum / static_cast<double>(n)) : std::nullopt;
}

std::string softmax_report(std::size_t K, const std::vector<double>& y, const std::vector<double>& t) {
  const std::size_t rows = t.size();
  std::vector<std::size_t> counts(K * K, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    const double* row = y.data() + r * K;
    const auto predicted = static_cast<std::size_t>(std::max_element(row, row + K) - row);
    ++counts[static_cast<std::size_t>(t[r]) * K + predicted];
  }
  std::string text;
  if (K <= 20) {
    std::size_t width = 4;
    for (const std::size_t c : counts) width = std::max(width, std::to_string(c).size() + 1);
    text += "confusion matrix (rows: true class, columns: predicted)\n" + std::string(6, ' ');
    for (std::size_t j = 0; j < K; ++j) text += std::string(width - std::to_string(j).size(), ' ') + std::to_string(j);
    text += '\n';
    for (std::size_t i = 0; i < K; ++i) {
      const std::string label = std::to_string(i);
      text += std::string(6 - std::min<std::size_t>(6, label.size()), ' ') + label;
      for (std::size_t j = 0; j < K; ++j) {
        const std::string c = std::to_string(counts[i * K + j]);
        text += std::string(width - c.size(), ' ') + c;
      }
      text += '\n';
    }
  }
  text += " class precision    recall        F1   support\n";
  std::vector<std::optional<double>> ps, rs, fs;
  for (std::size_t k = 0; k < K; ++k) {
    double tp = static_cast<double>(counts[k * K + k]), predicted = 0, actual = 0;
    for (std::size_t j = 0; j < K; ++j) {
      predicted += static_cast<double>(counts[j * K + k]);
      actual += static_cast<double>(counts[k * K + j]);
    }
    ps.push_back(ratio(tp, predicted));
    rs.push_back(ratio(tp, actual));
    fs.push_back(f1(ps.back(), rs.back()));
    if (K <= 20)
      text += pad(std::to_string(k), 6) + cell(ps.back()) + cell(rs.back()) + cell(fs.back()) +
              pad(std::to_string(static_cast<std::size_t>(actual)), 10) + '\n';
  }
  text += " macro" + cell(macro(ps)) + cell(macro(rs)) + cell(macro(fs)) + pad(std::to_string(rows), 10) + '\n';
  return text;
}

// The probability that a random positive scores above a random negative (ties count half):
// the Mann-Whitney statistic over ranks, O(n log n).
std::optional<double> roc_auc(const std::vector<std::pair<double, bool>>& scored) {
  std::vector<std::pair<double, bool>> s = scored;
  std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double positives = 0, rank_sum = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    while (j < s.size() && s[j].first == s[i].first) ++j;
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // 1-based, averaged over ties
    for (std::size_t k = i; k < j; ++k)
      if (s[k].second) {
        rank_sum += mid_rank;
        ++positives;
      }
    i = j;
  }
  const double negatives = static_cast<double>(s.size()) - positives;
  if (positives == 0 || negatives == 0) return std::nullopt;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

std::string binary_report(std::size_t K, const std::vector<double>& y, const std::vector<double>& t) {
  const std::size_t rows = t.size() / K;
  std::string text = "output    TP    FP    FN    TN precision    recall        F1   ROC AUC\n";
  for (std::size_t k = 0; k < K; ++k) {
    std::size_t tp = 0, fp = 0, fn = 0, tn = 0;
    std::vector<std::pair<double, bool>> scored;
    for (std::size_t r = 0; r < rows; ++r) {
      const bool positive = t[r * K + k] >= 0.5, predicted = y[r * K + k] >= 0;  // logit 0: p = 0.5
      tp += positive && predicted;
      fp += !positive && predicted;
      fn += positive && !predicted;
      tn += !positive && !predicted;
      scored.emplace_back(y[r * K + k], positive);
    }
    const auto p = ratio(static_cast<double>(tp), static_cast<double>(tp + fp));
    const auto r = ratio(static_cast<double>(tp), static_cast<double>(tp + fn));
    if (K > 20) continue;
    text += pad(std::to_string(k), 6) + pad(std::to_string(tp), 6) + pad(std::to_string(fp), 6) +
            pad(std::to_string(fn), 6) + pad(std::to_string(tn), 6) + cell(p) + cell(r) + cell(f1(p, r)) + cell(roc_auc(scored)) + '\n';
  }
  return text;
}

std::string regression_report(std::size_t K, const std::vector<double>& y, const std::vector<double>& t) {
  const std::size_t rows = t.size() / K;
  std::string text = "target       MSE       MAE       R^2\n";
  std::vector<std::optional<double>> mses, maes, r2s;
  for (std::size_t k = 0; k < K; ++k) {
    double mean = 0;
    for (std::size_t r = 0; r < rows; ++r) mean += t[r * K + k];
    mean /= static_cast<double>(std::max<std::size_t>(rows, 1));
    double se = 0, ae = 0, var = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const double d = y[r * K + k] - t[r * K + k];
      se += d * d;
      ae += std::abs(d);
      var += (t[r * K + k] - mean) * (t[r * K + k] - mean);
    }
    const double n = static_cast<double>(std::max<std::size_t>(rows, 1));
    const auto r2 = var > 0 ? std::optional<double>(1 - se / var) : std::nullopt;
    mses.push_back(se / n);
    maes.push_back(ae / n);
    r2s.push_back(r2);
    if (K <= 20) text += pad(std::to_string(k), 6) + cell(se / n) + cell(ae / n) + cell(r2) + '\n';
  }
  if (K > 1) text += "  mean" + cell(macro(mses)) + cell(macro(maes)) + cell(macro(r2s)) + '\n';
  return text;
}

}  // namespace

std::string quality_report(Loss loss, std::size_t outputs_per_row, const std::vector<double>& outputs,
                           const std::vector<double>& targets) {
  switch (loss) {
    case Loss::softmax_cross_entropy: return softmax_report(outputs_per_row, outputs, targets);
    case Loss::binary_cross_entropy: return binary_report(outputs_per_row, outputs, targets);
    case Loss::mse: return regression_report(outputs_per_row, outputs, targets);
  }
  return "";
}

}  // namespace castnet
