// castnet sweep end to end: the grid's rows, one compile per network (settings that only change
// training share the runner), resuming keeps finished runs, and bad --set options.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

// The CLI in a directory of its own, with its own compile cache.
using Cli = castnet::test::CliSandbox;

// Three classes by sector on a grid of [-1, 1]^2 (no randomness); `n` x `n` points.
std::string sectors_csv(int n, double shift) {
  std::ostringstream s;
  s << "x1,x2,y\n";
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double x = -1 + 2.0 * i / (n - 1) + shift, y = -1 + 2.0 * j / (n - 1) - shift;
      s << x << ',' << y << ',' << (x + y > 0.3 ? 0 : x - y > 0 ? 1 : 2) << '\n';
    }
  return s.str();
}

constexpr const char* kSpec = R"(name = "sectors"
input = [2]
batch = 16

[[layer]]
name = "hidden"
type = "dense"
units = 4
activation = "tanh"

[[layer]]
name = "out"
type = "dense"
units = 3

[loss]
type = "softmax_cross_entropy"

[optimizer]
type = "adam"
lr = 0.05

[train]
epochs = 3
seed = 10
validation = 0.2

[data]
train = "data/train.csv"
test = "data/test.csv"
labels = ["y"]
)";

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto& row = rows.emplace_back();
    std::istringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) row.push_back(c);
    if (line.ends_with(',')) row.emplace_back();
  }
  return rows;
}

std::size_t runner_folders(const fs::path& cache) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(cache / "runners"))
    n += e.is_directory() && e.path().filename().string().rfind("sectors-", 0) == 0;
  return n;
}

void setup(const Cli& cli) {
  fs::create_directories(cli / "data");
  write_file(cli / "data/train.csv", sectors_csv(12, 0));
  write_file(cli / "data/test.csv", sectors_csv(7, 0.05));
  write_file(cli / "sectors.toml", kSpec);
}

}  // namespace

TEST_CASE("sweep: a grid of settings x repeats, one compile per network, and a resume that keeps finished runs",
          "[sweep]") {
  Cli cli;
  setup(cli);
  const std::vector<std::string> args = {"sweep",  "sectors.toml", "--set", "layer.hidden.units=2,5", "--set",
                                         "data.label_noise=0,0.25", "--repeats", "2", "--jobs", "2", "-o", "sw"};
  const auto s = cli(args);
  INFO(s.out << s.err);
  REQUIRE(s.exit_code == 0);
  CHECK_THAT(s.out, Contains("4 configurations x 2 repeats = 8 runs (2 networks); 0 done already"));
  auto rows = csv_rows(read_file(cli / "sw/sweep.csv"));
  REQUIRE(rows.size() == 1 + 8);
  const std::vector<std::string> header = {"layer.hidden.units", "data.label_noise", "seed", "repeat", "train_loss",
                                           "train_error", "val_loss", "val_error", "test_loss", "test_error", "params",
                                           "seconds", "compiled"};
  CHECK(rows[0] == header);
  std::set<std::string> configurations;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    REQUIRE(r.size() == header.size());
    configurations.insert(r[0] + "/" + r[1] + "/" + r[2]);
    CHECK((r[2] == "10" || r[2] == "11"));  // seed + repeat
    CHECK(std::stoul(r[2]) == 10 + std::stoul(r[3]));
    for (std::size_t c = 4; c <= 9; ++c) {
      INFO(header[c] << " = " << r[c]);
      REQUIRE_FALSE(r[c].empty());
      CHECK(std::stod(r[c]) >= 0);
    }
    for (std::size_t c : {5, 7, 9}) CHECK(std::stod(r[c]) <= 1);
    // 2 -> 4 hidden units: 2*2+2 + 2*3+3 = 15 parameters; 5 units: 15 + 18 = 33.
    CHECK(r[10] == (r[0] == "2" ? "15" : "33"));
  }
  CHECK(configurations.size() == 8);  // every configuration and seed once
  // Two networks (the widths); the label noise only changes training: two runners in the cache.
  CHECK(runner_folders(cli / "cache") == 2);
  CHECK_THAT(s.out, Contains("runner compiles"));
  const std::string md = read_file(cli / "sw/sweep.md");
  CHECK_THAT(md, Contains("| layer.hidden.units | data.label_noise | runs |"));
  CHECK(std::count(md.begin(), md.end(), '\n') >= 4 + 4);
  const std::string svg = read_file(cli / "sw/sweep.svg");
  CHECK(svg.rfind("<svg ", 0) == 0);
  CHECK_THAT(svg, Contains("data.label_noise = 0.25"));
  // Each configuration's derived spec: the spec with the keys set, data paths made absolute.
  const std::string derived = read_file(cli / "sw/specs/c3.toml");
  CHECK_THAT(derived, Contains("units = 5"));
  CHECK_THAT(derived, Contains("label_noise = 0.25"));
  CHECK_THAT(derived, Contains((cli / "data/train.csv").string()));

  // Run again: nothing to train.
  const auto again = cli(args);
  REQUIRE(again.exit_code == 0);
  CHECK_THAT(again.out, Contains("8 done already"));
  CHECK_THAT(again.out, Contains("0 to train"));
  CHECK(csv_rows(read_file(cli / "sw/sweep.csv")) == rows);

  // An interrupted sweep: only the runs missing from sweep.csv train again; the others stay.
  std::string kept = read_file(cli / "sw/sweep.csv");
  for (int k = 0; k < 3; ++k) kept.erase(kept.rfind('\n', kept.size() - 2) + 1);
  write_file(cli / "sw/sweep.csv", kept);
  const auto resumed = cli(args);
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.out, Contains("5 done already in "));
  CHECK_THAT(resumed.out, Contains(", 3 to train"));
  const auto after = csv_rows(read_file(cli / "sw/sweep.csv"));
  REQUIRE(after.size() == 9);
  for (std::size_t i = 1; i <= 5; ++i) CHECK(after[i] == rows[i]);  // kept as they were, wall times included
  CHECK(runner_folders(cli / "cache") == 2);
}

TEST_CASE("sweep: an unknown key names what exists, and a value of the wrong type says what was expected", "[sweep]") {
  Cli cli;
  setup(cli);
  const auto bad = [&](const std::string& set) { return cli({"sweep", "sectors.toml", "--set", set, "-o", "sw"}); };
  auto r = bad("layer.hiden.units=1,2");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--set layer.hiden.units: the spec has no layer 'hiden' (its layers: hidden, out)"));
  r = bad("train.epoch=1,2");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown key 'train.epoch' (the train keys: train.early_stopping, train.epochs,"));
  r = bad("optimiser.lr=1");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown key 'optimiser.lr' (keys: layer.<name>.<key> with the layers hidden, out;"));
  r = bad("optimizer.lr=0.1,fast");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--set optimizer.lr: 'fast' is not a number (optimizer.lr takes a number)"));
  r = bad("layer.hidden.units=4,8.5");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("'8.5' is not an integer"));
  r = bad("data.subset=10,x");
  CHECK(r.exit_code == 2);
  // A value the spec's own rules refuse: the derived spec's error, with its place, exit 1.
  r = bad("data.label_noise=0.5,2");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("c1.toml:") && Contains("label_noise must lie in [0, 1], got 2"));
  CHECK(cli({"sweep", "sectors.toml", "-o", "sw"}).exit_code == 2);  // nothing to sweep
}
