// See report.hpp.
#include "castnet/train/report.hpp"

#include <castnet/io/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace castnet {
namespace {

std::optional<double> ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

std::optional<double> f1(const std::optional<double>& p, const std::optional<double>& r) {
  if (!p || !r) return std::nullopt;
  return ratio(2 * *p * *r, *p + *r);
}

// The mean of the defined values; undefined when none is.
template <class T, class Field>
std::optional<double> mean_of(const std::vector<T>& rows, Field field) {
  double sum = 0;
  std::size_t n = 0;
  for (const T& row : rows)
    if (const std::optional<double> x = row.*field) {
      sum += *x;
      ++n;
    }
  return n ? std::optional<double>(sum / static_cast<double>(n)) : std::nullopt;
}

// The probability that a random positive scores above a random negative (ties count half): the
// Mann-Whitney statistic over ranks, O(n log n).
std::optional<double> roc_auc(std::vector<std::pair<double, bool>> s) {
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

void softmax(QualityReport& q, const std::vector<double>& y, const std::vector<double>& t) {
  const std::size_t K = q.outputs, rows = t.size();
  q.confusion.assign(K * K, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    const double* row = y.data() + r * K;
    const auto predicted = static_cast<std::size_t>(std::max_element(row, row + K) - row);
    ++q.confusion[static_cast<std::size_t>(t[r]) * K + predicted];
  }
  for (std::size_t k = 0; k < K; ++k) {
    double predicted = 0, actual = 0;
    for (std::size_t j = 0; j < K; ++j) {
      predicted += static_cast<double>(q.confusion[j * K + k]);
      actual += static_cast<double>(q.confusion[k * K + j]);
    }
    ClassFigures c;
    const double tp = static_cast<double>(q.confusion[k * K + k]);
    c.precision = ratio(tp, predicted);
    c.recall = ratio(tp, actual);
    c.f1 = f1(c.precision, c.recall);
    c.support = static_cast<std::size_t>(actual);
    q.classes.push_back(c);
  }
  q.macro = {mean_of(q.classes, &ClassFigures::precision), mean_of(q.classes, &ClassFigures::recall),
             mean_of(q.classes, &ClassFigures::f1), rows};
}

void binary(QualityReport& q, const std::vector<double>& y, const std::vector<double>& t) {
  const std::size_t K = q.outputs, rows = t.size() / K;
  for (std::size_t k = 0; k < K; ++k) {
    BinaryFigures b;
    std::vector<std::pair<double, bool>> scored;
    for (std::size_t r = 0; r < rows; ++r) {
      const bool positive = t[r * K + k] >= 0.5, predicted = y[r * K + k] >= 0;  // logit 0: p = 0.5
      b.tp += positive && predicted;
      b.fp += !positive && predicted;
      b.fn += positive && !predicted;
      b.tn += !positive && !predicted;
      scored.emplace_back(y[r * K + k], positive);
    }
    b.precision = ratio(static_cast<double>(b.tp), static_cast<double>(b.tp + b.fp));
    b.recall = ratio(static_cast<double>(b.tp), static_cast<double>(b.tp + b.fn));
    b.f1 = f1(b.precision, b.recall);
    b.roc_auc = roc_auc(std::move(scored));
    q.binary.push_back(b);
  }
}

void regression(QualityReport& q, const std::vector<double>& y, const std::vector<double>& t) {
  const std::size_t K = q.outputs, rows = t.size() / K;
  const double n = static_cast<double>(std::max<std::size_t>(rows, 1));
  for (std::size_t k = 0; k < K; ++k) {
    double mean = 0;
    for (std::size_t r = 0; r < rows; ++r) mean += t[r * K + k];
    mean /= n;
    double se = 0, ae = 0, var = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const double d = y[r * K + k] - t[r * K + k];
      se += d * d;
      ae += std::abs(d);
      var += (t[r * K + k] - mean) * (t[r * K + k] - mean);
    }
    q.targets.push_back({se / n, ae / n, var > 0 ? std::optional<double>(1 - se / var) : std::nullopt});
  }
  q.mean = {mean_of(q.targets, &TargetFigures::mse), mean_of(q.targets, &TargetFigures::mae),
            mean_of(q.targets, &TargetFigures::r2)};
}

// `text` right-aligned in `width` characters.
std::string pad(const std::string& text, std::size_t width) {
  return std::string(width - std::min(width, text.size()), ' ') + text;
}

// A figure in 10 columns, 4 decimals; "-" when undefined.
std::string cell(const std::optional<double>& v) {
  if (!v) return pad("-", 10);
  char text[32];
  std::snprintf(text, sizeof text, "%10.4f", *v);
  return text;
}

constexpr std::size_t kMostRows = 20;

std::string softmax_text(const QualityReport& q) {
  const std::size_t K = q.outputs;
  std::string text;
  if (K <= kMostRows) {
    std::size_t width = 4;
    for (const std::size_t c : q.confusion) width = std::max(width, std::to_string(c).size() + 1);
    text += "confusion matrix (rows: true class, columns: predicted)\n" + std::string(6, ' ');
    for (std::size_t j = 0; j < K; ++j) text += pad(std::to_string(j), width);
    text += '\n';
    for (std::size_t i = 0; i < K; ++i) {
      text += pad(std::to_string(i), 6);
      for (std::size_t j = 0; j < K; ++j) text += pad(std::to_string(q.confusion[i * K + j]), width);
      text += '\n';
    }
  }
  text += " class precision    recall        F1   support\n";
  for (std::size_t k = 0; k < K && K <= kMostRows; ++k) {
    const ClassFigures& c = q.classes[k];
    text += pad(std::to_string(k), 6) + cell(c.precision) + cell(c.recall) + cell(c.f1) + pad(std::to_string(c.support), 10) + '\n';
  }
  return text + " macro" + cell(q.macro.precision) + cell(q.macro.recall) + cell(q.macro.f1) +
         pad(std::to_string(q.macro.support), 10) + '\n';
}

std::string binary_text(const QualityReport& q) {
  std::string text = "output    TP    FP    FN    TN precision    recall        F1   ROC AUC\n";
  for (std::size_t k = 0; k < q.binary.size() && q.binary.size() <= kMostRows; ++k) {
    const BinaryFigures& b = q.binary[k];
    text += pad(std::to_string(k), 6) + pad(std::to_string(b.tp), 6) + pad(std::to_string(b.fp), 6) +
            pad(std::to_string(b.fn), 6) + pad(std::to_string(b.tn), 6) + cell(b.precision) + cell(b.recall) +
            cell(b.f1) + cell(b.roc_auc) + '\n';
  }
  return text;
}

std::string regression_text(const QualityReport& q) {
  std::string text = "target       MSE       MAE       R^2\n";
  for (std::size_t k = 0; k < q.targets.size() && q.targets.size() <= kMostRows; ++k)
    text += pad(std::to_string(k), 6) + cell(q.targets[k].mse) + cell(q.targets[k].mae) + cell(q.targets[k].r2) + '\n';
  if (q.targets.size() > 1) text += "  mean" + cell(q.mean.mse) + cell(q.mean.mae) + cell(q.mean.r2) + '\n';
  return text;
}

std::string class_json(const ClassFigures& c) {
  return json::Object()
      .add("precision", json::num(c.precision))
      .add("recall", json::num(c.recall))
      .add("f1", json::num(c.f1))
      .add("support", std::to_string(c.support))
      .text();
}

std::string target_json(const TargetFigures& t) {
  return json::Object().add("mse", json::num(t.mse)).add("mae", json::num(t.mae)).add("r2", json::num(t.r2)).text();
}

}  // namespace

QualityReport quality(Loss loss, std::size_t outputs_per_row, const std::vector<double>& outputs,
                      const std::vector<double>& targets) {
  QualityReport q;
  q.loss = loss;
  q.outputs = outputs_per_row;
  switch (loss) {
    case Loss::softmax_cross_entropy: softmax(q, outputs, targets); break;
    case Loss::binary_cross_entropy: binary(q, outputs, targets); break;
    case Loss::mse: regression(q, outputs, targets); break;
  }
  return q;
}

std::string to_text(const QualityReport& q) {
  switch (q.loss) {
    case Loss::softmax_cross_entropy: return softmax_text(q);
    case Loss::binary_cross_entropy: return binary_text(q);
    case Loss::mse: return regression_text(q);
  }
  return "";
}

std::string to_json(const QualityReport& q) {
  json::Object o;
  if (q.loss == Loss::softmax_cross_entropy) {
    std::vector<std::string> rows, classes;
    for (std::size_t i = 0; i < q.outputs; ++i) {
      std::vector<std::string> row;
      for (std::size_t j = 0; j < q.outputs; ++j) row.push_back(std::to_string(q.confusion[i * q.outputs + j]));
      rows.push_back(json::array(row));
    }
    for (const auto& c : q.classes) classes.push_back(class_json(c));
    o.add("confusion", json::array(rows)).add("classes", json::array(classes)).add("macro", class_json(q.macro));
  } else if (q.loss == Loss::binary_cross_entropy) {
    std::vector<std::string> outputs;
    for (const auto& b : q.binary)
      outputs.push_back(json::Object()
                            .add("tp", std::to_string(b.tp))
                            .add("fp", std::to_string(b.fp))
                            .add("fn", std::to_string(b.fn))
                            .add("tn", std::to_string(b.tn))
                            .add("precision", json::num(b.precision))
                            .add("recall", json::num(b.recall))
                            .add("f1", json::num(b.f1))
                            .add("roc_auc", json::num(b.roc_auc))
                            .text());
    o.add("outputs", json::array(outputs));
  } else {
    std::vector<std::string> targets;
    for (const auto& t : q.targets) targets.push_back(target_json(t));
    o.add("targets", json::array(targets)).add("mean", target_json(q.mean));
  }
  return o.text();
}

}  // namespace castnet
