// The suite for one generated model: castnet bench compiles this with the model's header (and, for
// the 2-thread rows, the header of the same spec planned for half the batch, and, for the export
// rows, the header `castnet export` writes for the spec with the initial weights) and runs it.
// Every contender starts from the same weights and inputs; each is checked against the generated
// code before it is timed, and a contender that disagrees is reported, not timed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <castnet/kernels/update.hpp>
#include <castnet/train/init.hpp>
#include <castnet/train/loss_outputs.hpp>
#include <castnet/model.hpp>

#include "data_parallel.hpp"
#include "fma_probe.hpp"
#include "generate.hpp"
#include "reference/interpreter.hpp"
#include "registry.hpp"
#include "suite.hpp"
#include "tail.hpp"
#include "workload_data.hpp"

namespace castnet::bench {

namespace detail {

template <GeneratedModel M>
std::vector<std::vector<float>> torch_layout(const typename M::Params& p) {
  std::vector<std::vector<float>> out;
  const auto t = M::tensors(p);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) out.emplace_back(t[i], t[i] + M::kTensors[i].size);
  return out;
}

template <GeneratedModel M>
void load_params(const std::vector<std::vector<float>>& from, typename M::Params& to) {
  const auto t = M::tensors(to);
  for (std::size_t i = 0; i < M::kTensors.size(); ++i) std::copy(from[i].begin(), from[i].end(), t[i]);
}

template <GeneratedModel M>
void sgd_update(typename M::Params& p, const typename M::Grads& g, float lr) noexcept {
  const auto pt = M::tensors(p);
  const auto gt = M::tensors(g);
  for (std::size_t t = 0; t < M::kTensors.size(); ++t) {
    float* __restrict a = pt[t];
    const float* __restrict b = gt[t];
    for (std::size_t i = 0; i < M::kTensors[t].size; ++i) a[i] -= lr * b[i];
  }
}

// The difference between two parameter updates (after − before), or "" if they agree.
inline std::string update_mismatch(const std::vector<std::vector<float>>& before,
                                   const std::vector<std::vector<float>>& after,
                                   const std::vector<std::vector<float>>& want_after) {
  std::vector<float> got, want;
  for (std::size_t t = 0; t < before.size(); ++t)
    for (std::size_t i = 0; i < before[t].size(); ++i) {
      got.push_back(after[t][i] - before[t][i]);
      want.push_back(want_after[t][i] - before[t][i]);
    }
  double scale = 0;
  for (float w : want) scale = std::max(scale, static_cast<double>(std::fabs(w)));
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (std::isnan(d)) return "parameter update is NaN at flat index " + std::to_string(i);
    if (d > worst) worst = d, at = i;
  }
  if (!(worst <= 1e-3 * scale + 1e-9))
    return "parameter update differs by " + std::to_string(worst) + " at flat index " + std::to_string(at) +
           " (largest update " + std::to_string(scale) + ")";
  return "";
}

inline std::string loss_mismatch(float got, float want) {
  if (std::fabs(got - want) <= 1e-4f * std::max(1.f, std::fabs(want))) return "";
  return "loss " + std::to_string(got) + " against " + std::to_string(want);
}

// What the export rows say when the runner was built without an exported header.
inline constexpr const char* kNotExported = "castnet bench did not export the spec (its message is above the tables)";

}  // namespace detail

// The export contender: the functions of an exported header (templates/export.hpp.tmpl), which has
// no Model struct; the runner names them (templates/bench_runner.cpp.tmpl).
template <auto Predict, auto PredictBatch, std::size_t Inputs, std::size_t Outputs, std::size_t Batch>
struct Exported {
  static constexpr std::size_t kInputs = Inputs, kOutputs = Outputs, kBatch = Batch;
  static void predict(const float* x, float* y) noexcept { Predict(x, y); }
  static void predict_batch(const float* x, float* y, std::size_t n) noexcept { PredictBatch(x, y, n); }
};

// argv[1] is the spec the model was generated from; the options follow. Shard: the same spec
// generated for half the batch (void when the batch is odd or no table trains), for the 2-thread
// rows. Export: an Exported of the spec's export with the initial weights of init_params(p, 1)
// (void when castnet bench did not export it), for the export rows of the latency and batch tables.
template <GeneratedModel M, class Shard = void, class Export = void, class ExportInt8 = void, class ExportBf16 = void>
int run_model(int argc, char** argv) {
  static_assert(std::is_same_v<typename M::real, float>, "the suite times float models");
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " SPEC [options]\n" << options_help();
    return 2;
  }
  const std::string spec_path = argv[1];
  for (int i = 1; i < argc; ++i) argv[i] = argv[i + 1];
  --argc;
  const std::string no_shard_reason = "the batch (" + std::to_string(M::kBatch) + ") does not split in two";
  Options options;
  try {
    options = parse_options(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "castnet bench: " << e.what() << "\n" << options_help();
    return 2;
  }
  const ir::Graph g = gen::load_graph(spec_path);
  if (g.batch != M::kBatch) {
    std::cerr << "castnet bench: " << spec_path << " has batch " << g.batch << " but the model was generated for "
              << M::kBatch << "\n";
    return 1;
  }
  constexpr std::size_t B = M::kBatch, In = M::kInputs, Out = M::kOutputs;
  constexpr float lr = 0.01f;
  if constexpr (!std::is_void_v<Export>)
    static_assert(Export::kInputs == In && Export::kOutputs == Out && Export::kBatch == B,
                  "the export is of the same spec, at the same batch");
  Suite suite(std::string(M::kName), spec_path, options, {FmaProbe::name(), &FmaProbe::block, FmaProbe::flops()});

  auto p0 = std::make_unique<typename M::Params>();
  init_params<M>(*p0, 1);
  const auto w0 = detail::torch_layout<M>(*p0);
  const Data data = make_data(g, B, 2);

  auto interp = std::make_shared<interp::Interpreter<float>>(g);
  interp->params() = w0;
  // Each workload gets its own peers: their buffers are sized for one batch size.
  auto peers_for = [&](bool training) {
    std::vector<std::shared_ptr<PeerEntry>> out;
    for (auto& e : make_peers(g, training)) {
      if (!suite.wants_contender(e.family)) continue;
      if (e.peer) e.peer->set_params(w0);
      out.push_back(std::make_shared<PeerEntry>(std::move(e)));
    }
    return out;
  };
  const std::string versions = peer_versions();
  if (!versions.empty()) suite.note("Peers: " + versions + ".");

  // ---- latency: one sample, each call's input depends on the previous output ----
  if (suite.wants("latency")) {
    std::size_t weight_bytes = 0;
    for (const auto& t : M::kTensors) weight_bytes += t.size * sizeof(float);
    suite.add_workload({"latency", "Batch-1 latency (dependent calls)", forward_flops(g), weight_bytes});
    std::vector<float> want(Out);
    M::forward(*p0, data.x.data(), want.data());
    const Floats x0(data.x.begin(), data.x.begin() + In);
    auto p = std::shared_ptr<typename M::Params>(new typename M::Params(*p0));
    // x[0] = x0[0] + y[0] * zero, with zero read from a volatile: calls cannot overlap.
    auto chain = [x0](auto call) {
      return [x0, call](benchmark::State& st) mutable {
        Floats x = x0, y(Out);
        volatile float zero = 0.f;
        for (auto _ : st) {
          call(x.data(), y.data());
          x[0] = x0[0] + y[0] * zero;
        }
        benchmark::DoNotOptimize(y.data());
      };
    };
    if (suite.wants_contender("generated"))
      suite.add("latency", "generated", chain([p](const float* x, float* y) { M::forward(*p, x, y); }));
    // The export: predict() is forward() and the outputs `castnet predict` prints, bit for bit.
    if (suite.wants_contender("export")) {
      if constexpr (std::is_void_v<Export>) {
        suite.refuse("latency", "export", detail::kNotExported);
      } else {
        std::vector<float> y(Out), expected(Out);
        output_values(M::kLoss, want.data(), Out, expected.data());
        Export::predict(x0.data(), y.data());
        if (auto why = bitwise_mismatch(y.data(), expected.data(), Out); !why.empty())
          suite.refuse("latency", "export", "predict() is not the generated forward() and its outputs, bit for bit: " + why);
        else
          suite.add("latency", "export", chain([](const float* x, float* y) { Export::predict(x, y); }));
      }
      // The quantized exports compute another network (its weights rounded): their outputs are
      // checked to be the same network's, within 0.01 · max(1, the largest output); what the
      // rounding costs is `castnet eval --quantize`'s to say.
      const auto quantized = [&](auto tag, const std::string& name) {
        using Q = typename decltype(tag)::type;
        if constexpr (!std::is_void_v<Q>) {
          std::vector<float> y(Out), expected(Out);
          output_values(M::kLoss, want.data(), Out, expected.data());
          Q::predict(x0.data(), y.data());
          if (auto why = mismatch(y.data(), expected.data(), Out, 1e-2); !why.empty())
            suite.refuse("latency", name, "predict() is not the float model's to 0.01: " + why);
          else
            suite.add("latency", name, chain([](const float* x, float* y) { Q::predict(x, y); }));
        }
      };
      quantized(std::type_identity<ExportInt8>{}, "export int8");
      quantized(std::type_identity<ExportBf16>{}, "export bf16");
    }
    auto check = [&](const std::string& name, auto call, auto body) {
      std::vector<float> y(Out);
      call(x0.data(), y.data());
      if (auto why = mismatch(y.data(), want.data(), Out, 1e-4); !why.empty())
        suite.refuse("latency", name, "outputs differ from the generated code: " + why);
      else
        suite.add("latency", name, body);
    };
    if (suite.wants_contender("interpreter")) {
      auto call = [interp](const float* x, float* y) { interp->forward(x, 1, y); };
      check("interpreter", call, chain(call));
    }
    for (auto& e : peers_for(false)) {
      if (!e->peer) {
        suite.refuse("latency", e->label, e->why);
        continue;
      }
      auto call = [e](const float* x, float* y) { e->peer->forward(x, 1, y); };
      auto body = chain(call);
      check(e->label, call, [e, body](benchmark::State& st) mutable {
        e->activate();
        body(st);
      });
    }
  }

  // ---- tail: every batch-1 call timed alone, the thread pinned, warm and cold (tail.hpp) ----
  if (suite.wants("tail")) {
    std::vector<float> want(Out);
    M::forward(*p0, data.x.data(), want.data());
    auto p = std::make_unique<typename M::Params>(*p0);
    Floats x(data.x.begin(), data.x.begin() + In), y(Out);
    const double ticks_per_ns = TailClock::ticks_per_ns();
    const PinnedThread pinned;
    std::vector<Span> cold = static_data();
    std::size_t static_bytes = 0;
    for (const Span& s : cold) static_bytes += s.bytes;
    cold.push_back({p.get(), sizeof(typename M::Params)});
    cold.push_back({x.data(), In * sizeof(float)});
    cold.push_back({y.data(), Out * sizeof(float)});
    const std::size_t calls = options.tail_calls;
    const double seconds = options.tail_seconds;
    auto measure = [&](const std::string& name, auto call) {
      suite.add_tail({name, false, tail_stats(time_each(call, calls, seconds, {}), ticks_per_ns), ""});
      if (kCanFlush) suite.add_tail({name, true, tail_stats(time_each(call, calls, seconds, cold), ticks_per_ns), ""});
      else suite.add_tail({name, true, {}, "no cache flush instruction here"});
    };
    suite.add_tail({"timer alone", false, tail_stats(time_each([] {}, calls, seconds, {}), ticks_per_ns), "its p50 is in every figure"});
    if (suite.wants_contender("generated")) measure("generated", [&] { M::forward(*p, x.data(), y.data()); });
    if (suite.wants_contender("export")) {
      if constexpr (std::is_void_v<Export>) {
        suite.add_tail({"export", false, {}, detail::kNotExported});
      } else {
        std::vector<float> got(Out), expected(Out);
        output_values(M::kLoss, want.data(), Out, expected.data());
        Export::predict(x.data(), got.data());
        if (auto why = bitwise_mismatch(got.data(), expected.data(), Out); !why.empty())
          suite.add_tail({"export", false, {}, "predict() is not the generated forward() and its outputs, bit for bit: " + why});
        else
          measure("export", [&] { Export::predict(x.data(), y.data()); });
      }
    }
    char ghz[32], secs[32], step[32];
    std::snprintf(ghz, sizeof ghz, "%.3f", ticks_per_ns);
    std::snprintf(step, sizeof step, "%.1f", static_cast<double>(clock_step()) / ticks_per_ns);
    std::snprintf(secs, sizeof secs, "%g", seconds);
    suite.tail_note(std::string("Each call is timed alone with ") + TailClock::kName + " (" + ghz +
                    " ticks per ns, calibrated against steady_clock; two reads that differ are " + step +
                    " ns apart at least), the thread pinned to CPU " +
                    std::to_string(pinned.cpu()) + " (sched_setaffinity; -1: not pinned), after 1% as many untimed calls; " +
                    "at most " + std::to_string(calls) + " calls or " + secs +
                    " s per row, one row after the other (not interleaved). *warm*: back to back. *cold*: before each call, "
                    "clflush of the model's parameters (" + std::to_string(sizeof(typename M::Params)) +
                    " B), the runner's static data (" + std::to_string(static_bytes) +
                    " B, which hold the export's baked-in weights), " + std::to_string(kTailStackWindow / 1024) +
                    " KB of stack below the caller and the input and output rows, then mfence; the flush is not timed "
                    "and the code is not flushed. Percentiles are nearest-rank; *timer alone* times an empty call the "
                    "same way: its p50 is part of every figure.");
  }

  // ---- batch: forward over the spec's batch ----
  if (suite.wants("batch")) {
    suite.add_workload({"batch", "Forward, batch " + std::to_string(B) + " (inference)", forward_flops(g) * B, 0});
    auto p = std::shared_ptr<typename M::Params>(new typename M::Params(*p0));
    auto ws = std::make_shared<typename M::Workspace>();
    std::vector<float> want(B * Out);
    M::forward_batch(*p, *ws, data.x.data(), want.data());
    auto x = std::make_shared<Floats>(data.x);
    if (suite.wants_contender("generated"))
      suite.add("batch", "generated", [p, ws, x](benchmark::State& st) {
        Floats y(B * Out);
        for (auto _ : st) {
          M::forward_batch(*p, *ws, x->data(), y.data());
          benchmark::ClobberMemory();
        }
      });
    // The export: predict_batch() is forward_batch() and the outputs `castnet predict` prints.
    if (suite.wants_contender("export")) {
      if constexpr (std::is_void_v<Export>) {
        suite.refuse("batch", "export", detail::kNotExported);
      } else {
        std::vector<float> y(B * Out), expected(B * Out);
        for (std::size_t r = 0; r < B; ++r) output_values(M::kLoss, want.data() + r * Out, Out, expected.data() + r * Out);
        Export::predict_batch(x->data(), y.data(), B);
        if (auto why = bitwise_mismatch(y.data(), expected.data(), B * Out); !why.empty())
          suite.refuse("batch", "export",
                       "predict_batch() is not the generated forward_batch() and its outputs, bit for bit: " + why);
        else
          suite.add("batch", "export", [x](benchmark::State& st) {
            Floats y(B * Out);
            for (auto _ : st) {
              Export::predict_batch(x->data(), y.data(), B);
              benchmark::ClobberMemory();
            }
          });
      }
    }
    auto check = [&](const std::string& name, auto call) {
      std::vector<float> y(B * Out);
      call(y.data());
      if (auto why = mismatch(y.data(), want.data(), B * Out, 1e-4); !why.empty()) {
        suite.refuse("batch", name, "outputs differ from the generated code: " + why);
        return false;
      }
      return true;
    };
    if (suite.wants_contender("interpreter")) {
      auto call = [interp, x](float* y) { interp->forward(x->data(), B, y); };
      if (check("interpreter", call))
        suite.add("batch", "interpreter", [call](benchmark::State& st) {
          Floats y(B * Out);
          for (auto _ : st) call(y.data());
        });
    }
    for (auto& e : peers_for(false)) {
      if (!e->peer) {
        suite.refuse("batch", e->label, e->why);
        continue;
      }
      auto call = [e, x](float* y) { e->peer->forward(x->data(), B, y); };
      if (check(e->label, call))
        suite.add("batch", e->label, [e, call](benchmark::State& st) {
          e->activate();
          Floats y(B * Out);
          for (auto _ : st) call(y.data());
        });
    }
  }

  // ---- step and epoch: forward, backward and a plain SGD update ----
  const bool step = suite.wants("step"), epoch = suite.wants("epoch");
  if (!step && !epoch) return suite.run(argc, argv, std::cout);

  // The generated step from the initial weights: the reference for every other contender.
  float want_loss = 0;
  std::vector<std::vector<float>> want_after;
  {
    auto p = std::make_unique<typename M::Params>(*p0);
    auto ws = std::make_unique<typename M::Workspace>();
    auto gr = std::make_unique<typename M::Grads>();
    want_loss = M::train_step(*p, *ws, data.x.data(), data.target.data(), *gr);
    detail::sgd_update<M>(*p, *gr, lr);
    want_after = detail::torch_layout<M>(*p);
  }
  auto verdict = [&](float loss, const std::vector<std::vector<float>>& after) {
    std::string why = detail::loss_mismatch(loss, want_loss);
    if (why.empty()) why = detail::update_mismatch(w0, after, want_after);
    return why.empty() ? why : "a training step differs from the generated code: " + why;
  };

  // A step function per contender: (x, target) -> loss, updating its own weights. The step and epoch
  // tables share them (and their check against the generated step).
  using StepFn = std::function<float(const float*, const float*)>;
  struct StepContender {
    std::string name, refused;
    StepFn fn;
    std::function<void()> activate = [] {};
  };
  const std::vector<StepContender> step_contenders = [&] {
    std::vector<StepContender> out;
    if (suite.wants_contender("generated")) {
      // As `castnet train` steps with sgd on one thread: the update made inside train_step_update.
      auto p = std::shared_ptr<typename M::Params>(new typename M::Params(*p0));
      auto ws = std::make_shared<typename M::Workspace>();
      auto gr = std::make_shared<typename M::Grads>();
      StepContender fused{"generated", "", [p, ws, gr](const float* x, const float* t) {
                            return M::train_step_update(*p, *ws, x, t, *gr, nullptr, Update<float>{UpdateRule::sgd, lr, 0, false});
                          }};
      const float loss = fused.fn(data.x.data(), data.target.data());
      fused.refused = verdict(loss, detail::torch_layout<M>(*p));
      *p = *p0;
      out.push_back(std::move(fused));
      // The same with the update in a pass of its own over the stored gradient: what fusing saves.
      auto sp = std::shared_ptr<typename M::Params>(new typename M::Params(*p0));
      out.push_back({"generated, separate update", "", [sp, ws, gr](const float* x, const float* t) {
                       const float l = M::train_step(*sp, *ws, x, t, *gr);
                       detail::sgd_update<M>(*sp, *gr, lr);
                       return l;
                     }});
      if constexpr (!std::is_void_v<Shard>) {
        static_assert(Shard::kBatch * 2 == M::kBatch, "the shard model has half the batch");
        auto sp = std::shared_ptr<typename Shard::Params>(new typename Shard::Params);
        detail::load_params<Shard>(w0, *sp);
        auto two = std::make_shared<TwoThreadStep<Shard>>(*sp);
        StepContender c{"generated 2T", "", [sp, two](const float* x, const float* t) { return two->step(x, t, lr); }};
        const float loss = c.fn(data.x.data(), data.target.data());
        c.refused = verdict(loss, detail::torch_layout<Shard>(*sp));
        detail::load_params<Shard>(w0, *sp);
        out.push_back(std::move(c));
      } else {
        out.push_back({"generated 2T", no_shard_reason, nullptr});
      }
    }
    if (suite.wants_contender("interpreter")) {
      auto in = std::make_shared<interp::Interpreter<float>>(g);
      in->params() = w0;
      auto grads = std::make_shared<std::vector<std::vector<float>>>();
      StepContender c{"interpreter", "", [in, grads](const float* x, const float* t) {
                        const float loss = in->loss_and_grad(x, t, B, *grads, nullptr);
                        for (std::size_t i = 0; i < grads->size(); ++i)
                          for (std::size_t j = 0; j < (*grads)[i].size(); ++j) in->params()[i][j] -= lr * (*grads)[i][j];
                        return loss;
                      }};
      const float loss = c.fn(data.x.data(), data.target.data());
      c.refused = verdict(loss, in->params());
      in->params() = w0;
      out.push_back(std::move(c));
    }
    for (auto& e : peers_for(true)) {
      if (!e->peer) {
        out.push_back({e->label, e->why, nullptr});
        continue;
      }
      StepContender c{e->label, "", [e](const float* x, const float* t) { return e->peer->train_step(x, t, B, lr); },
                      e->activate};
      e->activate();
      const float loss = c.fn(data.x.data(), data.target.data());
      c.refused = verdict(loss, e->peer->params());
      e->peer->set_params(w0);
      out.push_back(std::move(c));
    }
    return out;
  }();

  if (step) {
    suite.add_workload({"step", "Training step, batch " + std::to_string(B) + " (forward, backward, SGD update)",
                        training_flops(g) * B, 0});
    auto x = std::make_shared<Data>(data);
    for (const auto& c : step_contenders) {
      if (!c.fn || !c.refused.empty()) {
        suite.refuse("step", c.name, c.refused);
        continue;
      }
      suite.add("step", c.name, [c, x](benchmark::State& st) {
        c.activate();
        for (auto _ : st) benchmark::DoNotOptimize(c.fn(x->x.data(), x->target.data()));
      });
    }
  }

  if (epoch) {
    const std::size_t n = options.epoch_samples, batches = n / B;
    suite.add_workload({"epoch", "Epoch: " + std::to_string(n) + " samples, shuffled, " + std::to_string(batches) +
                                     " batches of " + std::to_string(B) + " gathered row by row",
                        training_flops(g) * static_cast<double>(batches * B), 0});
    auto set = std::make_shared<Data>(make_data(g, n, 3));
    for (const auto& c : step_contenders) {
      if (c.name == "interpreter") {
        suite.refuse("epoch", c.name, "too slow for whole epochs; see the step table");
        continue;
      }
      if (!c.fn || !c.refused.empty()) {
        suite.refuse("epoch", c.name, c.refused);
        continue;
      }
      suite.add(
          "epoch", c.name,
          [c, set, n, batches](benchmark::State& st) {
            c.activate();
            constexpr std::size_t T = M::kTargets;
            std::vector<std::uint32_t> order(n);
            std::iota(order.begin(), order.end(), 0u);
            std::mt19937 rng(7);
            Floats xb(B * In), tb(B * T);
            for (auto _ : st) {
              std::shuffle(order.begin(), order.end(), rng);
              for (std::size_t b = 0; b < batches; ++b) {
                for (std::size_t r = 0; r < B; ++r) {
                  const std::size_t s = order[b * B + r];
                  std::memcpy(xb.data() + r * In, set->x.data() + s * In, In * sizeof(float));
                  std::memcpy(tb.data() + r * T, set->target.data() + s * T, T * sizeof(float));
                }
                benchmark::DoNotOptimize(c.fn(xb.data(), tb.data()));
              }
            }
          },
          1);
    }
  }
  return suite.run(argc, argv, std::cout);
}

}  // namespace castnet::bench
