// The landscape's files (landscape.hpp): CSV, a heatmap with contour lines, and the slices
// through the centre. The SVGs are self-contained like plot.cpp's (no scripts, no external
// resources).
#include "castnet/train/landscape.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "castnet/io/atomic_file.hpp"
#include "castnet/train/plot.hpp"

namespace castnet {
namespace {

std::string num(double v, int precision = 6) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision);
  return std::string(buf, r.ptr);
}
std::string exact(double v) {
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
std::string px(double v) { return num(std::round(v * 10) / 10, 8); }

// Viridis at five stops, interpolated linearly: perceptually ordered and readable in grey.
std::string colour(double t) {
  static constexpr double kStops[5][3] = {
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 1.0, 0.0, 1.0) * 4;
  const auto i = std::min<std::size_t>(3, static_cast<std::size_t>(t));
  const double f = t - static_cast<double>(i);
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c) rgb[c] = static_cast<int>(std::lround(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

// The colour scale: log10 of the loss when every loss is positive and they span more than a
// decade (a trained net's basin is then visible beside the walls), linear otherwise.
struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  double value(double loss) const { return log ? std::log10(std::max(loss, 1e-300)) : loss; }
  double fraction(double loss) const { return hi > lo ? (value(loss) - lo) / (hi - lo) : 0.5; }
  double loss_at(double v) const { return log ? std::pow(10.0, v) : v; }
};

Scale scale_of(const std::vector<LandscapePoint>& grid) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& p : grid)
    if (std::isfinite(p.loss)) {
      lo = std::min(lo, p.loss);
      hi = std::max(hi, p.loss);
    }
  if (!(lo <= hi)) return {};
  Scale s;
  s.log = lo > 0 && hi / lo > 10;
  s.lo = s.value(lo);
  s.hi = s.value(hi);
  return s;
}

// Marching squares: the segments where the interpolated field crosses `level`, in grid units.
void contour(const std::vector<double>& f, std::size_t n, double level, std::string& path,
             double x0, double y0, double cell) {
  const auto at = [&](std::size_t i, std::size_t j) { return f[j * n + i]; };
  for (std::size_t j = 0; j + 1 < n; ++j)
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const double c[4] = {at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)};
      const double cx[4] = {0, 1, 1, 0}, cy[4] = {0, 0, 1, 1};
      double pts[4][2];
      int k = 0;
      for (int e = 0; e < 4 && k < 4; ++e) {
        const double a = c[e], b = c[(e + 1) % 4];
        if (!std::isfinite(a) || !std::isfinite(b) || (a < level) == (b < level)) continue;
        const double t = (level - a) / (b - a);
        pts[k][0] = cx[e] + t * (cx[(e + 1) % 4] - cx[e]);
        pts[k][1] = cy[e] + t * (cy[(e + 1) % 4] - cy[e]);
        ++k;
      }
      for (int s = 0; s + 1 < k; s += 2) {
        const auto X = [&](double u) { return px(x0 + (static_cast<double>(i) + 0.5 + u) * cell); };
        // Row 0 (beta = -span) at the bottom.
        const auto Y = [&](double v) { return px(y0 + (static_cast<double>(n - 1 - j) + 0.5 - v) * cell); };
        path += "M" + X(pts[s][0]) + " " + Y(pts[s][1]) + "L" + X(pts[s + 1][0]) + " " + Y(pts[s + 1][1]);
      }
    }
}

std::string heatmap_svg(const std::vector<LandscapePoint>& grid, std::size_t n, const std::string& title) {
  const double plot = 480, cell = plot / static_cast<double>(n), x0 = 70, y0 = 50, bar_x = x0 + plot + 30;
  const Scale s = scale_of(grid);
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"600\" font-family=\"sans-serif\" "
                  "font-size=\"12\">\n<rect width=\"720\" height=\"600\" fill=\"white\"/>\n";
  o += "<text x=\"" + px(x0) + "\" y=\"30\" font-size=\"15\">" + xml_escape(title) + ": loss around W (filter-normalised directions, " +
       (s.log ? "log colour scale" : "linear colour scale") + ")</text>\n";
  for (std::size_t k = 0; k < grid.size(); ++k) {
    const std::size_t i = k % n, j = k / n;
    o += "<rect x=\"" + px(x0 + static_cast<double>(i) * cell) + "\" y=\"" + px(y0 + static_cast<double>(n - 1 - j) * cell) +
         "\" width=\"" + px(cell + 0.3) + "\" height=\"" + px(cell + 0.3) + "\" fill=\"" + colour(s.fraction(grid[k].loss)) + "\"/>\n";
  }
  // Contour lines at ten levels evenly spaced on the colour scale.
  std::vector<double> field(grid.size());
  for (std::size_t k = 0; k < grid.size(); ++k) field[k] = std::isfinite(grid[k].loss) ? s.value(grid[k].loss) : s.hi;
  std::string path;
  for (int l = 1; l < 10; ++l) contour(field, n, s.lo + (s.hi - s.lo) * l / 10.0, path, x0, y0, cell);
  if (!path.empty()) o += "<path d=\"" + path + "\" stroke=\"white\" stroke-width=\"0.8\" fill=\"none\" opacity=\"0.7\"/>\n";
  // The minimum and the centre (W).
  std::size_t best = 0;
  for (std::size_t k = 1; k < grid.size(); ++k)
    if (grid[k].loss < grid[best].loss) best = k;
  const auto cx = [&](std::size_t k) { return px(x0 + (static_cast<double>(k % n) + 0.5) * cell); };
  const auto cy = [&](std::size_t k) { return px(y0 + (static_cast<double>(n - 1 - k / n) + 0.5) * cell); };
  o += "<circle cx=\"" + px(x0 + plot / 2) + "\" cy=\"" + px(y0 + plot / 2) + "\" r=\"5\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/>\n";
  o += "<path d=\"M" + cx(best) + " " + cy(best) + "m-6 -6l12 12m0 -12l-12 12\" stroke=\"red\" stroke-width=\"2\"/>\n";
  o += "<rect x=\"" + px(x0) + "\" y=\"" + px(y0) + "\" width=\"" + px(plot) + "\" height=\"" + px(plot) +
       "\" fill=\"none\" stroke=\"black\"/>\n";
  // Axes: five ticks each, at the grid's coordinates.
  const double span = grid.back().alpha;
  for (int t = 0; t <= 4; ++t) {
    const double v = -span + span * t / 2.0, f = t / 4.0;
    const double x = x0 + cell / 2 + f * (plot - cell), y = y0 + plot - cell / 2 - f * (plot - cell);
    o += "<text x=\"" + px(x) + "\" y=\"" + px(y0 + plot + 16) + "\" text-anchor=\"middle\">" + num(v, 3) + "</text>\n";
    o += "<text x=\"" + px(x0 - 6) + "\" y=\"" + px(y + 4) + "\" text-anchor=\"end\">" + num(v, 3) + "</text>\n";
  }
  o += "<text x=\"" + px(x0 + plot / 2) + "\" y=\"" + px(y0 + plot + 36) + "\" text-anchor=\"middle\">alpha (direction 1)</text>\n";
  o += "<text transform=\"translate(20 " + px(y0 + plot / 2) + ") rotate(-90)\" text-anchor=\"middle\">beta (direction 2)</text>\n";
  o += "<text x=\"" + px(x0) + "\" y=\"" + px(y0 + plot + 56) + "\">circle: W (alpha = beta = 0); red cross: the grid's minimum, loss " +
       num(grid[best].loss) + " at (" + num(grid[best].alpha, 4) + ", " + num(grid[best].beta, 4) + ")</text>\n";
  // Colour bar with six labels.
  const double bar_h = plot;
  for (int b = 0; b < 100; ++b)
    o += "<rect x=\"" + px(bar_x) + "\" y=\"" + px(y0 + bar_h * (99 - b) / 100.0) + "\" width=\"18\" height=\"" + px(bar_h / 100.0 + 0.3) +
         "\" fill=\"" + colour((b + 0.5) / 100.0) + "\"/>\n";
  o += "<rect x=\"" + px(bar_x) + "\" y=\"" + px(y0) + "\" width=\"18\" height=\"" + px(bar_h) + "\" fill=\"none\" stroke=\"black\"/>\n";
  for (int t = 0; t <= 5; ++t) {
    const double v = s.lo + (s.hi - s.lo) * t / 5.0;
    o += "<text x=\"" + px(bar_x + 24) + "\" y=\"" + px(y0 + bar_h * (1 - t / 5.0) + 4) + "\">" + num(s.loss_at(v), 3) + "</text>\n";
  }
  o += "<text x=\"" + px(bar_x) + "\" y=\"" + px(y0 - 8) + "\">loss</text>\n</svg>\n";
  return o;
}

// The loss along alpha at beta = 0 and along beta at alpha = 0 (the rows through W).
std::string slice_svg(const std::vector<LandscapePoint>& grid, std::size_t n, const std::string& title) {
  const std::size_t mid = n / 2;
  std::vector<double> a(n), la(n), lb(n);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = grid[mid * n + i].alpha;
    la[i] = grid[mid * n + i].loss;
    lb[i] = grid[i * n + mid].loss;
    for (const double v : {la[i], lb[i]})
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  const bool log = lo > 0 && hi / lo > 100;
  const auto val = [&](double v) { return log ? std::log10(v) : v; };
  const double vlo = val(lo), vhi = val(hi) > val(lo) ? val(hi) : val(lo) + 1;
  const double x0 = 70, y0 = 40, w = 520, h = 320;
  const auto X = [&](double v) { return px(x0 + (v - a.front()) / (a.back() - a.front() + (n < 2)) * w); };
  const auto Y = [&](double v) { return px(y0 + h - (val(v) - vlo) / (vhi - vlo) * h); };
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"420\" font-family=\"sans-serif\" "
                  "font-size=\"12\">\n<rect width=\"640\" height=\"420\" fill=\"white\"/>\n";
  o += "<text x=\"" + px(x0) + "\" y=\"24\" font-size=\"15\">" + xml_escape(title) + ": loss along each direction through W" +
       (log ? " (log scale)" : "") + "</text>\n";
  o += "<rect x=\"" + px(x0) + "\" y=\"" + px(y0) + "\" width=\"" + px(w) + "\" height=\"" + px(h) + "\" fill=\"none\" stroke=\"black\"/>\n";
  const char* colours[2] = {"#1f77b4", "#d62728"};
  const std::vector<double>* lines[2] = {&la, &lb};
  for (int c = 0; c < 2; ++c) {
    std::string d;
    for (std::size_t i = 0; i < n; ++i)
      if (std::isfinite((*lines[c])[i]) && (!log || (*lines[c])[i] > 0))
        d += (d.empty() ? "M" : "L") + X(a[i]) + " " + Y((*lines[c])[i]);
    o += "<path d=\"" + d + "\" stroke=\"" + colours[c] + "\" stroke-width=\"2\" fill=\"none\"/>\n";
  }
  for (int t = 0; t <= 4; ++t) {
    const double v = a.front() + (a.back() - a.front()) * t / 4.0;
    o += "<text x=\"" + X(v) + "\" y=\"" + px(y0 + h + 16) + "\" text-anchor=\"middle\">" + num(v, 3) + "</text>\n";
    const double l = vlo + (vhi - vlo) * t / 4.0;
    o += "<text x=\"" + px(x0 - 6) + "\" y=\"" + px(y0 + h - h * t / 4.0 + 4) + "\" text-anchor=\"end\">" +
         num(log ? std::pow(10.0, l) : l, 3) + "</text>\n";
  }
  o += "<text x=\"" + px(x0 + w / 2) + "\" y=\"" + px(y0 + h + 36) + "\" text-anchor=\"middle\">step along the direction (0 = W)</text>\n";
  o += "<text x=\"" + px(x0 + 10) + "\" y=\"" + px(y0 + 18) + "\" fill=\"" + colours[0] + "\">direction 1 (beta = 0)</text>\n";
  o += "<text x=\"" + px(x0 + 10) + "\" y=\"" + px(y0 + 34) + "\" fill=\"" + colours[1] + "\">direction 2 (alpha = 0)</text>\n";
  o += "<text transform=\"translate(18 " + px(y0 + h / 2) + ") rotate(-90)\" text-anchor=\"middle\">loss</text>\n</svg>\n";
  return o;
}

}  // namespace

void write_landscape(const std::filesystem::path& dir, const std::vector<LandscapePoint>& grid, std::size_t steps,
                     const std::string& title) {
  const bool accuracy = !grid.empty() && grid.front().accuracy.has_value();
  std::string csv = accuracy ? "alpha,beta,loss,accuracy\n" : "alpha,beta,loss\n";
  for (const auto& p : grid) {
    csv += exact(p.alpha) + "," + exact(p.beta) + "," + exact(p.loss);
    if (accuracy) csv += "," + exact(p.accuracy.value_or(0.0));
    csv += "\n";
  }
  io::write_file_atomic(dir / "landscape.csv", csv);
  io::write_file_atomic(dir / "landscape.svg", heatmap_svg(grid, steps, title));
  io::write_file_atomic(dir / "landscape_slice.svg", slice_svg(grid, steps, title));
}

}  // namespace castnet
