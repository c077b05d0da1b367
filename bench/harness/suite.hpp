// The benchmark suite's engine, independent of any model: contenders registered per workload run
// through Google Benchmark, interleaved at random with a peak probe (every repetition of every
// contender, the probes included, is a separate run in one shuffled sequence), and each workload
// becomes a table of medians, minima, maxima, ratios to the generated code, GFLOP/s and % of the
// same-run FMA peak of the runner's instruction set. run_model.hpp fills it for one generated model.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <set>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace castnet::bench {

// The suite's own options; Google Benchmark's (--benchmark_*) pass through.
struct Options {
  std::set<std::string> workloads{"latency", "batch", "step", "tail"};  // also: epoch
  std::set<std::string> contenders{"generated", "export", "interpreter", "eigen", "torch"};
  int repetitions = 11;
  double min_time = 0.2;        // seconds per repetition of a contender
  std::size_t epoch_samples = 60000;
  std::size_t tail_calls = 1000000;  // tail: timed calls per contender and cache state, at most
  double tail_seconds = 2;           // tail: seconds per contender and cache state, at most
  std::string markdown;         // append the tables to this file
  std::string csv;              // append a line per timed contender to this file (options_help())
  std::string title;            // heading of the tables (default: the model's name)
};

// Reads and removes the suite's options from argv. Throws std::invalid_argument on a bad value.
Options parse_options(int& argc, char** argv);
const char* options_help();

// One table: a measure of the model (latency of one sample, a training step, ...).
struct Workload {
  std::string key;          // "latency", "batch", "step", "epoch"
  std::string title;        // "batch-1 latency (dependent calls)"
  double flops = 0;         // per iteration
  std::size_t floor_bytes = 0;  // latency: bytes the model reads per call (the L2 floor), 0: none
};

// The tail workload's figures for one contender and cache state (tail.hpp), in nanoseconds.
struct TailStats {
  std::size_t calls = 0;
  double p50 = 0, p99 = 0, p999 = 0, p9999 = 0, max = 0;
};
struct TailRow {
  std::string contender;  // "generated", "export", or "timer alone"
  bool cold = false;
  TailStats stats;
  std::string note;       // not timed: why; stats unset
};

// The FMA peak probe of the runner's instruction set (fma_probe.hpp): a block of `flops` FLOPs.
struct PeakProbe {
  std::string name;  // "fma3_avx2: 8 lanes of float, 12 FMA chains"
  void (*block)() noexcept;
  double flops;
};

class Suite {
 public:
  using Body = std::function<void(benchmark::State&)>;

  Suite(std::string model, std::string spec, Options options, PeakProbe probe);

  const Options& options() const { return options_; }
  bool wants(const std::string& workload) const { return options_.workloads.count(workload) != 0; }
  bool wants_contender(const std::string& family) const { return options_.contenders.count(family) != 0; }

  void add_workload(Workload w);
  // A contender's timed body: setup outside the `for (auto _ : state)` loop, one call per
  // iteration inside. iterations > 0 fixes the count per repetition (the epoch). The note goes
  // into the table's last column.
  void add(const std::string& workload, const std::string& contender, Body body, int iterations = 0,
           const std::string& note = "");
  // A contender that is not timed, and why (unavailable, unsupported, outputs differ).
  void refuse(const std::string& workload, const std::string& contender, const std::string& why);
  // Notes printed under a workload's table (e.g. which BLAS libtorch used).
  void note(const std::string& text);
  // The tail table (tail.hpp measures it before run()): its rows and what the reader must know
  // (the clock, the CPU it was pinned to, what the cold calls flush).
  void add_tail(TailRow row) { tail_.push_back(std::move(row)); }
  void tail_note(const std::string& text) { tail_notes_.push_back(text); }

  // Registers everything with Google Benchmark, runs it, prints the tables to `out` (and appends
  // them to options().markdown). Returns the process exit code.
  int run(int argc, char** argv, std::ostream& out);

 private:
  struct Row {
    std::string workload, contender, note;  // no body: the note says why it is not timed
    Body body;
    int iterations = 0;
  };
  std::string model_, spec_;
  Options options_;
  PeakProbe probe_;
  std::vector<Workload> workloads_;
  std::vector<Row> rows_;
  std::vector<std::string> notes_;
  std::vector<TailRow> tail_;
  std::vector<std::string> tail_notes_;
};

}  // namespace castnet::bench
