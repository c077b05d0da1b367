// Each layer kind writes back the keys it reads (OpDef::write, what `castnet import` relies on):
// every spec of the repository, parsed and completed, written with spec::write_spec and parsed
// again, gives the same network, layer for layer, attribute for attribute.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "ir/print_ir.hpp"
#include "passes/passes.hpp"
#include "spec/parse_spec.hpp"
#include "spec/write_spec.hpp"

namespace fs = std::filesystem;

namespace {

// The IR without the spec lines the layers came from (the written spec has its own).
std::string network_of(castnet::spec::Spec s) {
  castnet::passes::run_passes(s.graph);
  return std::regex_replace(castnet::ir::print_ir(s.graph), std::regex(R"( \(line \d+\))"), "");
}

std::vector<fs::path> repository_specs() {
  const fs::path root = CASTNET_SOURCE_DIR;
  std::vector<fs::path> specs;
  for (const char* dir : {"specs", "bench/specs", "tests/golden/specs", "tests/numeric/specs", "tests/e2e/specs",
                          "examples/embed"})
    for (const auto& e : fs::directory_iterator(root / dir))
      if (e.path().extension() == ".toml") specs.push_back(e.path());
  return specs;
}

}  // namespace

TEST_CASE("write_spec: every repository spec reads back as the same network") {
  std::set<castnet::ir::OpKind> kinds;
  const auto specs = repository_specs();
  REQUIRE(specs.size() >= 20);
  for (const fs::path& path : specs) {
    INFO(path.string());
    const castnet::spec::Spec s = castnet::spec::parse_spec_file(path);
    const std::string written = castnet::spec::write_spec(s, {"round trip"});
    INFO(written);
    const castnet::spec::Spec back = castnet::spec::parse_spec_text(written, "written.toml");
    CHECK(network_of(back) == network_of(s));
    CHECK(back.training.optimizer.kind == s.training.optimizer.kind);
    CHECK(back.training.optimizer.lr == s.training.optimizer.lr);
    for (const auto& l : s.graph.layers) kinds.insert(l.kind);
  }
  // The specs cover every layer kind, so every kind's write() was exercised.
#define CASTNET_OP(name) CHECK(kinds.count(castnet::ir::OpKind::name) == 1);
#include "ir/op_kinds.def"
#undef CASTNET_OP
}
