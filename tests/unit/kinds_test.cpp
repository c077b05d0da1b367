// Every layer kind of ir/op_kinds.def has each piece that generator/ops/README.md lists. The
// compiler already refuses a kind missing from a switch (the generator's registry, the reference's
// dispatch, the Eigen and libtorch peers); this test names what no compiler sees: the kernel
// headers its code calls, its entry in the spec reference, its builder in the PyTorch twin, and a
// numeric test spec that uses it (the gradient checks and the parity with the reference run over
// every such spec).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "emit/templates.hpp"
#include "ir/graph.hpp"
#include "ops/op_def.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kSource = CASTNET_SOURCE_DIR;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Kind {
  castnet::ir::OpKind kind;
  std::string name;
};

std::vector<Kind> all_kinds() {
  return {
#define CASTNET_OP(name) {castnet::ir::OpKind::name, #name},
#include "ir/op_kinds.def"
#undef CASTNET_OP
  };
}

// Every spec text under tests/numeric/specs (the configured activation and loss specs included).
std::string numeric_specs() {
  std::string all;
  for (const auto& e : fs::directory_iterator(kSource / "tests/numeric/specs")) all += read(e.path());
  return all;
}

// A layer of this kind, as a spec would give it (for the ops' per-layer queries).
castnet::ir::Layer layer_of(castnet::ir::OpKind kind) {
  castnet::ir::Layer l;
  l.kind = kind;
  l.name = "probe";
  if (kind == castnet::ir::OpKind::activation) l.activation.kind = castnet::ir::Activation::relu;
  return l;
}

}  // namespace

TEST_CASE("kinds: every layer kind has every piece the checklist names") {
  const std::string reference = read(kSource / "specs/README.md");
  const std::string twin = read(kSource / "tests/e2e/torch_twin.py");
  const std::string numeric = numeric_specs();
  for (const Kind& k : all_kinds()) {
    INFO("layer kind '" << k.name << "'");
    const castnet::ops::OpDef& op = castnet::ops::op_def(k.kind);

    // Its kernels: each header it names is a runtime kernel header (the generator embeds them all).
    const castnet::ir::Layer l = layer_of(k.kind);
    for (const std::string& h : op.kernel_headers(l)) {
      INFO("kernel header castnet/kernels/" << h);
      CHECK_NOTHROW(castnet::gen::template_text("kernels/" + h));
    }

    // Its section in the spec reference: "### `dense`" (the activations share "### Activations").
    const std::string heading = k.kind == castnet::ir::OpKind::activation ? "^### Activations" : "^### .*`" + k.name + "`";
    INFO("spec reference: specs/README.md needs a heading matching " << heading);
    CHECK(std::regex_search(reference, std::regex(heading, std::regex::multiline)));

    // Its builder in the PyTorch twin's table.
    INFO("PyTorch twin: tests/e2e/torch_twin.py's LAYER_KINDS needs \"" << k.name << "\"");
    CHECK(std::regex_search(twin, std::regex("\\n    \"" + k.name + "\": _")));

    // A numeric test spec of it: `type = "<kind>"` (an activation: any activation's name).
    const std::string type = k.kind == castnet::ir::OpKind::activation ? "(relu|tanh|@ACT@)" : k.name;
    INFO("numeric tests: a spec in tests/numeric/specs needs type = \"" << k.name << "\"");
    CHECK(std::regex_search(numeric, std::regex("type\\s*=\\s*\"" + type + "\"")));
  }
}
