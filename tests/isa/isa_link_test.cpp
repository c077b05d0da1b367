// Models of different instruction sets in one program (README, "Instruction sets"): isa_link.toml
// generated with --arch scalar, sse4, avx2 and avx512 under one namespace, each in an object of its
// own compiled with its ARCH's flags (isa/isa.cmake), all linked into this test. Each model runs
// where the CPU has its instruction set and must match the interpreter; and no weak (COMDAT)
// symbol may be defined by the objects of two instruction sets, since the linker keeps one copy of
// such a symbol for the whole program and a model would then run another instruction set's code
// (an illegal instruction on a CPU without it). The check reads the objects with nm, and is itself
// checked on two probe objects that share a symbol on purpose.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "generate.hpp"
#include "isa/link/isa_link.hpp"
#include "isa/link/weak_symbols.hpp"
#include "reference/interpreter.hpp"
#include "support/model_testing.hpp"
#include "support/process.hpp"

namespace {

constexpr double kTolerance = 1e-5;
constexpr std::uint64_t kKey = 0x5eed;

struct Unit {
  std::string arch;    // castnet_add_model's ARCH
  std::string object;  // its object file
  IsaLinkModel (*model)();
  bool runs;           // this CPU has the instruction set
  std::string isa;     // the runtime namespace it must have
};

std::vector<Unit> units() {
  std::vector<Unit> u = {{"scalar", CASTNET_ISA_LINK_OBJECT_scalar, isa_link_scalar, true, "isa_scalar"}};
#if defined(CASTNET_ISA_LINK_X86)
  __builtin_cpu_init();
  u.push_back({"sse4", CASTNET_ISA_LINK_OBJECT_sse4, isa_link_sse4, __builtin_cpu_supports("sse4.2") != 0,
               "isa_sse4_2_xsimd"});
  u.push_back({"avx2", CASTNET_ISA_LINK_OBJECT_avx2, isa_link_avx2,
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), "isa_fma3_avx2_xsimd"});
  u.push_back({"avx512", CASTNET_ISA_LINK_OBJECT_avx512, isa_link_avx512,
               __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"),
               "isa_avx512bw_xsimd"});
#endif
  return u;
}

// The weak symbols an object defines, demangled (isa/link/weak_symbols.hpp).
std::set<std::string> weak_symbols(const std::string& object) {
  const auto r = castnet::test::run({CASTNET_NM, "--defined-only", "-C", object});
  INFO("nm " << object << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return castnet::test::weak_symbols_in(r.out);
}

std::string lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "\n  " + x;
  return s;
}

}  // namespace

#if defined(CASTNET_ISA_LINK_X86)
TEST_CASE("isa link: the shared-symbol check finds a weak symbol outside the per-ISA namespace") {
  const auto a = weak_symbols(CASTNET_ISA_PROBE_OBJECT_a), b = weak_symbols(CASTNET_ISA_PROBE_OBJECT_b);
  const auto both = castnet::test::shared_weak(a, b);
  INFO("shared by the probes:" << lines(both));
  // probe_sum is outside the per-ISA namespace: both define it, and the check sees it.
  CHECK(std::count(both.begin(), both.end(), "float castnet::probe_sum<float>(float const*, unsigned long)") == 1);
  // losses::mse is inside it: each probe has its own, under its own name.
  CHECK(std::none_of(both.begin(), both.end(), [](const std::string& s) { return s.find("mse") != std::string::npos; }));
  const auto defines = [](const std::set<std::string>& symbols, const std::string& name) {
    return std::count_if(symbols.begin(), symbols.end(), [&](const std::string& s) { return s.find(name) != std::string::npos; });
  };
  CHECK(defines(a, "castnet::isa_scalar::losses::mse<float, 4ul, 2ul>") == 1);
  CHECK(defines(b, "castnet::isa_fma3_avx2_xsimd::losses::mse<float, 4ul, 2ul>") == 1);
}
#endif

TEST_CASE("isa link: the objects of different instruction sets define no weak symbol in common") {
  const auto all = units();
  std::vector<std::set<std::string>> weak;
  for (const auto& u : all) {
    weak.push_back(weak_symbols(u.object));
    // Not vacuous: the model's and castnet's inline code is there (what the compiler did not
    // inline: kernels, the loss, forward, ...), in the unit's namespace.
    INFO(u.arch << ": " << u.object);
    const auto own = std::count_if(weak.back().begin(), weak.back().end(), [&](const std::string& s) {
      return s.find("castnet::" + u.isa + "::") != std::string::npos || s.find("isa_link::" + u.isa + "::") != std::string::npos;
    });
    CHECK(own >= 3);
  }
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      const auto both = castnet::test::shared_weak(weak[i], weak[j]);  // but the personality pointer
      INFO(all[i].arch << " and " << all[j].arch << " both define:" << lines(both));
      CHECK(both.empty());
    }
}

#if defined(CASTNET_ISA_LINK_X86)
// At -O0 (isa.cmake), where nothing is inlined away. There both objects also define the standard
// library's small inline functions the kernels call (std::abs(double), numeric_limits<int>::max()),
// which no namespace of castnet's can hold apart: only castnet's and the model's symbols are checked.
TEST_CASE("isa link: an exported header compiled for two instruction sets defines no castnet symbol in common") {
  const auto baseline = weak_symbols(CASTNET_ISA_EXPORT_OBJECT_baseline), avx2 = weak_symbols(CASTNET_ISA_EXPORT_OBJECT_avx2);
  // xor_net's and its kernels' (castnet_export_xor_net) symbols
  const auto model = [](const std::string& s) { return s.find("xor_net::") != std::string::npos; };
  // Not vacuous: each object defines them, in its own instruction set's namespace.
  CHECK(std::count_if(baseline.begin(), baseline.end(), model) >= 10);
  CHECK(std::count_if(avx2.begin(), avx2.end(), model) >= 10);
  CHECK(std::count(baseline.begin(), baseline.end(), "xor_net::isa_sse2_vecext::predict_batch(float const*, float*, unsigned long)") == 1);
  CHECK(std::count(avx2.begin(), avx2.end(), "xor_net::isa_fma3_avx2_vecext::predict_batch(float const*, float*, unsigned long)") == 1);
  const auto both = castnet::test::shared_weak(baseline, avx2);
  INFO("both define:" << lines(both));
  CHECK(std::none_of(both.begin(), both.end(), model));
}
#endif

TEST_CASE("isa link: scalar, SSE4.2, AVX2 and AVX-512 models of one spec in one program each match the interpreter") {
  castnet::interp::Interpreter<double> ref(castnet::gen::load_graph(CASTNET_ISA_LINK_SPEC));
  const IsaLinkModel first = isa_link_scalar();
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> u(-0.8, 0.8);
  std::vector<float> params;
  for (auto& t : ref.params())
    for (auto& v : t) {
      params.push_back(static_cast<float>(u(rng)));
      v = params.back();  // the same values, float, on both sides
    }
  REQUIRE(params.size() == first.params);
  std::vector<float> x(first.batch * first.inputs), target(first.batch);
  for (auto& v : x) v = static_cast<float>(u(rng));
  for (auto& v : target) v = static_cast<float>(rng() % first.outputs);
  const std::vector<double> xd(x.begin(), x.end()), td(target.begin(), target.end());

  std::vector<double> y_ref(first.batch * first.outputs), dx_ref(first.batch * first.inputs);
  ref.forward(xd.data(), first.batch, y_ref.data());
  const std::size_t n = first.batch - 1;  // a short batch: the padding row must not count
  std::vector<std::vector<double>> g_ref;
  const double loss_ref = ref.loss_and_grad(xd.data(), td.data(), n, g_ref, dx_ref.data(), kKey);
  std::vector<double> grads_ref;
  for (const auto& g : g_ref) grads_ref.insert(grads_ref.end(), g.begin(), g.end());

  std::set<std::string> namespaces;
  std::size_t ran = 0;
  for (const auto& unit : units()) {
    const IsaLinkModel m = unit.model();
    INFO(unit.arch << ": " << m.isa << ", " << m.lanes << " lane(s)");
    CHECK(std::string(m.isa) == unit.isa);
    namespaces.insert(m.isa);
    if (!unit.runs) {
      WARN("not run: this CPU lacks " << unit.arch);
      continue;
    }
    std::vector<float> y(y_ref.size()), y_batch(y_ref.size()), grads(params.size());
    const float loss = m.run(params.data(), x.data(), target.data(), n, kKey, y.data(), y_batch.data(), grads.data());
    const auto fwd = castnet::test::relative_error(y.data(), y_ref.data(), y.size());
    const auto batch = castnet::test::relative_error(y_batch.data(), y_ref.data(), y.size());
    const auto grad = castnet::test::relative_error(grads.data(), grads_ref.data(), grads.size());
    INFO("forward " << castnet::test::describe(fwd) << "; forward_batch " << castnet::test::describe(batch)
                    << "; gradients " << castnet::test::describe(grad) << "; loss " << loss << " vs " << loss_ref);
    CHECK(fwd.rel <= kTolerance);
    CHECK(batch.rel <= kTolerance);
    CHECK(grad.rel <= kTolerance);
    CHECK(std::abs(loss - loss_ref) <= kTolerance * std::max(1.0, std::abs(loss_ref)));
    ++ran;
  }
  CHECK(namespaces.size() == units().size());
  CHECK(ran >= 1);
}
