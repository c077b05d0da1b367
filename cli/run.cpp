// castnet train / eval / predict: generate the model in memory, build (or reuse) its runner, and
// hand over to it with every setting spelt out on its command line. The spec's [train],
// [optimizer] and [data] tables supply defaults; command-line options override them.
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include "args.hpp"
#include "build_cache.hpp"
#include "emit/code_writer.hpp"
#include "generate.hpp"
#include "verbs.hpp"

namespace castnet::cli {
namespace fs = std::filesystem;
namespace {

// Parses, validates and emits in memory: spec errors surface before anything is compiled.
gen::GenResult load(const std::string& spec) {
  gen::GenRequest req;
  req.spec = spec;
  return gen::emit_header(req);
}

fs::path runner_for(const gen::GenResult& r) { return build_runner(r.graph.name, r.header_text).exe; }

// Paths written in a spec are relative to the spec's folder.
std::string spec_relative(const std::string& spec, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(spec).parent_path() / path).lexically_normal().string();
}

std::string labels_of(const Args& args, const ir::Graph& g) {
  if (auto l = args.get("--labels")) return *l;
  std::string s;
  for (const auto& l : g.data.labels) s += (s.empty() ? "" : ",") + l;
  if (s.empty()) throw UsageError("the spec's [data] names no labels: give --labels COLUMN[,COLUMN...]");
  return s;
}

[[noreturn]] void exec_runner(const fs::path& runner, std::vector<std::string> args) {
  args.insert(args.begin(), runner.string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  ::execv(runner.c_str(), argv.data());
  throw std::runtime_error("castnet: error: cannot run " + runner.string());
}

}  // namespace

int train(int argc, char** argv) {
  const Args args(argc, argv, 2, {"--data", "--labels", "--epochs", "--init", "--out", "--seed", "--lr"});
  const std::string spec = args.spec();
  const gen::GenResult model = load(spec);
  const ir::Graph& g = model.graph;
  std::string data = args.get("--data").value_or(spec_relative(spec, g.data.train));
  if (data.empty()) throw UsageError("no training data: give --data FILE.csv or [data] train in the spec");
  const std::string labels = labels_of(args, g);
  const std::string out = args.get("--out").value_or((fs::path("runs") / g.name).string());

  std::vector<std::string> a = {"train", "--data", data, "--labels", labels, "--out", out};
  a.insert(a.end(), {"--epochs", args.get("--epochs").value_or(std::to_string(g.train.epochs))});
  a.insert(a.end(), {"--optimizer", ir::to_string(g.optimizer.kind)});
  a.insert(a.end(), {"--lr", args.get("--lr").value_or(gen::format_real(g.optimizer.lr))});
  a.insert(a.end(), {"--momentum", gen::format_real(g.optimizer.momentum)});
  a.insert(a.end(), {"--seed", args.get("--seed").value_or(std::to_string(g.train.seed))});
  a.insert(a.end(), {"--shuffle", g.train.shuffle ? "1" : "0"});
  if (auto init = args.get("--init")) a.insert(a.end(), {"--init", *init});
  exec_runner(runner_for(model), a);
}

int eval(int argc, char** argv) {
  const Args args(argc, argv, 2, {"--weights", "--data", "--labels"});
  const std::string spec = args.spec();
  const std::string weights = args.require("--weights");
  const gen::GenResult model = load(spec);
  const ir::Graph& g = model.graph;
  std::string data = args.get("--data").value_or(spec_relative(spec, g.data.test.empty() ? g.data.train : g.data.test));
  if (data.empty()) throw UsageError("no data: give --data FILE.csv or [data] test in the spec");
  const std::string labels = labels_of(args, g);
  exec_runner(runner_for(model), {"eval", "--weights", weights, "--data", data, "--labels", labels});
}

int predict(int argc, char** argv) {
  const Args args(argc, argv, 2, {"--weights", "--input", "--labels"});
  const std::string spec = args.spec();
  const std::string weights = args.require("--weights");
  const std::string input = args.require("--input");
  const gen::GenResult model = load(spec);
  std::vector<std::string> a = {"predict", "--weights", weights, "--input", input};
  // Label columns in the input file are ignored: the spec's, unless --labels names others.
  std::string labels = args.get("--labels").value_or("");
  if (labels.empty())
    for (const auto& l : model.graph.data.labels) labels += (labels.empty() ? "" : ",") + l;
  if (!labels.empty()) a.insert(a.end(), {"--labels", labels});
  exec_runner(runner_for(model), a);
}

}  // namespace castnet::cli
