// The keys of one [[layer]] table as a layer kind (ops/) reads them (Attributes: typed,
// range-checked, every error positioned at the offending value and naming the layer) and writes
// them back (KeyWriter: `castnet import` writes the spec of an ONNX model). Hides TOML from the
// layer kinds.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "ir/limits.hpp"

namespace castnet::spec {

class Attributes {
 public:
  virtual ~Attributes() = default;
  // Every key of the table must be `name`, `type` or one of `keys`; a `planned` key is reported
  // as not supported yet. `what` names the table in messages ("a dense layer").
  virtual void allow(std::initializer_list<std::string_view> keys, std::string_view what,
                     std::initializer_list<std::string_view> planned = {}) = 0;
  virtual bool has(std::string_view key) const = 0;
  // An integer in [lo, hi]; required unless a default is given. `limit` names the ir::Limits key
  // that hi comes from, for the message when the value is over it.
  virtual std::uint64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                                std::optional<std::int64_t> dflt = {}, std::string_view limit = {}) = 0;
  // A number in [lo, hi] (or (lo, hi] when lo_open); `dflt` when absent.
  virtual double real(std::string_view key, double lo, double hi, bool lo_open, double dflt) = 0;
  virtual std::optional<std::string> string(std::string_view key) = 0;
  // A (height, width) pair written as one integer (both) or [height, width], each in [lo, hi].
  virtual std::array<std::size_t, 2> pair(std::string_view key, std::int64_t lo, std::int64_t hi,
                                          std::optional<std::int64_t> dflt = {}, std::string_view limit = {}) = 0;
  // An interval [lo, hi] written as two numbers, each in [min, max], with lo < hi; required.
  virtual std::array<double, 2> interval(std::string_view key, double min, double max) = 0;
  // The limits the generator runs under.
  virtual const ir::Limits& limits() const = 0;
  virtual bool is_string(std::string_view key) const = 0;
  // An error at the key's value (at the table when the key is absent).
  [[noreturn]] virtual void fail(std::string_view key, const std::string& message) = 0;
};

// Each key in the form Attributes reads it back. Strings are words castnet itself names
// (activations, padding modes): [a-z0-9_] only, anything else is an emitter bug (std::logic_error).
class KeyWriter {
 public:
  virtual ~KeyWriter() = default;
  virtual void integer(std::string_view key, std::uint64_t value) = 0;
  virtual void real(std::string_view key, double value) = 0;  // written to read back exactly
  virtual void word(std::string_view key, std::string_view value) = 0;
  virtual void pair(std::string_view key, const std::array<std::size_t, 2>& value) = 0;
  virtual void interval(std::string_view key, const std::array<double, 2>& value) = 0;
};

}  // namespace castnet::spec
