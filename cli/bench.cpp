// castnet bench SPEC [options]: generate the model (and, for the 2-thread rows, the same spec planned
// for half the batch; for the export rows, the spec exported with the suite's initial weights),
// build (or reuse) the suite's runner for it and hand over to it. The options are the suite's
// (bench/harness/suite.hpp) and Google Benchmark's; the runner checks them. castnet bench only
// looks at --workloads and --contenders, to leave out of the runner what no table needs.
#include <unistd.h>

#include <castnet/io/safetensors.hpp>
#include <castnet/train/init.hpp>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "args.hpp"
#include "build_cache.hpp"
#include "generate.hpp"
#include "verbs.hpp"

namespace castnet::cli {
namespace {

// The items of option `name` (a comma-separated list) as the runner reads them: the last one given
// wins. nullopt when it is not given (the suite's defaults: the workloads latency, batch and step,
// every contender).
std::optional<std::set<std::string>> option_items(int argc, char** argv, std::string_view name) {
  std::optional<std::set<std::string>> items;
  for (int i = 3; i + 1 < argc; ++i) {
    if (argv[i] != name) continue;
    items.emplace();
    std::stringstream in(argv[++i]);
    for (std::string item; std::getline(in, item, ',');) items->insert(item);
  }
  return items;
}

bool any_of(const std::optional<std::set<std::string>>& items, std::initializer_list<const char*> wanted) {
  return !items || std::any_of(wanted.begin(), wanted.end(), [&](const char* w) { return items->count(w) != 0; });
}

Init runtime_init(ir::Init init) {
  switch (init) {
    case ir::Init::zeros: return Init::zeros;
    case ir::Init::he_normal: return Init::he_normal;
    case ir::Init::glorot_uniform: return Init::glorot_uniform;
    case ir::Init::prelu_slope: return Init::prelu_slope;
  }
  __builtin_unreachable();  // every enumerator returns above; -Wswitch flags a new one
}

// The weights every contender of the suite starts from: castnet's initialisation with `seed`, tensor
// by tensor in the order of the generated header's kTensors (the graph's layers, then each layer's
// tensors), as init_params<M>(p, seed) in bench/harness/run_model.hpp fills them.
std::vector<io::TensorData> initial_weights(const ir::Graph& g, std::uint64_t seed) {
  std::vector<io::TensorData> out;
  for (const auto& l : g.layers)
    for (const auto& p : l.params) {
      TensorInfo info{p.torch_name, {}, p.shape.size(), p.size, runtime_init(p.init), p.fan_in, p.fan_out};
      std::copy_n(p.shape.begin(), std::min(p.shape.size(), info.shape.size()), info.shape.begin());
      io::TensorData t{p.torch_name, p.shape, std::vector<float>(p.size)};
      init_tensor(std::span(t.values), info, seed, out.size());
      out.push_back(std::move(t));
    }
  return out;
}

// The export of the spec with the suite's initial weights (seed 1), in namespace <name>_export. The
// weights go to a folder of the runner cache named after the spec's hash: not the runner's own
// folder, whose name is a hash of the headers, this one among them. When castnet cannot export the
// spec, a warning, and the runner has no export.
void add_export(gen::GenRequest req, const gen::GenResult& model, BenchHeaders& headers) {
  const ir::Graph& g = model.spec.graph;
  const auto dir = runner_cache_folder(g.name + "-bench-init-" + model.spec_sha256.substr(0, 16));
  req.weights = dir / "seed1.safetensors";
  io::write_safetensors(req.weights, initial_weights(g, 1));
  req.ns = g.name + "_export";
  try {
    headers.export_header = gen::emit_header(req).header_text;
    headers.export_ns = req.ns;
  } catch (const std::exception& e) {
    std::cerr << "castnet: warning: cannot export " << req.spec.string() << ", so the export rows are not timed: " << e.what()
              << "\n";
  }
}

}  // namespace

int bench(int argc, char** argv) {
  if (argc < 3 || argv[2][0] == '-') throw UsageError("the spec comes first: castnet bench SPEC [options]");
  const auto workloads = option_items(argc, argv, "--workloads");
  const auto contenders = option_items(argc, argv, "--contenders");
  gen::GenRequest req;
  req.spec = argv[2];
  req.limits = limits_option(Args(0, nullptr, 0, {}));  // CASTNET_LIMITS; the options are the runner's
  const gen::GenResult model = gen::emit_header(req);
  BenchHeaders headers;
  headers.ns = model.spec.graph.name;
  headers.header = model.header_text;
  if (any_of(workloads, {"latency", "batch"}) && any_of(contenders, {"export"})) add_export(req, model, headers);
  if (any_of(workloads, {"step", "epoch"}) && model.spec.graph.batch % 2 == 0) {
    req.batch = model.spec.graph.batch / 2;
    req.ns = model.spec.graph.name + "_half";
    headers.shard_ns = req.ns;
    headers.shard_header = gen::emit_header(req).header_text;
  }
  const Runner r = build_bench_runner(headers);
  std::vector<char*> args{const_cast<char*>(r.exe.c_str())};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(r.exe.c_str(), args.data());
  throw std::runtime_error("castnet: error: cannot run " + r.exe.string());
}

}  // namespace castnet::cli
