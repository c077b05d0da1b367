// Hostile specs too large to check in: written here, run through castnet-gen like the specs in
// tests/errors/specs. Each must exit 1 with a file:line:col diagnostic naming the limit, quickly,
// and write nothing. Also: the limits can be raised by whoever runs the generator (--limit,
// CASTNET_LIMITS) but a bad setting is a usage error; and the spec strings that never reach C++
// (data paths, label columns, the spec's own file name) are shown not to.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::first_line;

namespace {

std::string dense(std::size_t units, const std::string& extra = "") {
  return "[[layer]]\ntype = \"dense\"\nunits = " + std::to_string(units) + "\n" + extra + "\n";
}

std::string spec(const std::string& layers, const std::string& top = "name = \"m\"\ninput = [4]\n",
                 const std::string& tail = "") {
  return top + "\n" + layers + "[loss]\ntype = \"mse\"\n" + tail;
}

struct Outcome {
  castnet::test::Result r;
  bool wrote = false;  // the output folder exists afterwards
  double seconds = 0;
};

// Writes `text` as <dir>/<file> and runs castnet-gen on it from <dir>, with extra arguments and
// environment entries.
Outcome generate(const castnet::test::TempDir& dir, const std::string& file, const std::string& text,
                 const std::vector<std::string>& extra = {}, const std::vector<std::string>& env = {}) {
  fs::create_directories((dir.path() / file).parent_path());
  std::ofstream(dir.path() / file, std::ios::binary) << text;
  const fs::path out = dir.path() / ("gen-" + file);
  fs::remove_all(out);
  std::vector<std::string> args = {CASTNET_GEN_EXE, file, "-o", out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto start = std::chrono::steady_clock::now();
  Outcome o{castnet::test::run(args, dir.path(), env), false, 0};
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  o.wrote = fs::exists(out);
  return o;
}

// Exit 1, exactly `diagnostic` as the first line, nothing written, within 10 s.
void check_rejected(const Outcome& o, const std::string& diagnostic) {
  INFO(o.r.err.substr(0, 2000));
  CHECK(o.r.exit_code == 1);
  CHECK(first_line(o.r.err) == diagnostic);
  CHECK_FALSE(o.wrote);
  CHECK(o.seconds < 10);
}

}  // namespace

TEST_CASE("hostile: a 1 MB layer name is rejected, shown cut short") {
  castnet::test::TempDir dir;
  const std::string name(1'000'000, 'a');
  const auto o = generate(dir, "long_name.toml", spec("[[layer]]\nname = \"" + name + "\"\ntype = \"dense\"\nunits = 2\n\n"));
  check_rejected(o, "long_name.toml:5:8: error: layer #1: invalid name '" + std::string(81, 'a') +
                        "...': a name must be at most 48 characters");
}

TEST_CASE("hostile: deep TOML nesting fails cleanly instead of overflowing the stack") {
  castnet::test::TempDir dir;
  SECTION("100000 nested arrays") {
    check_rejected(generate(dir, "arrays.toml", "a = " + std::string(100'000, '[')),
                   "arrays.toml:1:261: error: invalid TOML: Error while parsing value: exceeded maximum nested value "
                   "depth of 256 (TOML_MAX_NESTED_VALUES)");
  }
  SECTION("100000 nested inline tables") {
    std::string text = "a = ";
    for (int i = 0; i < 100'000; ++i) text += "{ b = ";
    check_rejected(generate(dir, "tables.toml", text),
                   "tables.toml:1:1541: error: invalid TOML: Error while parsing value: exceeded maximum nested value "
                   "depth of 256 (TOML_MAX_NESTED_VALUES)");
  }
  // toml++ has no depth limit on dotted keys: 50000 parts crashed castnet-gen (SIGSEGV) before
  // the key scan in parse_spec.cpp.
  SECTION("a dotted key of 100000 parts") {
    std::string text = "name = \"m\"\n  a";
    for (int i = 0; i < 100'000; ++i) text += ".b";
    check_rejected(generate(dir, "dotted.toml", text + " = 1\n"),
                   "dotted.toml:2:3: error: a dotted key of more than 32 parts (castnet's keys have at most two)");
  }
  SECTION("a table header of 100000 parts") {
    std::string text = "[[a";
    for (int i = 0; i < 100'000; ++i) text += ".\"b\"";
    check_rejected(generate(dir, "header.toml", text + "]]\n"),
                   "header.toml:1:3: error: a dotted key of more than 32 parts (castnet's keys have at most two)");
  }
}

TEST_CASE("hostile: deep and huge graphs") {
  castnet::test::TempDir dir;
  SECTION("1025 [[layer]] tables: the limit 'layers'") {
    std::string layers;
    for (int i = 0; i < 1025; ++i) layers += dense(4);
    check_rejected(generate(dir, "layers.toml", spec(layers)),
                   "layers.toml:4:1: error: a spec may hold at most 1024 layers (limit 'layers'), this one has 1025");
  }
  SECTION("100000 [[layer]] tables: the limit 'spec_bytes' first, then 'layers'") {
    std::string layers;
    for (int i = 0; i < 100'000; ++i) layers += "[[layer]]\ntype = \"relu\"\n";
    const std::string text = spec(layers);
    REQUIRE(text.size() > (1u << 20));
    check_rejected(generate(dir, "many.toml", text), "many.toml:1:1: error: the spec is larger than 1048576 bytes (limit 'spec_bytes')");
    check_rejected(generate(dir, "many.toml", text, {"--limit", "spec_bytes=2^23"}),
                   "many.toml:4:1: error: a spec may hold at most 1024 layers (limit 'layers'), this one has 100000");
  }
  SECTION("an add with 1025 inputs: the limit 'layers' on one layer's inputs") {
    std::string names = "\"a\"";
    for (int i = 0; i < 1024; ++i) names += ", \"a\"";
    const auto o = generate(dir, "fan_in.toml",
                            spec("[[layer]]\nname = \"a\"\ntype = \"dense\"\nunits = 4\n\n[[layer]]\ntype = \"add\"\ninputs = [" +
                                 names + "]\n\n"));
    check_rejected(o, "fan_in.toml:11:10: error: layer 'add2': inputs may name at most 1024 layers (limit 'layers')");
  }
  SECTION("adds of 1000 inputs each: the limit 'inputs' on the graph's edges") {
    // Before the limit, 200 of these took castnet-gen over two minutes (the memory plan places a
    // gradient temporary per edge, quadratic in their number).
    std::string names = "\"a\"";
    for (int i = 0; i < 999; ++i) names += ", \"a\"";
    std::string layers = "[[layer]]\nname = \"a\"\ntype = \"dense\"\nunits = 4\n\n";
    for (int i = 0; i < 200; ++i) layers += "[[layer]]\ntype = \"add\"\ninputs = [" + names + "]\n\n";
    check_rejected(generate(dir, "edges.toml", spec(layers)),
                   "edges.toml:27:10: error: layer 'add6': the layers' inputs name more than 4096 layers in all (limit 'inputs')");
  }
  SECTION("a chain of 1024 layers, each reading the one before by name, is accepted") {
    std::string layers;
    for (int i = 0; i < 1024; ++i)
      layers += "[[layer]]\nname = \"l" + std::to_string(i) + "\"\ntype = \"relu\"\n" +
                (i ? "inputs = [\"l" + std::to_string(i - 1) + "\"]\n\n" : "\n");
    const auto o = generate(dir, "chain.toml", spec(layers + dense(2, "inputs = [\"l1023\"]")), {"--limit", "layers=1025"});
    INFO(o.r.err);
    CHECK(o.r.exit_code == 0);
    CHECK(o.seconds < 10);
  }
}

TEST_CASE("hostile: parameter, memory and code-size limits") {
  castnet::test::TempDir dir;
  SECTION("units = 65536 over many layers: the limit 'params'") {
    std::string layers;
    for (int i = 0; i < 100; ++i) layers += dense(65536);
    check_rejected(generate(dir, "params.toml", spec(layers)),
                   "params.toml:8:1: error: layer 'dense2': the net would have more than 268435456 parameters (limit 'params')");
  }
  SECTION("1001 small dense layers unroll into 11 MB: the limit 'code_bytes'") {
    std::string layers;
    for (int i = 0; i < 1001; ++i) layers += dense(8);
    const std::string text = spec(layers);
    check_rejected(generate(dir, "code.toml", text),
                   "code.toml:4000:1: error: layer 'dense1000': the generated header would be larger than 8388608 bytes "
                   "(limit 'code_bytes'); this layer emits the most code, 11014 bytes so far: use fewer layers (small "
                   "dense and conv layers are unrolled into straight-line code)");
    // Raised by whoever runs the generator, the same spec passes: on the command line...
    const auto raised = generate(dir, "code.toml", text, {"--limit", "layers=2000,code_bytes=2^24"});
    INFO(raised.r.err);
    CHECK(raised.r.exit_code == 0);
    CHECK(fs::file_size(dir.path() / "gen-code.toml" / "m.hpp") > (8u << 20));
    // ... and through the environment, which a later --limit overrides.
    CHECK(generate(dir, "code.toml", text, {}, {"CASTNET_LIMITS=code_bytes=16777216"}).r.exit_code == 0);
    check_rejected(generate(dir, "code.toml", text, {"--limit", "code_bytes=2^23"}, {"CASTNET_LIMITS=code_bytes=2^24"}),
                   first_line(generate(dir, "code.toml", text).r.err));
  }
}

TEST_CASE("hostile: a spec cannot raise its own limits, and bad limit settings are usage errors") {
  castnet::test::TempDir dir;
  const std::string text = spec(dense(65537));
  const std::string over = "units.toml:6:9: error: layer 'dense1': units must be an integer between 1 and 65536, got 65537 (limit 'units')";
  check_rejected(generate(dir, "units.toml", text), over);
  // A spec has no key for limits: it is an unknown key, not a setting.
  check_rejected(generate(dir, "own.toml", "limits = { units = 1000000 }\n" + text),
                 "own.toml:1:1: error: unknown key 'limits' in the spec (expected one of: name, input, batch, layer, loss, "
                 "optimizer, train, data)");
  CHECK(generate(dir, "units.toml", text, {"--limit", "units=65537"}).r.exit_code == 0);

  for (const auto& [setting, message] : std::vector<std::pair<std::string, std::string>>{
           {"units=0", "limit units='0': must be an integer from 1 to 16777216 (digits, 2^K or MeK)"},
           {"units=2^25", "limit units='2^25': must be an integer from 1 to 16777216 (digits, 2^K or MeK)"},
           {"units=-1", "limit units='-1': must be an integer from 1 to 16777216 (digits, 2^K or MeK)"},
           {"units=1.5", "limit units='1.5': must be an integer from 1 to 16777216 (digits, 2^K or MeK)"},
           {"units=99999999999999999999999", "limit units='99999999999999999999999': must be an integer from 1 to 16777216 (digits, 2^K or MeK)"},
           {"unit=5", "unknown limit 'unit' (keys: units, batch, layers, inputs, spec_bytes, features, window, patch, "
                      "params, workspace, stack, code_bytes)"},
           {"units", "limit 'units': write key=N (keys: units, batch, layers, inputs, spec_bytes, features, window, "
                     "patch, params, workspace, stack, code_bytes)"}}) {
    DYNAMIC_SECTION(setting) {
      const auto cli = generate(dir, "units.toml", text, {"--limit", setting});
      CHECK(cli.r.exit_code == 2);
      CHECK(first_line(cli.r.err) == "castnet-gen: --limit: " + message);
      CHECK_FALSE(cli.wrote);
      const auto env = generate(dir, "units.toml", text, {}, {"CASTNET_LIMITS=" + setting});
      CHECK(env.r.exit_code == 2);
      CHECK(first_line(env.r.err) == "castnet-gen: CASTNET_LIMITS: " + message);
      CHECK_FALSE(env.wrote);
    }
  }
}

TEST_CASE("hostile: the castnet CLI takes --limit and CASTNET_LIMITS too") {
  castnet::test::TempDir dir;
  std::ofstream(dir.path() / "units.toml") << spec(dense(65537));
  const auto run = [&](std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), CASTNET_CLI_EXE);
    return castnet::test::run(args, dir.path(), env);
  };
  CHECK(run({"check", "units.toml"}).exit_code == 1);
  CHECK(run({"check", "units.toml", "--limit", "units=2^17"}).exit_code == 0);
  CHECK(run({"check", "units.toml"}, {"CASTNET_LIMITS=units=131072"}).exit_code == 0);
  CHECK(run({"gen", "units.toml", "-o", "out", "--limit", "units=2^17"}).exit_code == 0);
  const auto bad = run({"check", "units.toml", "--limit", "units=lots"});
  CHECK(bad.exit_code == 2);
  CHECK(first_line(bad.err) ==
        "castnet check: --limit / limit units='lots': must be an integer from 1 to 16777216 (digits, 2^K or MeK) "
        "(castnet check --help lists the options)");
  CHECK(run({"train", "units.toml", "--limit", "nonsense=1", "--out", "run"}).exit_code == 2);
  CHECK_FALSE(fs::exists(dir.path() / "run"));
}

// Spec strings that never become C++: [data] paths and label columns go to the runner as
// arguments (execv, no shell), and the spec's file name reaches only // comments through
// comment_text(). A spec full of them generates a header that holds none of them.
TEST_CASE("hostile: data paths, label columns and the spec's file name never reach the header") {
  castnet::test::TempDir dir;
  const std::string evil = "\\\"*/ #include <cstdlib> ?\?/ \\u202E";
  const std::string file = "a*/x\n#include <cstdlib>\n\\.toml";
  const auto o = generate(dir, file,
                          spec(dense(2), "name = \"m\"\ninput = [4]\n",
                               "\n[data]\ntrain = \"" + evil + "a.csv\"\ntest = \"" + evil + "b.csv\"\nlabels = [\"" + evil +
                                   "y\"]\n"));
  INFO(o.r.err);
  REQUIRE(o.r.exit_code == 0);
  std::ifstream in(dir.path() / ("gen-" + file) / "m.hpp");
  const std::string header((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(header.find("namespace m {") != std::string::npos);
  for (const char* needle : {"a.csv", "b.csv", "?\?/", "\\", "\xe2\x80\xae"}) {
    INFO(needle);
    CHECK(header.find(needle) == std::string::npos);
  }
  // The file name shows in // comments only (the banner, each layer's spec line), made
  // comment-safe: '?' for the newlines and the backslash.
  CHECK(header.find("from a*/x?#include <cstdlib>??.toml. DO NOT EDIT.") != std::string::npos);
  std::istringstream lines(header);
  std::size_t mentions = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find("cstdlib");
    if (at == std::string::npos) continue;
    ++mentions;
    INFO(line);
    CHECK(line.find("// ") < at);
  }
  CHECK(mentions >= 2);
  // In a diagnostic the file name is escaped, so it cannot forge a line of its own.
  check_rejected(generate(dir, "b/x\n#include <cstdlib>.toml", "name = 1\n"),
                 "b/x\\x0a#include <cstdlib>.toml:1:8: error: name must be a string, got an integer");
}
