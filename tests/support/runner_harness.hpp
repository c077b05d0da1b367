// Test support for the runner: run_model<M> driven in this process through argv exactly as the
// CLI's runner program is (through M's ModelView, into the verbs libcastnet_runtime compiled
// once), with std::cout and std::cerr captured; and readers for what it prints and writes.
#pragma once

#include <castnet/train/runner.hpp>
#include <castnet/train/verbs.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace castnet::test {

enum class Path { view, direct };

// Runs run_model<M> with argv = {"runner", args...}, capturing std::cout and std::cerr; with
// Path::direct, the verbs compiled for M itself (run_verbs<M>) instead.
template <class M>
Result run_runner(std::vector<std::string> args, Path path = Path::view) {
  std::vector<char*> argv;
  std::string program = "runner";
  argv.push_back(program.data());
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  std::streambuf* const old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* const old_err = std::cerr.rdbuf(err.rdbuf());
  const int argc = static_cast<int>(argv.size() - 1);
  const int code = path == Path::view ? castnet::run_model<M>(argc, argv.data())
                                      : castnet::run_verbs<M>(argc, argv.data(), {});
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {code, out.str(), err.str()};
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// metrics.csv as rows of cells, header included. io::read_csv is for numeric data and rejects
// the empty accuracy cells an mse model writes.
inline std::vector<std::vector<std::string>> read_metrics(const std::filesystem::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string>& row = rows.emplace_back();
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) row.push_back(cell);
    if (line.ends_with(',')) row.emplace_back();
  }
  return rows;
}

// 30 rows "x1,x2,y" on a 6 x 5 grid of [-1, 1]^2 (30 is not a multiple of the batch of 4, so
// every epoch ends with a partial batch), with y = label(x1, x2).
template <class F>
std::string grid_csv(F label) {
  std::string text = "x1,x2,y\n";
  for (int i = 0; i < 30; ++i) {
    const double x1 = -1.0 + 0.4 * (i % 6), x2 = -1.0 + 0.5 * (i / 6);
    std::ostringstream row;
    row << x1 << ',' << x2 << ',' << label(x1, x2) << '\n';
    text += row.str();
  }
  return text;
}

// grid_csv of the plane y = 2 x1 - x2 + 0.5.
inline std::string regression_csv() {
  return grid_csv([](double x1, double x2) { return 2 * x1 - x2 + 0.5; });
}

}  // namespace castnet::test
