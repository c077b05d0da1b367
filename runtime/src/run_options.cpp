// Parsing the runner's command line: `VERB --option value ...`. One table lists every option, the
// verbs that take it and how its value is read, so the checks (unknown, not for this verb, given
// twice, malformed) are written once. Values are read whole with std::from_chars: "10x" is an
// error, not 10.
#include <castnet/run_options.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace castnet {
namespace {

enum VerbMask : unsigned { kTrain = 1, kEval = 2, kPredict = 4 };

unsigned mask_of(RunOptions::Verb verb) {
  switch (verb) {
    case RunOptions::Verb::train: return kTrain;
    case RunOptions::Verb::eval: return kEval;
    case RunOptions::Verb::predict: return kPredict;
    case RunOptions::Verb::help: return 0;
  }
  __builtin_unreachable();  // every enumerator returns above; -Wswitch flags a new one
}

std::string_view verb_name(RunOptions::Verb verb) {
  switch (verb) {
    case RunOptions::Verb::train: return "train";
    case RunOptions::Verb::eval: return "eval";
    case RunOptions::Verb::predict: return "predict";
    case RunOptions::Verb::help: return "help";
  }
  __builtin_unreachable();
}

[[noreturn]] void bad_value(std::string_view option, std::string_view value, std::string_view what) {
  throw UsageError(std::string(option) + ": '" + std::string(value) + "' is not " +
                   std::string(what));
}

template <class T>
bool read_whole(std::string_view text, T& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::size_t positive_integer(std::string_view option, std::string_view text) {
  std::size_t v = 0;
  if (!read_whole(text, v) || v == 0) bad_value(option, text, "a positive integer");
  return v;
}

double number_at_least(std::string_view option, std::string_view text, double low, bool open) {
  double v = 0;
  if (!read_whole(text, v) || !std::isfinite(v) || v < low || (open && v == low)) {
    bad_value(option, text, open ? "a number > 0" : "a number >= 0");
  }
  return v;
}

std::vector<std::string> label_list(std::string_view option, std::string_view text) {
  std::vector<std::string> labels;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma == start) bad_value(option, text, "a comma-separated list of column names");
    labels.emplace_back(text.substr(start, comma - start));
    if (comma == text.size()) return labels;
    start = comma + 1;
  }
}

struct OptionSpec {
  std::string_view name;
  unsigned verbs;
  void (*apply)(RunOptions&, std::string_view name, std::string_view value);
};

constexpr OptionSpec kOptions[] = {
    {"--data", kTrain | kEval, [](RunOptions& o, auto, auto v) { o.data = v; }},
    {"--input", kPredict, [](RunOptions& o, auto, auto v) { o.input = v; }},
    {"--weights", kEval | kPredict, [](RunOptions& o, auto, auto v) { o.weights = v; }},
    {"--out", kTrain, [](RunOptions& o, auto, auto v) { o.out = v; }},
    {"--init", kTrain, [](RunOptions& o, auto, auto v) { o.init = v; }},
    {"--labels", kTrain | kEval | kPredict,
     [](RunOptions& o, auto n, auto v) { o.labels = label_list(n, v); }},
    {"--epochs", kTrain, [](RunOptions& o, auto n, auto v) { o.epochs = positive_integer(n, v); }},
    {"--optimizer", kTrain,
     [](RunOptions& o, auto n, auto v) {
       if (v == "sgd") {
         o.optimizer.kind = OptimizerConfig::Kind::sgd;
       } else if (v == "momentum") {
         o.optimizer.kind = OptimizerConfig::Kind::momentum;
       } else {
         bad_value(n, v, "sgd or momentum");
       }
     }},
    {"--lr", kTrain,
     [](RunOptions& o, auto n, auto v) { o.optimizer.lr = number_at_least(n, v, 0.0, true); }},
    {"--momentum", kTrain,
     [](RunOptions& o, auto n, auto v) {
       o.optimizer.momentum = number_at_least(n, v, 0.0, false);
     }},
    {"--seed", kTrain,
     [](RunOptions& o, auto n, auto v) {
       if (!read_whole(v, o.seed)) bad_value(n, v, "an unsigned 64-bit integer");
     }},
    {"--save-every", kTrain,
     [](RunOptions& o, auto n, auto v) { o.save_every = number_at_least(n, v, 0.0, false); }},
    {"--shuffle", kTrain,
     [](RunOptions& o, auto n, auto v) {
       if (v != "0" && v != "1") bad_value(n, v, "0 or 1");
       o.shuffle = v == "1";
     }},
};

RunOptions::Verb parse_verb(std::string_view word) {
  if (word == "train") return RunOptions::Verb::train;
  if (word == "eval") return RunOptions::Verb::eval;
  if (word == "predict") return RunOptions::Verb::predict;
  if (word == "help" || word == "--help" || word == "-h") return RunOptions::Verb::help;
  throw UsageError("unknown verb '" + std::string(word) + "' (train, eval, predict)");
}

// The options each verb cannot do without.
void require(const RunOptions& o, const std::set<std::string_view>& given) {
  std::vector<std::string_view> needed;
  switch (o.verb) {
    case RunOptions::Verb::train: needed = {"--data", "--labels", "--out"}; break;
    case RunOptions::Verb::eval: needed = {"--weights", "--data", "--labels"}; break;
    case RunOptions::Verb::predict: needed = {"--weights", "--input"}; break;
    case RunOptions::Verb::help: break;
  }
  for (const std::string_view option : needed) {
    if (!given.contains(option)) {
      throw UsageError(std::string(verb_name(o.verb)) + " needs " + std::string(option));
    }
  }
}

}  // namespace

RunOptions parse_run_options(int argc, const char* const* argv) {
  if (argc < 2) throw UsageError("missing verb (train, eval, predict)");
  RunOptions options;
  options.verb = parse_verb(argv[1]);
  std::set<std::string_view> given;
  for (int i = 2; i < argc; i += 2) {
    const std::string_view name = argv[i];
    const auto spec = std::find_if(std::begin(kOptions), std::end(kOptions),
                                   [&](const OptionSpec& s) { return s.name == name; });
    if (spec == std::end(kOptions)) throw UsageError("unknown option '" + std::string(name) + "'");
    if ((spec->verbs & mask_of(options.verb)) == 0) {
      throw UsageError(std::string(name) + " does not apply to " +
                       std::string(verb_name(options.verb)));
    }
    if (!given.insert(spec->name).second) throw UsageError(std::string(name) + " given twice");
    if (i + 1 >= argc) throw UsageError(std::string(name) + " needs a value");
    spec->apply(options, spec->name, argv[i + 1]);
  }
  require(options, given);
  return options;
}

std::string run_usage(std::string_view program) {
  const std::string p(program);
  const std::string pad(p.size(), ' ');
  return "usage: " + p +
         " train --data F.csv --labels y[,y2...] --out DIR [--epochs N (1)]\n"
         "       " + pad +
         "       [--optimizer sgd|momentum (sgd)] [--lr X (0.001)] [--momentum M (0.9)]\n"
         "       " + pad + "       [--seed S (0)] [--shuffle 0|1 (1)] [--init W.safetensors]\n"
         "       " + pad + "       [--save-every SECONDS (1; 0 = after every epoch)]\n"
         "       " + p + " eval --weights W.safetensors --data F.csv --labels y[,y2...]\n"
         "       " + p + " predict --weights W.safetensors --input F.csv [--labels y[,y2...]]\n";
}

}  // namespace castnet
