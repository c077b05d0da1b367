// castnet sweep SPEC --set KEY=V1,V2,... [--set ...] [--repeats R] [--jobs J] [-o DIR]: trains
// the Cartesian grid of settings. Each configuration is a derived spec (DIR/specs/cN.toml: the
// spec's TOML with the keys set, data paths made absolute), trained by `castnet train` in a
// process of its own, `--jobs` at a time. Runners are cached by network (build_cache.hpp), so
// configurations that differ only in training or data settings share one compile.
// sweep.csv gets a row per finished run, rewritten atomically after each, so an interrupted sweep
// run again with the same arguments keeps those rows and trains only the rest.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <toml++/toml.h>
#include <vector>

#include <castnet/io/atomic_file.hpp>
#include <castnet/io/sha256.hpp>
#include <castnet/train/plot.hpp>
#include <castnet/train/worker_pool.hpp>

#include "args.hpp"
#include "data_check.hpp"
#include "generate.hpp"
#include "mnist.hpp"
#include "verbs.hpp"

extern char** environ;

namespace castnet::cli {
namespace fs = std::filesystem;
namespace {

enum class Type { integer, real, boolean, string };

const char* type_text(Type t) {
  switch (t) {
    case Type::integer: return "an integer";
    case Type::real: return "a number";
    case Type::boolean: return "true or false";
    case Type::string: return "a string";
  }
  return "";
}

// The settings keys a sweep may set, with their TOML types (specs/README.md documents them).
// Layer keys are any key of the layer's kind: the spec parser checks them in the derived spec.
const std::map<std::string, std::map<std::string, Type>>& setting_keys() {
  static const std::map<std::string, std::map<std::string, Type>> keys = {
      {"train",
       {{"epochs", Type::integer}, {"seed", Type::integer}, {"shuffle", Type::boolean}, {"validation", Type::real},
        {"early_stopping", Type::integer}, {"input_noise", Type::real}}},
      {"optimizer",
       {{"type", Type::string}, {"lr", Type::real}, {"momentum", Type::real}, {"form", Type::string},
        {"beta1", Type::real}, {"beta2", Type::real}, {"eps", Type::real}, {"alpha", Type::real},
        {"weight_decay", Type::real}, {"history", Type::integer}, {"l2", Type::real}, {"clip_norm", Type::real},
        {"schedule", Type::string}}},
      {"data",
       {{"subset", Type::integer}, {"label_noise", Type::real}, {"normalize", Type::string}, {"train", Type::string},
        {"test", Type::string}, {"train_labels", Type::string}, {"test_labels", Type::string}}},
      {"loss", {{"type", Type::string}}},
  };
  return keys;
}

std::string joined(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : sep) + i;
  return s;
}

// The name a [[layer]] goes by: its `name`, else <type><index> (1-based), as the parser names it.
std::string layer_name(const toml::table& t, std::size_t index) {
  if (const auto* n = t.get_as<std::string>("name")) return n->get();
  if (const auto* ty = t.get_as<std::string>("type")) return ty->get() + std::to_string(index + 1);
  return "#" + std::to_string(index + 1);
}

// One --set: the key's path in the spec and its values, checked against the key's type.
struct Setting {
  std::string key;                  // "layer.fc1.units"
  std::vector<std::string> path;    // {"layer", "fc1", "units"}
  Type type = Type::string;
  std::vector<std::string> texts;   // as given
};

Type type_of(const toml::node& n) {
  if (n.is_integer()) return Type::integer;
  if (n.is_floating_point()) return Type::real;
  if (n.is_boolean()) return Type::boolean;
  return Type::string;
}

// A layer key the spec does not hold yet: the type its text reads as.
Type guessed_type(const std::string& text) {
  std::int64_t i = 0;
  double d = 0;
  if (std::from_chars(text.data(), text.data() + text.size(), i).ptr == text.data() + text.size()) return Type::integer;
  if (std::from_chars(text.data(), text.data() + text.size(), d).ptr == text.data() + text.size()) return Type::real;
  if (text == "true" || text == "false") return Type::boolean;
  return Type::string;
}

// Finds the table KEY's path addresses in `root` (nullptr: a settings table the spec lacks).
const toml::table* layer_table(const toml::table& root, const std::string& name, std::vector<std::string>* names) {
  const auto* layers = root.get_as<toml::array>("layer");
  if (!layers) return nullptr;
  for (std::size_t i = 0; i < layers->size(); ++i) {
    const auto* t = (*layers)[i].as_table();
    if (!t) continue;
    const std::string n = layer_name(*t, i);
    if (n == name) return t;
    if (names) names->push_back(n);
  }
  return nullptr;
}

Setting parse_setting(const std::string& arg, const toml::table& root) {
  const std::size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    throw UsageError("--set '" + arg + "': expected KEY=V1,V2,... (e.g. optimizer.lr=0.1,0.01)");
  Setting s;
  s.key = arg.substr(0, eq);
  for (std::size_t start = 0; start <= s.key.size();) {
    const std::size_t dot = std::min(s.key.find('.', start), s.key.size());
    s.path.push_back(s.key.substr(start, dot - start));
    start = dot + 1;
  }
  const std::string value_list = arg.substr(eq + 1);
  for (std::size_t start = 0; start <= value_list.size();) {
    const std::size_t comma = std::min(value_list.find(',', start), value_list.size());
    s.texts.push_back(value_list.substr(start, comma - start));
    if (s.texts.back().empty()) throw UsageError("--set " + s.key + ": an empty value in '" + value_list + "'");
    start = comma + 1;
  }
  const auto& keys = setting_keys();
  if (s.path.size() == 3 && s.path[0] == "layer") {
    std::vector<std::string> names;
    const toml::table* t = layer_table(root, s.path[1], &names);
    if (!t) throw UsageError("--set " + s.key + ": the spec has no layer '" + s.path[1] + "' (its layers: " + joined(names) + ")");
    if (s.path[2] == "name" || s.path[2] == "type" || s.path[2] == "inputs")
      throw UsageError("--set " + s.key + ": a sweep changes a layer's settings, not its " + s.path[2]);
    if (const toml::node* n = t->get(s.path[2])) {
      if (n->is_array() || n->is_table())
        throw UsageError("--set " + s.key + ": the spec gives it as " + (n->is_array() ? "an array" : "a table") +
                         "; a sweep sets single values");
      s.type = type_of(*n);
    } else {
      s.type = guessed_type(s.texts.front());
    }
  } else if (s.path.size() == 2 && keys.count(s.path[0])) {
    const auto& table = keys.at(s.path[0]);
    const auto it = table.find(s.path[1]);
    if (it == table.end()) {
      std::vector<std::string> known;
      for (const auto& [k, t] : table) known.push_back(s.path[0] + "." + k);
      throw UsageError("--set: unknown key '" + s.key + "' (the " + s.path[0] + " keys: " + joined(known) + ")");
    }
    s.type = it->second;
  } else if (s.path.size() == 1 && s.path[0] == "batch") {
    s.type = Type::integer;
  } else {
    std::vector<std::string> names;
    layer_table(root, "", &names);
    throw UsageError("--set: unknown key '" + s.key + "' (keys: layer.<name>.<key> with the layers " + joined(names) +
                     "; train.<key>, optimizer.<key>, data.<key>, loss.type, batch)");
  }
  for (const std::string& v : s.texts) {
    bool ok = true;
    std::int64_t i = 0;
    double d = 0;
    const char* end = v.data() + v.size();
    switch (s.type) {
      case Type::integer: ok = std::from_chars(v.data(), end, i).ptr == end; break;
      case Type::real: ok = std::from_chars(v.data(), end, d).ptr == end && std::isfinite(d); break;
      case Type::boolean: ok = v == "true" || v == "false"; break;
      case Type::string:
        for (unsigned char c : v) ok = ok && c >= 0x20 && c != 0x7f;
        break;
    }
    if (!ok) throw UsageError("--set " + s.key + ": '" + v + "' is not " + type_text(s.type) + " (" + s.key + " takes " + type_text(s.type) + ")");
  }
  return s;
}

void assign(toml::table& t, const std::string& key, Type type, const std::string& v) {
  switch (type) {
    case Type::integer: {
      std::int64_t i = 0;
      std::from_chars(v.data(), v.data() + v.size(), i);
      t.insert_or_assign(key, i);
      break;
    }
    case Type::real: {
      double d = 0;
      std::from_chars(v.data(), v.data() + v.size(), d);
      t.insert_or_assign(key, d);
      break;
    }
    case Type::boolean: t.insert_or_assign(key, v == "true"); break;
    case Type::string: t.insert_or_assign(key, v); break;
  }
}

// The spec's TOML with `values` (one per setting) set, and its [data] paths made absolute, so the
// derived spec reads the same files from DIR/specs.
std::string derived_spec(const toml::table& original, const std::string& spec, const std::vector<Setting>& settings,
                         const std::vector<std::size_t>& choice) {
  toml::table root = original;
  for (std::size_t k = 0; k < settings.size(); ++k) {
    const Setting& s = settings[k];
    const std::string& v = s.texts[choice[k]];
    if (s.path[0] == "layer") {
      auto* layers = root.get_as<toml::array>("layer");
      for (std::size_t i = 0; layers && i < layers->size(); ++i)
        if (auto* t = (*layers)[i].as_table(); t && layer_name(*t, i) == s.path[1]) assign(*t, s.path[2], s.type, v);
    } else if (s.path.size() == 1) {
      assign(root, s.path[0], s.type, v);
    } else {
      if (!root.get_as<toml::table>(s.path[0])) root.insert_or_assign(s.path[0], toml::table{});
      assign(*root.get_as<toml::table>(s.path[0]), s.path[1], s.type, v);
    }
  }
  if (auto* data = root.get_as<toml::table>("data"))
    for (const char* key : {"train", "test", "train_labels", "test_labels"})
      if (auto* p = data->get_as<std::string>(key); p && !is_mnist_name(p->get()))
        *p = fs::absolute(spec_relative(spec, p->get())).lexically_normal().string();
  std::ostringstream text;
  text << "# derived by castnet sweep from " << spec << ":";
  for (std::size_t k = 0; k < settings.size(); ++k) text << " " << settings[k].key << "=" << settings[k].texts[choice[k]];
  text << "\n" << root << "\n";
  return text.str();
}

// The numbers after "\"<part>\":{" in the runner's --json summary line ("loss":L,"accuracy":A).
struct Scores {
  std::optional<double> loss, accuracy;
};
std::optional<double> number_after(const std::string& text, std::size_t from, const std::string& key) {
  const std::size_t at = text.find("\"" + key + "\":", from);
  const std::size_t close = text.find('}', from);
  if (at == std::string::npos || at > close) return std::nullopt;
  const char* begin = text.data() + at + key.size() + 3;
  double v = 0;
  const auto r = std::from_chars(begin, text.data() + text.size(), v);
  if (r.ec != std::errc{}) return std::nullopt;
  return v;
}
Scores scores(const std::string& line, const std::string& part) {
  const std::size_t at = line.find("\"" + part + "\":{");
  if (at == std::string::npos) return {};
  return {number_after(line, at, "loss"), number_after(line, at, "accuracy")};
}

std::string exact(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
std::string shown(double v, int precision = 4) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, precision).ptr);
}
std::string cell(const std::optional<double>& v) { return v ? exact(*v) : ""; }
std::optional<double> error_of(const Scores& s) {
  return s.accuracy ? std::optional<double>(1.0 - *s.accuracy) : std::nullopt;
}

struct Run {
  std::size_t config = 0, repeat = 0;
  std::uint64_t seed = 0;
};

// A row of sweep.csv, by column name.
using Row = std::map<std::string, std::string>;

std::vector<std::string> columns_of(const std::vector<Setting>& settings) {
  std::vector<std::string> c;
  for (const auto& s : settings) c.push_back(s.key);
  for (const char* k : {"seed", "repeat", "train_loss", "train_error", "val_loss", "val_error", "test_loss", "test_error",
                        "params", "seconds", "compiled"})
    c.push_back(k);
  return c;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> cells;
  for (std::size_t start = 0; start <= line.size();) {
    const std::size_t end = std::min(line.find(sep, start), line.size());
    cells.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  return cells;
}

std::string csv_text(const std::vector<std::string>& columns, const std::vector<Row>& rows) {
  std::string text = joined(columns, ",") + "\n";
  for (const Row& r : rows) {
    std::vector<std::string> cells;
    for (const auto& c : columns) cells.push_back(r.count(c) ? r.at(c) : "");
    text += joined(cells, ",") + "\n";
  }
  return text;
}

// The runs of an earlier sweep into the same folder; its columns must be this sweep's.
std::vector<Row> read_rows(const fs::path& csv, const std::vector<std::string>& columns) {
  std::vector<Row> rows;
  std::error_code ec;
  if (!fs::exists(csv, ec)) return rows;
  std::istringstream in(io::read_file(csv));
  std::string line;
  std::getline(in, line);
  if (line != joined(columns, ","))
    throw std::runtime_error(csv.string() + ":1: error: its columns (" + line + ") are not this sweep's (" +
                             joined(columns, ",") + "): give another -o, or the same --set options");
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto cells = split(line, ',');
    if (cells.size() != columns.size())
      throw std::runtime_error(csv.string() + ":" + std::to_string(n) + ": error: " + std::to_string(cells.size()) +
                               " cells, expected " + std::to_string(columns.size()));
    Row r;
    for (std::size_t i = 0; i < columns.size(); ++i) r[columns[i]] = cells[i];
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string run_key(const std::vector<Setting>& settings, const Row& r) {
  std::string k;
  for (const auto& s : settings) k += r.at(s.key) + '\x1f';
  return k + r.at("seed");
}

// Runs `args` with stdout and stderr into files; returns the exit status (128 + signal if killed).
int run_process(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("castnet sweep: error: cannot run " + args[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string last_lines(const std::string& text, std::size_t n) {
  std::vector<std::string> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string tail;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) tail += lines[i] + "\n";
  return tail;
}

// --- sweep.md and sweep.svg: per configuration, mean and spread over repeats ---------------------

struct Summary {
  std::vector<std::string> values;  // one per setting
  std::vector<double> train, test, val;  // per repeat: error (classifiers) or loss
  std::string params;
  double seconds = 0;
};

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
}
double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

std::vector<Summary> summarise(const std::vector<Setting>& settings, const std::vector<Row>& rows, bool errors) {
  std::vector<Summary> out;
  std::map<std::vector<std::string>, std::size_t> index;
  const auto number = [](const std::string& s) { return s.empty() ? std::nan("") : std::stod(s); };
  for (const Row& r : rows) {
    std::vector<std::string> values;
    for (const auto& s : settings) values.push_back(r.at(s.key));
    auto [it, fresh] = index.emplace(values, out.size());
    if (fresh) out.push_back({values, {}, {}, {}, r.at("params"), 0});
    Summary& s = out[it->second];
    const auto add = [&](std::vector<double>& v, const std::string& column) {
      const double x = number(r.at(column));
      if (std::isfinite(x)) v.push_back(x);
    };
    add(s.train, errors ? "train_error" : "train_loss");
    add(s.test, errors ? "test_error" : "test_loss");
    add(s.val, errors ? "val_error" : "val_loss");
    s.seconds += number(r.at("seconds"));
  }
  return out;
}

std::string markdown(const std::string& spec, const std::vector<Setting>& settings, const std::vector<Summary>& sums,
                     bool errors, std::size_t runs, std::size_t compiles, double wall) {
  const std::string what = errors ? "error %" : "loss";
  const auto stat = [&](const std::vector<double>& v) {
    if (v.empty()) return std::string("–");
    const double k = errors ? 100 : 1;
    return shown(k * mean(v)) + (v.size() > 1 ? " ± " + shown(k * stddev(v), 2) : "");
  };
  std::string md = "# castnet sweep of " + spec + "\n\n" + std::to_string(runs) + " runs, " + std::to_string(compiles) +
                   " of which compiled their network's runner" +
                   (wall > 0 ? "; the last invocation took " + shown(wall, 4) + " s" : std::string()) +
                   ". Mean ± standard deviation over repeats.\n\n|";
  for (const auto& s : settings) md += " " + s.key + " |";
  md += " runs | train " + what + " | validation " + what + " | test " + what + " | parameters | seconds per run |\n|";
  for (std::size_t i = 0; i < settings.size() + 6; ++i) md += "---|";
  md += "\n";
  for (const Summary& s : sums) {
    md += "|";
    for (const auto& v : s.values) md += " " + v + " |";
    const std::size_t n = std::max({s.train.size(), s.test.size(), std::size_t{1}});
    md += " " + std::to_string(n) + " | " + stat(s.train) + " | " + stat(s.val) + " | " + stat(s.test) + " | " + s.params +
          " | " + shown(s.seconds / static_cast<double>(n), 3) + " |\n";
  }
  return md;
}

std::string svg(const std::string& spec, const std::vector<Setting>& settings, const std::vector<Summary>& sums, bool errors) {
  // x: the first setting's values (numbers; else their order), one group per value of the others.
  const Setting& sx = settings.front();
  const bool numeric = sx.type == Type::integer || sx.type == Type::real;
  const auto x_of = [&](const Summary& s) {
    if (numeric) return std::stod(s.values.front());
    return static_cast<double>(std::find(sx.texts.begin(), sx.texts.end(), s.values.front()) - sx.texts.begin());
  };
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = 0, yhi = 0;
  for (const Summary& s : sums) {
    xlo = std::min(xlo, x_of(s));
    xhi = std::max(xhi, x_of(s));
    for (const auto* v : {&s.train, &s.test})
      for (double y : *v) yhi = std::max(yhi, y);
  }
  if (!(xlo < xhi)) xlo -= 1, xhi += 1;
  if (!(yhi > 0)) yhi = 1;
  yhi *= errors ? 100 : 1;
  // Five ticks at a 1-2-5 step, the top one at or above every value.
  const double raw = yhi / 5, p10 = std::pow(10.0, std::floor(std::log10(raw)));
  double ystep = 10 * p10;
  for (const double m : {1.0, 2.0, 5.0})
    if (m * p10 >= raw) {
      ystep = m * p10;
      break;
    }
  const int yticks = static_cast<int>(std::ceil(yhi / ystep - 1e-9));
  yhi = ystep * yticks;
  const bool logx = numeric && xlo > 0 && xhi / xlo >= 100;
  std::set<std::vector<std::string>> group_names;
  for (const Summary& s : sums) group_names.insert(std::vector<std::string>(s.values.begin() + 1, s.values.end()));
  const double x0 = 80, y0 = 50, w = 560, h = 360;
  const double height = y0 + h + 60 + (settings.size() > 1 ? 16.0 * static_cast<double>(group_names.size()) : 0.0);
  const auto fx = [&](double x) {
    const double f = logx ? (std::log10(x) - std::log10(xlo)) / (std::log10(xhi) - std::log10(xlo)) : (x - xlo) / (xhi - xlo);
    return x0 + f * w;
  };
  const auto fy = [&](double y) { return y0 + h - (errors ? 100 * y : y) / (yhi - ylo) * h; };
  const auto px = [](double v) { return shown(std::round(v * 10) / 10, 8); };
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"680\" height=\"" + px(height) +
                  "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"680\" height=\"" + px(height) +
                  "\" fill=\"white\"/>\n";
  o += "<text x=\"" + px(x0) + "\" y=\"26\" font-size=\"14\">" + xml_escape(spec) + ": test (solid), train (dashed) " +
       (errors ? "error" : "loss") + "; bands: min to max over repeats</text>\n";
  o += "<rect x=\"" + px(x0) + "\" y=\"" + px(y0) + "\" width=\"" + px(w) + "\" height=\"" + px(h) + "\" fill=\"none\" stroke=\"black\"/>\n";
  // Groups: the other settings' values.
  std::map<std::vector<std::string>, std::vector<const Summary*>> groups;
  for (const Summary& s : sums) groups[std::vector<std::string>(s.values.begin() + 1, s.values.end())].push_back(&s);
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  std::size_t g = 0;
  for (auto& [others, members] : groups) {
    std::sort(members.begin(), members.end(), [&](const Summary* a, const Summary* b) { return x_of(*a) < x_of(*b); });
    const std::string colour = colours[g % 8];
    for (int part = 0; part < 2; ++part) {
      std::string line, upper, lower;
      for (const Summary* s : members) {
        const auto& v = part == 0 ? s->test : s->train;
        if (v.empty()) continue;
        const double x = fx(x_of(*s));
        line += (line.empty() ? "M" : "L") + px(x) + " " + px(fy(mean(v)));
        upper += (upper.empty() ? "M" : "L") + px(x) + " " + px(fy(*std::max_element(v.begin(), v.end())));
        lower = "L" + px(x) + " " + px(fy(*std::min_element(v.begin(), v.end()))) + lower;
      }
      if (line.empty()) continue;
      o += "<path d=\"" + upper + lower + "Z\" fill=\"" + colour + "\" opacity=\"0.15\" stroke=\"none\"/>\n";
      o += "<path d=\"" + line + "\" stroke=\"" + colour + "\" stroke-width=\"2\" fill=\"none\"" +
           (part == 1 ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
      for (const Summary* s : members)
        if (!(part == 0 ? s->test : s->train).empty())
          o += "<circle cx=\"" + px(fx(x_of(*s))) + "\" cy=\"" + px(fy(mean(part == 0 ? s->test : s->train))) + "\" r=\"3\" fill=\"" + colour + "\"/>\n";
    }
    std::string label;
    for (std::size_t k = 1; k < settings.size(); ++k) label += (label.empty() ? "" : ", ") + settings[k].key + " = " + others[k - 1];
    if (!label.empty())  // the legend, under the x axis's label
      o += "<text x=\"" + px(x0) + "\" y=\"" + px(y0 + h + 60 + 16 * static_cast<double>(g)) + "\" fill=\"" + colour + "\">" +
           xml_escape(label) + "</text>\n";
    ++g;
  }
  // Axes: ticks at the swept values (x) and five on y.
  std::set<double> xs;
  for (const Summary& s : sums) xs.insert(x_of(s));
  for (double x : xs)
    o += "<text x=\"" + px(fx(x)) + "\" y=\"" + px(y0 + h + 16) + "\" text-anchor=\"middle\">" +
         xml_escape(numeric ? shown(x) : sx.texts[static_cast<std::size_t>(x)]) + "</text>\n";
  for (int t = 0; t <= yticks; ++t) {
    const double f = static_cast<double>(t) / yticks;
    o += "<text x=\"" + px(x0 - 6) + "\" y=\"" + px(y0 + h - h * f + 4) + "\" text-anchor=\"end\">" + shown(ystep * t, 3) + "</text>\n";
  }
  o += "<text x=\"" + px(x0 + w / 2) + "\" y=\"" + px(y0 + h + 38) + "\" text-anchor=\"middle\">" + xml_escape(sx.key) +
       (logx ? " (log scale)" : "") + "</text>\n";
  o += "<text transform=\"translate(22 " + px(y0 + h / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       (errors ? "error %" : "loss") + "</text>\n</svg>\n";
  return o;
}

}  // namespace

int sweep(int argc, char** argv) {
  // --set may repeat, which Args does not allow: take those pairs out first.
  std::vector<std::string> sets;
  std::vector<char*> rest = {argv[0], argv[1]};
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--set") {
      if (i + 1 >= argc) throw UsageError("--set needs KEY=V1,V2,...");
      sets.emplace_back(argv[++i]);
    } else {
      rest.push_back(argv[i]);
    }
  }
  const Args args(static_cast<int>(rest.size()), rest.data(), 2, {"--repeats", "--jobs", "-o", "--out", "--limit"}, {});
  const std::string spec = args.spec();
  if (sets.empty()) throw UsageError("nothing to sweep: give --set KEY=V1,V2,...");
  const std::size_t repeats = args.get("--repeats") ? parse_integer("--repeats", *args.get("--repeats")) : 1;
  const std::size_t jobs = args.get("--jobs") ? parse_integer("--jobs", *args.get("--jobs")) : castnet::usable_cores();
  if (args.get("-o") && args.get("--out")) throw UsageError("-o and --out: give one");
  const ir::Limits limits = limits_option(args);

  const spec::Spec base = gen::load_spec(spec, nullptr, 0, limits);  // the spec itself must be valid
  const toml::table root = toml::parse_file(spec);
  std::vector<Setting> settings;
  for (const std::string& s : sets) {
    settings.push_back(parse_setting(s, root));
    for (std::size_t k = 0; k + 1 < settings.size(); ++k)
      if (settings[k].key == settings.back().key) throw UsageError("--set " + settings.back().key + " given twice");
  }
  const fs::path out = args.get("-o").value_or(args.get("--out").value_or((fs::path("runs") / (base.graph.name + "-sweep")).string()));
  fs::create_directories(out / "specs");

  // Every configuration's derived spec, checked before anything trains; the networks among them.
  std::vector<std::vector<std::size_t>> choices(1);
  for (const Setting& s : settings) {
    std::vector<std::vector<std::size_t>> next;
    for (const auto& c : choices)
      for (std::size_t v = 0; v < s.texts.size(); ++v) {
        next.push_back(c);
        next.back().push_back(v);
      }
    choices = std::move(next);
  }
  struct Config {
    fs::path spec;
    std::uint64_t seed = 0;
    std::size_t params = 0;
    bool classifier = false;
  };
  std::vector<Config> configs;
  std::set<std::string> networks;
  for (std::size_t c = 0; c < choices.size(); ++c) {
    Config cfg;
    cfg.spec = out / "specs" / ("c" + std::to_string(c) + ".toml");
    const std::string text = derived_spec(root, spec, settings, choices[c]);
    if (!fs::exists(cfg.spec) || io::read_file(cfg.spec) != text) io::write_file_atomic(cfg.spec, text);
    gen::GenRequest req;
    req.spec = cfg.spec;
    req.limits = limits;
    req.runner = true;
    const gen::GenResult r = gen::emit_header(req);
    networks.insert(io::sha256_hex(r.header_text));
    cfg.seed = r.spec.training.seed;
    cfg.params = r.spec.graph.param_count();
    cfg.classifier = r.spec.graph.loss.kind == ir::LossKind::softmax_cross_entropy ||
                     r.spec.graph.loss.kind == ir::LossKind::binary_cross_entropy;
    configs.push_back(cfg);
  }

  const std::vector<std::string> columns = columns_of(settings);
  const fs::path csv = out / "sweep.csv";
  std::vector<Row> rows = read_rows(csv, columns);
  std::set<std::string> done;
  for (const Row& r : rows) done.insert(run_key(settings, r));
  std::vector<Run> todo;
  std::size_t total = 0;
  for (std::size_t c = 0; c < configs.size(); ++c)
    for (std::size_t r = 0; r < repeats; ++r) {
      ++total;
      Run run{c, r, configs[c].seed + r};
      Row key;
      for (std::size_t k = 0; k < settings.size(); ++k) key[settings[k].key] = settings[k].texts[choices[c][k]];
      key["seed"] = std::to_string(run.seed);
      if (!done.count(run_key(settings, key))) todo.push_back(run);
    }
  std::cout << "castnet sweep: " << configs.size() << " configurations x " << repeats << " repeats = " << total << " runs ("
            << networks.size() << (networks.size() == 1 ? " network" : " networks") << "); " << total - todo.size()
            << " done already in " << csv.string() << ", " << todo.size() << " to train, " << std::min(jobs, std::max<std::size_t>(todo.size(), 1))
            << " at a time\n"
            << std::flush;

  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::mutex lock;
  std::atomic<std::size_t> next{0}, compiles{0}, failed{0};
  const auto started = std::chrono::steady_clock::now();
  const auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < todo.size() && failed == 0;) {
      const Run& run = todo[i];
      const Config& cfg = configs[run.config];
      const fs::path dir = out / "runs" / ("c" + std::to_string(run.config) + "-seed" + std::to_string(run.seed));
      fs::create_directories(dir);
      const auto t0 = std::chrono::steady_clock::now();
      const int status = run_process({self, "train", cfg.spec.string(), "--out", dir.string(), "--seed",
                                      std::to_string(run.seed), "--force", "--json"},
                                     dir / "train.jsonl", dir / "train.log");
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const std::string log = io::read_file(dir / "train.log");
      const bool compiled = log.find("compiling the ") != std::string::npos;
      compiles += compiled;
      const std::lock_guard<std::mutex> guard(lock);
      if (status != 0) {
        ++failed;
        std::cerr << "castnet sweep: error: run " << dir.string() << " failed (exit " << status << "):\n" << last_lines(log, 8);
        continue;
      }
      const std::string summary = last_lines(io::read_file(dir / "train.jsonl"), 1);
      const Scores train = scores(summary, "train"), val = scores(summary, "validation"), test = scores(summary, "test");
      Row r;
      for (std::size_t k = 0; k < settings.size(); ++k) r[settings[k].key] = settings[k].texts[choices[run.config][k]];
      r["seed"] = std::to_string(run.seed);
      r["repeat"] = std::to_string(run.repeat);
      r["train_loss"] = cell(train.loss);
      r["train_error"] = cell(error_of(train));
      r["val_loss"] = cell(val.loss);
      r["val_error"] = cell(error_of(val));
      r["test_loss"] = cell(test.loss);
      r["test_error"] = cell(error_of(test));
      r["params"] = std::to_string(cfg.params);
      r["seconds"] = shown(seconds, 4);
      r["compiled"] = compiled ? "yes" : "no";
      rows.push_back(r);
      io::write_file_atomic(csv, csv_text(columns, rows));
      std::cout << "[" << rows.size() << "/" << total << "] " << cfg.spec.filename().string();
      for (std::size_t k = 0; k < settings.size(); ++k) std::cout << " " << settings[k].key << "=" << r[settings[k].key];
      std::cout << " seed " << run.seed << ": train " << (train.accuracy ? "error " + shown(100 * (1 - *train.accuracy)) + "%" : "loss " + cell(train.loss))
                << ", test " << (test.accuracy ? "error " + shown(100 * (1 - *test.accuracy)) + "%" : test.loss ? "loss " + cell(test.loss) : "-")
                << " (" << shown(seconds, 3) << " s" << (compiled ? ", compiled" : "") << ")\n"
                << std::flush;
    }
  };
  {
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < std::min(jobs, todo.size()); ++k) threads.emplace_back(work);
    for (auto& t : threads) t.join();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // The table and the picture, in the configurations' order.
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    const auto pos = [&](const Row& r) {
      std::vector<std::size_t> p;
      for (const auto& s : settings) p.push_back(static_cast<std::size_t>(std::find(s.texts.begin(), s.texts.end(), r.at(s.key)) - s.texts.begin()));
      p.push_back(std::stoull(r.at("seed")));
      return p;
    };
    return pos(a) < pos(b);
  });
  io::write_file_atomic(csv, csv_text(columns, rows));
  const bool errors = !configs.empty() && configs.front().classifier;
  const auto sums = summarise(settings, rows, errors);
  const auto compiled_runs = static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [](const Row& r) { return r.at("compiled") == "yes"; }));
  io::write_file_atomic(out / "sweep.md",
                        markdown(spec, settings, sums, errors, rows.size(), compiled_runs, todo.empty() ? 0.0 : wall));
  if (!sums.empty()) io::write_file_atomic(out / "sweep.svg", svg(base.graph.name, settings, sums, errors));
  std::cout << "castnet sweep: " << todo.size() - failed << " runs trained in " << shown(wall, 4) << " s with " << compiles
            << " runner compiles; wrote " << csv.string() << ", sweep.md and sweep.svg\n";
  if (failed) throw std::runtime_error("castnet sweep: error: " + std::to_string(failed) + " run(s) failed; run the same command again to retry them");
  return 0;
}

}  // namespace castnet::cli
