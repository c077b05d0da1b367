#include "castnet/train/plot.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

#include "castnet/io/atomic_file.hpp"

namespace castnet {

namespace {

// Figure geometry, in SVG user units (pixels).
constexpr double kPanelWidth = 500, kHeight = 420;
constexpr double kHeader = 48;                          // title and legend
constexpr double kLeft = 72, kRight = 24, kTop = 30, kBottom = 52;  // plot area inside a panel
constexpr std::size_t kMarkersUpTo = 30;               // points per series that get a dot
constexpr const char* kTrainColour = "#1f77b4";
constexpr const char* kValColour = "#d62728";

// A number for an SVG attribute or label: fixed with `decimals` digits, locale-independent.
std::string fixed(double v, int decimals) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  std::string s(buf, r.ec == std::errc() ? r.ptr : buf);
  if (!s.empty() && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);  // "-0.0"
  return s;
}
std::string coord(double v) { return fixed(v, 1); }

std::string general(double v, int precision) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision);
  return std::string(buf, r.ec == std::errc() ? r.ptr : buf);
}

// The smallest of 1, 2, 5 times a power of ten that is at least `raw` (> 0).
double nice_step(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw * (1 - 1e-9)) return m * p;
  }
  return 10 * p;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<std::pair<double, std::string>> ticks;  // value and label

  // 0 at lo, 1 at hi.
  double fraction(double v) const {
    if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
};

// Linear ticks at multiples of a nice step; the axis is widened to whole steps and, when `clamp`
// is given, kept inside it. `scale` multiplies the labels (100 for percent) and `suffix` follows
// them.
Axis linear_axis(double lo, double hi, std::optional<std::pair<double, double>> clamp, double scale,
                 const std::string& suffix) {
  if (clamp && (lo < clamp->first || hi > clamp->second)) clamp.reset();  // data outside: show it all
  const double magnitude = std::max(std::abs(lo), std::abs(hi));
  if (hi - lo <= 1e-9 * magnitude || hi - lo <= 1e-300) {  // a flat curve: centre it
    const double pad = magnitude > 0 ? 0.05 * magnitude : 0.5;
    lo -= pad;
    hi += pad;
  }
  if (clamp) {
    lo = std::max(lo, clamp->first);
    hi = std::min(hi, clamp->second);
  }
  const double step = nice_step((hi - lo) / 5);
  Axis axis;
  axis.lo = std::floor(lo / step + 1e-9) * step;
  axis.hi = std::ceil(hi / step - 1e-9) * step;
  if (clamp) {
    axis.lo = std::max(axis.lo, clamp->first);
    axis.hi = std::min(axis.hi, clamp->second);
  }
  const double label_step = step * scale;
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(label_step) + 1e-9)));
  const bool plain = decimals <= 6 && std::max(std::abs(axis.lo), std::abs(axis.hi)) * scale < 1e7;
  int count = 0;  // bounded in case of absurd ranges
  for (double k = std::ceil(axis.lo / step - 1e-9); k * step <= axis.hi + 1e-9 * step && count < 20; k += 1, ++count) {
    const double v = k * step;
    axis.ticks.emplace_back(v, (plain ? fixed(v * scale, decimals) : general(v * scale, 4)) + suffix);
  }
  return axis;
}

// Decades from the one below `lo` to the one above `hi` (both > 0); every other decade when there
// are many.
Axis log_axis(double lo, double hi) {
  Axis axis;
  axis.log = true;
  const int first = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  int last = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  if (last == first) ++last;
  axis.lo = std::pow(10.0, first);
  axis.hi = std::pow(10.0, last);
  const int every = (last - first + 7) / 8;  // at most 9 labels
  for (int k = first; k <= last; k += every) {
    const std::string label = k >= -4 && k <= 5 ? fixed(std::pow(10.0, k), std::max(0, -k)) : "1e" + std::to_string(k);
    axis.ticks.emplace_back(std::pow(10.0, k), label);
  }
  return axis;
}

// Epochs: integer ticks.
Axis epoch_axis(double lo, double hi) {
  Axis axis;
  if (hi <= lo) {
    axis.lo = lo - 0.5;
    axis.hi = hi + 0.5;
  } else {
    axis.lo = lo;
    axis.hi = hi;
  }
  const double step = std::max(1.0, nice_step((axis.hi - axis.lo) / 6));
  int count = 0;
  for (double k = std::ceil(axis.lo / step); k * step <= axis.hi && count < 20; k += 1, ++count) {
    axis.ticks.emplace_back(k * step, fixed(k * step, 0));
  }
  return axis;
}

struct Series {
  std::string name;
  const char* colour;
  bool dashed;
  std::vector<std::pair<double, double>> points;  // finite (epoch, value)
};

// The finite values of one optional figure, nullopt if no epoch has it at all.
template <class Get>
std::optional<Series> series_of(const std::vector<EpochStats>& epochs, std::string name, const char* colour,
                                bool dashed, Get get) {
  Series s{std::move(name), colour, dashed, {}};
  bool any = false;
  for (const EpochStats& e : epochs) {
    const std::optional<double> v = get(e);
    if (!v) continue;
    any = true;
    if (std::isfinite(*v)) s.points.emplace_back(static_cast<double>(e.epoch), *v);
  }
  if (!any) return std::nullopt;
  return s;
}

void text(std::string& svg, double x, double y, const std::string& anchor, const std::string& body,
          const std::string& extra = "") {
  svg += "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" +
         xml_escape(body) + "</text>\n";
}

void line(std::string& svg, double x1, double y1, double x2, double y2, const std::string& style) {
  svg += "<line x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" + coord(y2) +
         "\" " + style + "/>\n";
}

// One panel with its origin at (x0, kHeader).
void panel(std::string& svg, double x0, const std::string& name, const std::vector<Series>& series, bool is_loss,
           const Axis& x_axis) {
  const double left = x0 + kLeft, right = x0 + kPanelWidth - kRight;
  const double top = kHeader + kTop, bottom = kHeight - kBottom;

  double lo = INFINITY, hi = -INFINITY;
  for (const Series& s : series) {
    for (const auto& [e, v] : s.points) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  svg += "<g class=\"panel\">\n";
  if (lo > hi) {  // nothing finite to draw
    text(svg, x0 + kPanelWidth / 2, (top + bottom) / 2, "middle", "no finite " + name + " values", " fill=\"#666\"");
    text(svg, left, top - 10, "start", name, " font-size=\"13\" font-weight=\"bold\"");
    svg += "</g>\n";
    return;
  }
  Axis y;
  if (is_loss && lo > 0 && hi / lo > 100) {
    y = log_axis(lo, hi);
  } else if (is_loss) {
    y = linear_axis(lo, hi, std::pair(0.0, INFINITY), 1, "");  // losses are not negative
  } else {
    y = linear_axis(lo, hi, std::pair(0.0, 1.0), 100, "%");
  }
  text(svg, left, top - 10, "start", y.log ? name + " (log scale)" : name, " font-size=\"13\" font-weight=\"bold\"");

  auto px = [&](double e) { return left + x_axis.fraction(e) * (right - left); };
  auto py = [&](double v) { return bottom - y.fraction(v) * (bottom - top); };

  // Grid, ticks and labels.
  for (const auto& [v, label] : y.ticks) {
    line(svg, left, py(v), right, py(v), "stroke=\"#e6e6e6\"");
    line(svg, left - 5, py(v), left, py(v), "stroke=\"#555\"");
    text(svg, left - 8, py(v) + 4, "end", label);
  }
  for (const auto& [v, label] : x_axis.ticks) {
    line(svg, px(v), top, px(v), bottom, "stroke=\"#f0f0f0\"");
    line(svg, px(v), bottom, px(v), bottom + 5, "stroke=\"#555\"");
    text(svg, px(v), bottom + 19, "middle", label);
  }
  svg += "<rect x=\"" + coord(left) + "\" y=\"" + coord(top) + "\" width=\"" + coord(right - left) +
         "\" height=\"" + coord(bottom - top) + "\" fill=\"none\" stroke=\"#555\"/>\n";
  text(svg, (left + right) / 2, bottom + 40, "middle", "epoch");

  // The curves, validation under training.
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    const Series& s = *it;
    if (s.points.empty()) continue;
    const std::string dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
    svg += "<polyline class=\"" + s.name + "\" fill=\"none\" stroke=\"" + s.colour +
           "\" stroke-width=\"2\" stroke-linejoin=\"round\"" + dash + " points=\"";
    for (std::size_t i = 0; i < s.points.size(); ++i) {
      if (i > 0) svg += ' ';
      svg += coord(px(s.points[i].first)) + ',' + coord(py(s.points[i].second));
    }
    svg += "\"/>\n";
    if (s.points.size() <= kMarkersUpTo) {
      for (const auto& [e, v] : s.points) {
        svg += "<circle cx=\"" + coord(px(e)) + "\" cy=\"" + coord(py(v)) + "\" r=\"3\" fill=\"" + s.colour + "\"/>\n";
      }
    }
  }
  svg += "</g>\n";
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

std::string curves_svg(const std::vector<EpochStats>& epochs, std::string_view title) {
  auto train_loss = series_of(epochs, "train", kTrainColour, false, [](const EpochStats& e) { return std::optional(e.loss); });
  auto val_loss = series_of(epochs, "validation", kValColour, true, [](const EpochStats& e) { return e.val_loss; });
  auto train_acc = series_of(epochs, "train", kTrainColour, false, [](const EpochStats& e) { return e.accuracy; });
  auto val_acc = series_of(epochs, "validation", kValColour, true, [](const EpochStats& e) { return e.val_accuracy; });

  const bool accuracy_panel = train_acc || val_acc;
  const double width = accuracy_panel ? 2 * kPanelWidth : kPanelWidth;
  std::string svg;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + coord(width) + "\" height=\"" + coord(kHeight) +
         "\" viewBox=\"0 0 " + coord(width) + " " + coord(kHeight) +
         "\" font-family=\"sans-serif\" font-size=\"12\" fill=\"#222\">\n";
  svg += "<title>" + xml_escape(title) + "</title>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  text(svg, 16, 30, "start", std::string(title), " font-size=\"16\" font-weight=\"bold\"");

  if (epochs.empty()) {
    text(svg, width / 2, kHeight / 2, "middle", "no epochs yet", " fill=\"#666\"");
    svg += "</svg>\n";
    return svg;
  }

  // Legend, right-aligned in the header: a sample of each line style that appears.
  std::vector<std::pair<std::string, std::pair<const char*, bool>>> legend = {{"train", {kTrainColour, false}}};
  if (val_loss || val_acc) legend.push_back({"validation", {kValColour, true}});
  double lx = width - 16;
  for (auto it = legend.rbegin(); it != legend.rend(); ++it) {
    const double text_width = 7.0 * static_cast<double>(it->first.size());
    lx -= text_width;
    text(svg, lx, 30, "start", it->first);
    lx -= 34;
    line(svg, lx, 26, lx + 28, 26,
         std::string("stroke=\"") + it->second.first + "\" stroke-width=\"2\"" +
             (it->second.second ? " stroke-dasharray=\"6 4\"" : ""));
    lx -= 16;
  }

  double first = INFINITY, last = -INFINITY;
  for (const EpochStats& e : epochs) {
    first = std::min(first, static_cast<double>(e.epoch));
    last = std::max(last, static_cast<double>(e.epoch));
  }
  const Axis x_axis = epoch_axis(first, last);

  std::vector<Series> loss_series{std::move(*train_loss)};
  if (val_loss) loss_series.push_back(std::move(*val_loss));
  panel(svg, 0, "loss", loss_series, true, x_axis);
  if (accuracy_panel) {
    std::vector<Series> acc_series;
    if (train_acc) acc_series.push_back(std::move(*train_acc));
    if (val_acc) acc_series.push_back(std::move(*val_acc));
    panel(svg, kPanelWidth, "accuracy", acc_series, false, x_axis);
  }
  svg += "</svg>\n";
  return svg;
}

void write_curves(const std::filesystem::path& svg_path, const std::vector<EpochStats>& epochs,
                  std::string_view title) {
  io::write_file_atomic(svg_path, curves_svg(epochs, title));
}

}  // namespace castnet
