// castnet landscape end to end: the grid's size, its centre against castnet eval, the directions'
// filter normalisation, determinism by the seed, and a convex problem whose minimum is W.
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_sandbox.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::run;
using castnet::test::write_file;
using Catch::Matchers::Contains;

namespace {

// The CLI in a directory of its own, with its own compile cache.
using Cli = castnet::test::CliSandbox;

// Three classes on a 12 x 12 grid of [-1, 1]^2 by the sector around the origin: no randomness.
std::string sectors_csv() {
  std::ostringstream s;
  s << "x1,x2,y\n";
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 12; ++j) {
      const double x = -1 + 2.0 * i / 11, y = -1 + 2.0 * j / 11;
      s << x << ',' << y << ',' << (x + y > 0.3 ? 0 : x - y > 0 ? 1 : 2) << '\n';
    }
  return s.str();
}

constexpr const char* kMlp = R"(name = "sectors"
input = [2]
batch = 16

[[layer]]
name = "hidden"
type = "dense"
units = 6
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
epochs = 20
seed = 5

[data]
train = "sectors.csv"
labels = ["y"]
)";

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto& row = rows.emplace_back();
    std::istringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) row.push_back(c);
  }
  return rows;
}

// The number after "\"loss\":" in a JSON line.
std::string json_loss(const std::string& text) {
  const auto at = text.find("\"loss\":");
  REQUIRE(at != std::string::npos);
  return text.substr(at + 7, text.find_first_of(",}", at) - at - 7);
}

double row_norm(const std::vector<double>& v, std::size_t row, std::size_t per) {
  double s = 0;
  for (std::size_t j = row * per; j < (row + 1) * per; ++j) s += v[j] * v[j];
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("landscape: a steps^2 grid whose centre is eval's loss, filter-normalised directions, the same file for a seed",
          "[landscape]") {
  Cli cli;
  write_file(cli / "sectors.csv", sectors_csv());
  write_file(cli / "sectors.toml", kMlp);
  const auto t = cli({"train", "sectors.toml", "--out", "run", "--quiet"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);

  const auto l = cli({"landscape", "sectors.toml", "--weights", "run/weights.safetensors", "--steps", "7", "--span", "0.5",
                      "-o", "land", "--threads", "2"});
  INFO(l.err);
  REQUIRE(l.exit_code == 0);
  CHECK(l.err.find("compiling") == std::string::npos);  // the runner train compiled
  CHECK_THAT(l.out, Contains("minimum: loss "));
  const auto rows = csv_rows(read_file(cli / "land/landscape.csv"));
  REQUIRE(rows.size() == 1 + 7 * 7);
  CHECK(rows[0] == std::vector<std::string>{"alpha", "beta", "loss", "accuracy"});
  // Row-major, beta outer: the centre is row 1 + 3 * 7 + 3, at (0, 0).
  const auto& centre = rows[1 + 3 * 7 + 3];
  CHECK(centre[0] == "0");
  CHECK(centre[1] == "0");
  CHECK(rows[1][0] == "-0.5");
  CHECK(rows[1][1] == "-0.5");
  CHECK(rows.back()[0] == "0.5");
  // The centre is W: the loss castnet eval reports on the same data, to the bit.
  const auto e = cli({"eval", "sectors.toml", "--weights", "run/weights.safetensors", "--data", "sectors.csv", "--json"});
  REQUIRE(e.exit_code == 0);
  CHECK(centre[2] == json_loss(e.out));
  // Away from W the loss grows somewhere (the directions move the weights).
  bool higher = false;
  for (std::size_t i = 1; i < rows.size(); ++i) higher = higher || std::stod(rows[i][2]) > std::stod(centre[2]) * 1.01;
  CHECK(higher);
  for (const char* picture : {"land/landscape.svg", "land/landscape_slice.svg"}) {
    const std::string svg = read_file(cli / picture);
    CHECK(svg.rfind("<svg ", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
  }

  // Filter normalisation: every neuron (row) of each direction has the norm of W's row; biases are
  // not moved.
  const auto w = castnet::io::read_safetensors(cli / "run/weights.safetensors");
  const auto d = castnet::io::read_safetensors(cli / "land/directions.safetensors");
  for (const std::string name : {"hidden.weight", "out.weight"}) {
    const auto* wt = w.find(name);
    REQUIRE(wt != nullptr);
    const std::vector<double> wv(wt->values.begin(), wt->values.end());
    for (const std::string dir : {"direction1.", "direction2."}) {
      const auto* dt = d.find(dir + name);
      REQUIRE(dt != nullptr);
      REQUIRE(dt->shape == wt->shape);
      const std::size_t per = wt->shape[1];
      for (std::size_t r = 0; r < wt->shape[0]; ++r) {
        INFO(dir << name << " row " << r);
        CHECK(row_norm(dt->f64, r, per) == Approx(row_norm(wv, r, per)).epsilon(1e-12));
      }
    }
    // The two directions differ.
    CHECK(d.find("direction1." + name)->f64 != d.find("direction2." + name)->f64);
  }
  for (const std::string name : {"hidden.bias", "out.bias"})
    for (const std::string dir : {"direction1.", "direction2."}) {
      const auto* dt = d.find(dir + name);
      REQUIRE(dt != nullptr);
      for (double v : dt->f64) CHECK(v == 0.0);
    }

  // The same seed gives the same file (on another number of threads); another seed another one.
  REQUIRE(cli({"landscape", "sectors.toml", "--weights", "run/weights.safetensors", "--steps", "7", "--span", "0.5", "-o",
               "land2", "--threads", "1", "--quiet"})
              .exit_code == 0);
  CHECK(read_file(cli / "land2/landscape.csv") == read_file(cli / "land/landscape.csv"));
  REQUIRE(cli({"landscape", "sectors.toml", "--weights", "run/weights.safetensors", "--steps", "7", "--span", "0.5", "-o",
               "land3", "--seed", "6", "--quiet"})
              .exit_code == 0);
  CHECK(read_file(cli / "land3/landscape.csv") != read_file(cli / "land/landscape.csv"));

  // --subset: the loss on N rows drawn by the seed; all 144 of them give the whole set's loss.
  REQUIRE(cli({"landscape", "sectors.toml", "--weights", "run/weights.safetensors", "--steps", "3", "--subset", "40", "-o",
               "land4", "--quiet"})
              .exit_code == 0);
  const auto sub = csv_rows(read_file(cli / "land4/landscape.csv"));
  REQUIRE(sub.size() == 1 + 9);
  CHECK(sub[5][0] == "0");
  CHECK(sub[5][2] != centre[2]);
  REQUIRE(cli({"landscape", "sectors.toml", "--weights", "run/weights.safetensors", "--steps", "3", "--subset", "144", "-o",
               "land5", "--quiet"})
              .exit_code == 0);
  CHECK(csv_rows(read_file(cli / "land5/landscape.csv"))[5][2] == centre[2]);
  CHECK(cli({"landscape", "sectors.toml", "--weights", "run/weights.safetensors", "--subset", "145", "-o", "land6"}).exit_code == 1);

  SECTION("bad options are usage errors") {
    CHECK(cli({"landscape", "sectors.toml", "--weights", "run/weights.safetensors", "--steps", "1"}).exit_code == 2);
    CHECK(cli({"landscape", "sectors.toml", "--weights", "run/weights.safetensors", "--span", "-1"}).exit_code == 2);
    CHECK(cli({"landscape", "sectors.toml"}).exit_code == 2);  // no --weights
  }
}

TEST_CASE("landscape: linear regression with mse is convex, with its minimum at the trained weights", "[landscape]") {
  Cli cli;
  // y = 2 x1 - x2 + 0.5 with a deterministic wobble, so the least-squares fit is not exact.
  std::ostringstream data;
  data << "x1,x2,y\n";
  for (int i = 0; i < 60; ++i) {
    const double x1 = -1 + 2.0 * (i % 10) / 9, x2 = -1 + 2.0 * (i / 10) / 5;
    data << x1 << ',' << x2 << ',' << 2 * x1 - x2 + 0.5 + 0.1 * std::sin(7.0 * i) << '\n';
  }
  write_file(cli / "plane.csv", data.str());
  write_file(cli / "plane.toml", R"(name = "plane"
input = [2]
batch = 60

[[layer]]
name = "fit"
type = "dense"
units = 1

[loss]
type = "mse"

[optimizer]
type = "lbfgs"

[train]
epochs = 50

[data]
train = "plane.csv"
labels = ["y"]
)");
  const auto t = cli({"train", "plane.toml", "--out", "run", "--quiet"});
  INFO(t.err);
  REQUIRE(t.exit_code == 0);
  const auto l = cli({"landscape", "plane.toml", "--weights", "run/weights.safetensors", "--steps", "9", "--span", "0.4",
                      "-o", "land", "--json"});
  INFO(l.err);
  REQUIRE(l.exit_code == 0);
  const auto rows = csv_rows(read_file(cli / "land/landscape.csv"));
  REQUIRE(rows.size() == 1 + 81);
  CHECK(rows[0] == std::vector<std::string>{"alpha", "beta", "loss"});  // no accuracy for mse
  std::size_t best = 1;
  for (std::size_t i = 1; i < rows.size(); ++i)
    if (std::stod(rows[i][2]) < std::stod(rows[best][2])) best = i;
  CHECK(best == 1 + 4 * 9 + 4);  // the centre: W, the least-squares fit
  CHECK_THAT(l.out, Contains("\"minimum\":{\"alpha\":0,\"beta\":0,"));
  // Convex along every grid line: second differences are not negative (to rounding).
  for (std::size_t j = 0; j < 9; ++j)
    for (std::size_t i = 1; i + 1 < 9; ++i) {
      const auto at = [&](std::size_t a, std::size_t b) { return std::stod(rows[1 + b * 9 + a][2]); };
      CHECK(at(i - 1, j) + at(i + 1, j) - 2 * at(i, j) >= -1e-6);
      CHECK(at(j, i - 1) + at(j, i + 1) - 2 * at(j, i) >= -1e-6);
    }
}
