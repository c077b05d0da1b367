// IDX files (MNIST's format): every element type read back exactly, every malformed file rejected
// with the file name, the byte offset and what was expected; and data sets built from an images
// and a labels file, with the checks that tie them to a model.
#include <castnet/error.hpp>
#include <castnet/data/idx_dataset.hpp>
#include <castnet/data/idx.hpp>

#include <catch2/catch.hpp>
#include <support/process.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using castnet::Loss;
using castnet::io::IdxType;
using Catch::Matchers::Contains;

// The header of an IDX file: magic 00 00 <type> <ndims>, then each dimension big-endian.
std::string header(unsigned char type, const std::vector<std::uint32_t>& dims) {
  std::string h{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) h += static_cast<char>((d >> shift) & 0xff);
  }
  return h;
}

// `bytes` bytes of v, most significant first.
template <typename U>
std::string big_endian(U v) {
  std::string s;
  for (int shift = 8 * static_cast<int>(sizeof(U)) - 8; shift >= 0; shift -= 8) {
    s += static_cast<char>((v >> shift) & 0xff);
  }
  return s;
}

std::string be16(std::int16_t v) { return big_endian(static_cast<std::uint16_t>(v)); }
std::string be32(std::int32_t v) { return big_endian(static_cast<std::uint32_t>(v)); }
std::string bef32(float v) { return big_endian(std::bit_cast<std::uint32_t>(v)); }
std::string bef64(double v) { return big_endian(std::bit_cast<std::uint64_t>(v)); }

std::string bytes_u8(const std::vector<int>& values) {
  std::string s;
  for (const int v : values) s += static_cast<char>(v);
  return s;
}

struct Fixture {
  castnet::test::TempDir dir;
  std::string write(const std::string& name, const std::string& bytes) const {
    return dir.file(name, bytes).string();
  }
  // Every value of an array, through value() and through copy_to<double>().
  static std::vector<double> values(const castnet::io::IdxArray& a) {
    std::vector<double> out(a.size()), one(a.size());
    a.copy_to(0, a.size(), out.data());
    for (std::size_t i = 0; i < a.size(); ++i) one[i] = a.value(i);
    CHECK(one == out);
    return out;
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "idx: u8 reads back with its dimensions and offsets", "[idx]") {
  const auto f = write("a.idx", header(0x08, {2, 3}) + bytes_u8({0, 1, 127, 128, 254, 255}));
  const auto a = castnet::io::read_idx(f);
  CHECK(a.type == IdxType::u8);
  CHECK(a.dims == std::vector<std::uint32_t>{2, 3});
  CHECK(a.size() == 6);
  CHECK(a.data_offset == 12);
  CHECK(a.offset_of(5) == 17);
  CHECK(values(a) == std::vector<double>{0, 1, 127, 128, 254, 255});
  std::vector<float> as_float(6);
  a.copy_to(2, 3, as_float.data());
  CHECK(as_float == std::vector<float>{127, 128, 254, 0, 0, 0});
}

TEST_CASE_METHOD(Fixture, "idx: i8 is signed", "[idx]") {
  const auto f = write("a.idx", header(0x09, {4}) + bytes_u8({0, 127, 128, 255}));
  const auto a = castnet::io::read_idx(f);
  CHECK(a.type == IdxType::i8);
  CHECK(values(a) == std::vector<double>{0, 127, -128, -1});
}

TEST_CASE_METHOD(Fixture, "idx: i16 is signed and big-endian", "[idx]") {
  const auto f = write("a.idx", header(0x0B, {2, 2}) + be16(-300) + be16(1234) + be16(-32768) + be16(32767));
  const auto a = castnet::io::read_idx(f);
  CHECK(a.type == IdxType::i16);
  CHECK(a.offset_of(3) == 12 + 6);
  CHECK(values(a) == std::vector<double>{-300, 1234, -32768, 32767});
}

TEST_CASE_METHOD(Fixture, "idx: i32 is signed and big-endian", "[idx]") {
  const auto f = write("a.idx", header(0x0C, {3}) + be32(-100000) + be32(std::numeric_limits<std::int32_t>::max()) +
                                    be32(std::numeric_limits<std::int32_t>::min()));
  const auto a = castnet::io::read_idx(f);
  CHECK(a.type == IdxType::i32);
  CHECK(values(a) == std::vector<double>{-100000, 2147483647.0, -2147483648.0});
}

TEST_CASE_METHOD(Fixture, "idx: f32 reads back bit for bit", "[idx]") {
  const auto f = write("a.idx", header(0x0D, {1, 1, 3}) + bef32(1.5f) + bef32(-0.1f) + bef32(3e38f));
  const auto a = castnet::io::read_idx(f);
  CHECK(a.type == IdxType::f32);
  CHECK(a.dims == std::vector<std::uint32_t>{1, 1, 3});
  std::vector<float> out(3);
  a.copy_to(0, 3, out.data());
  CHECK(out == std::vector<float>{1.5f, -0.1f, 3e38f});
}

TEST_CASE_METHOD(Fixture, "idx: f64 reads back bit for bit", "[idx]") {
  const auto f = write("a.idx", header(0x0E, {2}) + bef64(1e300) + bef64(-0.1));
  const auto a = castnet::io::read_idx(f);
  CHECK(a.type == IdxType::f64);
  CHECK(a.offset_of(1) == 16);
  CHECK(values(a) == std::vector<double>{1e300, -0.1});
}

TEST_CASE_METHOD(Fixture, "idx: type names and element sizes", "[idx]") {
  CHECK(castnet::io::idx_type_name(IdxType::i16) == "i16");
  CHECK(castnet::io::idx_element_size(IdxType::f64) == 8);
  CHECK(castnet::io::idx_dims_text({60000, 28, 28}) == "60000x28x28");
}

TEST_CASE_METHOD(Fixture, "idx: a missing file", "[idx]") {
  const auto f = (dir / "missing.idx").string();
  CHECK_THROWS_AS(castnet::io::read_idx(f), castnet::Error);
  CHECK_THROWS_WITH(castnet::io::read_idx(f), Contains(f) && Contains("cannot read"));
}

TEST_CASE_METHOD(Fixture, "idx: an empty or too short file", "[idx]") {
  const auto empty = write("empty.idx", "");
  CHECK_THROWS_WITH(castnet::io::read_idx(empty),
                    empty + ": error: byte 0: the file is empty (expected the 4-byte IDX magic 00 00 <type> <ndims>)");
  const auto shorter = write("short.idx", std::string(3, '\0'));
  CHECK_THROWS_WITH(castnet::io::read_idx(shorter),
                    shorter + ": error: byte 3: the file ends after 3 bytes (expected the 4-byte IDX magic 00 00 "
                              "<type> <ndims>)");
}

TEST_CASE_METHOD(Fixture, "idx: a wrong magic is reported at byte 0", "[idx]") {
  const auto f = write("a.idx", "P5\n28 28\n255\n");
  CHECK_THROWS_WITH(castnet::io::read_idx(f),
                    f + ": error: byte 0: magic 50 35 0a 32 is not an IDX magic (expected 00 00 <type> <ndims>)");
}

TEST_CASE_METHOD(Fixture, "idx: gzip data is named as such", "[idx]") {
  const auto f = write("a.idx.gz", bytes_u8({0x1f, 0x8b, 0x08, 0x08, 0, 0}));
  CHECK_THROWS_WITH(castnet::io::read_idx(f), f + ": error: byte 0: magic 1f 8b 08 08 is gzip data, not IDX: "
                                                  "decompress it first (expected 00 00 <type> <ndims>)");
}

TEST_CASE_METHOD(Fixture, "idx: an unknown type code is reported at byte 2", "[idx]") {
  const auto f = write("a.idx", header(0x0A, {1}) + "xxxx");
  CHECK_THROWS_WITH(castnet::io::read_idx(f),
                    f + ": error: byte 2: unknown IDX type code 0x0a (expected 0x08 u8, 0x09 i8, 0x0b i16, 0x0c "
                        "i32, 0x0d f32 or 0x0e f64)");
}

TEST_CASE_METHOD(Fixture, "idx: zero dimensions are reported at byte 3", "[idx]") {
  const auto f = write("a.idx", header(0x08, {}) + "x");
  CHECK_THROWS_WITH(castnet::io::read_idx(f),
                    f + ": error: byte 3: the magic gives 0 dimensions (expected at least 1)");
}

TEST_CASE_METHOD(Fixture, "idx: a dimension of 0 is reported at its offset", "[idx]") {
  const auto f = write("a.idx", header(0x08, {3, 0, 2}));
  CHECK_THROWS_WITH(castnet::io::read_idx(f), f + ": error: byte 8: dimension 2 of 3 is 0 (expected at least 1)");
}

TEST_CASE_METHOD(Fixture, "idx: a file that ends inside the header", "[idx]") {
  const auto f = write("a.idx", header(0x08, {60000, 28, 28}).substr(0, 10));
  CHECK_THROWS_WITH(castnet::io::read_idx(f),
                    f + ": error: byte 10: the file ends inside the header (expected 3 dimensions of 4 bytes, a "
                        "header of 16 bytes)");
}

TEST_CASE_METHOD(Fixture, "idx: dimensions whose size overflows", "[idx]") {
  const auto f = write("a.idx", header(0x08, {0xffffffff, 0xffffffff, 0xffffffff, 5}));
  CHECK_THROWS_WITH(castnet::io::read_idx(f),
                    f + ": error: byte 12: dimensions 4294967295x4294967295x4294967295x... of u8 overflow the "
                        "address space (expected a size below 2^64 bytes)");
}

TEST_CASE_METHOD(Fixture, "idx: truncated data", "[idx]") {
  const auto f = write("a.idx", header(0x08, {60000, 28, 28}) + std::string(1000, '\0'));
  CHECK_THROWS_WITH(castnet::io::read_idx(f),
                    f + ": error: byte 1016: file has 1000 bytes of data after the header at offset 16; dimensions "
                        "60000x28x28 of u8 need 47040000: the file is truncated (expected a file of 16 + 47040000 "
                        "bytes, it has 1016)");
}

TEST_CASE_METHOD(Fixture, "idx: data past the end of the dimensions", "[idx]") {
  const auto f = write("a.idx", header(0x0B, {2, 3}) + std::string(15, '\0'));
  CHECK_THROWS_WITH(castnet::io::read_idx(f),
                    f + ": error: byte 24: file has 15 bytes of data after the header at offset 12; dimensions 2x3 "
                        "of i16 need 12: 3 bytes too many (expected a file of 12 + 12 bytes, it has 27)");
}

// --- data sets -----------------------------------------------------------------------------------

TEST_CASE_METHOD(Fixture, "idx dataset: class indices for softmax cross-entropy", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x08, {3, 2, 2}) + bytes_u8({0, 1, 2, 3, 10, 11, 12, 13, 255, 254, 253, 252}));
  const auto labels = write("labels.idx", header(0x08, {3}) + bytes_u8({2, 0, 1}));
  const auto data = castnet::dataset_from_idx<float>(images, labels, Loss::softmax_cross_entropy, 4, 3);
  CHECK(data.rows == 3);
  CHECK(data.inputs == 4);
  CHECK(data.targets == 1);
  CHECK(data.x == std::vector<float>{0, 1, 2, 3, 10, 11, 12, 13, 255, 254, 253, 252});
  CHECK(data.t == std::vector<float>{2, 0, 1});
}

TEST_CASE_METHOD(Fixture, "idx dataset: one-hot targets for mse and binary cross-entropy", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x0D, {2, 1}) + bef32(0.5f) + bef32(-2.0f));
  const auto labels = write("labels.idx", header(0x0C, {2}) + be32(2) + be32(0));
  for (const Loss loss : {Loss::mse, Loss::binary_cross_entropy}) {
    const auto data = castnet::dataset_from_idx<double>(images, labels, loss, 1, 3);
    CHECK(data.targets == 3);
    CHECK(data.x == std::vector<double>{0.5, -2.0});
    CHECK(data.t == std::vector<double>{0, 0, 1, 1, 0, 0});
  }
}

TEST_CASE_METHOD(Fixture, "idx dataset: with one output the label is the target", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x08, {3}) + bytes_u8({7, 8, 9}));
  const auto labels = write("labels.idx", header(0x0E, {3}) + bef64(0) + bef64(1) + bef64(0.25));
  const auto data = castnet::dataset_from_idx<float>(images, labels, Loss::binary_cross_entropy, 1, 1);
  CHECK(data.targets == 1);
  CHECK(data.x == std::vector<float>{7, 8, 9});
  CHECK(data.t == std::vector<float>{0, 1, 0.25f});

  const auto big = write("big.idx", header(0x0B, {3}) + be16(0) + be16(-7) + be16(1));
  CHECK(castnet::dataset_from_idx<float>(images, big, Loss::mse, 1, 1).t == std::vector<float>{0, -7, 1});
  CHECK_THROWS_WITH(castnet::dataset_from_idx<float>(images, big, Loss::binary_cross_entropy, 1, 1),
                    big + ": error: byte 10: sample 1's label is -7 (expected a binary_cross_entropy target in [0, 1])");
}

TEST_CASE_METHOD(Fixture, "idx dataset: inputs only, for predict", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x09, {2, 2}) + bytes_u8({1, 255, 128, 0}));
  const auto data = castnet::inputs_from_idx<double>(images, 2);
  CHECK(data.rows == 2);
  CHECK(data.inputs == 2);
  CHECK(data.targets == 0);
  CHECK(data.t.empty());
  CHECK(data.x == std::vector<double>{1, -1, -128, 0});
}

TEST_CASE_METHOD(Fixture, "idx dataset: samples whose size is not the spec's input", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x08, {2, 2, 3}) + std::string(12, '\0'));
  const auto labels = write("labels.idx", header(0x08, {2}) + bytes_u8({0, 1}));
  CHECK_THROWS_WITH(castnet::dataset_from_idx<float>(images, labels, Loss::softmax_cross_entropy, 784, 10),
                    images + ": error: byte 8: dimensions 2x2x3 make samples of 2x3 = 6 values, the spec's input "
                             "needs 784 (expected dimensions n x ... whose product after n is 784)");
  CHECK_THROWS_WITH(castnet::inputs_from_idx<float>(labels, 4),
                    labels + ": error: byte 3: dimensions 2 make samples of 1 value, the spec's input needs 4 "
                             "(expected dimensions n x ... whose product after n is 4)");
}

TEST_CASE_METHOD(Fixture, "idx dataset: labels with more than one dimension", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x08, {2, 1}) + bytes_u8({0, 1}));
  const auto labels = write("labels.idx", header(0x08, {2, 10}) + std::string(20, '\0'));
  CHECK_THROWS_WITH(castnet::dataset_from_idx<float>(images, labels, Loss::mse, 1, 10),
                    labels + ": error: byte 3: labels have dimensions 2x10 (expected 1 dimension: one label per "
                             "sample)");
}

TEST_CASE_METHOD(Fixture, "idx dataset: image and label counts that differ name both files", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x08, {3, 1}) + bytes_u8({0, 1, 2}));
  const auto labels = write("labels.idx", header(0x08, {2}) + bytes_u8({0, 1}));
  CHECK_THROWS_WITH(castnet::dataset_from_idx<float>(images, labels, Loss::softmax_cross_entropy, 1, 10),
                    labels + ": error: byte 4: 2 labels, but " + images +
                        " has 3 images (expected one label per image)");
}

TEST_CASE_METHOD(Fixture, "idx dataset: a label that is not a class index", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x08, {4, 1}) + bytes_u8({0, 1, 2, 3}));
  const auto labels = write("labels.idx", header(0x08, {4}) + bytes_u8({9, 0, 10, 1}));
  CHECK_THROWS_WITH(castnet::dataset_from_idx<float>(images, labels, Loss::softmax_cross_entropy, 1, 10),
                    labels + ": error: byte 10: sample 2's label is 10 (expected a class index 0..9 for "
                             "softmax_cross_entropy with 10 outputs)");
  const auto fractional = write("fractional.idx", header(0x0D, {4}) + bef32(1) + bef32(0.5f) + bef32(2) + bef32(3));
  CHECK_THROWS_WITH(castnet::dataset_from_idx<float>(images, fractional, Loss::mse, 1, 10),
                    fractional + ": error: byte 12: sample 1's label is 0.5 (expected a class index 0..9 for mse "
                                 "with 10 outputs)");
}

TEST_CASE_METHOD(Fixture, "idx dataset: image values that are not finite", "[idx][dataset]") {
  const auto images = write("images.idx", header(0x0D, {2, 2}) + bef32(0) + bef32(1) + bef32(2) +
                                              bef32(std::numeric_limits<float>::quiet_NaN()));
  CHECK_THROWS_WITH(castnet::inputs_from_idx<float>(images, 2),
                    images + ": error: byte 24: sample 1, value 1 is nan (expected a finite number)");
  const auto wide = write("wide.idx", header(0x0E, {1, 2}) + bef64(1) + bef64(1e300));
  CHECK(castnet::inputs_from_idx<double>(wide, 2).x == std::vector<double>{1, 1e300});
  CHECK_THROWS_WITH(castnet::inputs_from_idx<float>(wide, 2),
                    wide + ": error: byte 20: sample 0, value 1 is 1e+300 which does not fit in a float (expected "
                           "a finite number)");
}
