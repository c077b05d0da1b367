// Compile-and-cache of per-spec runners: the generated header plus a two-line main that hands
// the command line to castnet::run_model<Model> (train, eval, predict) or to the bench suite.
// Keyed by the compiler's identity and flags, the runner's own files and the libraries it links;
// the system and castnet headers the compiler reports reading are checked against a list kept
// beside the runner. A runner's header names no spec (gen::GenRequest::runner), so specs with the
// same network share a runner whatever their paths, comments and training settings.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cache_dir.hpp"  // cache_root(), where the runners are kept

namespace castnet::cli {

struct Runner {
  std::filesystem::path exe;
  bool compiled = false;  // false: found in the cache
};

// A runner for data-parallel training (castnet train --threads, mpirun): its model is planned for
// one worker's shard of the spec's batch.
struct Sharded {
  std::size_t global_batch = 0;  // the spec's batch; 0: not sharded
  bool mpi = false;              // joins an MPI job: links libcastnet_mpi
};

// Whether runners are built for run-time dispatch (gen::GenRequest::arch "dispatch"): when castnet
// was configured without CASTNET_NATIVE (its runner flags name no -march=native), so that they run
// on any CPU of the family, or when CASTNET_RUNNER_DISPATCH=1 asks for it (tests). "0" refuses it.
bool runners_dispatch();

// Builds (or finds) the runner for `header_text`, a header generated for namespace `ns`, with `units`
// (file name, text: those of --arch dispatch) compiled beside it, each with its instruction set's flags.
// Throws std::runtime_error with the compiler's output tail if compilation fails, if an MPI runner
// is asked of a castnet built without MPI, and before running or building anything if
// <cache>/runners or the model's folder in it (or a cached runner) is not the effective user's or
// is writable by other users. Concurrent builds of one runner (the ranks of an MPI job) compile once.
// `before_compile` runs only when the runner must be compiled, before the compile: checks that
// would otherwise wait for the runner (the data) throw from it and cost no compile.
Runner build_runner(const std::string& ns, const std::string& header_text,
                    const std::vector<std::pair<std::string, std::string>>& units = {}, const Sharded& sharded = {},
                    const std::function<void()>& before_compile = {});

// The headers of a `castnet bench` runner, each with its namespace.
struct BenchHeaders {
  std::string ns, header;                // the training header
  std::string shard_ns, shard_header;    // the spec generated for half the batch; empty: none
  std::string export_ns, export_header;  // the spec exported with the suite's initial weights; empty: none
  std::string int8_ns, int8_header;      // the same export with --quantize int8; empty: none
  std::string bf16_ns, bf16_header;      // with --quantize bf16; empty: none
  std::string arch;                      // an instruction set of bench_arch_libs(); empty: the machine's
};

// The instruction sets this castnet has a bench library for besides the machine's own (x86: avx512,
// avx2, sse4), each with its library: the Eigen peer built for it.
std::vector<std::pair<std::string, std::filesystem::path>> bench_arch_libs();

// The same for `castnet bench`: the suite (bench/harness/run_model.hpp) over the model, its shard
// and its export, linked with the suite's library. Throws if this castnet was built without the suite.
Runner build_bench_runner(const BenchHeaders& headers);

// <cache>/runners/<name>, created private (as the runners' folders are) if it is missing: where
// castnet bench keeps the initial weights it exports the spec with.
std::filesystem::path runner_cache_folder(const std::string& name);

}  // namespace castnet::cli
