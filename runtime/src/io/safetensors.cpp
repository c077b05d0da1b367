// safetensors reading and writing. The format is small enough that a hand-written, strict JSON
// parser covers its header, which keeps the runtime free of third-party code. Reading checks
// everything the reference implementation (huggingface/safetensors) checks: header length
// within the file, offsets within the data section and agreeing with dtype and shape, tensors
// covering the data section without gaps or overlaps. Each error names the file and the tensor
// or the byte offset in the file, because a weight file that "loads" with wrong numbers is far
// worse than one that is rejected.
//
// Integrity: castnet writes each tensor's CRC-32 (zlib's, of its data bytes) into the metadata,
// as "castnet_crc32": eight lowercase hex digits per tensor, tensors in byte-wise name order,
// separated by spaces. The format has room for it without any reader noticing (metadata is a map
// of strings), so PyTorch and safetensors load castnet's files as before, and files without the
// key (written by torch) load as before. When the key is there, reading checks every tensor and
// names the first whose bytes differ. CRC-32 rather than SHA-256: it is for accidental damage
// (a flipped bit, a torn copy), not for tampering, and runs at about 1 GB/s against SHA-256's
// 0.1 GB/s, which a checkpoint written every epoch would feel. Per tensor, the name order makes
// it independent of the data layout (Python's safetensors lays tensors out in its own order).
#include "castnet/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "castnet/error.hpp"
#include "castnet/io/atomic_file.hpp"
#include "castnet/io/png.hpp"  // crc32

namespace castnet::io {

// The tensor bytes are memcpy'd to and from floats; the format is little-endian.
static_assert(std::endian::native == std::endian::little, "castnet assumes a little-endian host");

namespace {

constexpr std::size_t kLengthBytes = 8;
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr const char* kCrcKey = "castnet_crc32";

std::string crc_hex(std::uint32_t crc) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, crc >>= 4) s[static_cast<std::size_t>(i)] = kHex[crc & 0xF];
  return s;
}

// Indices of `names` in byte-wise name order: the order of the checksums in kCrcKey.
std::vector<std::size_t> name_order(const std::vector<std::string_view>& names) {
  std::vector<std::size_t> order(names.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return names[a] < names[b]; });
  return order;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// ---- Reading: a JSON value tree, just rich enough for safetensors headers. ----

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  std::size_t offset = 0;   // byte offset in the file where the value starts
  std::string text;         // a string's value, or a number's literal as written
  std::string key;          // the member name, for values inside an object
  std::vector<Json> items;  // array elements, or object members in file order
};

// Strict RFC 8259 parsing; errors name the byte offset in the file (the header starts at byte 8).
class JsonParser {
 public:
  JsonParser(const std::filesystem::path& path, std::string_view text, std::size_t base)
      : path_(path), text_(text), base_(base) {}

  Json document() {
    Json root = value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header object");
    return root;
  }

 private:
  // Real headers nest three deep; the limit only stops hostile input from exhausting the stack.
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_.string() + ": error: malformed JSON header at byte " + std::to_string(base_ + pos_) + ": " +
                what);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  void expect(char c, const char* context) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "' " + context);
    ++pos_;
  }

  Json value(int depth) {
    skip_space();
    if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    Json v;
    v.offset = base_ + pos_;
    if (at_end()) fail("unexpected end of the header, expected a value");
    switch (peek()) {
      case '{':
        v.kind = Json::Kind::object;
        object(v, depth);
        break;
      case '[':
        v.kind = Json::Kind::array;
        array(v, depth);
        break;
      case '"':
        v.kind = Json::Kind::string;
        v.text = string();
        break;
      case 't':
      case 'f':
        v.kind = Json::Kind::boolean;
        v.text = literal(peek() == 't' ? "true" : "false");
        break;
      case 'n':
        v.kind = Json::Kind::null;
        literal("null");
        break;
      default:
        v.kind = Json::Kind::number;
        v.text = number();
    }
    return v;
  }

  void object(Json& v, int depth) {
    ++pos_;  // '{'
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return;
    }
    std::unordered_set<std::string> keys;
    for (;;) {
      skip_space();
      const std::size_t key_pos = pos_;
      if (peek() != '"') fail("expected a string key");
      std::string key = string();
      // Later duplicates would silently replace earlier ones; a weight file must be unambiguous.
      if (!keys.insert(key).second) {
        pos_ = key_pos;
        fail("duplicate key '" + key + "'");
      }
      expect(':', "after the key");
      Json member = value(depth + 1);
      member.key = std::move(key);
      v.items.push_back(std::move(member));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}', "or ',' in the object");
      return;
    }
  }

  void array(Json& v, int depth) {
    ++pos_;  // '['
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return;
    }
    for (;;) {
      v.items.push_back(value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']', "or ',' in the array");
      return;
    }
  }

  std::string literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("expected a value");
    pos_ += word.size();
    return std::string(word);
  }

  std::string number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
      return pos_ - from;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;  // JSON forbids leading zeros such as 01
    } else if (digits() == 0) {
      pos_ = start;
      fail("expected a value");
    }
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) fail("expected a digit after the decimal point");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) fail("expected a digit in the exponent");
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  unsigned hex4() {
    unsigned u = 0;
    const char* begin = text_.data() + pos_;
    const char* end = begin + std::min<std::size_t>(4, text_.size() - pos_);
    const auto [ptr, ec] = std::from_chars(begin, end, u, 16);
    if (ec != std::errc{} || ptr != begin + 4) fail("expected four hex digits after \\u");
    pos_ += 4;
    return u;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired UTF-16 surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") fail("unpaired UTF-16 surrogate");
            pos_ += 2;
            const unsigned low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("unpaired UTF-16 surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          fail("invalid escape sequence");
      }
    }
  }

  const std::filesystem::path& path_;
  std::string_view text_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

// ---- Reading: interpreting the header. ----

struct DataSpan {
  std::uint64_t begin, end;
  std::string name;
};

class HeaderReader {
 public:
  explicit HeaderReader(const std::filesystem::path& path) : path_(path) {}

  [[noreturn]] void fail(const std::string& message) const { throw Error(path_.string() + ": error: " + message); }

  void metadata(const Json& v, SafetensorsFile& out) const {
    if (v.kind != Json::Kind::object) fail("'__metadata__' at byte " + std::to_string(v.offset) + " is not an object");
    for (const Json& m : v.items) {
      if (m.kind != Json::Kind::string) {
        fail("'__metadata__' entry '" + m.key + "' at byte " + std::to_string(m.offset) + " is not a string");
      }
      out.metadata[m.key] = m.text;
    }
  }

  // Validates one tensor entry and copies its values out of `data` (the data section).
  TensorData tensor(const Json& v, std::string_view data, std::vector<DataSpan>& spans) const {
    const std::string what = "tensor '" + v.key + "'";
    if (v.kind != Json::Kind::object) {
      fail(what + " at byte " + std::to_string(v.offset) + " is not an object with dtype, shape and data_offsets");
    }
    const Json* dtype = nullptr;
    const Json* shape = nullptr;
    const Json* offsets = nullptr;
    for (const Json& field : v.items) {
      if (field.key == "dtype") {
        dtype = &field;
      } else if (field.key == "shape") {
        shape = &field;
      } else if (field.key == "data_offsets") {
        offsets = &field;
      } else {
        fail(what + " has an unknown field '" + field.key + "'");
      }
    }
    if (!dtype || !shape || !offsets) {
      fail(what + " has no '" + (!dtype ? "dtype" : !shape ? "shape" : "data_offsets") + "'");
    }

    if (dtype->kind != Json::Kind::string) fail(what + ": dtype is not a string");
    const std::size_t element_bytes = dtype->text == "F32" ? 4 : dtype->text == "F64" ? 8 : 0;
    if (element_bytes == 0) fail(what + " has dtype '" + dtype->text + "'; castnet reads F32 and F64");

    TensorData t;
    t.name = v.key;
    if (shape->kind != Json::Kind::array) fail(what + ": shape is not an array");
    std::uint64_t count = 1;  // an empty shape is a scalar
    for (const Json& d : shape->items) {
      const std::uint64_t n = integer(d, what + ": shape");
      if (n != 0 && count > UINT64_MAX / element_bytes / n) fail(what + " has a shape too large to address");
      count *= n;
      t.shape.push_back(static_cast<std::size_t>(n));
    }

    if (offsets->kind != Json::Kind::array || offsets->items.size() != 2) {
      fail(what + ": data_offsets is not an array of two integers");
    }
    const std::uint64_t begin = integer(offsets->items[0], what + ": data_offsets");
    const std::uint64_t end = integer(offsets->items[1], what + ": data_offsets");
    const std::string range = "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
    if (begin > end) fail(what + " has data_offsets " + range + " that end before they begin");
    if (end > data.size()) {
      fail(what + " has data_offsets " + range + " beyond the data section, which has " + std::to_string(data.size()) +
           " bytes (is the file truncated?)");
    }
    if (end - begin != count * element_bytes) {
      fail(what + " has shape " + shape_text(t.shape) + " (" + std::to_string(count) + " " + dtype->text +
           (count == 1 ? " value, " : " values, ") + std::to_string(count * element_bytes) +
           " bytes) but data_offsets " + range + " span " + std::to_string(end - begin) + " bytes");
    }
    spans.push_back({begin, end, t.name});

    t.values.resize(static_cast<std::size_t>(count));
    const char* src = data.data() + begin;
    if (element_bytes == 4) {
      // An empty vector's data() may be null, which memcpy must not receive even for 0 bytes.
      if (count > 0) std::memcpy(t.values.data(), src, static_cast<std::size_t>(end - begin));
    } else {
      t.f64.resize(t.values.size());
      if (count > 0) std::memcpy(t.f64.data(), src, static_cast<std::size_t>(end - begin));
      for (std::size_t i = 0; i < t.values.size(); ++i) t.values[i] = static_cast<float>(t.f64[i]);
    }
    return t;
  }

  // Tensors must tile the data section exactly, as the reference implementation requires: a gap
  // or an overlap means the offsets are corrupt even when each one is individually in range.
  void check_coverage(std::vector<DataSpan>& spans, std::uint64_t data_size) const {
    std::sort(spans.begin(), spans.end(), [](const DataSpan& a, const DataSpan& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t covered = 0;
    const DataSpan* previous = nullptr;
    for (const DataSpan& s : spans) {
      if (s.begin < covered) {
        fail("tensor '" + s.name + "' overlaps tensor '" + previous->name + "' in the data section (bytes " +
             std::to_string(s.begin) + " to " + std::to_string(std::min(s.end, covered)) + ")");
      }
      if (s.begin > covered) {
        fail("bytes " + std::to_string(covered) + " to " + std::to_string(s.begin) +
             " of the data section belong to no tensor (before tensor '" + s.name + "')");
      }
      covered = s.end;
      previous = &s;
    }
    if (covered != data_size) {
      fail("the data section has " + std::to_string(data_size - covered) + " bytes after the last tensor");
    }
  }

  // Checks the tensors' bytes against the checksums castnet wrote (kCrcKey), if any. `spans` are
  // the tensors' byte ranges in the data section, which starts at byte `data_start` of the file.
  void check_crcs(const std::map<std::string, std::string>& metadata, const std::vector<DataSpan>& spans,
                  std::string_view data, std::uint64_t data_start) const {
    const auto it = metadata.find(kCrcKey);
    if (it == metadata.end()) return;
    const std::string& list = it->second;
    const std::string where = std::string("'") + kCrcKey + "' in '__metadata__'";
    const std::size_t listed = list.empty() ? 0 : (list.size() + 1) / 9;
    bool well_formed = list.empty() || (list.size() + 1) % 9 == 0;
    for (std::size_t i = 0; well_formed && i < list.size(); ++i) {
      const char c = list[i];
      well_formed = i % 9 == 8 ? c == ' ' : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }
    if (!well_formed) fail(where + " is not a list of 8-digit hex checksums separated by spaces");
    if (listed != spans.size()) {
      fail(where + " lists " + std::to_string(listed) + " checksums but the file has " + std::to_string(spans.size()) +
           " tensors: the file was changed after castnet wrote it");
    }
    std::vector<std::string_view> names;
    names.reserve(spans.size());
    for (const DataSpan& s : spans) names.push_back(s.name);
    const std::vector<std::size_t> order = name_order(names);
    for (std::size_t k = 0; k < order.size(); ++k) {
      const DataSpan& s = spans[order[k]];
      const std::string want = list.substr(9 * k, 8);
      const std::string got = crc_hex(io::crc32(data.substr(s.begin, s.end - s.begin)));
      if (got != want) {
        fail("tensor '" + s.name + "' (bytes " + std::to_string(data_start + s.begin) + " to " +
             std::to_string(data_start + s.end) + " of the file) has CRC-32 " + got + ", but castnet wrote " + want +
             " (" + kCrcKey + "): the file is damaged");
      }
    }
  }

 private:
  std::uint64_t integer(const Json& v, const std::string& what) const {
    std::uint64_t n = 0;
    const char* b = v.text.data();
    const char* e = b + v.text.size();
    const auto [ptr, ec] = std::from_chars(b, e, n);
    if (v.kind != Json::Kind::number || v.text.empty() || v.text[0] == '-' || ec != std::errc{} || ptr != e) {
      fail(what + " entry at byte " + std::to_string(v.offset) + " is not a non-negative integer");
    }
    return n;
  }

  const std::filesystem::path& path_;
};

// ---- Writing. ----

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xF];
      out += kHex[c & 0xF];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

const TensorData* SafetensorsFile::find(const std::string& name) const {
  const auto it = std::find_if(tensors.begin(), tensors.end(), [&](const TensorData& t) { return t.name == name; });
  return it == tensors.end() ? nullptr : &*it;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const auto fail = [&](const std::string& message) { throw Error(path.string() + ": error: " + message); };

  const auto bytes_of = [](const TensorData& t) {
    return !t.f64.empty() ? std::string_view(reinterpret_cast<const char*>(t.f64.data()), t.f64.size() * sizeof(double))
                          : std::string_view(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  };
  // The checksums (kCrcKey) replace any the caller passed on, e.g. from a file it read.
  std::map<std::string, std::string> meta = metadata;
  {
    std::vector<std::string_view> names;
    names.reserve(tensors.size());
    for (const TensorData& t : tensors) names.push_back(t.name);
    std::string crcs;
    for (const std::size_t i : name_order(names)) {
      if (!crcs.empty()) crcs += ' ';
      crcs += crc_hex(io::crc32(bytes_of(tensors[i])));
    }
    meta[kCrcKey] = crcs;
  }

  // Compact JSON in the reference layout: "__metadata__" first, then tensors in data order.
  std::string header = "{\"__metadata__\":{";
  for (const auto& [key, value] : meta) {
    if (header.back() != '{') header += ',';
    header += json_string(key) + ":" + json_string(value);
  }
  header += "}";
  std::unordered_set<std::string> names;
  std::size_t offset = 0;
  for (const TensorData& t : tensors) {
    if (t.name == "__metadata__") fail("'__metadata__' cannot be a tensor name");
    if (!names.insert(t.name).second) fail("tensor '" + t.name + "' appears twice");
    std::size_t count = 1;
    for (const std::size_t d : t.shape) count *= d;
    const bool f64 = !t.f64.empty();
    const std::size_t held = f64 ? t.f64.size() : t.values.size();
    if (count != held) {
      fail("tensor '" + t.name + "' has " + std::to_string(held) + " values but its shape " +
           shape_text(t.shape) + " needs " + std::to_string(count));
    }
    std::string dims;
    for (const std::size_t d : t.shape) {
      if (!dims.empty()) dims += ',';
      dims += std::to_string(d);
    }
    const std::size_t end = offset + count * (f64 ? sizeof(double) : sizeof(float));
    if (header.size() > 1) header += ',';
    header += json_string(t.name) + ":{\"dtype\":\"" + (f64 ? "F64" : "F32") + "\",\"shape\":[" + dims + "],\"data_offsets\":[" +
              std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  header += "}";
  // Padding to 8 bytes keeps the data section aligned for readers that map the file.
  header.append((8 - header.size() % 8) % 8, ' ');

  std::string file;
  file.reserve(kLengthBytes + header.size() + offset);
  std::uint64_t length = header.size();
  for (std::size_t i = 0; i < kLengthBytes; ++i, length >>= 8) file += static_cast<char>(length & 0xFF);
  file += header;
  for (const TensorData& t : tensors) file += bytes_of(t);
  write_file_atomic(path, std::string_view(file));
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) { return parse_safetensors(read_file(path), path); }

SafetensorsFile parse_safetensors(std::string_view bytes, const std::filesystem::path& path) {
  HeaderReader reader(path);
  if (bytes.size() < kLengthBytes) {
    reader.fail("too short for a safetensors file (" + std::to_string(bytes.size()) +
                " bytes; the header length alone takes 8)");
  }
  std::uint64_t length = 0;
  for (std::size_t i = kLengthBytes; i-- > 0;) length = (length << 8) | static_cast<unsigned char>(bytes[i]);
  if (length > bytes.size() - kLengthBytes) {
    reader.fail("header length " + std::to_string(length) + " is beyond the end of the file (" +
                std::to_string(bytes.size()) + " bytes; is the file truncated?)");
  }
  if (length >= kMaxHeaderBytes) reader.fail("header length " + std::to_string(length) + " exceeds the 100 MB limit");

  const std::string_view all = bytes;
  const Json root = JsonParser(path, all.substr(kLengthBytes, length), kLengthBytes).document();
  if (root.kind != Json::Kind::object) reader.fail("the header at byte 8 is not a JSON object");
  const std::string_view data = all.substr(kLengthBytes + length);

  SafetensorsFile file;
  std::vector<DataSpan> spans;
  for (const Json& entry : root.items) {
    if (entry.key == "__metadata__")
      reader.metadata(entry, file);
    else
      file.tensors.push_back(reader.tensor(entry, data, spans));
  }
  reader.check_coverage(spans, data.size());
  reader.check_crcs(file.metadata, spans, data, kLengthBytes + length);
  file.metadata.erase(kCrcKey);  // verified: the layer below the caller's metadata
  return file;
}

void check_tensors(const SafetensorsFile& file, const std::filesystem::path& path,
                   const std::vector<ExpectedTensor>& expected) {
  const auto fail = [&](const std::string& message) { throw Error(path.string() + ": error: " + message); };
  // Missing tensors first: they usually mean the wrong file, which explains any other mismatch.
  for (const ExpectedTensor& e : expected) {
    if (!file.find(e.name)) fail("missing tensor '" + e.name + "'");
  }
  for (const ExpectedTensor& e : expected) {
    const TensorData& t = *file.find(e.name);
    if (t.shape != e.shape) {
      fail("tensor '" + e.name + "' has shape " + shape_text(t.shape) + ", the spec needs " + shape_text(e.shape));
    }
  }
  for (const TensorData& t : file.tensors) {
    const bool known =
        std::any_of(expected.begin(), expected.end(), [&](const ExpectedTensor& e) { return e.name == t.name; });
    if (!known) fail("unexpected tensor '" + t.name + "'");
  }
}

}  // namespace castnet::io
