// castnet train / eval / predict / landscape: generate the model in memory, build (or reuse) its runner, and
// hand over to it with every setting spelt out on its command line. The spec's [train],
// [optimizer] and [data] tables supply the settings; command-line options override a few. Data
// names (mnist:train, mnist:test) are resolved here, fetching MNIST into the cache once.
// Data-parallel training (--threads N; mpirun, or --distributed) runs a runner built for the spec
// planned for one worker's shard of its batch (data_parallel.hpp).
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include <castnet/error.hpp>
#include <castnet/io/atomic_file.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/io/sha256.hpp>
#include <castnet/train/run_options.hpp>
#include <castnet/train/verbs.hpp>
#include <castnet/train/worker_pool.hpp>

#include "args.hpp"
#include "build_cache.hpp"
#include "calibrate.hpp"
#include "cache_dir.hpp"
#include "data_check.hpp"
#include "emit/quantize.hpp"
#include "generate.hpp"
#include "mnist.hpp"
#include "verbs.hpp"

namespace castnet::cli {
namespace fs = std::filesystem;
namespace {

// Parses, validates and emits in memory: spec errors surface before anything is compiled.
gen::GenResult load(const std::string& spec, const ir::Limits& limits) {
  gen::GenRequest req;
  req.spec = spec;
  req.limits = limits;
  req.runner = true;
  if (runners_dispatch()) req.arch = "dispatch";
  return gen::emit_header(req);
}

// The units of a dispatching runner's model (none otherwise), by file name.
std::vector<std::pair<std::string, std::string>> units_of(const gen::GenResult& r) {
  std::vector<std::pair<std::string, std::string>> units;
  for (const auto& [path, text] : r.units) units.emplace_back(path.filename().string(), text);
  return units;
}

fs::path runner_for(const gen::GenResult& r, const std::function<void()>& before_compile = {}) {
  return build_runner(r.spec.graph.name, r.header_text, units_of(r), {}, before_compile).exe;
}

// The number of processes of the MPI job this process belongs to, from the launcher's environment
// (Open MPI's mpirun, or a PMI launcher such as MPICH's); 0 when not started by one.
std::size_t mpi_job_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    const char* v = std::getenv(name);
    if (!v) continue;
    try {
      return parse_integer(name, v);
    } catch (const UsageError&) {
      throw UsageError(std::string("the environment variable ") + name + "='" + v + "' is not a positive integer");
    }
  }
  return 0;
}

// The runner for training: the spec's own model, or for `workers` > 1 or MPI the spec planned for
// one worker's shard of the batch (ceil(batch / workers) rows). `network` receives the SHA-256 of
// the runner's header, which its checkpoints are bound to (--network-sha256).
fs::path train_runner(const std::string& spec, const gen::GenResult& model, std::size_t workers, bool mpi,
                      const std::function<void()>& before_compile, std::string& network) {
  if (workers == 1 && !mpi) {
    network = io::sha256_hex(model.header_text);
    return runner_for(model, before_compile);
  }
  const std::size_t batch = model.spec.graph.batch, shard = (batch + workers - 1) / workers;
  if (workers > batch)
    std::cerr << "castnet: note: " << workers << " workers share a batch of " << batch << ": "
              << workers - batch << " of them will have no rows\n";
  gen::GenRequest req;
  req.spec = spec;
  req.limits = model.spec.graph.limits;
  req.batch = shard;
  req.runner = true;
  if (runners_dispatch()) req.arch = "dispatch";
  const gen::GenResult sharded = gen::emit_header(req);
  network = io::sha256_hex(sharded.header_text);
  return build_runner(sharded.spec.graph.name, sharded.header_text, units_of(sharded), {batch, mpi}, before_compile).exe;
}

void add(std::vector<std::string>& a, const std::string& option, const std::string& value) {
  if (!value.empty()) a.insert(a.end(), {option, value});
}

double positive_real(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v > 0)) throw UsageError(option + ": '" + text + "' is not a number > 0");
  return v;
}

// A run of another model in `out` (its weights name another model, or hold other tensors) is not
// replaced unless the user says so: training there would overwrite its weights and checkpoint.
void refuse_other_run(const fs::path& out, const ir::Graph& g) {
  const fs::path weights = out / "weights.safetensors";
  std::error_code ec;
  if (!fs::exists(weights, ec)) return;
  io::SafetensorsFile file;
  try {
    file = io::read_safetensors(weights);
  } catch (const std::exception&) {
    return;  // unreadable: not a run castnet can name; training will replace it
  }
  const auto model = file.metadata.find("castnet_model");
  std::string why;
  if (model == file.metadata.end() || model->second != g.name) {
    why = "its weights are of model '" + (model == file.metadata.end() ? std::string("?") : model->second) + "', not '" + g.name + "'";
  } else {
    for (const auto& l : g.layers)
      for (const auto& p : l.params) {
        const io::TensorData* t = file.find(p.torch_name);
        if (why.empty() && (t == nullptr || t->shape != p.shape)) why = "its weights have another '" + p.torch_name + "'";
      }
  }
  if (!why.empty())
    throw std::runtime_error("castnet train: error: --out " + out.string() + " holds another network's run (" + why +
                             "): give another --out, or --force to replace it");
}

// --json and --quiet become the runner's --format.
void add_format(std::vector<std::string>& a, const Args& args) {
  if (args.flag("--json") && args.flag("--quiet")) throw UsageError("--json and --quiet: give one");
  if (args.flag("--json")) add(a, "--format", "json");
  if (args.flag("--quiet")) add(a, "--format", "quiet");
}

[[noreturn]] void exec_runner(const fs::path& runner, std::vector<std::string> args) {
  args.insert(args.begin(), runner.string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  ::execv(runner.c_str(), argv.data());
  throw std::runtime_error("castnet: error: cannot run " + runner.string());
}

// eval --quantize: the weights as `castnet export --quantize` computes with them, written into the
// cache (named by the source's SHA-256 and the mode, so a second eval reuses them), for the runner
// to evaluate as any weights.
fs::path quantized_weights(const ir::Graph& g, const std::string& weights, const std::string& mode) {
  ops::WeightFormat format;
  try {
    format = gen::parse_quantize(mode);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const std::string bytes = io::read_file(weights);
  const io::SafetensorsFile file = io::parse_safetensors(bytes, weights);
  std::vector<io::ExpectedTensor> expected;
  for (const auto& l : g.layers)
    for (const auto& p : l.params) expected.push_back({p.torch_name, p.shape});
  io::check_tensors(file, weights, expected);
  io::SafetensorsFile q;
  try {
    q = gen::dequantized(g, file, format);
  } catch (const std::range_error& e) {
    throw Error(weights + ": error: " + e.what());
  }
  const fs::path dir = cache_root() / "quantized";
  private_dir(dir, "castnet will not keep weights there");
  const fs::path out = dir / (io::sha256_hex(bytes) + "-" + mode + ".safetensors");
  io::write_safetensors(out, q.tensors, q.metadata);
  return out;
}

// The data eval reads: --data, else the spec's test data, else its train data.
DataFiles eval_data(const Args& args, const spec::Spec& s, const std::string& spec) {
  const spec::DataConfig& d = s.data;
  const bool spec_test = !d.test.empty();
  const DataFiles data =
      args.get("--data") ? resolve(*args.get("--data"), args.get("--data-labels").value_or(""), "")
                         : resolve(spec_test ? d.test : d.train, spec_test ? d.test_labels : d.train_labels, spec);
  if (data.data.empty()) throw UsageError("no data: give --data FILE or [data] test in the spec");
  return data;
}

// eval --quantize int8 --calibrate CAL: the header `castnet export --quantize int8 --calibrate CAL`
// writes, evaluated in this process as it computes (calibrate.hpp), on eval's data.
int eval_calibrated(const Args& args, const spec::Spec& s, const std::string& weights) {
  if (args.get("--images")) throw UsageError("--images: not with --calibrate (it evaluates the header's outputs only)");
  const std::string cal = *args.get("--calibrate");
  const CalibratedModel model(s, weights);
  const std::vector<std::string> labels = split_labels(args.get("--labels").value_or(joined_labels(s.data.labels)));
  const DataFiles cal_files = calibration_files(s, args.spec(), cal, args.get("--calibrate-labels").value_or(""));
  const gen::Calibration c = model.calibrate(model.load(cal_files, labels), cal_files, cal);
  const DataFiles data = eval_data(args, s, args.spec());
  const Dataset<float> rows = model.load(data, labels);
  const Evaluation e = model.evaluate(rows, c.input_range);
  if (args.flag("--json")) {
    // The runner's object (no quality figures: the header's outputs only), and the calibration's rows.
    std::cout << "{\"rows\": " << rows.rows << ", \"calibration_rows\": " << c.rows
              << ", \"evaluation\": " << detail::evaluation_json(e) << ", \"quality\": null}\n";
  } else if (!args.flag("--quiet")) {
    std::cout << "int8 weights and activations calibrated on " << cal << " (" << c.rows
              << " rows), as `castnet export --quantize int8 --calibrate " << cal << "` computes\n";
    detail::print_evaluation("", e);
  }
  return 0;
}

}  // namespace

int train(int argc, char** argv) {
  const Args args(argc, argv, 2,
                  {"--data", "--data-labels", "--labels", "--epochs", "--init", "--out", "--seed", "--lr", "--save-every",
                   "--threads", "--limit"},
                  {"--resume", "--distributed", "--force", "--json", "--quiet"});
  const std::string spec = args.spec();
  const gen::GenResult model = load(spec, limits_option(args));
  const ir::Graph& g = model.spec.graph;
  const spec::DataConfig& d = model.spec.data;
  TrainConfig config = model.spec.training;
  if (auto v = args.get("--epochs")) config.epochs = parse_integer("--epochs", *v);
  if (auto v = args.get("--lr")) config.optimizer.lr = positive_real("--lr", *v);
  if (auto v = args.get("--seed")) config.seed = parse_integer("--seed", *v, true);
  const std::size_t threads = args.get("--threads") ? parse_integer("--threads", *args.get("--threads")) : 1;
  if (threads > kMaxThreads) throw UsageError("--threads: at most " + std::to_string(kMaxThreads));
  const std::size_t ranks = mpi_job_size();
  const bool mpi = ranks > 0 || args.flag("--distributed");

  const DataFiles data = args.get("--data") ? resolve(*args.get("--data"), args.get("--data-labels").value_or(""), "")
                                            : resolve(d.train, d.train_labels, spec);
  if (data.data.empty()) throw UsageError("no training data: give --data FILE or [data] train in the spec");
  const std::string out = args.get("--out").value_or((fs::path("runs") / g.name).string());
  if (!args.flag("--resume") && !args.flag("--force")) refuse_other_run(out, g);
  std::vector<std::string> a = {"train", "--out", out};
  add(a, "--data", data.data);
  add(a, "--data-labels", data.labels);
  const std::string labels = args.get("--labels").value_or(joined_labels(d.labels));
  add(a, "--labels", labels);
  DataFiles test;
  if (!d.test.empty()) {
    test = resolve(d.test, d.test_labels, spec);
    add(a, "--test", test.data);
    add(a, "--test-labels", test.labels);
  }
  const auto check_first = [&] {
    const DataOrigin origin = args.get("--data") ? DataOrigin{} : DataOrigin{spec, d.train_pos, "[data] train"};
    check_data(model.spec, data.data, data.labels, split_labels(labels), origin);
    if (!test.data.empty()) check_data(model.spec, test.data, test.labels, split_labels(labels), {spec, d.test_pos, "[data] test"});
  };
  add(a, "--init", args.get("--init").value_or(""));
  add(a, "--spec-sha256", model.spec_sha256);
  add(a, "--save-every", args.get("--save-every").value_or(""));
  if (args.flag("--resume")) add(a, "--resume", "1");
  if (threads > 1) add(a, "--threads", std::to_string(threads));
  add_format(a, args);
  const auto settings = train_arguments(config);
  a.insert(a.end(), settings.begin(), settings.end());
  std::string network;
  const fs::path runner = train_runner(spec, model, threads * std::max<std::size_t>(ranks, 1), mpi, check_first, network);
  add(a, "--network-sha256", network);
  exec_runner(runner, a);
}

int eval(int argc, char** argv) {
  const Args args(argc, argv, 2,
                  {"--weights", "--data", "--data-labels", "--labels", "--images", "--limit", "--quantize", "--calibrate",
                   "--calibrate-labels"},
                  {"--json", "--quiet"});
  const std::string spec = args.spec();
  std::string weights = args.require("--weights");
  if (args.get("--calibrate")) check_calibrate_mode(args.get("--quantize").value_or(""));
  if (args.get("--calibrate-labels") && !args.get("--calibrate"))
    throw UsageError("--calibrate-labels goes with --calibrate DATA");
  const gen::GenResult model = load(spec, limits_option(args));
  if (args.get("--calibrate")) return eval_calibrated(args, model.spec, weights);
  if (const auto mode = args.get("--quantize")) {
    weights = quantized_weights(model.spec.graph, weights, *mode).string();
    if (!args.flag("--json") && !args.flag("--quiet"))
      std::cout << "weights quantized to " << *mode << " as `castnet export --quantize " << *mode
                << "` stores them (dense and conv2d weights; activations float)\n";
  }
  const spec::DataConfig& d = model.spec.data;
  const bool spec_test = !d.test.empty();
  const DataFiles data = eval_data(args, model.spec, spec);
  std::vector<std::string> a = {"eval", "--weights", weights};
  add(a, "--data", data.data);
  add(a, "--data-labels", data.labels);
  const std::string labels = args.get("--labels").value_or(joined_labels(d.labels));
  add(a, "--labels", labels);
  add(a, "--images", args.get("--images").value_or(""));
  if (model.spec.training.autoencoder) add(a, "--autoencoder", "1");
  add_format(a, args);
  const DataOrigin origin = args.get("--data")
                                ? DataOrigin{}
                                : DataOrigin{spec, spec_test ? d.test_pos : d.train_pos, spec_test ? "[data] test" : "[data] train"};
  exec_runner(runner_for(model, [&] { check_data(model.spec, data.data, data.labels, split_labels(labels), origin); }), a);
}

int landscape(int argc, char** argv) {
  const Args args(argc, argv, 2,
                  {"--weights", "--data", "--data-labels", "--labels", "--steps", "--span", "--seed", "--threads", "-o",
                   "--out", "--subset", "--limit"},
                  {"--json", "--quiet"});
  const std::string spec = args.spec();
  const std::string weights = args.require("--weights");
  const gen::GenResult model = load(spec, limits_option(args));
  const spec::DataConfig& d = model.spec.data;
  // The training loss by default, as Li et al. draw it (the whole file: subset and label_noise
  // shape training runs, not this picture); --data names another set.
  const DataFiles data = args.get("--data") ? resolve(*args.get("--data"), args.get("--data-labels").value_or(""), "")
                                            : resolve(d.train, d.train_labels, spec);
  if (data.data.empty()) throw UsageError("no data: give --data FILE or [data] train in the spec");
  if (args.get("-o") && args.get("--out")) throw UsageError("-o and --out: give one");
  const std::string out =
      args.get("-o").value_or(args.get("--out").value_or((fs::path("runs") / model.spec.graph.name / "landscape").string()));
  std::vector<std::string> a = {"landscape", "--weights", weights, "--out", out};
  add(a, "--data", data.data);
  add(a, "--data-labels", data.labels);
  const std::string labels = args.get("--labels").value_or(joined_labels(d.labels));
  add(a, "--labels", labels);
  if (auto v = args.get("--steps")) {
    const std::uint64_t steps = parse_integer("--steps", *v);
    if (steps < 2 || steps > 1001) throw UsageError("--steps: '" + *v + "' is not a number of steps from 2 to 1001");
    add(a, "--steps", std::to_string(steps));
  }
  if (auto v = args.get("--span")) {
    positive_real("--span", *v);
    add(a, "--span", *v);
  }
  add(a, "--seed", args.get("--seed") ? std::to_string(parse_integer("--seed", *args.get("--seed"), true))
                                      : std::to_string(model.spec.training.seed));
  const std::size_t threads =
      args.get("--threads") ? parse_integer("--threads", *args.get("--threads")) : castnet::usable_cores();
  if (threads > kMaxThreads) throw UsageError("--threads: at most " + std::to_string(kMaxThreads));
  add(a, "--threads", std::to_string(threads));
  if (auto v = args.get("--subset")) add(a, "--subset", std::to_string(parse_integer("--subset", *v)));
  if (model.spec.training.autoencoder) add(a, "--autoencoder", "1");
  add_format(a, args);
  const DataOrigin origin = args.get("--data") ? DataOrigin{} : DataOrigin{spec, d.train_pos, "[data] train"};
  exec_runner(runner_for(model, [&] { check_data(model.spec, data.data, data.labels, split_labels(labels), origin); }), a);
}

int predict(int argc, char** argv) {
  const Args args(argc, argv, 2, {"--weights", "--input", "--labels", "--limit"}, {"--json", "--quiet"});
  const std::string spec = args.spec();
  const std::string weights = args.require("--weights");
  const std::string input = args.require("--input");
  const gen::GenResult model = load(spec, limits_option(args));
  std::vector<std::string> a = {"predict", "--weights", weights, "--input", input};
  // Label columns in the input file are ignored: the spec's, unless --labels names others.
  add(a, "--labels", args.get("--labels").value_or(joined_labels(model.spec.data.labels)));
  add_format(a, args);
  exec_runner(runner_for(model), a);
}

}  // namespace castnet::cli
