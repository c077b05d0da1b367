// TOML spec -> graph IR. This file knows the spec's syntax: which keys exist, their types, ranges
// and defaults. Rules that need the whole graph (shapes, loss fit, unique names) live in the passes.
// Every rejection names file:line:col, the layer and the rule; unknown keys are errors, so a typo
// never silently falls back to a default.
#include "spec/parse_spec.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <toml++/toml.h>
#include <vector>

#include "ir/identifier.hpp"
#include "ir/limits.hpp"
#include "ops/op_def.hpp"
#include "spec/attributes.hpp"
#include "ir/diagnostic.hpp"

namespace castnet::spec {
namespace {

using ir::SourcePos;

SourcePos pos_of(const toml::source_region& r) { return {r.begin.line, r.begin.column}; }

std::string join(const std::vector<std::string_view>& items) {
  std::string s;
  for (auto it : items) s += (s.empty() ? "" : ", ") + std::string(it);
  return s;
}

// Reads typed values out of toml tables, failing with positions.
class Reader {
 public:
  Reader(std::string file, const ir::Limits& limits) : file_(std::move(file)), limits_(limits) {}
  const ir::Limits& limits() const { return limits_; }

  [[noreturn]] void fail(SourcePos pos, const std::string& layer, const std::string& msg) const {
    castnet::fail(file_, pos, layer, msg);
  }

  // Unknown keys are errors; `planned` keys are known but belong to a later feature.
  void check_keys(const toml::table& t, const std::vector<std::string_view>& allowed, const std::string& where,
                  const std::string& layer, std::initializer_list<std::string_view> planned = {}) const {
    for (const auto& [key, node] : t) {
      const std::string_view k = key.str();
      bool ok = false;
      for (auto a : allowed) ok = ok || a == k;
      if (ok) continue;
      for (auto p : planned)
        if (p == k) fail(pos_of(key.source()), layer, "key '" + std::string(k) + "' in " + where + " is not supported yet");
      fail(pos_of(key.source()), layer,
           "unknown key '" + std::string(k) + "' in " + where + " (expected one of: " + join(allowed) + ")");
    }
  }

  std::uint64_t integer(const toml::table& t, std::string_view key, std::int64_t lo, std::int64_t hi,
                        const std::string& layer, SourcePos table_pos, std::optional<std::int64_t> dflt = {},
                        std::string_view limit = {}) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (dflt) return static_cast<std::uint64_t>(*dflt);
      fail(table_pos, layer, "missing required key '" + std::string(key) + "'");
    }
    return integer_value(*n, key, lo, hi, layer, limit);
  }

  // `limit`: the ir::Limits key hi comes from, named when a value is over it.
  std::uint64_t integer_value(const toml::node& n, std::string_view what, std::int64_t lo, std::int64_t hi,
                              const std::string& layer, std::string_view limit = {}) const {
    const std::string range = "an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
    if (auto f = n.as_floating_point()) {
      std::ostringstream v;
      v << f->get();
      fail(pos_of(n.source()), layer, std::string(what) + " must be " + range + ", got " + v.str());
    }
    auto i = n.as_integer();
    if (!i) fail(pos_of(n.source()), layer, std::string(what) + " must be " + range + ", got " + type_name(n));
    const std::int64_t v = i->get();
    if (v < lo || v > hi)
      fail(pos_of(n.source()), layer,
           std::string(what) + " must be " + range + ", got " + std::to_string(v) +
               (v > hi && !limit.empty() ? " (limit '" + std::string(limit) + "')" : ""));
    return static_cast<std::uint64_t>(v);
  }

  double real(const toml::table& t, std::string_view key, double lo, double hi, bool lo_open, const std::string& layer,
              double dflt) const {
    const toml::node* n = t.get(key);
    if (!n) return dflt;
    double v = 0;
    if (auto f = n->as_floating_point()) v = f->get();
    else if (auto i = n->as_integer()) v = static_cast<double>(i->get());
    else fail(pos_of(n->source()), layer, std::string(key) + " must be a number, got " + type_name(*n));
    std::ostringstream r;
    r << (lo_open ? "(" : "[") << lo << ", " << hi << "], got " << v;
    if (!std::isfinite(v) || v < lo || (lo_open && v == lo) || v > hi)
      fail(pos_of(n->source()), layer, std::string(key) + " must lie in " + r.str());
    return v;
  }

  const toml::value<std::string>* string(const toml::table& t, std::string_view key, const std::string& layer,
                                         SourcePos table_pos, bool required) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) fail(table_pos, layer, "missing required key '" + std::string(key) + "'");
      return nullptr;
    }
    auto s = n->as_string();
    if (!s) fail(pos_of(n->source()), layer, std::string(key) + " must be a string, got " + type_name(*n));
    return s;
  }

  bool boolean(const toml::table& t, std::string_view key, bool dflt) const {
    const toml::node* n = t.get(key);
    if (!n) return dflt;
    auto b = n->as_boolean();
    if (!b) fail(pos_of(n->source()), "", std::string(key) + " must be true or false, got " + type_name(*n));
    return b->get();
  }

  const toml::table& table(const toml::node& n, std::string_view what) const {
    auto t = n.as_table();
    if (!t) fail(pos_of(n.source()), "", std::string(what) + " must be a table");
    return *t;
  }

  std::string identifier(const toml::value<std::string>& s, const std::string& layer,
                         std::size_t max_length = ir::kMaxIdentifierLength) const {
    const std::string problem = ir::identifier_problem(s.get(), max_length);
    if (!problem.empty()) fail(pos_of(s.source()), layer, "invalid name '" + printable(s.get()) + "': " + problem);
    return s.get();
  }

  // The model's name, a namespace at global scope: the identifier rule and more (ir/identifier.hpp).
  std::string model_name(const toml::value<std::string>& s) const {
    const std::string problem = ir::model_name_problem(s.get());
    if (!problem.empty()) fail(pos_of(s.source()), "", "invalid name '" + printable(s.get()) + "': " + problem);
    return s.get();
  }

  // A spec string shown in a message: non-ASCII and control bytes as \xNN, long ones cut.
  static std::string printable(const std::string& s) { return castnet::printable(s, 80); }

  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a number";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::array: return "an array";
      case toml::node_type::table: return "a table";
      default: return "a date/time";
    }
  }

 private:
  std::string file_;
  const ir::Limits& limits_;
};

// One [[layer]] table, read through the Attributes interface by the layer's kind.
class TableAttributes final : public Attributes {
 public:
  TableAttributes(const Reader& r, const toml::table& t, const std::string& layer, SourcePos pos)
      : r_(r), t_(t), layer_(layer), pos_(pos) {}

  void allow(std::initializer_list<std::string_view> keys, std::string_view what,
             std::initializer_list<std::string_view> planned) override {
    std::vector<std::string_view> all = {"name", "type", "inputs"};
    all.insert(all.end(), keys.begin(), keys.end());
    r_.check_keys(t_, all, std::string(what), layer_, planned);
  }
  bool has(std::string_view key) const override { return t_.get(key) != nullptr; }
  std::uint64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::optional<std::int64_t> dflt,
                        std::string_view limit) override {
    return r_.integer(t_, key, lo, hi, layer_, pos_, dflt, limit);
  }
  double real(std::string_view key, double lo, double hi, bool lo_open, double dflt) override {
    return r_.real(t_, key, lo, hi, lo_open, layer_, dflt);
  }
  std::array<std::size_t, 2> pair(std::string_view key, std::int64_t lo, std::int64_t hi,
                                  std::optional<std::int64_t> dflt, std::string_view limit) override {
    const toml::node* n = t_.get(key);
    if (!n || !n->is_array()) {
      const auto v = static_cast<std::size_t>(r_.integer(t_, key, lo, hi, layer_, pos_, dflt, limit));
      return {v, v};
    }
    const auto& arr = *n->as_array();
    if (arr.size() != 2)
      r_.fail(pos_of(n->source()), layer_, std::string(key) + " must be one integer or two, [height, width]; got " +
                                               std::to_string(arr.size()) + " values");
    return {static_cast<std::size_t>(r_.integer_value(arr[0], key, lo, hi, layer_, limit)),
            static_cast<std::size_t>(r_.integer_value(arr[1], key, lo, hi, layer_, limit))};
  }
  std::array<double, 2> interval(std::string_view key, double min, double max) override {
    const toml::node* n = t_.get(key);
    if (!n) r_.fail(pos_, layer_, "missing required key '" + std::string(key) + "'");
    const auto* arr = n->as_array();
    if (!arr || arr->size() != 2)
      r_.fail(pos_of(n->source()), layer_, std::string(key) + " must be two numbers, [lo, hi]; got " +
                                               (arr ? std::to_string(arr->size()) + (arr->size() == 1 ? " value" : " values") : Reader::type_name(*n)));
    std::array<double, 2> v{};
    for (std::size_t i = 0; i < 2; ++i) {
      const toml::node& e = (*arr)[i];
      if (auto f = e.as_floating_point()) v[i] = f->get();
      else if (auto k = e.as_integer()) v[i] = static_cast<double>(k->get());
      else r_.fail(pos_of(e.source()), layer_, std::string(key) + " must hold numbers, got " + Reader::type_name(e));
      std::ostringstream r;
      r << "[" << min << ", " << max << "], got " << v[i];
      if (!std::isfinite(v[i]) || v[i] < min || v[i] > max)
        r_.fail(pos_of(e.source()), layer_, std::string(key) + (i ? "'s hi" : "'s lo") + " must lie in " + r.str());
    }
    if (!(v[0] < v[1])) {
      std::ostringstream r;
      r << std::string(key) << " must be [lo, hi] with lo < hi, got [" << v[0] << ", " << v[1] << "]";
      r_.fail(pos_of(n->source()), layer_, r.str());
    }
    return v;
  }
  const ir::Limits& limits() const override { return r_.limits(); }
  bool is_string(std::string_view key) const override {
    const toml::node* n = t_.get(key);
    return n && n->is_string();
  }
  std::optional<std::string> string(std::string_view key) override {
    const auto* s = r_.string(t_, key, layer_, pos_, false);
    return s ? std::optional<std::string>(s->get()) : std::nullopt;
  }
  [[noreturn]] void fail(std::string_view key, const std::string& message) override {
    const toml::node* n = t_.get(key);
    r_.fail(n ? pos_of(n->source()) : pos_, layer_, message);
  }

 private:
  const Reader& r_;
  const toml::table& t_;
  const std::string& layer_;
  SourcePos pos_;
};

// `inputs = ["a", "b"]`: layer names, or "input" for the network's input. Whether they exist and
// how many a kind takes is the passes' business.
// `edges` counts the names in all layers' inputs so far (the limit 'inputs').
void read_inputs(const Reader& r, const toml::table& t, ir::Layer& l, std::uint64_t& edges) {
  const toml::node* n = t.get("inputs");
  if (!n) return;
  const auto* arr = n->as_array();
  if (!arr || arr->empty()) r.fail(pos_of(n->source()), l.name, "inputs must be a non-empty array of layer names");
  if (arr->size() > r.limits().layers)
    r.fail(pos_of(n->source()), l.name, "inputs may name at most " + std::to_string(r.limits().layers) + " layers (limit 'layers')");
  edges += arr->size();
  if (edges > r.limits().inputs)
    r.fail(pos_of(n->source()), l.name,
           "the layers' inputs name more than " + std::to_string(r.limits().inputs) + " layers in all (limit 'inputs')");
  for (const auto& e : *arr) {
    const auto* s = e.as_string();
    if (!s) r.fail(pos_of(e.source()), l.name, "inputs must hold layer names (strings), got " + Reader::type_name(e));
    l.input_names.push_back(r.identifier(*s, l.name, ir::kMaxLayerNameLength));
    l.input_name_pos.push_back(pos_of(e.source()));
  }
}

void read_layer(const Reader& r, const toml::table& t, std::size_t index, ir::Graph& g, std::uint64_t& edges) {
  ir::Layer l;
  l.pos = pos_of(t.source());
  const std::string provisional = "#" + std::to_string(index + 1);  // until the name is known

  const auto* type = r.string(t, "type", provisional, l.pos, true);
  const std::string& ty = type->get();
  const ops::OpDef* op = ops::op_for_type(ty, l);
  if (!op) r.fail(pos_of(type->source()), provisional, "unknown layer type '" + ty + "' (expected " + ops::known_types() + ")");

  if (const auto* name = r.string(t, "name", provisional, l.pos, false)) {
    l.name = r.identifier(*name, provisional, ir::kMaxLayerNameLength);
    l.name_pos = pos_of(name->source());
    if (l.name == ir::kInputName)
      r.fail(l.name_pos, provisional, "the name 'input' is reserved for the network's input (as `inputs` name it)");
  } else {
    l.name = ty + std::to_string(index + 1);  // documented default: <type><index>, 1-based
    l.name_pos = l.pos;
  }
  read_inputs(r, t, l, edges);
  TableAttributes attributes(r, t, l.name, l.pos);
  op->read(attributes, l);
  g.layers.push_back(std::move(l));
}

void read_loss(const Reader& r, const toml::table& t, ir::Graph& g) {
  g.loss.pos = pos_of(t.source());
  r.check_keys(t, {"type"}, "[loss]", "");
  const auto* type = r.string(t, "type", "", g.loss.pos, true);
  g.loss.pos = pos_of(type->source());
  const std::string& s = type->get();
  if (s == "mse") g.loss.kind = ir::LossKind::mse;
  else if (s == "binary_cross_entropy") g.loss.kind = ir::LossKind::binary_cross_entropy;
  else if (s == "softmax_cross_entropy") g.loss.kind = ir::LossKind::softmax_cross_entropy;
  else r.fail(g.loss.pos, "", "unknown loss '" + s + "' (expected one of: mse, binary_cross_entropy, softmax_cross_entropy)");
}

// An enumerated string value, or an error at it listing the allowed ones.
template <class E>
E read_enum(const Reader& r, const toml::value<std::string>& v, std::string_view key) {
  E e{};
  if (!castnet::parse_name(v.get(), e))
    r.fail(pos_of(v.source()), "", "unknown " + std::string(key) + " '" + Reader::printable(v.get()) + "' (expected one of: " +
                                       castnet::name_list<E>() + ")");
  return e;
}

// [optimizer] schedule: a name ("cosine") or a table ({ type = "step", step_size = 5 }).
void read_schedule(const Reader& r, const toml::node& n, castnet::TrainConfig& c) {
  auto& s = c.schedule;
  using K = castnet::ScheduleConfig::Kind;
  if (const auto* name = n.as_string()) {
    s.kind = read_enum<K>(r, *name, "schedule");
    if (s.kind == K::exponential) s.gamma = 0.95;
    return;
  }
  const toml::table& t = r.table(n, "[optimizer] schedule");
  const SourcePos p = pos_of(t.source());
  s.kind = read_enum<K>(r, *r.string(t, "type", "", p, true), "schedule");
  std::vector<std::string_view> keys = {"type", "warmup"};
  switch (s.kind) {
    case K::constant: break;
    case K::step: keys.insert(keys.end(), {"step_size", "gamma"}); break;
    case K::exponential: keys.push_back("gamma"); break;
    case K::inverse_time: keys.push_back("decay"); break;
    case K::cosine: keys.push_back("lr_min"); break;
  }
  r.check_keys(t, keys, "the " + std::string(castnet::name_of(s.kind)) + " schedule", "");
  s.warmup = r.real(t, "warmup", 0.0, 1e6, false, "", s.warmup);
  s.step_size = r.integer(t, "step_size", 1, 1'000'000, "", p, static_cast<std::int64_t>(s.step_size));
  s.gamma = r.real(t, "gamma", 0.0, 1.0, true, "", s.kind == K::exponential ? 0.95 : s.gamma);
  s.decay = r.real(t, "decay", 0.0, 1e6, false, "", s.decay);
  s.lr_min = r.real(t, "lr_min", 0.0, 1e3, false, "", s.lr_min);
}

// Each optimizer's keys and torch.optim's defaults (lr: SGD's 0.01 as castnet's default, Adam's
// 1e-3, LBFGS's 1).
void read_optimizer(const Reader& r, const toml::table& t, castnet::TrainConfig& c) {
  auto& o = c.optimizer;
  using K = castnet::OptimizerConfig::Kind;
  const SourcePos p = pos_of(t.source());
  o.kind = read_enum<K>(r, *r.string(t, "type", "", p, true), "optimizer");
  std::vector<std::string_view> keys = {"type", "lr", "l2"};
  // L-BFGS takes one full-batch iteration per epoch with its own line search: no schedule, no clipping.
  if (o.kind != K::lbfgs) keys.insert(keys.end(), {"schedule", "clip_norm"});
  switch (o.kind) {
    case K::sgd: break;
    case K::momentum: keys.insert(keys.end(), {"momentum", "form"}); break;
    case K::nesterov: keys.push_back("momentum"); break;
    case K::rmsprop: keys.insert(keys.end(), {"alpha", "eps"}); break;
    case K::adam: keys.insert(keys.end(), {"beta1", "beta2", "eps"}); break;
    case K::adamw: keys.insert(keys.end(), {"beta1", "beta2", "eps", "weight_decay"}); break;
    case K::lbfgs: keys.push_back("history"); break;
  }
  r.check_keys(t, keys, "[optimizer] (" + std::string(castnet::name_of(o.kind)) + ")", "");
  const double lr = o.kind == K::adam || o.kind == K::adamw ? 1e-3 : o.kind == K::lbfgs ? 1.0 : 1e-2;
  o.lr = r.real(t, "lr", 0.0, 1e3, true, "", lr);
  o.momentum = r.real(t, "momentum", 0.0, 0.999999, false, "", o.momentum);
  if (const auto* form = r.string(t, "form", "", p, false))
    o.form = read_enum<castnet::OptimizerConfig::MomentumForm>(r, *form, "momentum form");
  o.beta1 = r.real(t, "beta1", 0.0, 0.999999, false, "", o.beta1);
  o.beta2 = r.real(t, "beta2", 0.0, 0.999999, false, "", o.beta2);
  o.eps = r.real(t, "eps", 0.0, 1.0, true, "", o.eps);
  o.alpha = r.real(t, "alpha", 0.0, 0.999999, false, "", o.alpha);
  o.weight_decay = r.real(t, "weight_decay", 0.0, 1e3, false, "", o.weight_decay);
  o.history = r.integer(t, "history", 1, 1000, "", p, static_cast<std::int64_t>(o.history));
  c.l2 = r.real(t, "l2", 0.0, 1e3, false, "", c.l2);
  c.clip_norm = r.real(t, "clip_norm", 0.0, 1e9, false, "", c.clip_norm);
  if (const toml::node* n = t.get("schedule")) read_schedule(r, *n, c);
}

void read_train(const Reader& r, const toml::table& t, castnet::TrainConfig& c) {
  r.check_keys(t, {"epochs", "seed", "shuffle", "validation", "early_stopping", "input_noise"}, "[train]", "");
  const SourcePos p = pos_of(t.source());
  c.epochs = r.integer(t, "epochs", 1, 1'000'000, "", p, static_cast<std::int64_t>(c.epochs));
  c.seed = r.integer(t, "seed", 0, INT64_MAX, "", p, static_cast<std::int64_t>(c.seed));
  c.shuffle = r.boolean(t, "shuffle", c.shuffle);
  c.validation = r.real(t, "validation", 0.0, 0.9, false, "", c.validation);
  c.early_stopping = r.integer(t, "early_stopping", 0, 1'000'000, "", p, 0);
  if (c.early_stopping > 0 && c.validation == 0.0)
    r.fail(pos_of(t.get("early_stopping")->source()), "",
           "early_stopping watches the validation loss: set [train] validation too (e.g. 0.1)");
  c.input_noise = r.real(t, "input_noise", 0.0, 1e3, false, "", c.input_noise);
}

// [data] paths and column names never reach generated code: the CLI hands them to the runner as
// arguments (execv, no shell). A control byte has no place in them: a NUL would cut the path
// the runner opens short of the one the spec shows, a newline would forge lines in messages.
// Column names are passed joined by commas, so they must not hold one.
const toml::value<std::string>* data_text(const Reader& r, const toml::value<std::string>* s, std::string_view what,
                                          bool column) {
  if (!s) return s;
  for (unsigned char c : s->get()) {
    if (c < 0x20 || c == 0x7f)
      r.fail(pos_of(s->source()), "", std::string(what) + " must not hold control characters, got '" + Reader::printable(s->get()) + "'");
    if (column && c == ',')
      r.fail(pos_of(s->source()), "", std::string(what) + " must not hold ',', got '" + Reader::printable(s->get()) + "'");
  }
  return s;
}

void read_data(const Reader& r, const toml::table& t, Spec& spec) {
  r.check_keys(t, {"train", "test", "train_labels", "test_labels", "labels", "normalize", "targets", "subset", "label_noise"},
               "[data]", "");
  const SourcePos p = pos_of(t.source());
  const auto path = [&](std::string_view key) { return data_text(r, r.string(t, key, "", p, false), key, false); };
  if (const auto* s = path("train")) {
    spec.data.train = s->get();
    spec.data.train_pos = pos_of(s->source());
  }
  if (const auto* s = path("test")) {
    spec.data.test = s->get();
    spec.data.test_pos = pos_of(s->source());
  }
  if (const auto* s = path("train_labels")) spec.data.train_labels = s->get();
  if (const auto* s = path("test_labels")) spec.data.test_labels = s->get();
  if (const auto* s = r.string(t, "normalize", "", p, false))
    spec.training.normalize = read_enum<castnet::Normalize>(r, *s, "normalize");
  if (const auto* s = r.string(t, "targets", "", p, false)) {
    if (s->get() != "labels" && s->get() != "inputs")
      r.fail(pos_of(s->source()), "", "targets must be \"labels\" or \"inputs\" (an autoencoder), got '" + Reader::printable(s->get()) + "'");
    spec.training.autoencoder = s->get() == "inputs";
    spec.data.targets_pos = pos_of(s->source());
  }
  // Whether subset fits the data is known when the runner loads it (take_subset, data.hpp).
  spec.training.subset = r.integer(t, "subset", 1, 1'000'000'000, "", p, 0);
  spec.training.label_noise = r.real(t, "label_noise", 0.0, 1.0, false, "", 0.0);
  if (const toml::node* n = t.get("label_noise")) spec.data.label_noise_pos = pos_of(n->source());
  if (const toml::node* n = t.get("labels")) {
    auto arr = n->as_array();
    if (!arr || arr->empty()) r.fail(pos_of(n->source()), "", "labels must be a non-empty array of column names");
    for (const auto& e : *arr) {
      auto s = e.as_string();
      if (!s) r.fail(pos_of(e.source()), "", "labels must hold column names (strings)");
      spec.data.labels.push_back(data_text(r, s, "a label column name", true)->get());
    }
  }
}

void read_input(const Reader& r, const toml::node& n, ir::Graph& g) {
  g.input_pos = pos_of(n.source());
  auto arr = n.as_array();
  if (!arr || arr->empty() || arr->size() > 3)
    r.fail(g.input_pos, "", "input must be an array of 1 to 3 sizes: [features] or [channels, height, width]");
  for (const auto& e : *arr)
    g.input_shape.push_back(r.integer_value(e, "input sizes", 1, static_cast<std::int64_t>(r.limits().units), "", "units"));
  if (g.input_shape.size() == 2)
    r.fail(g.input_pos, "", "input must be [features] or [channels, height, width], got two sizes (write [1, height, width] for one channel)");
}


// toml++ builds one nested table per part of a dotted key (a.b.c = 1, [a.b.c]) and recurses over
// them without the depth limit it keeps for nested arrays and inline tables, so a key of some 50000
// parts overflows the stack. castnet's keys have at most two parts: before parsing, a quick scan
// rejects keys of more than kMaxKeyParts. It skips comments and strings; a dotted chain is a
// sequence of bare or quoted key parts joined by dots (a float such as 1.5 counts as two parts).
constexpr std::size_t kMaxKeyParts = 32;

void check_key_depth(std::string_view text, const std::string& file) {
  std::uint32_t line = 1, col = 1;
  std::size_t i = 0;
  const auto advance = [&](std::size_t n) {
    for (std::size_t k = 0; k < n && i < text.size(); ++k, ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        ++col;  // columns count characters, as toml++ does
      }
    }
  };
  const auto bare = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  // Skips a string starting at i (any of the four kinds); an unterminated one ends the text.
  const auto skip_string = [&] {
    const char q = text[i];
    const bool multi = text.substr(i, 3) == std::string(3, q);
    advance(multi ? 3 : 1);
    while (i < text.size()) {
      if (q == '"' && text[i] == '\\') {
        advance(2);
      } else if (multi ? text.substr(i, 3) == std::string(3, q) : text[i] == q) {
        advance(multi ? 3 : 1);
        while (multi && i < text.size() && text[i] == q) advance(1);  // """a"""" ends with a quote
        return;
      } else if (!multi && text[i] == '\n') {
        return;
      } else {
        advance(1);
      }
    }
  };
  std::size_t parts = 0;
  std::uint32_t chain_line = 0, chain_col = 0;
  bool after_dot = false;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') advance(1);
      continue;
    }
    if (c == ' ' || c == '\t') {
      advance(1);
      continue;
    }
    const bool part = c == '"' || c == '\'' || bare(c);
    if (part) {
      if (!after_dot) {
        parts = 0;
        chain_line = line;
        chain_col = col;
      }
      if (++parts > kMaxKeyParts)
        fail(file, {chain_line, chain_col}, "",
             "a dotted key of more than " + std::to_string(kMaxKeyParts) + " parts (castnet's keys have at most two)");
      after_dot = false;
      if (c == '"' || c == '\'') {
        skip_string();
      } else {
        while (i < text.size() && bare(text[i])) advance(1);
      }
      continue;
    }
    after_dot = c == '.' && parts > 0;
    if (!after_dot) parts = 0;
    advance(1);
  }
}

}  // namespace

Spec parse_spec_text(std::string_view text, const std::string& file, const ir::Limits& limits) {
  check_key_depth(text, file);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    fail(file, pos_of(e.source()), "", "invalid TOML: " + std::string(e.description()));
  }
  const Reader r(file, limits);
  r.check_keys(root, {"name", "input", "batch", "layer", "loss", "optimizer", "train", "data"}, "the spec", "");

  Spec s;
  ir::Graph& g = s.graph;
  g.spec_path = file;
  g.limits = limits;
  g.name = r.model_name(*r.string(root, "name", "", {1, 1}, true));

  const toml::node* input = root.get("input");
  if (!input) fail(file, {1, 1}, "", "missing required key 'input' (the shape of one sample, e.g. input = [784])");
  read_input(r, *input, g);
  g.batch = r.integer(root, "batch", 1, static_cast<std::int64_t>(limits.batch), "", {1, 1}, 1, "batch");

  const toml::node* layers = root.get("layer");
  if (!layers) fail(file, {1, 1}, "", "the spec has no [[layer]] tables");
  auto arr = layers->as_array();
  if (!arr || arr->empty()) fail(file, pos_of(layers->source()), "", "layer must be an array of tables ([[layer]])");
  if (arr->size() > limits.layers)
    fail(file, pos_of(layers->source()), "",
         "a spec may hold at most " + std::to_string(limits.layers) + " layers (limit 'layers'), this one has " +
             std::to_string(arr->size()));
  std::uint64_t edges = 0;
  for (std::size_t i = 0; i < arr->size(); ++i) read_layer(r, r.table((*arr)[i], "each [[layer]]"), i, g, edges);

  const toml::node* loss = root.get("loss");
  if (!loss) fail(file, {1, 1}, "", "missing [loss] table (type = mse | binary_cross_entropy | softmax_cross_entropy)");
  read_loss(r, r.table(*loss, "[loss]"), g);
  if (const toml::node* n = root.get("optimizer")) read_optimizer(r, r.table(*n, "[optimizer]"), s.training);
  if (const toml::node* n = root.get("train")) {
    read_train(r, r.table(*n, "[train]"), s.training);
    if (s.training.input_noise > 0 && s.training.optimizer.kind == castnet::OptimizerConfig::Kind::lbfgs)
      r.fail(pos_of(n->as_table()->get("input_noise")->source()), "",
             "input_noise needs a mini-batch optimizer: lbfgs trains on the whole, noise-free data set");
  }
  if (const toml::node* n = root.get("data")) read_data(r, r.table(*n, "[data]"), s);
  return s;
}

Spec parse_spec_file(const std::filesystem::path& path, std::string* text_out, const ir::Limits& limits) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    fail(path.string(), {0, 0}, "", std::filesystem::exists(path, ec) ? "not a regular file" : "no such spec file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), {0, 0}, "", "cannot read the spec file");
  // Read at most one byte past the limit: a huge (or endless) file is not loaded whole.
  std::string text(limits.spec_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > limits.spec_bytes)
    fail(path.string(), {1, 1}, "", "the spec is larger than " + std::to_string(limits.spec_bytes) + " bytes (limit 'spec_bytes')");
  Spec s = parse_spec_text(text, path.string(), limits);
  if (text_out) *text_out = std::move(text);
  return s;
}

}  // namespace castnet::spec
