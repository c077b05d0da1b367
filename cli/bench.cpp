// castnet bench SPEC [options]: generate the model (and, for the 2-thread rows, the same spec planned
// for half the batch), build (or reuse) the suite's runner for it and hand over to it. The options
// are the suite's (bench/harness/suite.hpp) and Google Benchmark's; the runner checks them.
#include <unistd.h>

#include <string>
#include <vector>

#include "args.hpp"
#include "build_cache.hpp"
#include "generate.hpp"
#include "verbs.hpp"

namespace castnet::cli {

int bench(int argc, char** argv) {
  if (argc < 3 || argv[2][0] == '-') throw UsageError("the spec comes first: castnet bench SPEC [options]");
  gen::GenRequest req;
  req.spec = argv[2];
  req.limits = limits_option(Args(0, nullptr, 0, {}));  // CASTNET_LIMITS; the options are the runner's
  const gen::GenResult model = gen::emit_header(req);
  std::string shard_ns, shard_header;
  if (model.spec.graph.batch % 2 == 0) {
    req.batch = model.spec.graph.batch / 2;
    req.ns = model.spec.graph.name + "_half";
    shard_ns = req.ns;
    shard_header = gen::emit_header(req).header_text;
  }
  const Runner r = build_bench_runner(model.spec.graph.name, model.header_text, shard_ns, shard_header);
  std::vector<char*> args{const_cast<char*>(r.exe.c_str())};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(r.exe.c_str(), args.data());
  throw std::runtime_error("castnet: error: cannot run " + r.exe.string());
}

}  // namespace castnet::cli
