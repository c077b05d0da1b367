// See suite.hpp.
#include "suite.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "probes.hpp"

namespace castnet::bench {
namespace {

std::set<std::string> split_set(const std::string& text, const std::set<std::string>& allowed, const char* option) {
  std::set<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!allowed.count(item)) {
      std::string names;
      for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
      throw std::invalid_argument(std::string(option) + ": unknown '" + item + "' (expected some of: " + names + ")");
    }
    out.insert(item);
  }
  if (out.empty()) throw std::invalid_argument(std::string(option) + ": empty list");
  return out;
}

double number(const char* option, const std::string& text, double min) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(v >= min))
    throw std::invalid_argument(std::string(option) + ": '" + text + "' is not a number >= " + std::to_string(min));
  return v;
}

constexpr const char* kProbeFma = "probe/fma";
constexpr const char* kProbeRead = "probe/read";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Stats {
  double median = 0, min = 0, max = 0;
  std::size_t count = 0;
};
Stats stats(const std::vector<double>& v) {
  if (v.empty()) return {};
  return {median(v), *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()), v.size()};
}

// Collects every repetition's seconds per iteration, and shows only the aggregates on the console.
class Collector : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, std::vector<double>> seconds;

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown;
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Aggregate) {
        if (r.aggregate_name == "median") shown.push_back(r);
      } else if (!r.error_occurred && r.iterations > 0) {
        seconds[r.run_name.function_name].push_back(r.real_accumulated_time / static_cast<double>(r.iterations));
      }
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }
};

struct Unit {
  const char* name;
  double scale;
};
Unit unit_for(double seconds) {
  if (seconds < 1e-6) return {"ns", 1e9};
  if (seconds < 1e-3) return {"µs", 1e6};
  if (seconds < 1.0) return {"ms", 1e3};
  return {"s", 1.0};
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
// Three significant digits or so: 56.2, 1.35, 0.0312.
std::string sig(double v) {
  const double a = std::fabs(v);
  return fixed(v, a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

// Enough digits to read back the same double.
std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A CSV field: quoted, with its quotes doubled (RFC 4180).
std::string csv_field(const std::string& text) {
  std::string s = "\"";
  for (char c : text) s += c == '"' ? std::string("\"\"") : std::string(1, c);
  return s + "\"";
}

std::string with_commas(std::size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace

const char* options_help() {
  return "castnet bench options:\n"
         "  --workloads latency,batch,step,epoch,tail\n"
         "                       tables to measure (default latency,batch,step,tail)\n"
         "  --contenders generated,export,interpreter,eigen,torch\n"
         "  --repetitions N      interleaved repetitions per contender (default 11)\n"
         "  --min-time S         seconds per repetition of a contender (default 0.2)\n"
         "  --epoch-samples N    samples in the epoch workload (default 60000)\n"
         "  --tail-calls N       tail: calls timed alone per contender, warm and cold (default 1000000)\n"
         "  --tail-seconds S     tail: seconds per contender and cache state, at most (default 2)\n"
         "  --markdown FILE      append the tables to FILE\n"
         "  --csv FILE           append a line per timed contender to FILE: title,workload,contender,\n"
         "                       median_s,min_s,max_s\n"
         "  --title TEXT         heading of the tables\n"
         "  --benchmark_*        Google Benchmark's options\n";
}

Options parse_options(int& argc, char** argv) {
  Options o;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(name) + " needs a value");
      return argv[++i];
    };
    if (a == "--workloads") o.workloads = split_set(value("--workloads"), {"latency", "batch", "step", "epoch", "tail"}, "--workloads");
    else if (a == "--contenders")
      o.contenders =
          split_set(value("--contenders"), {"generated", "export", "interpreter", "eigen", "torch"}, "--contenders");
    else if (a == "--repetitions") o.repetitions = static_cast<int>(number("--repetitions", value("--repetitions"), 1));
    else if (a == "--min-time") o.min_time = number("--min-time", value("--min-time"), 0.001);
    else if (a == "--epoch-samples")
      o.epoch_samples = static_cast<std::size_t>(number("--epoch-samples", value("--epoch-samples"), 1));
    else if (a == "--tail-calls") o.tail_calls = static_cast<std::size_t>(number("--tail-calls", value("--tail-calls"), 1));
    else if (a == "--tail-seconds") o.tail_seconds = number("--tail-seconds", value("--tail-seconds"), 0.001);
    else if (a == "--markdown") o.markdown = value("--markdown");
    else if (a == "--csv") o.csv = value("--csv");
    else if (a == "--title") o.title = value("--title");
    else argv[kept++] = argv[i];
  }
  argc = kept;
  argv[argc] = nullptr;
  return o;
}

Suite::Suite(std::string model, std::string spec, Options options, PeakProbe probe)
    : model_(std::move(model)), spec_(std::move(spec)), options_(std::move(options)), probe_(std::move(probe)) {}

void Suite::add_workload(Workload w) { workloads_.push_back(std::move(w)); }

void Suite::add(const std::string& workload, const std::string& contender, Body body, int iterations,
                const std::string& note) {
  rows_.push_back({workload, contender, note, std::move(body), iterations});
}

void Suite::refuse(const std::string& workload, const std::string& contender, const std::string& why) {
  rows_.push_back({workload, contender, why, nullptr, 0});
}

void Suite::note(const std::string& text) { notes_.push_back(text); }

int Suite::run(int argc, char** argv, std::ostream& out) {
  // Our defaults first, so the user's --benchmark_* options win.
  std::vector<char*> args{argv[0]};
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  args.push_back(interleave.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;

  auto configure = [&](benchmark::internal::Benchmark* b, int iterations) {
    b->Repetitions(options_.repetitions)->UseRealTime();
    if (iterations > 0) b->Iterations(iterations);
    else b->MinTime(options_.min_time);
  };
  for (const auto& r : rows_)
    if (r.body) configure(benchmark::RegisterBenchmark((r.workload + "/" + r.contender).c_str(), r.body), r.iterations);
  configure(benchmark::RegisterBenchmark(kProbeFma, [block = probe_.block](benchmark::State& s) {
              for (auto _ : s) block();
            }),
            0);
  std::size_t floor_bytes = 0;
  for (const auto& w : workloads_) floor_bytes = std::max(floor_bytes, w.floor_bytes);
  if (floor_bytes)
    configure(benchmark::RegisterBenchmark(kProbeRead, [floor_bytes](benchmark::State& s) {
                for (auto _ : s) read_block(floor_bytes);
              }),
              0);

  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);

  // FLOP/s of the probe in each repetition; the median is the tables' denominator.
  std::vector<double> peaks;
  for (double s : collector.seconds[kProbeFma]) peaks.push_back(probe_.flops / s);
  const Stats peak = stats(peaks);

  const std::string title = options_.title.empty() ? model_ : options_.title;
  std::ostringstream md, csv;
  md << "## " << title << "\n\n";
  md << "Spec `" << spec_ << "`. Same-run FMA peak, 1 thread: **" << sig(peak.median / 1e9) << " GFLOP/s** (" << probe_.name
     << "; median of " << peak.count << " probes interleaved with the contenders; " << sig(peak.min / 1e9) << "–"
     << sig(peak.max / 1e9) << ").\n\n";
  // The probe checks itself: a 1-thread contender faster than it means the probe is wrong (it
  // spills, or the runner was built for a narrower vector than the code it times), and every
  // percentage with it.
  std::string faster;
  for (const auto& w : workloads_)
    for (const auto& r : rows_) {
      const auto found = collector.seconds.find(r.workload + "/" + r.contender);
      if (r.workload != w.key || w.flops <= 0 || found == collector.seconds.end() || r.contender.ends_with("2T")) continue;
      if (w.flops / stats(found->second).median > peak.median && faster.empty()) faster = w.key + "/" + r.contender;
    }
  if (!faster.empty())
    md << "**The probe is wrong**: " << faster << " ran on one thread at more FLOP/s than the probe's peak, so no table "
       << "gives a percentage of it.\n\n";
  for (const auto& w : workloads_) {
    const auto generated = collector.seconds.find(w.key + "/generated");
    const Stats g = generated == collector.seconds.end() ? Stats{} : stats(generated->second);
    const Unit u = unit_for(g.count ? g.median : 1e-3);
    md << "### " << w.title << "\n\n";
    if (w.flops > 0) md << "Work: " << sig(w.flops / 1e6) << " MFLOP per call.\n\n";
    md << "| contender | median " << u.name << " | min | max | ratio to generated | GFLOP/s | % of 1-core peak | notes |\n";
    md << "|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : rows_) {
      if (r.workload != w.key) continue;
      if (!r.body) {
        md << "| " << r.contender << " | – | – | – | – | – | – | *not timed: " << r.note << "* |\n";
        continue;
      }
      const auto found = collector.seconds.find(r.workload + "/" + r.contender);
      if (found == collector.seconds.end()) {
        md << "| " << r.contender << " | – | – | – | – | – | – | *not run* |\n";
        continue;
      }
      const Stats s = stats(found->second);
      csv << csv_field(title) << "," << csv_field(r.workload) << "," << csv_field(r.contender) << "," << exact(s.median)
          << "," << exact(s.min) << "," << exact(s.max) << "\n";
      const bool ours = r.contender == "generated";
      const std::string b = ours ? "**" : "";
      md << "| " << b << r.contender << b << " | " << b << sig(s.median * u.scale) << b << " | " << sig(s.min * u.scale) << " | "
         << sig(s.max * u.scale) << " | " << (g.count ? sig(s.median / g.median) + "×" : "–") << " | ";
      if (w.flops > 0)
        md << sig(w.flops / s.median / 1e9) << " | "
           << (faster.empty() ? fixed(100.0 * w.flops / s.median / peak.median, 1) + "%" : std::string("–")) << " |";
      else
        md << "– | – |";
      md << " " << r.note << " |\n";
    }
    if (w.floor_bytes && g.count) {
      std::vector<double> bw;
      for (double s : collector.seconds[kProbeRead]) bw.push_back(read_block_bytes(w.floor_bytes) / s);
      const Stats b = stats(bw);
      const double floor = static_cast<double>(w.floor_bytes) / b.median;
      md << "\nBandwidth floor: the model reads " << with_commas(w.floor_bytes) << " B of weights per call; the same-run read of an array that size runs at "
         << sig(b.median / 1e9) << " GB/s (" << sig(b.min / 1e9) << "–" << sig(b.max / 1e9) << "), so a call needs at least "
         << sig(floor * u.scale) << " " << u.name << ". The generated code takes **" << fixed(g.median / floor, 2)
         << "×** that floor.\n";
    }
    md << "\n";
  }
  if (!tail_.empty()) {
    const TailRow* base = nullptr;
    for (const auto& r : tail_)
      if (r.contender == "generated" && !r.cold && r.note.empty()) base = &r;
    const Unit u = unit_for(base ? base->stats.p50 * 1e-9 : 1e-7);
    md << "### Tail latency, batch 1: every call timed alone\n\n";
    md << "| contender | caches | calls | p50 " << u.name << " | p99 | p99.9 | p99.99 | max | p99.99 / p50 | notes |\n";
    md << "|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : tail_) {
      const std::string caches = r.cold ? "cold" : "warm";
      if (!r.note.empty() && r.stats.calls == 0) {
        md << "| " << r.contender << " | " << caches << " | – | – | – | – | – | – | – | *not timed: " << r.note << "* |\n";
        continue;
      }
      const TailStats& t = r.stats;
      const double ns_per_unit = 1e9 / u.scale;
      md << "| " << r.contender << " | " << caches << " | " << with_commas(t.calls) << " | " << sig(t.p50 / ns_per_unit) << " | "
         << sig(t.p99 / ns_per_unit) << " | " << sig(t.p999 / ns_per_unit) << " | " << sig(t.p9999 / ns_per_unit) << " | "
         << sig(t.max / ns_per_unit) << " | " << (t.p50 > 0 ? sig(t.p9999 / t.p50) + "×" : "–") << " | " << r.note << " |\n";
    }
    md << "\n";
    for (const auto& n : tail_notes_) md << n << "\n";
    md << "\n";
  }
  for (const auto& n : notes_) md << "- " << n << "\n";
  if (!notes_.empty()) md << "\n";

  out << "\n" << md.str();
  for (const auto& [file, text] : {std::pair{options_.markdown, md.str()}, std::pair{options_.csv, csv.str()}}) {
    if (file.empty()) continue;
    std::ofstream f(file, std::ios::app);
    f << text;
    if (!f) {
      out << "castnet bench: error: cannot append to " << file << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace castnet::bench
