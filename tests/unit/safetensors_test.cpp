// safetensors: round trips, the exact on-disk layout, and every error read_safetensors and
// check_tensors report (each must name the file and the tensor or byte offset). Malformed files
// are built by hand from a JSON header and raw data bytes.
#include "castnet/io/safetensors.hpp"

#include "castnet/io/png.hpp"  // crc32

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "castnet/error.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using castnet::test::TempDir;
using castnet::io::ExpectedTensor;
using castnet::io::TensorData;

namespace {

std::string le64(std::uint64_t n) {
  std::string s;
  for (int i = 0; i < 8; ++i, n >>= 8) s += static_cast<char>(n & 0xFF);
  return s;
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string s;
  for (const T v : values) s.append(reinterpret_cast<const char*>(&v), sizeof v);
  return s;
}

// A safetensors file with the given header JSON (unpadded) and data section.
std::string st_file(const std::string& json, const std::string& data) { return le64(json.size()) + json + data; }

// The message read_safetensors throws for a file with `bytes`, or "" if it does not throw.
std::string read_error(const fs::path& p, const std::string& bytes) {
  castnet::test::write_file(p, bytes);
  try {
    castnet::io::read_safetensors(p);
  } catch (const castnet::Error& e) {
    return e.what();
  }
  return "";
}

std::string check_error(const castnet::io::SafetensorsFile& file, const fs::path& p,
                        const std::vector<ExpectedTensor>& expected) {
  try {
    castnet::io::check_tensors(file, p, expected);
  } catch (const castnet::Error& e) {
    return e.what();
  }
  return "";
}

const std::vector<TensorData> kTensors = {
    {"fc1.weight", {2, 3}, {1.5f, -2.0f, 0.0f, 3.25f, 1e-7f, -1e7f}},
    {"fc1.bias", {3}, {0.5f, 0.25f, -0.125f}},
    {"scale", {}, {42.0f}},
    {"nothing", {0, 4}, {}},
    {"fc2.weight", {1, 3}, {7.0f, 8.0f, 9.0f}},
};

// The CRC-32 of a float's bytes, as "castnet_crc32" lists it.
std::string crc_of(float v) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", castnet::io::crc32(raw<float>({v})));
  return hex;
}

}  // namespace

TEST_CASE("safetensors: round trip of several tensors with metadata") {
  TempDir dir;
  const fs::path p = dir / "w.safetensors";
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"note", "quote \" backslash \\ newline \n tab \t bell \x07 snowman \xE2\x98\x83"}};
  castnet::io::write_safetensors(p, kTensors, metadata);
  const auto file = castnet::io::read_safetensors(p);
  REQUIRE(file.tensors.size() == kTensors.size());
  for (std::size_t i = 0; i < kTensors.size(); ++i) {
    INFO(kTensors[i].name);
    CHECK(file.tensors[i].name == kTensors[i].name);
    CHECK(file.tensors[i].shape == kTensors[i].shape);
    CHECK(file.tensors[i].values == kTensors[i].values);
  }
  CHECK(file.metadata == metadata);
  REQUIRE(file.find("scale") != nullptr);
  CHECK(file.find("scale")->values == std::vector<float>{42.0f});
  CHECK(file.find("fc3.weight") == nullptr);
  CHECK_NOTHROW(castnet::io::check_tensors(
      file, p,
      {{"fc2.weight", {1, 3}}, {"nothing", {0, 4}}, {"scale", {}}, {"fc1.bias", {3}}, {"fc1.weight", {2, 3}}}));
}

TEST_CASE("safetensors: header layout is byte exact") {
  TempDir dir;
  const fs::path p = dir / "a.safetensors";
  castnet::io::write_safetensors(p, {{"a", {2}, {1.0f, -2.0f}}});
  // 98 bytes of JSON, padded with six spaces to 104 so the data starts 8-byte aligned. The CRC-32 of
  // the tensor's 8 bytes is zlib.crc32(bytes.fromhex("0000803f000000c0")) in Python.
  const std::string json =
      R"({"__metadata__":{"castnet_crc32":"c3872656"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE(json.size() == 98);
  const std::string expected =
      std::string("\x68\0\0\0\0\0\0\0", 8) + json + "      " + std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);
  CHECK(castnet::test::read_file(p) == expected);
}

TEST_CASE("safetensors: metadata comes first and the header is padded to 8 bytes") {
  TempDir dir;
  const fs::path p = dir / "m.safetensors";
  castnet::io::write_safetensors(p, {{"w", {1}, {3.0f}}, {"b", {}, {4.0f}}}, {{"k", "v"}, {"a", "z"}});
  const std::string bytes = castnet::test::read_file(p);
  REQUIRE(bytes.size() >= 8);
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = length << 8 | static_cast<unsigned char>(bytes[i]);
  CHECK(length % 8 == 0);
  REQUIRE(bytes.size() == 8 + length + 8);
  const std::string header = bytes.substr(8, length);
  CHECK(header.rfind(R"({"__metadata__":{"a":"z","castnet_crc32":")" + crc_of(4.0f) + " " + crc_of(3.0f) +
                         R"(","k":"v"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                     R"("b":{"dtype":"F32","shape":[],"data_offsets":[4,8]}})",
                     0) == 0);
  CHECK(header.find_first_not_of(' ', header.find_last_of('}') + 1) == std::string::npos);
}

TEST_CASE("safetensors: F64 tensors are read and converted to float") {
  TempDir dir;
  const fs::path p = dir / "f64.safetensors";
  const std::string json = R"({"d":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},)"
                           R"("f":{"shape":[1],"data_offsets":[24,28],"dtype":"F32"}})";
  castnet::test::write_file(p, st_file(json, raw<double>({0.5, -1e10, 3.0}) + raw<float>({2.5f})));
  const auto file = castnet::io::read_safetensors(p);
  REQUIRE(file.tensors.size() == 2);
  CHECK(file.tensors[0].values == std::vector<float>{0.5f, -1e10f, 3.0f});
  CHECK(file.tensors[1].values == std::vector<float>{2.5f});
  CHECK(file.metadata.empty());
}

TEST_CASE("safetensors: JSON escapes in names are decoded") {
  TempDir dir;
  const fs::path p = dir / "esc.safetensors";
  const std::string json = R"({"a\u00e9\ud83d\ude00\"\\\/\n":{"dtype":"F32","shape":[],"data_offsets":[0,4]}} )";
  castnet::test::write_file(p, st_file(json, raw<float>({1.0f})));
  const auto file = castnet::io::read_safetensors(p);
  REQUIRE(file.tensors.size() == 1);
  CHECK(file.tensors[0].name == "a\xC3\xA9\xF0\x9F\x98\x80\"\\/\n");
}

TEST_CASE("safetensors: a truncated file names the file and the problem") {
  TempDir dir;
  const fs::path p = dir / "t.safetensors";
  castnet::io::write_safetensors(p, kTensors);
  const std::string whole = castnet::test::read_file(p);
  const std::string where = p.string();

  CHECK(read_error(p, whole.substr(0, 5)) ==
        where + ": error: too short for a safetensors file (5 bytes; the header length alone takes 8)");
  CHECK(read_error(p, "") ==
        where + ": error: too short for a safetensors file (0 bytes; the header length alone takes 8)");

  // Cut inside the header.
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = length << 8 | static_cast<unsigned char>(whole[i]);
  CHECK(read_error(p, whole.substr(0, 20)) == where + ": error: header length " + std::to_string(length) +
                                                  " is beyond the end of the file (20 bytes; is the file truncated?)");

  // Cut inside the data: the last tensor (fc2.weight, bytes [40, 52)) no longer fits.
  CHECK(read_error(p, whole.substr(0, whole.size() - 2)) ==
        where +
            ": error: tensor 'fc2.weight' has data_offsets [40, 52] beyond the data section, which has 50 bytes "
            "(is the file truncated?)");
}

TEST_CASE("safetensors: header length limit") {
  TempDir dir;
  const fs::path p = dir / "huge.safetensors";
  castnet::test::write_file(p, le64(100'000'000));
  fs::resize_file(p, 8 + 100'000'000);  // sparse: cheap on disk
  REQUIRE_THROWS_WITH(castnet::io::read_safetensors(p),
                      p.string() + ": error: header length 100000000 exceeds the 100 MB limit");
}

TEST_CASE("safetensors: malformed JSON names the byte offset") {
  TempDir dir;
  const fs::path p = dir / "j.safetensors";
  const std::string where = p.string() + ": error: malformed JSON header at byte ";
  const std::string f4 = raw<float>({1.0f});
  // Offsets are file offsets: the JSON starts at byte 8.
  const auto at = [&](const std::string& json, const std::string& needle) {
    return std::to_string(8 + json.find(needle));
  };

  std::string json = R"({"w":{"dtype":"F32" "shape":[],"data_offsets":[0,4]}})";
  CHECK(read_error(p, st_file(json, f4)) == where + at(json, "\"shape\"") + ": expected '}' or ',' in the object");

  json = R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}} x)";
  CHECK(read_error(p, st_file(json, f4)) == where + at(json, "x") + ": unexpected text after the header object");

  json = R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"w":{}})";
  CHECK(read_error(p, st_file(json, f4)) == where + std::to_string(8 + json.rfind("\"w\"")) + ": duplicate key 'w'");

  json = R"({"w":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}})";
  CHECK(read_error(p, st_file(json, f4)) == where + at(json, "1]") + ": expected ']' or ',' in the array");

  json = R"({"w":{"dtype":"F\q32"}})";
  CHECK(read_error(p, st_file(json, f4)) == where + at(json, "q") + ": invalid escape sequence");

  json = R"({"w":{"dtype":"\ud800x"}})";
  CHECK(read_error(p, st_file(json, f4)) == where + at(json, "x") + ": unpaired UTF-16 surrogate");

  json = R"({"w":{"dtype":"\u12g4"}})";
  CHECK(read_error(p, st_file(json, f4)) == where + at(json, "12g4") + ": expected four hex digits after \\u");

  json = "{\"w\":{\"dtype\":\"F\n32\"}}";
  CHECK(read_error(p, st_file(json, f4)) == where + at(json, "\n") + ": control character in a string");

  json = R"({"w":{"dtype":"F32)";
  CHECK(read_error(p, st_file(json, f4)) == where + std::to_string(8 + json.size()) + ": unterminated string");

  json = R"({"w":)";
  CHECK(read_error(p, st_file(json, f4)) == where + "13: unexpected end of the header, expected a value");

  json = R"({"w":tru})";
  CHECK(read_error(p, st_file(json, f4)) == where + "13: expected a value");

  json = R"({"w":1.})";
  CHECK(read_error(p, st_file(json, f4)) == where + "15: expected a digit after the decimal point");

  json = R"({w:1})";
  CHECK(read_error(p, st_file(json, f4)) == where + "9: expected a string key");

  json = std::string(100, '[') + std::string(100, ']');
  CHECK(read_error(p, st_file(json, "")) == where + "73: nesting deeper than 64 levels");

  CHECK(read_error(p, st_file("", "")) == where + "8: unexpected end of the header, expected a value");
  CHECK(read_error(p, st_file("[1]", "")) == p.string() + ": error: the header at byte 8 is not a JSON object");
}

TEST_CASE("safetensors: wrong dtype names the tensor") {
  TempDir dir;
  const fs::path p = dir / "d.safetensors";
  const std::string json = R"({"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                           R"("half":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}})";
  CHECK(read_error(p, st_file(json, std::string(8, '\0'))) ==
        p.string() + ": error: tensor 'half' has dtype 'F16'; castnet reads F32 and F64");
  CHECK(read_error(p, st_file(R"({"n":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0'))) ==
        p.string() + ": error: tensor 'n': dtype is not a string");
}

TEST_CASE("safetensors: shape and offsets that disagree name the tensor") {
  TempDir dir;
  const fs::path p = dir / "s.safetensors";
  const std::string where = p.string() + ": error: ";
  const std::string data12(12, '\0');

  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", data12)) ==
        where + "tensor 'w' has shape [2, 2] (4 F32 values, 16 bytes) but data_offsets [0, 12] span 12 bytes");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F64","shape":[],"data_offsets":[0,12]}})", data12)) ==
        where + "tensor 'w' has shape [] (1 F64 value, 8 bytes) but data_offsets [0, 12] span 12 bytes");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}})", data12)) ==
        where +
            "tensor 'w' has data_offsets [4, 16] beyond the data section, which has 12 bytes (is the file "
            "truncated?)");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", data12)) ==
        where + "tensor 'w' has data_offsets [8, 4] that end before they begin");

  const std::string two = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  CHECK(read_error(p, st_file(two, data12)) ==
        where + "tensor 'b' overlaps tensor 'a' in the data section (bytes 4 to 8)");
  CHECK(read_error(p, st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data12)) ==
        where + "bytes 0 to 4 of the data section belong to no tensor (before tensor 'a')");
  CHECK(read_error(p, st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data12)) ==
        where + "the data section has 4 bytes after the last tensor");
}

TEST_CASE("safetensors: malformed tensor entries name the tensor") {
  TempDir dir;
  const fs::path p = dir / "e.safetensors";
  const std::string where = p.string() + ": error: ";
  const std::string d4(4, '\0');
  CHECK(read_error(p, st_file(R"({"w":[1]})", d4)) ==
        where + "tensor 'w' at byte 13 is not an object with dtype, shape and data_offsets");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[1]}})", d4)) ==
        where + "tensor 'w' has no 'data_offsets'");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", d4)) ==
        where + "tensor 'w' has an unknown field 'x'");
  // The shape's first entry is at index 29 of the JSON, byte 37 of the file.
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", d4)) ==
        where + "tensor 'w': shape entry at byte 37 is not a non-negative integer");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", d4)) ==
        where + "tensor 'w': shape entry at byte 37 is not a non-negative integer");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", d4)) ==
        where + "tensor 'w': data_offsets entry at byte 58 is not a non-negative integer");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":1,"data_offsets":[0,4]}})", d4)) ==
        where + "tensor 'w': shape is not an array");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", d4)) ==
        where + "tensor 'w': data_offsets is not an array of two integers");
  CHECK(read_error(p, st_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", d4)) ==
        where + "tensor 'w' has a shape too large to address");
  CHECK(read_error(p, st_file(R"({"__metadata__":{"k":1}})", "")) ==
        where + "'__metadata__' entry 'k' at byte 29 is not a string");
  CHECK(read_error(p, st_file(R"({"__metadata__":[]})", "")) == where + "'__metadata__' at byte 24 is not an object");
  CHECK(read_error(p, st_file(R"({"__metadata__":{"k":true}, "w":null})", "")) ==
        where + "'__metadata__' entry 'k' at byte 29 is not a string");
  CHECK(read_error(p, st_file(R"({"__metadata__":{"k":"v"}, "w":null})", "")) ==
        where + "tensor 'w' at byte 39 is not an object with dtype, shape and data_offsets");
}

TEST_CASE("safetensors: writing rejects inconsistent tensors") {
  TempDir dir;
  const fs::path p = dir / "bad.safetensors";
  const std::string where = p.string() + ": error: ";
  REQUIRE_THROWS_WITH(castnet::io::write_safetensors(p, {{"w", {2, 2}, {1, 2, 3}}}),
                      where + "tensor 'w' has 3 values but its shape [2, 2] needs 4");
  REQUIRE_THROWS_WITH(castnet::io::write_safetensors(p, {{"w", {1}, {1}}, {"w", {1}, {2}}}),
                      where + "tensor 'w' appears twice");
  REQUIRE_THROWS_WITH(castnet::io::write_safetensors(p, {{"__metadata__", {1}, {1}}}),
                      where + "'__metadata__' cannot be a tensor name");
  CHECK_FALSE(fs::exists(p));
}

TEST_CASE("safetensors: check_tensors reports missing, then wrong shape, then unexpected") {
  TempDir dir;
  const fs::path p = dir / "w.safetensors";
  castnet::io::write_safetensors(
      p, {{"fc1.weight", {4, 2}, std::vector<float>(8)}, {"fc1.bias", {4}, std::vector<float>(4)}});
  const auto file = castnet::io::read_safetensors(p);
  const std::string where = p.string() + ": error: ";

  CHECK(check_error(file, p, {{"fc1.weight", {4, 2}}, {"fc1.bias", {4}}}).empty());
  // Missing wins over a wrong shape and an unexpected tensor.
  CHECK(check_error(file, p, {{"fc1.weight", {2, 2}}, {"fc2.bias", {1}}}) == where + "missing tensor 'fc2.bias'");
  // A wrong shape wins over an unexpected tensor.
  CHECK(check_error(file, p, {{"fc1.weight", {2, 2}}}) ==
        where + "tensor 'fc1.weight' has shape [4, 2], the spec needs [2, 2]");
  CHECK(check_error(file, p, {{"fc1.weight", {4, 2}}}) == where + "unexpected tensor 'fc1.bias'");
  CHECK(check_error(file, p, {{"fc1.weight", {4, 2}}, {"fc1.bias", {}}}) ==
        where + "tensor 'fc1.bias' has shape [4], the spec needs []");
}

TEST_CASE("safetensors: a missing file is an error naming it") {
  TempDir dir;
  const fs::path p = dir / "absent.safetensors";
  REQUIRE_THROWS_WITH(castnet::io::read_safetensors(p),
                      p.string() + ": error: cannot read: No such file or directory (opening)");
}

TEST_CASE("safetensors: castnet_crc32 lists each tensor's CRC-32 in name order and is not returned as metadata") {
  TempDir dir;
  const fs::path p = dir / "c.safetensors";
  // A stale checksum passed in (as from a file read earlier) is replaced.
  castnet::io::write_safetensors(p, {{"w", {1}, {3.0f}}, {"b", {}, {4.0f}}}, {{"castnet_crc32", "00000000 00000000"}});
  const std::string bytes = castnet::test::read_file(p);
  CHECK(bytes.find(R"("castnet_crc32":")" + crc_of(4.0f) + " " + crc_of(3.0f) + "\"") != std::string::npos);
  const auto file = castnet::io::read_safetensors(p);
  CHECK(file.metadata.empty());
  REQUIRE(file.tensors.size() == 2);
  CHECK(file.tensors[0].values == std::vector<float>{3.0f});

  // No tensors: an empty list.
  castnet::io::write_safetensors(p, {});
  CHECK(castnet::test::read_file(p).find(R"({"__metadata__":{"castnet_crc32":""}})") == 8);
  CHECK(castnet::io::read_safetensors(p).tensors.empty());
}

TEST_CASE("safetensors: a damaged tensor fails its checksum, naming the file, the tensor and its bytes") {
  TempDir dir;
  const fs::path p = dir / "w.safetensors";
  castnet::io::write_safetensors(p, kTensors, {{"epoch", "3"}});
  const std::string good = castnet::test::read_file(p);
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = length << 8 | static_cast<unsigned char>(good[i]);
  const std::size_t data = 8 + length;

  // fc1.bias holds bytes [24, 36) of the data section; flip one bit of its second value.
  std::string bad = good;
  bad[data + 24 + 5] ^= 0x10;
  const std::string message = read_error(p, bad);
  CHECK_THAT(message, Catch::StartsWith(p.string() + ": error: tensor 'fc1.bias' (bytes " + std::to_string(data + 24) +
                                        " to " + std::to_string(data + 36) + " of the file) has CRC-32 "));
  CHECK_THAT(message, Catch::EndsWith(" (castnet_crc32): the file is damaged"));

  // Every single-bit flip anywhere in the data section is caught (CRC-32 catches all of them).
  for (std::size_t at = data; at < good.size(); ++at) {
    bad = good;
    bad[at] ^= 0x01;
    INFO("byte " << at);
    CHECK_THAT(read_error(p, bad), Catch::Contains("the file is damaged"));
  }
}

TEST_CASE("safetensors: castnet_crc32 that does not fit the file is an error, and files without it load") {
  TempDir dir;
  const fs::path p = dir / "x.safetensors";
  const std::string where = p.string() + ": error: ";
  const std::string tensors = R"("a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                              R"("b":{"dtype":"F32","shape":[],"data_offsets":[4,8]}})";
  const std::string data = raw<float>({1.0f, 2.0f});
  const auto with_crc = [&](const std::string& list) {
    return st_file(R"({"__metadata__":{"castnet_crc32":")" + list + R"("},)" + tensors, data);
  };
  CHECK(read_error(p, with_crc(crc_of(1.0f) + " " + crc_of(2.0f))).empty());
  CHECK(read_error(p, with_crc(crc_of(1.0f))) ==
        where + "'castnet_crc32' in '__metadata__' lists 1 checksums but the file has 2 tensors: the file was changed "
                "after castnet wrote it");
  CHECK(read_error(p, with_crc(crc_of(1.0f) + " " + crc_of(2.0f) + " " + crc_of(2.0f))) ==
        where + "'castnet_crc32' in '__metadata__' lists 3 checksums but the file has 2 tensors: the file was changed "
                "after castnet wrote it");
  for (const std::string& list : {crc_of(1.0f) + "," + crc_of(2.0f), std::string("xyz"), crc_of(1.0f) + " ABCDEF01",
                                 crc_of(1.0f) + " " + crc_of(2.0f) + " "}) {
    INFO(list);
    CHECK(read_error(p, with_crc(list)) ==
          where + "'castnet_crc32' in '__metadata__' is not a list of 8-digit hex checksums separated by spaces");
  }
  // In name order, not data order: swapped, they name 'a' as the damaged tensor.
  CHECK_THAT(read_error(p, with_crc(crc_of(2.0f) + " " + crc_of(1.0f))),
             Catch::StartsWith(where + "tensor 'a' (bytes "));

  // Without the key (a file torch wrote), the same tensors load.
  castnet::test::write_file(p, st_file("{" + tensors, data));
  const auto file = castnet::io::read_safetensors(p);
  REQUIRE(file.tensors.size() == 2);
  CHECK(file.find("b")->values == std::vector<float>{2.0f});
}

TEST_CASE("safetensors: tensors listed out of data order load when they tile the data section") {
  // Python's safetensors sorts the header by name and lays the data out in its own order.
  TempDir dir;
  const fs::path p = dir / "o.safetensors";
  const std::string json = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                           R"("b":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})";
  castnet::test::write_file(p, st_file(json, raw<double>({0.5}) + raw<float>({1.0f, 2.0f})));
  const auto file = castnet::io::read_safetensors(p);
  REQUIRE(file.tensors.size() == 2);
  CHECK(file.find("a")->values == std::vector<float>{1.0f, 2.0f});
  CHECK(file.find("b")->f64 == std::vector<double>{0.5});
}
