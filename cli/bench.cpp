// castnet bench SPEC [--arch A,B] [options]: generate the model (and, for the 2-thread rows, the same
// spec planned for half the batch; for the export rows, the spec exported with the suite's initial
// weights), build (or reuse) the suite's runner for it and hand over to it, once per instruction set
// of --arch. The options are the suite's (bench/harness/suite.hpp) and Google Benchmark's; the
// runner checks them. castnet bench itself reads --arch, --title, and --workloads and --contenders
// (to leave out of the runner what no table needs).
#include <sys/wait.h>
#include <unistd.h>

#include <castnet/io/safetensors.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "args.hpp"
#include "build_cache.hpp"
#include "generate.hpp"
#include "initial_weights.hpp"
#include "verbs.hpp"

namespace castnet::cli {
namespace {

// The items of option `name` (a comma-separated list) as the runner reads them: the last one given
// wins. nullopt when it is not given (the suite's defaults: the workloads latency, batch, step and tail,
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

// The export of the spec with the suite's initial weights (seed 1), in namespace <name>_export. The
// weights go to a folder of the runner cache named after the spec's hash: not the runner's own
// folder, whose name is a hash of the headers, this one among them. When castnet cannot export the
// spec, a warning, and the runner has no export.
void add_export(gen::GenRequest req, const gen::GenResult& model, BenchHeaders& headers) {
  req.arch.clear();  // the export's vectors follow the runner's flags
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
    return;
  }
  // The same export with quantized weights: the "export int8" and "export bf16" latency rows.
  for (const auto& [mode, ns, header] : {std::tuple{"int8", &headers.int8_ns, &headers.int8_header},
                                         std::tuple{"bf16", &headers.bf16_ns, &headers.bf16_header}}) {
    req.quantize = mode;
    req.ns = g.name + "_export_" + mode;
    try {
      *header = gen::emit_header(req).header_text;
      *ns = req.ns;
    } catch (const std::exception& e) {
      std::cerr << "castnet: warning: cannot export " << req.spec.string() << " with --quantize " << mode
                << ", so its rows are not timed: " << e.what() << "\n";
    }
  }
}

// Whether this CPU runs an instruction set as --arch names it.
bool cpu_runs(const std::string& arch) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (arch == "avx512")
    return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (arch == "avx2") return avx2;
  if (arch == "sse4") return __builtin_cpu_supports("sse4.2");
#endif
  return arch == "native";
}

// The instruction sets to bench, in the order given: --arch's (the last --arch wins), else every one
// the CPU runs that this castnet has a suite library for, else the machine's own (native).
std::vector<std::string> chosen_arches(int argc, char** argv) {
  std::vector<std::string> known = {"native"};
  for (const auto& [name, lib] : bench_arch_libs()) known.push_back(name);
  std::vector<std::string> chosen;
  for (int i = 3; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) != "--arch") continue;
    chosen.clear();
    std::stringstream in(argv[++i]);
    for (std::string item; std::getline(in, item, ',');) {
      if (std::find(known.begin(), known.end(), item) == known.end()) {
        std::string names;
        for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
        throw UsageError("--arch: '" + item + "' is not an instruction set castnet bench builds for here (" + names + ")");
      }
      if (!cpu_runs(item))
        throw UsageError("--arch " + item + ": this CPU does not run it (see lscpu's flags); leave it out");
      if (std::find(chosen.begin(), chosen.end(), item) == chosen.end()) chosen.push_back(item);
    }
    if (chosen.empty()) throw UsageError("--arch: name at least one instruction set");
  }
  if (!chosen.empty()) return chosen;
  for (const auto& name : known)
    if (name != "native" && cpu_runs(name)) chosen.push_back(name);
  if (chosen.empty()) chosen.push_back("native");
  return chosen;
}

// What libtorch runs on, per instruction set, unless the caller set it: ATen's kernels, oneDNN's
// (its convolutions) and OpenBLAS choose their code when they load, by the CPU, so an AVX2 table
// would otherwise time AVX-512 code on an AVX-512 machine (and OpenBLAS 0.3.21 takes AMD's AVX-512
// CPUs for Haswell). The SSE4.2 tables' probe caught oneDNN running wider than SSE.
void set_torch_isa(const std::string& arch) {
  struct Isa {
    const char *arch, *aten, *blas, *dnn;
  };
  static constexpr Isa kIsas[] = {{"avx512", "avx512", "SkylakeX", "AVX512_CORE"},
                                  {"avx2", "avx2", "Haswell", "AVX2"},
                                  {"sse4", "default", "Nehalem", "SSE41"}};
  for (const Isa& i : kIsas) {
    if (arch != i.arch) continue;
    ::setenv("ATEN_CPU_CAPABILITY", i.aten, 0);
    ::setenv("OPENBLAS_CORETYPE", i.blas, 0);
    ::setenv("ONEDNN_MAX_CPU_ISA", i.dnn, 0);
  }
}

}  // namespace

int bench(int argc, char** argv) {
  if (argc < 3 || argv[2][0] == '-') throw UsageError("the spec comes first: castnet bench SPEC [options]");
  const auto workloads = option_items(argc, argv, "--workloads");
  const auto contenders = option_items(argc, argv, "--contenders");
  const std::vector<std::string> arches = chosen_arches(argc, argv);
  // The runner's arguments: the spec and the options but --arch, and --title, which each
  // instruction set's tables extend.
  std::vector<std::string> passed;
  std::string title;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if ((a == "--arch" || a == "--title") && i + 1 < argc) {
      if (a == "--title") title = argv[i + 1];
      ++i;
      continue;
    }
    passed.emplace_back(a);
  }

  std::vector<Runner> runners;
  std::optional<BenchHeaders> exported;  // the export is the same for every instruction set: made once
  for (const auto& arch : arches) {
    gen::GenRequest req;
    req.spec = argv[2];
    req.limits = limits_option(Args(0, nullptr, 0, {}));  // CASTNET_LIMITS; the options are the runner's
    if (arch != "native") req.arch = arch;
    const gen::GenResult model = gen::emit_header(req);
    BenchHeaders headers;
    headers.ns = model.spec.graph.name;
    headers.header = model.header_text;
    headers.arch = arch;
    if (any_of(workloads, {"latency", "batch", "tail"}) && any_of(contenders, {"export"})) {
      if (!exported) add_export(req, model, exported.emplace());
      headers.export_ns = exported->export_ns;
      headers.export_header = exported->export_header;
      headers.int8_ns = exported->int8_ns;
      headers.int8_header = exported->int8_header;
      headers.bf16_ns = exported->bf16_ns;
      headers.bf16_header = exported->bf16_header;
    }
    if (any_of(workloads, {"step", "epoch"}) && model.spec.graph.batch % 2 == 0) {
      req.batch = model.spec.graph.batch / 2;
      req.ns = model.spec.graph.name + "_half";
      headers.shard_ns = req.ns;
      headers.shard_header = gen::emit_header(req).header_text;
    }
    if (title.empty() && arches.size() > 1) title = model.spec.graph.name;
    runners.push_back(build_bench_runner(headers));
  }

  int status = 0;
  for (std::size_t k = 0; k < arches.size(); ++k) {
    std::vector<std::string> args = {runners[k].exe.string()};
    args.insert(args.end(), passed.begin(), passed.end());
    if (!title.empty()) args.insert(args.end(), {"--title", arches[k] == "native" ? title : title + " (" + arches[k] + ")"});
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    if (arches.size() == 1) {  // the runner takes over, as it always did
      set_torch_isa(arches[k]);
      ::execv(cargs[0], cargs.data());
      throw std::runtime_error("castnet: error: cannot run " + args[0]);
    }
    std::cout.flush();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("castnet: error: cannot start " + args[0]);
    if (pid == 0) {
      set_torch_isa(arches[k]);
      ::execv(cargs[0], cargs.data());
      std::_Exit(127);
    }
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    if (code != 0) {
      std::cerr << "castnet: error: the --arch " << arches[k] << " runner exited with " << code << "\n";
      if (status == 0) status = code;
    }
  }
  return status;
}

}  // namespace castnet::cli
