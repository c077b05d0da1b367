// The castnet CLI end to end, as a user runs it: check, gen, train (generate, compile once,
// cache), eval and predict on XOR; a spec written outside the repository; and bad input, which
// must exit 1 with a message naming the file and the place and leave no partial output behind.
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>

#include <filesystem>
#include <cctype>
#include <sstream>

#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::run;
using castnet::test::TempDir;
using castnet::test::write_file;

namespace {

const std::string kXor = std::string(CASTNET_SOURCE_DIR) + "/specs/xor.toml";

struct Cli {
  TempDir dir;  // working directory and compile cache of this test
  castnet::test::Result operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), CASTNET_CLI_EXE);
    return run(args, dir.path(), {"CASTNET_CACHE_DIR=" + (dir.path() / "cache").string()});
  }
  fs::path operator/(const std::string& p) const { return dir.path() / p; }
};

std::size_t count_lines(const std::string& s, const std::string& prefix) {
  std::istringstream in(s);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_CASE("cli: check prints the layer table with totals, the planned memory and the source size") {
  Cli cli;
  const auto r = cli({"check", kXor});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("hidden               dense+tanh         (2)                       6             10") != std::string::npos);
  CHECK(r.out.find("out                  dense              (1)                       3              5") != std::string::npos);
  CHECK(r.out.find("total                                                             9             15") != std::string::npos);
  CHECK(r.out.find("memory: Workspace 64 values") != std::string::npos);
  CHECK(r.out.find("generated source: ") != std::string::npos);
}

TEST_CASE("cli: usage errors exit 2 with one line that points to --help") {
  Cli cli;
  CHECK(cli({}).exit_code == 2);
  const auto unknown = cli({"frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err == "castnet: unknown verb 'frobnicate' (castnet --help lists the verbs)\n");
  CHECK(cli({"check"}).exit_code == 2);
  const auto bogus = cli({"train", kXor, "--bogus", "1"});
  CHECK(bogus.exit_code == 2);
  CHECK(bogus.err == "castnet train: unknown option --bogus (castnet train --help lists the options)\n");
  CHECK(cli({"eval", kXor}).exit_code == 2);  // --weights missing
  CHECK(cli({"gen", kXor}).exit_code == 2);   // -o missing
}

TEST_CASE("cli: --help for every verb prints its options, each of which the verb takes, and starts nothing") {
  Cli cli;
  const auto overview = cli({"--help"});
  CHECK(overview.exit_code == 0);
  for (const std::string verb :
       {"check", "gen", "train", "eval", "predict", "export", "bench", "import", "landscape", "sweep"}) {
    INFO(verb);
    CHECK_THAT(overview.out, Catch::Matchers::Contains("  " + verb + " "));
    // --help anywhere among the arguments: nothing is read, built or trained.
    const auto help = cli({verb, "missing.toml", "--out", "run", "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.err.empty());
    REQUIRE(help.out.rfind("usage: castnet " + verb + " ", 0) == 0);
    CHECK(cli({verb, "-h"}).out == help.out);
    CHECK_FALSE(fs::exists(cli / "run"));
    // Each option the usage lists ("  --name VALUE  text" or "  -o, --out VALUE  text") is one the
    // verb accepts: with it, the missing spec is the error (exit 1), not the option.
    std::istringstream lines(help.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string option, value;
      words >> option;
      if (option.rfind("-", 0) != 0 || option == "--benchmark_*") continue;
      if (option.back() == ',') words >> option;  // "-o, --out": the long form
      words >> value;
      const bool takes_value = !value.empty() && (std::isupper(static_cast<unsigned char>(value[0])) || value[0] == 'a' ||
                                                  value.find('|') != std::string::npos || value.find(',') != std::string::npos);
      std::vector<std::string> args = {verb, "missing.toml", option};
      if (takes_value) args.push_back(option == "--arch" && verb == "bench" ? "native" : "1");
      const auto r = cli(args);
      INFO(line << "\n" << r.err);
      CHECK(r.err.find("unknown option") == std::string::npos);
      CHECK(r.err.find("does not take") == std::string::npos);
    }
  }
  // The bootstrap script's own verbs: their part of its header, before any install or build.
  for (const std::string verb : {"demo", "fuzz", "test"}) {
    const auto r = run({std::string(CASTNET_SOURCE_DIR) + "/castnet", verb, "--help"}, cli.dir.path(),
                       {"CASTNET_BUILD_DIR=" + (cli / "no-build").string()});
    INFO(verb << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("./castnet " + verb, 0) == 0);
    CHECK_FALSE(fs::exists(cli / "no-build"));
  }
  const auto version = cli({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("castnet ", 0) == 0);
  CHECK_THAT(version.out, Catch::Matchers::Contains("built for "));
}

TEST_CASE("cli: gen writes a header twice byte-identically") {
  Cli cli;
  REQUIRE(cli({"gen", kXor, "-o", "out"}).exit_code == 0);
  const std::string first = read_file(cli / "out/xor_net.hpp");
  CHECK(first.find("// Generated by castnet-gen") == 0);
  const auto again = cli({"gen", kXor, "-o", "out"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("(unchanged)") != std::string::npos);
  CHECK(read_file(cli / "out/xor_net.hpp") == first);
}

TEST_CASE("cli: gen --batch plans the model for another batch and says so in the banner") {
  Cli cli;
  REQUIRE(cli({"gen", kXor, "-o", "out", "--batch", "2", "--namespace", "xor_half"}).exit_code == 0);
  const std::string header = read_file(cli / "out/xor_net.hpp");
  CHECK(header.find("inline constexpr std::size_t kBatch = 2;") != std::string::npos);
  CHECK(header.find("--namespace xor_half --batch 2") != std::string::npos);
  CHECK(cli({"gen", kXor, "-o", "out", "--batch", "0"}).exit_code == 2);
  CHECK(cli({"gen", kXor, "-o", "out", "--batch", "two"}).exit_code == 2);
}

TEST_CASE("cli: train, eval and predict XOR, compiling the runner once") {
  Cli cli;
  const auto t = cli({"train", kXor, "--out", "run"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  CHECK(t.err.find("compiling the xor_net runner") != std::string::npos);
  CHECK(count_lines(t.out, "epoch ") == 300);
  CHECK(t.out.find("epoch 300/300") != std::string::npos);
  CHECK(fs::exists(cli / "run/weights.safetensors"));
  const std::string metrics = read_file(cli / "run/metrics.csv");
  CHECK(metrics.rfind("epoch,loss,accuracy,val_loss,val_accuracy,lr,samples_per_s,seconds\n", 0) == 0);
  CHECK(count_lines(metrics, "") == 301);

  const auto e = cli({"eval", kXor, "--weights", "run/weights.safetensors"});
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  CHECK(e.out.find("accuracy 100.00% (4/4)") != std::string::npos);
  CHECK(e.err.find("compiling") == std::string::npos);  // same spec: the cached runner

  write_file(cli / "in.csv", "a,b\n0,0\n0,1\n1,0\n1,1\n");
  const auto p = cli({"predict", kXor, "--weights", "run/weights.safetensors", "--input", "in.csv"});
  REQUIRE(p.exit_code == 0);
  std::istringstream rows(p.out);
  std::string header, row;
  std::getline(rows, header);
  CHECK(header == "p0");
  const double expected[] = {0, 1, 1, 0};
  for (double want : expected) {
    REQUIRE(std::getline(rows, row));
    CHECK(std::abs(std::stod(row) - want) < 0.1);
  }

  // --init continues from given weights: the first epoch already has a low loss.
  const auto resumed = cli({"train", kXor, "--out", "run2", "--init", "run/weights.safetensors", "--epochs", "1"});
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.err.find("compiling") == std::string::npos);
  const auto loss_at = resumed.out.find("loss ");
  REQUIRE(loss_at != std::string::npos);
  CHECK(std::stod(resumed.out.substr(loss_at + 5)) < 0.05);

  // The same spec and seed give bit-identical weights.
  REQUIRE(cli({"train", kXor, "--out", "run3"}).exit_code == 0);
  CHECK(read_file(cli / "run3/weights.safetensors") == read_file(cli / "run/weights.safetensors"));
}

TEST_CASE("cli: a spec written outside the repository trains with --data") {
  Cli cli;
  write_file(cli / "band.toml", R"(name = "band"
input = [1]
batch = 8

[[layer]]
type = "dense"
units = 8
activation = "sigmoid"

[[layer]]
type = "dense"
units = 2

[loss]
type = "softmax_cross_entropy"

[optimizer]
type = "sgd"
lr = 0.5

[train]
epochs = 400
seed = 3
)");
  // class 1 inside [-0.5, 0.5], class 0 outside: needs the hidden layer.
  std::string csv = "x,label\n";
  for (int i = 0; i < 40; ++i) {
    const double x = -2.0 + 4.0 * i / 39;
    csv += std::to_string(x) + "," + (std::abs(x) < 0.5 ? "1" : "0") + "\n";
  }
  write_file(cli / "band.csv", csv);
  const auto t = cli({"train", "band.toml", "--data", "band.csv", "--labels", "label", "--out", "band_run"});
  INFO(t.out.substr(t.out.size() > 500 ? t.out.size() - 500 : 0) << t.err);
  REQUIRE(t.exit_code == 0);
  const auto e = cli({"eval", "band.toml", "--weights", "band_run/weights.safetensors", "--data", "band.csv",
                      "--labels", "label"});
  REQUIRE(e.exit_code == 0);
  INFO(e.out);
  const auto at = e.out.find("accuracy ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(e.out.substr(at + 9)) >= 95.0);
}

TEST_CASE("cli: bad data exits 1 naming the file and place, before any compile, and writes no weights") {
  Cli cli;
  struct Case {
    const char* name;
    const char* csv;
    const char* place;  // what the message must contain
  };
  const Case cases[] = {
      {"ragged.csv", "a,b,y\n0,0,0\n0,1\n", "ragged.csv:3:"},
      {"text.csv", "a,b,y\n0,0,0\n0,x1,1\n", "text.csv:3:3:"},
      {"empty.csv", "", "empty.csv"},
      {"nolabel.csv", "a,b,z\n0,0,0\n", "no column 'y'"},
  };
  for (const auto& c : cases) {
    write_file(cli / c.name, c.csv);
    const auto r = cli({"train", kXor, "--data", c.name, "--out", std::string("out_") + c.name});
    INFO(c.name << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(c.place) != std::string::npos);
    CHECK(r.err.find("compiling") == std::string::npos);  // the data is checked first
    CHECK_FALSE(fs::exists(cli / (std::string("out_") + c.name) / "weights.safetensors"));
  }
  // A path in the spec: the message points at the spec's line too, for train, eval and check.
  std::string spec = read_file(kXor);
  spec.replace(spec.find("train = \"xor.csv\""), 17, "train = \"missing.csv\"");
  write_file(cli / "xor.toml", spec);
  const std::string note = "xor.toml:31:9: note: [data] train names it";
  const auto t = cli({"train", "xor.toml"});
  CHECK(t.exit_code == 1);
  CHECK_THAT(t.err, Catch::Matchers::StartsWith("missing.csv: error: cannot read: No such file or directory"));
  CHECK_THAT(t.err, Catch::Matchers::Contains(note));
  CHECK(cli({"eval", "xor.toml", "--weights", "none.safetensors"}).err.find(note) != std::string::npos);
  const auto c = cli({"check", "xor.toml"});
  CHECK(c.exit_code == 1);
  CHECK_THAT(c.err, Catch::Matchers::Contains(note));
  for (const auto& e : fs::directory_iterator(cli / "cache" / "runners")) CHECK_FALSE(e.is_directory());  // no runner
}

TEST_CASE("cli: check opens the spec's data and reports its rows and classes") {
  Cli cli;
  write_file(cli / "three.csv", "a,b,class\n0,0,0\n0,1,1\n1,0,1\n1,1,2\n");
  std::string spec = read_file(kXor);
  spec.replace(spec.find("units = 1"), 9, "units = 3");
  spec.replace(spec.find("binary_cross_entropy"), 20, "softmax_cross_entropy");
  spec.replace(spec.find("train = \"xor.csv\""), 17, "train = \"three.csv\"");
  spec.replace(spec.find("labels = [\"y\"]"), 14, "labels = [\"class\"]");
  write_file(cli / "three.toml", spec);
  const auto c = cli({"check", "three.toml"});
  INFO(c.err);
  REQUIRE(c.exit_code == 0);
  CHECK_THAT(c.out, Catch::Matchers::Contains("data train: three.csv: 4 rows; classes 0: 1 (25.0%), 1: 2 (50.0%), 2: 1 (25.0%)\n"));
  const auto x = cli({"check", kXor});
  CHECK_THAT(x.out, Catch::Matchers::EndsWith("/specs/xor.csv: 4 rows; target 1 in output 0: 2 (50.0%)\n"));

  // --json: the same figures for scripts, read back here by Python's json module.
  const auto j = cli({"check", "three.toml", "--json"});
  REQUIRE(j.exit_code == 0);
  write_file(cli / "check.json", j.out);
  const auto parsed = run({"/usr/bin/python3", "-c",
                           "import json; d = json.load(open('check.json')); "
                           "print(d['name'], d['params'], [l['name'] for l in d['layers']], d['layers'][0]['output'], "
                           "d['data']['train']['rows'], d['data']['train']['counts'], d['loss'])"},
                          cli.dir.path());
  INFO(j.out << parsed.err);
  CHECK(parsed.out == "xor_net 15 ['hidden', 'out'] [2] 4 [1, 2, 1] softmax_cross_entropy\n");
  // --quiet: nothing but the exit code, for a spec and its data that are fine and for bad data.
  const auto q = cli({"check", "three.toml", "--quiet"});
  CHECK(q.exit_code == 0);
  CHECK(q.out.empty());
  write_file(cli / "three.csv", "a,b,class\n0,0,7\n");
  CHECK(cli({"check", "three.toml", "--quiet"}).exit_code == 1);
}

TEST_CASE("cli: CSV headers are a contract: columns map by name, a mismatch or a missing header is refused") {
  Cli cli;
  // Asymmetric data, so that swapped inputs would give other predictions.
  write_file(cli / "train.csv", "a,b,y\n0,0,0\n0,1,1\n1,0,0\n1,1,1\n0,2,1\n2,0,0\n");
  const auto t = cli({"train", kXor, "--data", "train.csv", "--out", "run", "--epochs", "50"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const auto weights = castnet::io::read_safetensors(cli / "run/weights.safetensors");
  CHECK(weights.metadata.at("castnet_input_columns") == "a,b");

  write_file(cli / "ab.csv", "a,b\n0,1\n2,0\n0.5,0.25\n");
  write_file(cli / "ba.csv", "b,a\n1,0\n0,2\n0.25,0.5\n");
  const auto ab = cli({"predict", kXor, "--weights", "run/weights.safetensors", "--input", "ab.csv"});
  REQUIRE(ab.exit_code == 0);
  const auto ba = cli({"predict", kXor, "--weights", "run/weights.safetensors", "--input", "ba.csv"});
  INFO(ba.err);
  REQUIRE(ba.exit_code == 0);
  CHECK(ba.out == ab.out);  // mapped by name
  // eval maps by name too: the loss on swapped columns is the same.
  write_file(cli / "yba.csv", "y,b,a\n1,1,0\n0,0,2\n");
  write_file(cli / "aby.csv", "a,b,y\n0,1,1\n2,0,0\n");
  CHECK(cli({"eval", kXor, "--weights", "run/weights.safetensors", "--data", "yba.csv"}).out ==
        cli({"eval", kXor, "--weights", "run/weights.safetensors", "--data", "aby.csv"}).out);

  write_file(cli / "ac.csv", "a,c\n0,1\n");
  const auto ac = cli({"predict", kXor, "--weights", "run/weights.safetensors", "--input", "ac.csv"});
  CHECK(ac.exit_code == 1);
  CHECK_THAT(ac.err, Catch::Matchers::Contains("ac.csv:1: error: the input columns are not those the weights were "
                                               "trained on: missing b; not trained on c; trained on a, b"));
  // --json: train's lines, eval's and predict's objects, read back by Python's json module.
  const auto py = [&](const std::string& file, const std::string& expression) {
    const auto r = run({"/usr/bin/python3", "-c",
                        "import json; lines = [json.loads(l) for l in open('" + file + "')]; d = lines[-1]; print(" +
                            expression + ")"},
                       cli.dir.path());
    INFO(r.err);
    return r.out;
  };
  const auto tj = cli({"train", kXor, "--data", "train.csv", "--out", "run_json", "--epochs", "3", "--json"});
  REQUIRE(tj.exit_code == 0);
  write_file(cli / "train.json", tj.out);
  CHECK(py("train.json", "len(lines), [l['epoch'] for l in lines[:-1]], lines[0]['epochs'], d['weights'], d['test']") ==
        "4 [1, 2, 3] 3 run_json/weights.safetensors None\n");
  write_file(cli / "eval.json", cli({"eval", kXor, "--weights", "run/weights.safetensors", "--data", "aby.csv", "--json"}).out);
  CHECK(py("eval.json", "d['rows'], d['evaluation']['scored'], sorted(d['quality']['outputs'][0])") ==
        "2 2 ['f1', 'fn', 'fp', 'precision', 'recall', 'roc_auc', 'tn', 'tp']\n");
  write_file(cli / "predict.json", cli({"predict", kXor, "--weights", "run/weights.safetensors", "--input", "ab.csv", "--json"}).out);
  CHECK(py("predict.json", "d['columns'], len(d['rows'])") == "['p0'] 3\n");
  for (const std::string verb : {"train", "eval", "predict"}) {
    std::vector<std::string> args = {verb, kXor, "--quiet"};
    if (verb == "train") args.insert(args.end(), {"--data", "train.csv", "--out", "run_quiet", "--epochs", "2"});
    if (verb != "train") args.insert(args.end(), {"--weights", "run/weights.safetensors"});
    if (verb == "eval") args.insert(args.end(), {"--data", "aby.csv"});
    if (verb == "predict") args.insert(args.end(), {"--input", "ab.csv"});
    const auto q = cli(args);
    INFO(verb << ": " << q.err);
    CHECK(q.exit_code == 0);
    CHECK(q.out.empty());
  }

  write_file(cli / "bare.csv", "0.5,1\n2,0\n");
  const auto bare = cli({"predict", kXor, "--weights", "run/weights.safetensors", "--input", "bare.csv"});
  CHECK(bare.exit_code == 1);
  CHECK_THAT(bare.err, Catch::Matchers::Contains("bare.csv:1:1: error: the first row holds numbers, not column names"));
}

TEST_CASE("cli: a run of another network in --out is not replaced without --force") {
  Cli cli;
  REQUIRE(cli({"train", kXor, "--out", "run", "--epochs", "2"}).exit_code == 0);
  const std::string before = read_file(cli / "run/weights.safetensors");
  // The same network with other settings trains there again; a wider one is refused.
  CHECK(cli({"train", kXor, "--out", "run", "--epochs", "3", "--lr", "0.1"}).exit_code == 0);
  std::string wide = read_file(kXor);
  wide.replace(wide.find("units = 2"), 9, "units = 3");
  wide.replace(wide.find("train = \"xor.csv\""), 17, "train = \"" + std::string(CASTNET_SOURCE_DIR) + "/specs/xor.csv\"");
  write_file(cli / "wide.toml", wide);
  const std::string kept = read_file(cli / "run/weights.safetensors");
  const auto refused = cli({"train", "wide.toml", "--out", "run", "--epochs", "2"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err == "castnet train: error: --out run holds another network's run (its weights have another "
                       "'hidden.weight'): give another --out, or --force to replace it\n");
  CHECK(read_file(cli / "run/weights.safetensors") == kept);
  CHECK(kept != before);
  CHECK(cli({"train", "wide.toml", "--out", "run", "--epochs", "2", "--force"}).exit_code == 0);
  CHECK(read_file(cli / "run/weights.safetensors") != kept);
}

TEST_CASE("cli: bad weight files exit 1 naming the file and the tensor") {
  Cli cli;
  REQUIRE(cli({"train", kXor, "--out", "run", "--epochs", "2"}).exit_code == 0);
  const std::string good = read_file(cli / "run/weights.safetensors");
  write_file(cli / "truncated.safetensors", good.substr(0, good.size() - 5));
  const auto t = cli({"eval", kXor, "--weights", "truncated.safetensors"});
  CHECK(t.exit_code == 1);
  CHECK(t.err.find("truncated.safetensors") != std::string::npos);

  // Weights of another spec (hidden layer of 3): the shape mismatch names the tensor.
  write_file(cli / "wide.toml", "name = \"xor_net\"\ninput = [2]\nbatch = 4\n[[layer]]\nname = \"hidden\"\ntype = \"dense\"\n"
                                "units = 3\nactivation = \"tanh\"\n[[layer]]\nname = \"out\"\ntype = \"dense\"\nunits = 1\n"
                                "[loss]\ntype = \"binary_cross_entropy\"\n[optimizer]\ntype = \"momentum\"\nlr = 0.5\n"
                                "momentum = 0.9\n[data]\ntrain = \"" + std::string(CASTNET_SOURCE_DIR) +
                                "/specs/xor.csv\"\nlabels = [\"y\"]\n[train]\nepochs = 1\n");
  REQUIRE(cli({"train", "wide.toml", "--out", "wide"}).exit_code == 0);
  const auto s = cli({"eval", kXor, "--weights", "wide/weights.safetensors"});
  CHECK(s.exit_code == 1);
  CHECK(s.err.find("'hidden.weight'") != std::string::npos);
  // So does every other verb that reads weights, and --resume a checkpoint of the other spec.
  const std::string shape = "wide/weights.safetensors: error: tensor 'hidden.weight' has shape [3, 2], the spec needs [2, 2]";
  write_file(cli / "in.csv", "a,b\n0,1\n");
  const auto p = cli({"predict", kXor, "--weights", "wide/weights.safetensors", "--input", "in.csv"});
  CHECK(p.exit_code == 1);
  CHECK(p.err.find(shape) != std::string::npos);
  const auto i = cli({"train", kXor, "--out", "init_run", "--init", "wide/weights.safetensors"});
  CHECK(i.exit_code == 1);
  CHECK(i.err.find(shape) != std::string::npos);
  CHECK_FALSE(fs::exists(cli / "init_run/weights.safetensors"));
  const auto x = cli({"export", kXor, "--weights", "wide/weights.safetensors", "-o", "exported/xor.hpp"});
  CHECK(x.exit_code == 1);
  CHECK(x.err.find(shape) != std::string::npos);
  CHECK_FALSE(fs::exists(cli / "exported/xor.hpp"));
  fs::create_directories(cli / "other");
  fs::copy_file(cli / "wide/checkpoint.safetensors", cli / "other/checkpoint.safetensors");
  const auto r = cli({"train", kXor, "--out", "other", "--resume"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("other/checkpoint.safetensors: error: tensor 'params/hidden.weight' has shape [3, 2], the spec "
                   "needs [2, 2];\nthis checkpoint is of model 'xor_net' (network sha256 ") != std::string::npos);
  CHECK(r.err.find("train into another --out directory") != std::string::npos);
  CHECK(read_file(cli / "other/checkpoint.safetensors") == read_file(cli / "wide/checkpoint.safetensors"));
  CHECK_FALSE(fs::exists(cli / "other/weights.safetensors"));

  // A damaged file (one bit of the last tensor flipped) fails its checksum, naming the tensor.
  std::string damaged = good;
  damaged.back() ^= 0x04;
  write_file(cli / "damaged.safetensors", damaged);
  const auto d = cli({"eval", kXor, "--weights", "damaged.safetensors"});
  CHECK(d.exit_code == 1);
  CHECK(d.err.find("damaged.safetensors: error: tensor 'out.bias' (bytes ") != std::string::npos);
  CHECK(d.err.find("the file is damaged") != std::string::npos);
  fs::create_directories(cli / "damaged");
  damaged = read_file(cli / "run/checkpoint.safetensors");
  damaged.back() ^= 0x01;
  write_file(cli / "damaged/checkpoint.safetensors", damaged);
  const auto dr = cli({"train", kXor, "--out", "damaged", "--resume"});
  CHECK(dr.exit_code == 1);
  CHECK(dr.err.find("damaged/checkpoint.safetensors: error: tensor '") != std::string::npos);
  CHECK(dr.err.find("the file is damaged") != std::string::npos);

  const auto m = cli({"eval", kXor, "--weights", "missing.safetensors"});
  CHECK(m.exit_code == 1);
  CHECK(m.err.find("missing.safetensors") != std::string::npos);
}
