// castnet::run_identity and its record in a checkpoint (run_identity.hpp).
#include <castnet/error.hpp>
#include <castnet/io/sha256.hpp>
#include <castnet/train/run_identity.hpp>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace castnet {
namespace {

RunSetting data_file(const std::string& name, const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(path.string() + ": error: cannot read: " + ec.message());
  return {name, std::to_string(size) + " bytes, sha256 " + io::sha256_file_hex(path), path.string()};
}

std::string shown(const RunSetting* s) {
  if (!s) return "none";
  return s->file.empty() ? s->value : s->file + " (" + s->value + ")";
}

const RunSetting* find(const RunIdentity& identity, const std::string& name) {
  const auto it = std::find_if(identity.begin(), identity.end(), [&](const RunSetting& s) { return s.name == name; });
  return it == identity.end() ? nullptr : &*it;
}

}  // namespace

RunIdentity run_identity(const RunOptions& o, std::size_t ranks) {
  RunIdentity identity = {data_file("data train", o.data)};
  if (!o.data_labels.empty()) identity.push_back(data_file("data train labels", o.data_labels));
  std::string labels;
  for (const std::string& l : o.labels) labels += (labels.empty() ? "" : ",") + l;
  identity.push_back({"label columns", labels.empty() ? "none" : labels, ""});
  identity.push_back({"threads", std::to_string(o.threads), ""});
  identity.push_back({"ranks", std::to_string(ranks), ""});
  if (o.train.schedule.kind == ScheduleConfig::Kind::cosine)  // its period: see the header
    identity.push_back({"epochs (the cosine schedule's period)", std::to_string(o.train.epochs), ""});
  for (const auto& [name, value] : training_settings(o.train)) identity.push_back({name, value, ""});
  return identity;
}

std::string identity_text(const RunIdentity& identity) {
  std::string text;
  for (const RunSetting& s : identity) text += s.name + '\t' + s.value + '\t' + s.file + '\n';
  return text;
}

RunIdentity parse_identity(const std::string& text) {
  RunIdentity identity;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string line = text.substr(start, end - start);
    const std::size_t a = line.find('\t'), b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos) throw Error("malformed line '" + line + "'");
    identity.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
    start = end + 1;
  }
  return identity;
}

std::string identity_differences(const RunIdentity& old, const RunIdentity& now) {
  std::string lines;
  for (const RunSetting& s : now) {
    const RunSetting* before = find(old, s.name);
    if (!before || before->value != s.value) lines += "  " + s.name + ": " + shown(before) + " now " + shown(&s) + '\n';
  }
  for (const RunSetting& s : old)
    if (!find(now, s.name)) lines += "  " + s.name + ": " + shown(&s) + " now none\n";
  return lines;
}

}  // namespace castnet
