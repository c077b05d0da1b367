// curves_svg: well-formed XML (checked by a small tag-balancing reader), one polyline per curve
// with one point per finite value, the accuracy panel only for classifiers, the title escaped,
// and no NaN or infinity leaking into coordinates for degenerate runs.
#include "castnet/train/plot.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "castnet/io/atomic_file.hpp"
#include "support/process.hpp"

using castnet::curves_svg;
using castnet::EpochStats;

namespace {

// "" if `xml` is well-formed as far as this reader can tell: every tag closed in order, one root
// element, attributes quoted, no raw '<' or stray '&' in text or attribute values. Else what is wrong.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  bool had_root = false;
  auto entity_ok = [&](std::size_t amp) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (xml.compare(amp, std::string(e).size(), e) == 0) return true;
    }
    return false;
  };
  std::size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      if (!entity_ok(i)) return "stray & at " + std::to_string(i);
      ++i;
      continue;
    }
    if (xml[i] == '>') return "stray > at " + std::to_string(i);
    if (xml[i] != '<') {
      if (open.empty() && xml[i] != '\n' && xml[i] != ' ') return "text outside the root at " + std::to_string(i);
      ++i;
      continue;
    }
    const bool closing = xml.compare(i, 2, "</") == 0;
    std::size_t j = i + (closing ? 2 : 1);
    const std::size_t name_start = j;
    while (j < xml.size() && (std::isalnum(static_cast<unsigned char>(xml[j])) || xml[j] == '-' || xml[j] == ':')) ++j;
    const std::string name = xml.substr(name_start, j - name_start);
    if (name.empty()) return "a tag without a name at " + std::to_string(i);
    // Attributes: name="value" with no '<' and only known entities inside.
    while (j < xml.size() && xml[j] != '>' && xml[j] != '/') {
      if (xml[j] == ' ' || xml[j] == '\n') {
        ++j;
        continue;
      }
      const std::size_t eq = xml.find('=', j);
      if (eq == std::string::npos || xml[eq + 1] != '"') return "an unquoted attribute at " + std::to_string(j);
      const std::size_t end = xml.find('"', eq + 2);
      if (end == std::string::npos) return "an unterminated attribute at " + std::to_string(j);
      for (std::size_t k = eq + 2; k < end; ++k) {
        if (xml[k] == '<') return "< in an attribute at " + std::to_string(k);
        if (xml[k] == '&' && !entity_ok(k)) return "stray & in an attribute at " + std::to_string(k);
      }
      j = end + 1;
    }
    if (j >= xml.size()) return "an unterminated tag at " + std::to_string(i);
    const bool self_closing = xml[j] == '/';
    if (self_closing && (j + 1 >= xml.size() || xml[j + 1] != '>')) return "a bad self-closing tag at " + std::to_string(i);
    i = j + (self_closing ? 2 : 1);
    if (closing) {
      if (open.empty() || open.back() != name) return "</" + name + "> closes " + (open.empty() ? "nothing" : "<" + open.back() + ">");
      open.pop_back();
    } else {
      if (open.empty()) {
        if (had_root) return "a second root element <" + name + ">";
        had_root = true;
      }
      if (!self_closing) open.push_back(name);
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (!had_root) return "no root element";
  return "";
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The number of points of each polyline, in order.
std::vector<std::size_t> polyline_points(const std::string& svg) {
  std::vector<std::size_t> counts;
  for (std::size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) {
    const std::size_t start = svg.find("points=\"", at) + 8;
    const std::string points = svg.substr(start, svg.find('"', start) - start);
    counts.push_back(points.empty() ? 0 : count(points, " ") + 1);
  }
  return counts;
}

std::vector<EpochStats> classifier_run(std::size_t epochs, bool validation) {
  std::vector<EpochStats> run;
  for (std::size_t e = 1; e <= epochs; ++e) {
    EpochStats s;
    s.epoch = e;
    s.loss = 2.3 * std::exp(-0.3 * static_cast<double>(e));
    s.accuracy = 1 - 0.9 * std::exp(-0.4 * static_cast<double>(e));
    if (validation) {
      s.val_loss = 1.1 * s.loss + 0.01;
      s.val_accuracy = *s.accuracy - 0.02;
    }
    run.push_back(s);
  }
  return run;
}

// No coordinate or label that is not a number.
void check_no_nonfinite(const std::string& svg) {
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
}

}  // namespace

TEST_CASE("plot: a classifier with validation gets two panels and four curves", "[plot]") {
  const std::string svg = curves_svg(classifier_run(20, true), "mnist_mlp");
  INFO(svg);
  CHECK(xml_problem(svg).empty());
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000.0\""));
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("font-family=\"sans-serif\"") != std::string::npos);
  CHECK(polyline_points(svg) == std::vector<std::size_t>{20, 20, 20, 20});
  CHECK(count(svg, "<polyline class=\"train\"") == 2);
  CHECK(count(svg, "<polyline class=\"validation\"") == 2);
  CHECK(svg.find(">accuracy</text>") != std::string::npos);
  CHECK(svg.find(">validation</text>") != std::string::npos);  // the legend
  CHECK(svg.find(">epoch</text>") != std::string::npos);
  CHECK(svg.find(">mnist_mlp</text>") != std::string::npos);
  CHECK(svg.find("100%</text>") != std::string::npos);  // accuracy in percent
  check_no_nonfinite(svg);
}

TEST_CASE("plot: a regression run gets the loss panel only", "[plot]") {
  std::vector<EpochStats> run = classifier_run(50, false);
  for (EpochStats& s : run) s.accuracy.reset();
  const std::string svg = curves_svg(run, "xor_net");
  CHECK(xml_problem(svg).empty());
  CHECK(svg.find("width=\"500.0\"") != std::string::npos);
  CHECK(polyline_points(svg) == std::vector<std::size_t>{50});
  CHECK(svg.find("accuracy") == std::string::npos);
  CHECK(svg.find(">validation</text>") == std::string::npos);
  // 2.3 e^-0.3 .. 2.3 e^-15 spans more than two decades: a log axis labelled in decades.
  CHECK(svg.find(">loss (log scale)</text>") != std::string::npos);
  CHECK(svg.find(">0.0001</text>") != std::string::npos);
  CHECK(svg.find(">1e-7</text>") != std::string::npos);
  CHECK(count(svg, "<circle") == 0);  // no dots on long curves
  check_no_nonfinite(svg);

  // Within two decades: linear.
  const std::string short_run = curves_svg(classifier_run(5, false), "x");
  CHECK(short_run.find("log scale") == std::string::npos);
  CHECK(count(short_run, "<circle") == 10);
}

TEST_CASE("plot: the title is escaped", "[plot]") {
  const std::string svg = curves_svg(classifier_run(3, false), "a&b <c> \"d\" 'e'\x01");
  CHECK(xml_problem(svg).empty());
  CHECK(svg.find("<title>a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;?</title>") != std::string::npos);
  CHECK(svg.find(">a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;?</text>") != std::string::npos);
  CHECK(castnet::xml_escape("plain_name") == "plain_name");
}

TEST_CASE("plot: NaN and infinite values are skipped", "[plot]") {
  std::vector<EpochStats> run = classifier_run(10, true);
  run[2].loss = std::numeric_limits<double>::quiet_NaN();
  run[5].val_loss = std::numeric_limits<double>::infinity();
  run[6].val_loss = -std::numeric_limits<double>::infinity();
  run[7].accuracy = std::numeric_limits<double>::quiet_NaN();
  const std::string svg = curves_svg(run, "n");
  CHECK(xml_problem(svg).empty());
  CHECK(polyline_points(svg) == std::vector<std::size_t>{8, 9, 10, 9});  // val loss, loss, val acc, acc
  check_no_nonfinite(svg);

  // Nothing finite at all.
  for (EpochStats& s : run) s.loss = std::numeric_limits<double>::quiet_NaN();
  for (EpochStats& s : run) s.val_loss.reset();
  const std::string none = curves_svg(run, "n");
  CHECK(xml_problem(none).empty());
  CHECK(none.find("no finite loss values") != std::string::npos);
  check_no_nonfinite(none);
}

TEST_CASE("plot: one epoch, flat curves and no epochs give sensible pictures", "[plot]") {
  const std::string one = curves_svg(classifier_run(1, true), "one");
  CHECK(xml_problem(one).empty());
  CHECK(polyline_points(one) == std::vector<std::size_t>{1, 1, 1, 1});
  CHECK(count(one, "<circle") == 4);  // a single point is visible as a dot
  CHECK(one.find(">1</text>") != std::string::npos);  // the epoch tick
  check_no_nonfinite(one);

  std::vector<EpochStats> flat = classifier_run(5, false);
  for (EpochStats& s : flat) {
    s.loss = 0.25;
    s.accuracy = 1.0;
  }
  const std::string same = curves_svg(flat, "flat");
  CHECK(xml_problem(same).empty());
  CHECK(polyline_points(same) == std::vector<std::size_t>{5, 5});
  CHECK(same.find(">100%</text>") != std::string::npos);
  CHECK(same.find(">101%</text>") == std::string::npos);  // accuracy stays within [0, 100%]
  check_no_nonfinite(same);

  for (EpochStats& s : flat) {
    s.loss = 0;
    s.accuracy = 0.0;
  }
  const std::string zero = curves_svg(flat, "zero");
  CHECK(xml_problem(zero).empty());
  CHECK(zero.find(">-") == std::string::npos);  // no negative accuracy ticks
  check_no_nonfinite(zero);

  const std::string empty = curves_svg({}, "empty");
  CHECK(xml_problem(empty).empty());
  CHECK(empty.find("no epochs yet") != std::string::npos);
}

TEST_CASE("plot: write_curves writes the picture atomically", "[plot]") {
  castnet::test::TempDir dir;
  const auto run = classifier_run(7, true);
  castnet::write_curves(dir / "curves.svg", run, "t");
  CHECK(castnet::io::read_file(dir / "curves.svg") == curves_svg(run, "t"));
}
