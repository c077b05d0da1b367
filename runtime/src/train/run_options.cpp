// Parsing the runner's command line: `VERB --option value ...`. One table lists every option, the
// verbs that take it, how its value is read and, for training settings, how it is printed, so the
// checks (unknown, not for this verb, given twice, malformed) are written once and what
// train_arguments() prints always parses back to the same settings. Values are read whole with
// std::from_chars: "10x" is an error, not 10.
#include <castnet/train/run_options.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace castnet {
namespace {

enum VerbMask : unsigned { kTrain = 1, kEval = 2, kPredict = 4, kLandscape = 8 };

unsigned mask_of(RunOptions::Verb verb) {
  switch (verb) {
    case RunOptions::Verb::train: return kTrain;
    case RunOptions::Verb::eval: return kEval;
    case RunOptions::Verb::predict: return kPredict;
    case RunOptions::Verb::landscape: return kLandscape;
    case RunOptions::Verb::help: return 0;
  }
  __builtin_unreachable();  // every enumerator returns above; -Wswitch flags a new one
}

std::string_view verb_name(RunOptions::Verb verb) {
  switch (verb) {
    case RunOptions::Verb::train: return "train";
    case RunOptions::Verb::eval: return "eval";
    case RunOptions::Verb::predict: return "predict";
    case RunOptions::Verb::landscape: return "landscape";
    case RunOptions::Verb::help: return "help";
  }
  __builtin_unreachable();
}

[[noreturn]] void bad_value(std::string_view option, std::string_view value, std::string_view what) {
  throw UsageError(std::string(option) + ": '" + std::string(value) + "' is not " + std::string(what));
}

constexpr double kHuge = 1e9;  // "no upper bound" for options that have none

// The shortest text that reads back as exactly v.
std::string show(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

template <class T>
bool read_whole(std::string_view text, T& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::size_t integer(std::string_view option, std::string_view text, std::size_t low) {
  std::size_t v = 0;
  if (!read_whole(text, v) || v < low) bad_value(option, text, low ? "a positive integer" : "an integer >= 0");
  return v;
}

// A finite number in [low, high], or (low, high] when `open`.
double number(std::string_view option, std::string_view text, double low, double high, bool open = false) {
  double v = 0;
  if (!read_whole(text, v) || !std::isfinite(v) || v < low || (open && v == low) || v > high) {
    if (high >= kHuge) bad_value(option, text, std::string(open ? "a number > " : "a number >= ") + show(low));
    bad_value(option, text, "a number in " + std::string(open ? "(" : "[") + show(low) + ", " + show(high) + "]");
  }
  return v;
}

bool flag(std::string_view option, std::string_view text) {
  if (text != "0" && text != "1") bad_value(option, text, "0 or 1");
  return text == "1";
}

template <class E>
E enum_value(std::string_view option, std::string_view text) {
  E e{};
  if (!parse_name(text, e)) bad_value(option, text, "one of " + name_list<E>());
  return e;
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

std::string show(std::size_t v) { return std::to_string(v); }
std::string show_flag(bool v) { return v ? "1" : "0"; }

std::string sha256_text(std::string_view option, std::string_view text) {
  if (text.size() != 64 || text.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    bad_value(option, text, "64 lowercase hexadecimal digits");
  return std::string(text);
}

struct OptionSpec {
  std::string_view name;
  unsigned verbs;
  void (*apply)(RunOptions&, std::string_view name, std::string_view value);
  std::string (*print)(const TrainConfig&);  // training settings only: its value in train_arguments
};

using O = RunOptions;
using C = const TrainConfig&;

constexpr OptionSpec kOptions[] = {
    {"--data", kTrain | kEval | kLandscape, [](O& o, auto, auto v) { o.data = v; }, nullptr},
    {"--data-labels", kTrain | kEval | kLandscape, [](O& o, auto, auto v) { o.data_labels = v; }, nullptr},
    {"--test", kTrain, [](O& o, auto, auto v) { o.test = v; }, nullptr},
    {"--test-labels", kTrain, [](O& o, auto, auto v) { o.test_labels = v; }, nullptr},
    {"--input", kPredict, [](O& o, auto, auto v) { o.input = v; }, nullptr},
    {"--weights", kEval | kPredict | kLandscape, [](O& o, auto, auto v) { o.weights = v; }, nullptr},
    {"--out", kTrain | kLandscape, [](O& o, auto, auto v) { o.out = v; }, nullptr},
    {"--init", kTrain, [](O& o, auto, auto v) { o.init = v; }, nullptr},
    {"--spec-sha256", kTrain, [](O& o, auto n, auto v) { o.spec_sha256 = sha256_text(n, v); }, nullptr},
    {"--network-sha256", kTrain, [](O& o, auto n, auto v) { o.network_sha256 = sha256_text(n, v); }, nullptr},
    {"--images", kEval, [](O& o, auto, auto v) { o.images = v; }, nullptr},
    {"--format", kTrain | kEval | kPredict | kLandscape,
     [](O& o, auto n, auto v) {
       if (v == "text") o.format = RunOptions::Format::text;
       else if (v == "json") o.format = RunOptions::Format::json;
       else if (v == "quiet") o.format = RunOptions::Format::quiet;
       else bad_value(n, v, "text, json or quiet");
     },
     nullptr},
    {"--labels", kTrain | kEval | kPredict | kLandscape, [](O& o, auto n, auto v) { o.labels = label_list(n, v); }, nullptr},
    {"--save-every", kTrain, [](O& o, auto n, auto v) { o.save_every = number(n, v, 0, kHuge); }, nullptr},
    {"--resume", kTrain, [](O& o, auto n, auto v) { o.resume = flag(n, v); }, nullptr},
    {"--threads", kTrain | kLandscape,
     [](O& o, auto n, auto v) {
       o.threads = integer(n, v, 1);
       if (o.threads > kMaxThreads) bad_value(n, v, "a number of threads up to " + std::to_string(kMaxThreads));
     },
     nullptr},
    {"--steps", kLandscape,
     [](O& o, auto n, auto v) {
       o.steps = integer(n, v, 2);
       if (o.steps > 1001) bad_value(n, v, "a number of steps from 2 to 1001");
     },
     nullptr},
    {"--span", kLandscape, [](O& o, auto n, auto v) { o.span = number(n, v, 0, kHuge, true); }, nullptr},
    // Training settings (TrainConfig), in the order train_arguments prints them.
    // (--seed also draws landscape's directions; --autoencoder is also eval's and landscape's;
    // --subset picks landscape's rows too.)
    {"--epochs", kTrain, [](O& o, auto n, auto v) { o.train.epochs = integer(n, v, 1); }, nullptr},
    {"--seed", kTrain | kLandscape,
     [](O& o, auto n, auto v) {
       if (!read_whole(v, o.train.seed)) bad_value(n, v, "an unsigned 64-bit integer");
     },
     [](C c) { return std::to_string(c.seed); }},
    {"--shuffle", kTrain, [](O& o, auto n, auto v) { o.train.shuffle = flag(n, v); },
     [](C c) { return show_flag(c.shuffle); }},
    {"--validation", kTrain, [](O& o, auto n, auto v) { o.train.validation = number(n, v, 0, 0.9); },
     [](C c) { return show(c.validation); }},
    {"--early-stopping", kTrain, [](O& o, auto n, auto v) { o.train.early_stopping = integer(n, v, 0); },
     [](C c) { return show(c.early_stopping); }},
    {"--l2", kTrain, [](O& o, auto n, auto v) { o.train.l2 = number(n, v, 0, kHuge); },
     [](C c) { return show(c.l2); }},
    {"--clip-norm", kTrain, [](O& o, auto n, auto v) { o.train.clip_norm = number(n, v, 0, kHuge); },
     [](C c) { return show(c.clip_norm); }},
    {"--input-noise", kTrain, [](O& o, auto n, auto v) { o.train.input_noise = number(n, v, 0, kHuge); },
     [](C c) { return show(c.input_noise); }},
    {"--normalize", kTrain, [](O& o, auto n, auto v) { o.train.normalize = enum_value<Normalize>(n, v); },
     [](C c) { return std::string(name_of(c.normalize)); }},
    {"--autoencoder", kTrain | kEval | kLandscape, [](O& o, auto n, auto v) { o.train.autoencoder = flag(n, v); },
     [](C c) { return show_flag(c.autoencoder); }},
    {"--subset", kTrain | kLandscape, [](O& o, auto n, auto v) { o.train.subset = integer(n, v, 0); },
     [](C c) { return show(c.subset); }},
    {"--label-noise", kTrain, [](O& o, auto n, auto v) { o.train.label_noise = number(n, v, 0, 1); },
     [](C c) { return show(c.label_noise); }},
    {"--optimizer", kTrain,
     [](O& o, auto n, auto v) { o.train.optimizer.kind = enum_value<OptimizerConfig::Kind>(n, v); },
     [](C c) { return std::string(name_of(c.optimizer.kind)); }},
    {"--lr", kTrain, [](O& o, auto n, auto v) { o.train.optimizer.lr = number(n, v, 0, kHuge, true); },
     [](C c) { return show(c.optimizer.lr); }},
    {"--momentum", kTrain, [](O& o, auto n, auto v) { o.train.optimizer.momentum = number(n, v, 0, 1); },
     [](C c) { return show(c.optimizer.momentum); }},
    {"--form", kTrain,
     [](O& o, auto n, auto v) { o.train.optimizer.form = enum_value<OptimizerConfig::MomentumForm>(n, v); },
     [](C c) { return std::string(name_of(c.optimizer.form)); }},
    {"--beta1", kTrain, [](O& o, auto n, auto v) { o.train.optimizer.beta1 = number(n, v, 0, 1); },
     [](C c) { return show(c.optimizer.beta1); }},
    {"--beta2", kTrain, [](O& o, auto n, auto v) { o.train.optimizer.beta2 = number(n, v, 0, 1); },
     [](C c) { return show(c.optimizer.beta2); }},
    {"--eps", kTrain, [](O& o, auto n, auto v) { o.train.optimizer.eps = number(n, v, 0, 1, true); },
     [](C c) { return show(c.optimizer.eps); }},
    {"--alpha", kTrain, [](O& o, auto n, auto v) { o.train.optimizer.alpha = number(n, v, 0, 1); },
     [](C c) { return show(c.optimizer.alpha); }},
    {"--weight-decay", kTrain, [](O& o, auto n, auto v) { o.train.optimizer.weight_decay = number(n, v, 0, kHuge); },
     [](C c) { return show(c.optimizer.weight_decay); }},
    {"--history", kTrain, [](O& o, auto n, auto v) { o.train.optimizer.history = integer(n, v, 1); },
     [](C c) { return show(c.optimizer.history); }},
    {"--schedule", kTrain,
     [](O& o, auto n, auto v) { o.train.schedule.kind = enum_value<ScheduleConfig::Kind>(n, v); },
     [](C c) { return std::string(name_of(c.schedule.kind)); }},
    {"--step-size", kTrain, [](O& o, auto n, auto v) { o.train.schedule.step_size = integer(n, v, 1); },
     [](C c) { return show(c.schedule.step_size); }},
    {"--gamma", kTrain, [](O& o, auto n, auto v) { o.train.schedule.gamma = number(n, v, 0, 1, true); },
     [](C c) { return show(c.schedule.gamma); }},
    {"--decay", kTrain, [](O& o, auto n, auto v) { o.train.schedule.decay = number(n, v, 0, kHuge); },
     [](C c) { return show(c.schedule.decay); }},
    {"--lr-min", kTrain, [](O& o, auto n, auto v) { o.train.schedule.lr_min = number(n, v, 0, kHuge); },
     [](C c) { return show(c.schedule.lr_min); }},
    {"--warmup", kTrain, [](O& o, auto n, auto v) { o.train.schedule.warmup = number(n, v, 0, kHuge); },
     [](C c) { return show(c.schedule.warmup); }},
};

RunOptions::Verb parse_verb(std::string_view word) {
  if (word == "train") return RunOptions::Verb::train;
  if (word == "eval") return RunOptions::Verb::eval;
  if (word == "predict") return RunOptions::Verb::predict;
  if (word == "landscape") return RunOptions::Verb::landscape;
  if (word == "help" || word == "--help" || word == "-h") return RunOptions::Verb::help;
  throw UsageError("unknown verb '" + std::string(word) + "' (train, eval, predict, landscape)");
}

// The options each verb cannot do without.
void require(const RunOptions& o, const std::set<std::string_view>& given) {
  std::vector<std::string_view> needed;
  switch (o.verb) {
    case RunOptions::Verb::train: needed = {"--data", "--out"}; break;
    case RunOptions::Verb::eval: needed = {"--weights", "--data"}; break;
    case RunOptions::Verb::predict: needed = {"--weights", "--input"}; break;
    case RunOptions::Verb::landscape: needed = {"--weights", "--data", "--out"}; break;
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
  if (argc < 2) throw UsageError("missing verb (train, eval, predict, landscape)");
  RunOptions options;
  options.verb = parse_verb(argv[1]);
  std::set<std::string_view> given;
  for (int i = 2; i < argc; i += 2) {
    const std::string_view name = argv[i];
    const auto spec = std::find_if(std::begin(kOptions), std::end(kOptions),
                                   [&](const OptionSpec& s) { return s.name == name; });
    if (spec == std::end(kOptions)) throw UsageError("unknown option '" + std::string(name) + "'");
    if ((spec->verbs & mask_of(options.verb)) == 0) {
      throw UsageError(std::string(name) + " does not apply to " + std::string(verb_name(options.verb)));
    }
    if (!given.insert(spec->name).second) throw UsageError(std::string(name) + " given twice");
    if (i + 1 >= argc) throw UsageError(std::string(name) + " needs a value");
    spec->apply(options, spec->name, argv[i + 1]);
  }
  require(options, given);
  return options;
}

std::vector<std::string> train_arguments(const TrainConfig& config) {
  std::vector<std::string> args = {"--epochs", std::to_string(config.epochs)};
  for (const OptionSpec& s : kOptions) {
    if (s.print) args.insert(args.end(), {std::string(s.name), s.print(config)});
  }
  return args;
}

std::vector<std::pair<std::string, std::string>> training_settings(const TrainConfig& config) {
  std::vector<std::pair<std::string, std::string>> settings;
  for (const OptionSpec& s : kOptions) {
    if (s.print) settings.emplace_back(s.name.substr(2), s.print(config));
  }
  return settings;
}

std::string run_usage(std::string_view program) {
  const std::string p(program);
  std::string settings;
  for (const OptionSpec& s : kOptions) {
    if (s.print) settings += " [" + std::string(s.name) + " X]";
  }
  return "usage: " + p +
         " train --data F.csv|IMAGES.idx [--data-labels LABELS.idx] [--labels y[,y2...]] --out DIR\n"
         "         [--test F [--test-labels L]] [--init W.safetensors] [--resume 0|1]\n"
         "         [--save-every SECONDS (1; 0 = after every epoch)] [--threads N (1)] [--epochs N]" + settings + "\n"
         "       " + p + " eval --weights W.safetensors --data F [--data-labels L] [--labels y[,y2...]]\n"
         "         [--autoencoder 0|1] [--images OUT.png]\n"
         "       " + p + " predict --weights W.safetensors --input F.csv [--labels y[,y2...]]\n"
         "       " + p + " landscape --weights W.safetensors --data F [--data-labels L] [--labels y[,y2...]] --out DIR\n"
         "         [--steps N (41)] [--span S (1)] [--seed N (42)] [--threads N (1)] [--autoencoder 0|1]\n"
         "         [--subset N (0: all rows)]\n"
         "each verb: [--format text|json|quiet (text)]\n"
         "training settings: see specs/README.md; `castnet train` passes every one of them.\n";
}

}  // namespace castnet
