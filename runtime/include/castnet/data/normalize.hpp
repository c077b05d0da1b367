// Input normalisation: x' = (x - offset) * scale, with the statistics taken from the training rows
// and saved in the weights' metadata, so that eval and predict (and exported models) transform
// their inputs exactly as training did.
//   scale        one offset and scale for all inputs: the training set's min and 1 / (max - min),
//                so the inputs span [0, 1] (MNIST's 0..255 becomes x / 255)
//   standardize  per input: the mean and 1 / (population) standard deviation; an input that is
//                constant in the training set is only centred
#pragma once

#include <castnet/train/config.hpp>
#include <castnet/data/dataset.hpp>
#include <castnet/error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace castnet {

struct Normalization {
  Normalize kind = Normalize::none;
  std::vector<double> offset, scale;  // one value (scale) or one per input (standardize)

  template <class T>
  static Normalization fit(Normalize kind, const Dataset<T>& data) {
    Normalization n;
    n.kind = kind;
    const std::size_t rows = data.rows, inputs = data.inputs;
    if (kind == Normalize::scale) {
      double lo = 0, hi = 0;
      if (!data.x.empty()) {
        const auto [mn, mx] = std::minmax_element(data.x.begin(), data.x.end());
        lo = *mn;
        hi = *mx;
      }
      n.offset = {lo};
      n.scale = {hi > lo ? 1.0 / (hi - lo) : 1.0};
    } else if (kind == Normalize::standardize) {
      n.offset.assign(inputs, 0.0);
      n.scale.assign(inputs, 1.0);
      std::vector<double> sq(inputs, 0.0);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < inputs; ++j) n.offset[j] += data.x[r * inputs + j];
      for (std::size_t j = 0; j < inputs; ++j) n.offset[j] /= static_cast<double>(std::max<std::size_t>(rows, 1));
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < inputs; ++j) {
          const double d = data.x[r * inputs + j] - n.offset[j];
          sq[j] += d * d;
        }
      for (std::size_t j = 0; j < inputs; ++j) {
        const double sd = std::sqrt(sq[j] / static_cast<double>(std::max<std::size_t>(rows, 1)));
        n.scale[j] = sd > 1e-12 ? 1.0 / sd : 1.0;
      }
    }
    return n;
  }

  template <class T>
  void apply(Dataset<T>& data) const {
    if (kind == Normalize::none) return;
    const std::size_t inputs = data.inputs;
    for (std::size_t i = 0; i < data.x.size(); ++i) {
      const std::size_t j = offset.size() == 1 ? 0 : i % inputs;
      data.x[i] = static_cast<T>((static_cast<double>(data.x[i]) - offset[j]) * scale[j]);
    }
  }

  // Metadata entries for a weights file; none for Normalize::none.
  std::map<std::string, std::string> metadata() const {
    if (kind == Normalize::none) return {};
    return {{"castnet_normalize", std::string(name_of(kind))},
            {"castnet_normalize_offset", join(offset)},
            {"castnet_normalize_scale", join(scale)}};
  }

  // Reads what metadata() wrote; no entries give Normalize::none. Throws castnet::Error naming
  // `file` when the entries are malformed or do not fit `inputs`.
  static Normalization from_metadata(const std::map<std::string, std::string>& m, std::size_t inputs,
                                     const std::filesystem::path& file) {
    Normalization n;
    const auto kind = m.find("castnet_normalize");
    if (kind == m.end()) return n;
    const auto bad = [&](const std::string& what) -> Error {
      return Error(file.string() + ": error: metadata castnet_normalize: " + what);
    };
    if (!parse_name(kind->second, n.kind)) throw bad("unknown kind '" + kind->second + "'");
    const auto offset = m.find("castnet_normalize_offset"), scale = m.find("castnet_normalize_scale");
    if (offset == m.end() || scale == m.end()) throw bad("offset or scale missing");
    n.offset = split(offset->second);
    n.scale = split(scale->second);
    const std::size_t want = n.kind == Normalize::scale ? 1 : inputs;
    if (n.kind == Normalize::none || n.offset.size() != want || n.scale.size() != want)
      throw bad("expected " + std::to_string(want) + " offset and scale values for " + kind->second);
    return n;
  }

 private:
  static std::string join(const std::vector<double>& v) {
    std::string s;
    char buf[32];
    for (double d : v) {
      if (!s.empty()) s += ',';
      s.append(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
    }
    return s;
  }
  static std::vector<double> split(const std::string& s) {
    std::vector<double> v;
    const char* p = s.data();
    const char* end = s.data() + s.size();
    while (p < end) {
      double d = 0;
      const auto r = std::from_chars(p, end, d);
      if (r.ec != std::errc{} || !std::isfinite(d)) return {};
      v.push_back(d);
      p = r.ptr;
      if (p < end && *p++ != ',') return {};
    }
    return v;
  }
};

}  // namespace castnet
