// Run-time dispatch (README, "One binary for every CPU"): isa_link.toml built with
// castnet_add_model(... ARCH dispatch) into one program (isa/dispatch/driver.cpp), run under every
// CASTNET_ISA: each instruction set the CPU runs must match the interpreter, one it does not run
// must be refused by name, and without CASTNET_ISA the widest must be chosen. The library itself:
// its dispatcher's object holds no instruction beyond the family's baseline (it runs before the CPU
// is known), and its units define no weak symbol in common (the linker would keep one unit's copy
// for all).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "generate.hpp"
#include "reference/interpreter.hpp"
#include "support/model_testing.hpp"
#include "isa/link/weak_symbols.hpp"
#include "support/process.hpp"

namespace {

namespace t = castnet::test;
constexpr double kTolerance = 1e-5;
constexpr std::uint64_t kKey = 0x5eed;

struct Isa {
  std::string name;  // as CASTNET_ISA spells it
  bool runs;         // on this CPU
};

// Widest first, as the dispatcher prefers them.
std::vector<Isa> family() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return {{"avx512", avx512}, {"avx2", avx2}, {"sse4", __builtin_cpu_supports("sse4.2") != 0}, {"scalar", true}};
#elif defined(__aarch64__)
  return {{"neon", true}, {"scalar", true}};
#else
  return {{"scalar", true}};
#endif
}

std::vector<double> numbers(const std::string& line) {
  std::vector<double> v;
  std::istringstream in(line);
  for (std::string w; in >> w;) v.push_back(std::strtod(w.c_str(), nullptr));
  return v;
}

// Each archive member's part of a tool's output over the archive ("\nIn archive x.a:\n\nm.o:\n..." for
// objdump, "\nm.o:\n..." for nm), by member name.
std::map<std::string, std::string> by_member(const std::string& out) {
  std::map<std::string, std::string> parts;
  static const std::regex header(R"(^(\S+\.o):(\s+file format.*)?$)");
  std::string* current = nullptr;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      current = &parts[m[1].str()];
      continue;
    }
    if (current != nullptr) *current += line + "\n";
  }
  return parts;
}

const std::string* member(const std::map<std::string, std::string>& parts, const std::string& suffix) {
  for (const auto& [name, text] : parts)
    if (name.ends_with(suffix)) return &text;
  return nullptr;
}

// The instructions of a disassembly that x86-64's baseline (SSE2) lacks: any VEX or EVEX form (an
// AVX mnemonic, a ymm, zmm or mask register) and the later SSE, bit-manipulation and count
// instructions a compiler emits on its own.
std::vector<std::string> beyond_baseline(const std::string& disassembly) {
  static const std::regex vector_ext(R"(\t(v[a-z0-9]+|k[a-z]+)(\s|$)|%[yz]mm[0-9]+|%k[0-7])");
  static const std::regex later(
      R"(\t(pshufb|palignr|pmaddubsw|pabs[bwd]|phadd[wd]|pmulld|pminsd|pmaxsd|pminud|pmaxud|pmovsx[a-z]+|pmovzx[a-z]+|)"
      R"(ptest|pcmpeqq|pcmpgtq|pblendw|pblendvb|blendvp[sd]|blendp[sd]|roundp[sd]|rounds[sd]|dpp[sd]|insertps|pinsr[bdq]|)"
      R"(pextr[bdq]|extractps|pack[us]sdw|popcnt|lzcnt|tzcnt|andn|bextr|blsi|blsmsk|blsr|bzhi|pdep|pext|rorx|sarx|shlx|shrx|)"
      R"(movbe|crc32|haddp[sd]|hsubp[sd]|addsubp[sd]|movshdup|movsldup|movddup|lddqu)(\s|$))");
  std::vector<std::string> found;
  std::istringstream lines(disassembly);
  for (std::string line; std::getline(lines, line);)
    if (std::regex_search(line, vector_ext) || std::regex_search(line, later)) found.push_back(line);
  return found;
}

}  // namespace

TEST_CASE("isa dispatch: one binary under every instruction set the CPU runs matches the interpreter") {
  castnet::interp::Interpreter<double> ref(castnet::gen::load_graph(CASTNET_ISA_LINK_SPEC));
  std::mt19937 rng(23);
  std::uniform_real_distribution<double> u(-0.8, 0.8);
  std::vector<float> params;
  for (auto& tensor : ref.params())
    for (auto& v : tensor) {
      params.push_back(static_cast<float>(u(rng)));
      v = params.back();
    }
  const std::size_t batch = 5, inputs = 72, outputs = 6;  // isa_link.toml
  std::vector<float> x(batch * inputs), target(batch);
  for (auto& v : x) v = static_cast<float>(u(rng));
  for (auto& v : target) v = static_cast<float>(rng() % outputs);
  const std::vector<double> xd(x.begin(), x.end()), td(target.begin(), target.end());
  std::vector<double> y_ref(batch * outputs), dx_ref(batch * inputs);
  ref.forward(xd.data(), batch, y_ref.data());
  std::vector<std::vector<double>> g_ref;
  const double loss_ref = ref.loss_and_grad(xd.data(), td.data(), batch - 1, g_ref, dx_ref.data(), kKey);
  std::vector<double> grads_ref, after_ref;
  for (const auto& g : g_ref) grads_ref.insert(grads_ref.end(), g.begin(), g.end());
  REQUIRE(grads_ref.size() == params.size());
  for (std::size_t i = 0; i < params.size(); ++i) after_ref.push_back(params[i] - 0.5 * grads_ref[i]);

  t::TempDir dir;
  std::string bytes;
  for (const auto* v : {&params, &x, &target})
    bytes.append(reinterpret_cast<const char*>(v->data()), v->size() * sizeof(float));
  const auto in = dir.file("in.bin", bytes);

  std::size_t ran = 0;
  for (const Isa& isa : family()) {
    INFO("CASTNET_ISA=" << isa.name);
    const auto r = t::run({CASTNET_ISA_DISPATCH_DRIVER, in.string()}, {}, {"CASTNET_ISA=" + isa.name});
    INFO(r.err);
    if (!isa.runs) {
      CHECK(r.exit_code != 0);
      CHECK_THAT(r.err, Catch::Contains("model isa_dispatch: CASTNET_ISA=" + isa.name +
                                        ": this CPU does not run that instruction set"));
      WARN("not run: this CPU lacks " << isa.name << " (its refusal was checked)");
      continue;
    }
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(r.out);
    std::string chosen, y, y_batch, loss, grads, after;
    std::getline(lines, chosen), std::getline(lines, y), std::getline(lines, y_batch);
    std::getline(lines, loss), std::getline(lines, grads), std::getline(lines, after);
    CHECK(chosen == isa.name);
    const auto check = [](const std::string& what, const std::vector<double>& got, const std::vector<double>& want) {
      INFO(what);
      REQUIRE(got.size() == want.size());
      const auto e = t::relative_error(got.data(), want.data(), got.size());
      INFO(t::describe(e));
      CHECK(e.rel <= kTolerance);
    };
    check("forward", numbers(y), y_ref);
    check("forward_batch", numbers(y_batch), y_ref);
    check("train_step's loss", numbers(loss), {loss_ref});
    check("train_step's gradients", numbers(grads), grads_ref);
    check("train_step_update's parameters", numbers(after), after_ref);
    ++ran;
  }
  CHECK(ran >= 1);

  SECTION("without CASTNET_ISA, the widest the CPU runs") {
    const auto r = t::run({CASTNET_ISA_DISPATCH_DRIVER, in.string()}, {}, {"CASTNET_ISA="});
    REQUIRE(r.exit_code == 0);
    const auto fam = family();
    CHECK(t::first_line(r.out) == std::find_if(fam.begin(), fam.end(), [](const Isa& i) { return i.runs; })->name);
  }
  SECTION("a name that is not an instruction set of the build is refused") {
    for (const std::string name : {"sse2", "AVX2", "native"}) {
      const auto r = t::run({CASTNET_ISA_DISPATCH_DRIVER, in.string()}, {}, {"CASTNET_ISA=" + name});
      INFO(name);
      CHECK(r.exit_code != 0);
      CHECK_THAT(r.err, Catch::Contains("CASTNET_ISA=" + name + ": not an instruction set of this build"));
    }
  }
}

#if defined(__x86_64__)
TEST_CASE("isa dispatch: the dispatcher's object holds only baseline x86-64 instructions") {
  const auto r = t::run({CASTNET_OBJDUMP, "-d", "-C", "--no-show-raw-insn", CASTNET_ISA_DISPATCH_LIBRARY});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto parts = by_member(r.out);
  const std::string* dispatcher = member(parts, "isa_dispatch_dispatch.cpp.o");
  REQUIRE(dispatcher != nullptr);
  CHECK(dispatcher->find("isa_dispatch::forward") != std::string::npos);  // not an empty match
  const auto beyond = beyond_baseline(*dispatcher);
  INFO("beyond the baseline:\n" << [&] { std::string s; for (const auto& l : beyond) s += l + "\n"; return s; }());
  CHECK(beyond.empty());
  // The check itself: it finds the AVX-512 unit's and the AVX2 unit's instructions, and none in
  // the SSE4.2 unit's but its later SSE ones.
  const std::string* avx512 = member(parts, "isa_dispatch_avx512.cpp.o");
  const std::string* avx2 = member(parts, "isa_dispatch_avx2.cpp.o");
  REQUIRE(avx512 != nullptr);
  REQUIRE(avx2 != nullptr);
  CHECK(avx512->find("%zmm") != std::string::npos);
  CHECK(avx2->find("%ymm") != std::string::npos);
  CHECK(avx2->find("%zmm") == std::string::npos);
  CHECK(!beyond_baseline(*avx512).empty());
  CHECK(!beyond_baseline(*avx2).empty());
}
#endif

TEST_CASE("isa dispatch: the library's units define no weak symbol in common") {
  const auto r = t::run({CASTNET_NM, "--defined-only", "-C", CASTNET_ISA_DISPATCH_LIBRARY});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto parts = by_member(r.out);
  std::vector<std::string> isas;
  for (const Isa& i : family()) isas.push_back(i.name);
  isas.push_back("dispatch");
  std::vector<std::set<std::string>> weak;
  for (const auto& isa : isas) {
    INFO(isa);
    const std::string* text = member(parts, "isa_dispatch_" + isa + ".cpp.o");
    REQUIRE(text != nullptr);
    weak.push_back(t::weak_symbols_in(*text));
    if (isa != "dispatch") CHECK(text->find("isa_dispatch::dispatch::kernels_" + isa) != std::string::npos);
  }
  for (std::size_t i = 0; i < weak.size(); ++i)
    for (std::size_t j = i + 1; j < weak.size(); ++j) {
      const auto both = t::shared_weak(weak[i], weak[j]);
      std::string list;
      for (const auto& s : both) list += "\n  " + s;
      INFO(isas[i] << " and " << isas[j] << " both define:" << list);
      CHECK(both.empty());
    }
}

// castnet_add_model(... WEIGHTS w ARCH dispatch): the golden xor export (its weights trained), one
// program under each instruction set the CPU runs, each giving the same probabilities to float
// rounding and the XOR of the corners.
TEST_CASE("isa dispatch: an exported model built with WEIGHTS and ARCH dispatch runs under every instruction set") {
  std::vector<double> first;
  for (const Isa& isa : family()) {
    INFO("CASTNET_ISA=" << isa.name);
    const auto r = t::run({CASTNET_ISA_EXPORT_DISPATCH_DRIVER}, {}, {"CASTNET_ISA=" + isa.name});
    INFO(r.err);
    if (!isa.runs) {
      CHECK(r.exit_code != 0);
      continue;
    }
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(r.out);
    std::string chosen;
    std::getline(lines, chosen);
    CHECK(chosen == isa.name);
    std::vector<double> y;
    for (std::string line; std::getline(lines, line);) y.push_back(std::strtod(line.c_str(), nullptr));
    REQUIRE(y.size() == 4);
    CHECK(y[0] < 0.5);
    CHECK(y[1] > 0.5);
    CHECK(y[2] > 0.5);
    CHECK(y[3] < 0.5);
    if (first.empty()) first = y;
    for (std::size_t i = 0; i < 4; ++i) CHECK(std::abs(y[i] - first[i]) <= 1e-6);
  }
  CHECK(!first.empty());
}
