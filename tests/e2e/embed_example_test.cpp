// examples/embed as a user runs it: train its spec on MNIST with the CLI, install castnet, build the
// example against the install (castnet_add_model WEIGHTS bakes the weights into digits.hpp), and
// classify the 10,000 test digits. The exported model must reach castnet eval's accuracy and give
// castnet predict's probabilities; new weights must regenerate the header, and nothing else must.
#include <catch2/catch.hpp>

#include <castnet/io/safetensors.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "mnist.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::read_file;
using castnet::test::run;
using castnet::test::TempDir;
using Catch::Matchers::Contains;

namespace {

// Rows of comma-separated numbers; a first line that is not numeric (a header) is skipped.
std::vector<std::vector<double>> parse_rows(const std::string& text) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.rfind("accuracy", 0) == 0 || std::isalpha(static_cast<unsigned char>(line[0]))) continue;
    std::vector<double> row;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

// The number in "(9595/10000)" or "(9595 of 10000": the count of correct digits.
long correct_count(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return -1;
  return std::stol(m[1].str());
}

}  // namespace

TEST_CASE("examples/embed: an exported MNIST model built with castnet_add_model WEIGHTS", "[export][mnist]") {
  const fs::path source = CASTNET_SOURCE_DIR;
  const fs::path spec = source / "examples" / "embed" / "digits.toml";
  const castnet::cli::MnistFiles test = castnet::cli::resolve_mnist("mnist:test", std::cerr);
  TempDir dir;
  const fs::path weights = dir / "run" / "weights.safetensors";
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), CASTNET_CLI_EXE);
    return run(args, dir.path());
  };

  const auto trained = cli({"train", spec.string(), "--out", (dir / "run").string()});
  INFO(trained.err);
  REQUIRE(trained.exit_code == 0);
  const auto evaluated = cli({"eval", spec.string(), "--weights", weights.string()});
  REQUIRE(evaluated.exit_code == 0);
  const long eval_correct = correct_count(evaluated.out, R"(accuracy [0-9.]+% \((\d+)/10000\))");
  REQUIRE(eval_correct > 9000);

  const fs::path prefix = dir / "prefix", build = dir / "build", log = dir / "log.txt";
  const auto install = run({"/bin/sh", "-c", "cmake --install '" + std::string(CASTNET_BINARY_DIR) + "' --prefix '" + prefix.string() + "'"});
  INFO(install.out << install.err);
  REQUIRE(install.exit_code == 0);
  const auto configure = run({"/bin/sh", "-c", "cmake -S '" + (source / "examples" / "embed").string() + "' -B '" +
                                                   build.string() + "' -G Ninja -DCMAKE_PREFIX_PATH='" + prefix.string() +
                                                   "' -DDIGITS_WEIGHTS='" + weights.string() + "'"});
  INFO(configure.out << configure.err);
  REQUIRE(configure.exit_code == 0);
  const std::string build_cmd = "cmake --build '" + build.string() + "'";
  const auto built = run({"/bin/sh", "-c", build_cmd});
  INFO(built.out << built.err);
  REQUIRE(built.exit_code == 0);
  CHECK_THAT(built.out, Contains("castnet: generating digits.hpp"));

  // The whole test set, and the probabilities of its first 50 digits.
  constexpr std::size_t kShown = 50;
  const auto classified = run({(build / "classify_digits").string(), test.images.string(), test.labels.string(),
                               "--probabilities", std::to_string(kShown)});
  INFO(classified.err);
  REQUIRE(classified.exit_code == 0);
  const long correct = correct_count(classified.out, R"(accuracy [0-9.]+ \((\d+) of 10000)");
  INFO("castnet eval: " << eval_correct << " correct; the exported model: " << correct);
  CHECK(std::abs(correct - eval_correct) <= 2);  // a digit on the edge may fall either way at float rounding

  // castnet predict on the same digits, as a CSV of raw pixels.
  {
    const std::string bytes = read_file(test.images);
    std::ofstream csv(dir / "digits.csv");
    for (std::size_t j = 0; j < 784; ++j) csv << (j ? ",x" : "x") << j;
    csv << "\n";
    for (std::size_t i = 0; i < kShown; ++i)
      for (std::size_t j = 0; j < 784; ++j)
        csv << static_cast<int>(static_cast<unsigned char>(bytes[16 + i * 784 + j])) << (j + 1 < 784 ? "," : "\n");
  }
  const auto predicted = cli({"predict", spec.string(), "--weights", weights.string(), "--input", (dir / "digits.csv").string()});
  REQUIRE(predicted.exit_code == 0);
  const auto theirs = parse_rows(predicted.out), ours = parse_rows(classified.out);
  REQUIRE(theirs.size() == kShown);
  REQUIRE(ours.size() == kShown);
  double worst = 0;  // max |a - b| / max |b| per digit, over the digits
  for (std::size_t i = 0; i < kShown; ++i) {
    double diff = 0, scale = 0;
    for (std::size_t k = 0; k < 10; ++k) {
      diff = std::max(diff, std::abs(ours[i][k] - theirs[i][k]));
      scale = std::max(scale, std::abs(theirs[i][k]));
    }
    worst = std::max(worst, diff / scale);
  }
  CHECK(worst <= 1e-6);

  // Up to date: nothing to do. New weights (the same values, other metadata): a new header.
  const std::string header_v1 = read_file(build / "castnet_generated" / "digits" / "digits.hpp");
  CHECK_THAT(run({"/bin/sh", "-c", build_cmd + " -- -n"}).out, Contains("no work to do"));
  auto file = castnet::io::read_safetensors(weights);
  file.metadata["epoch"] = "99";
  castnet::io::write_safetensors(weights, file.tensors, file.metadata);
  const auto rebuilt = run({"/bin/sh", "-c", build_cmd});
  INFO(rebuilt.out << rebuilt.err);
  REQUIRE(rebuilt.exit_code == 0);
  CHECK_THAT(rebuilt.out, Contains("castnet: generating digits.hpp"));
  CHECK(read_file(build / "castnet_generated" / "digits" / "digits.hpp") != header_v1);
}
