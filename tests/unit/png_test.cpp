// The PNG writer: CRC-32 and Adler-32 against their published check values, then whole files
// taken apart again here (signature, chunk lengths and CRCs, IHDR, the zlib header, the stored
// deflate blocks, the Adler-32 trailer, the filter bytes) down to the pixels.
#include "castnet/io/png.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "castnet/io/atomic_file.hpp"
#include "support/process.hpp"

using castnet::io::adler32;
using castnet::io::crc32;
using castnet::io::encode_png_gray;
using castnet::io::encode_png_rgb;

namespace {

std::uint32_t u32(const std::string& s, std::size_t at) {
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s.at(at + i))); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

std::uint32_t u16_le(const std::string& s, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s.at(at))) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s.at(at + 1))) << 8;
}

struct Decoded {
  std::uint32_t width = 0, height = 0;
  int bit_depth = 0, colour_type = 0, compression = 0, filter = 0, interlace = 0;
  std::vector<std::string> chunk_types;
  std::size_t stored_blocks = 0;
  std::vector<std::uint8_t> pixels;
};

// Takes `png` apart, REQUIREing every structural rule on the way.
Decoded decode(const std::string& png) {
  Decoded d;
  REQUIRE(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  std::string zlib;
  std::size_t at = 8;
  while (at < png.size()) {
    const std::uint32_t length = u32(png, at);
    const std::string type = png.substr(at + 4, 4);
    REQUIRE(at + 12 + length <= png.size());
    const std::string data = png.substr(at + 8, length);
    INFO("chunk " << type);
    CHECK(u32(png, at + 8 + length) == crc32(png.substr(at + 4, 4 + length)));
    d.chunk_types.push_back(type);
    if (type == "IHDR") {
      REQUIRE(length == 13);
      d.width = u32(data, 0);
      d.height = u32(data, 4);
      d.bit_depth = static_cast<unsigned char>(data[8]);
      d.colour_type = static_cast<unsigned char>(data[9]);
      d.compression = static_cast<unsigned char>(data[10]);
      d.filter = static_cast<unsigned char>(data[11]);
      d.interlace = static_cast<unsigned char>(data[12]);
    } else if (type == "IDAT") {
      zlib += data;
    }
    at += 12 + length;
  }
  REQUIRE(at == png.size());
  REQUIRE(d.chunk_types.front() == "IHDR");
  REQUIRE(d.chunk_types.back() == "IEND");

  // zlib: header, stored blocks, Adler-32.
  REQUIRE(zlib.size() >= 2 + 5 + 4);
  const auto cmf = static_cast<unsigned char>(zlib[0]), flg = static_cast<unsigned char>(zlib[1]);
  CHECK((cmf & 0x0F) == 8);  // deflate
  CHECK((cmf >> 4) <= 7);    // window <= 32 KiB
  CHECK((cmf * 256 + flg) % 31 == 0);
  CHECK((flg & 0x20) == 0);  // no preset dictionary
  std::string raw;
  std::size_t pos = 2;
  for (bool final = false; !final;) {
    REQUIRE(pos + 5 <= zlib.size());
    const auto header = static_cast<unsigned char>(zlib[pos]);
    REQUIRE((header >> 1) == 0);  // BTYPE 00 and no other bits
    final = header & 1;
    const std::uint32_t len = u16_le(zlib, pos + 1), nlen = u16_le(zlib, pos + 3);
    REQUIRE((len ^ nlen) == 0xFFFF);
    REQUIRE(pos + 5 + len <= zlib.size());
    raw += zlib.substr(pos + 5, len);
    pos += 5 + len;
    ++d.stored_blocks;
  }
  REQUIRE(pos + 4 == zlib.size());
  CHECK(u32(zlib, pos) == adler32(raw));

  // Scanlines, each with filter type 0.
  const std::size_t channels = d.colour_type == 2 ? 3 : 1;
  const std::size_t row = d.width * channels;
  REQUIRE(raw.size() == (row + 1) * d.height);
  for (std::size_t y = 0; y < d.height; ++y) {
    REQUIRE(raw[y * (row + 1)] == '\0');
    for (std::size_t x = 0; x < row; ++x) d.pixels.push_back(static_cast<std::uint8_t>(raw[y * (row + 1) + 1 + x]));
  }
  return d;
}

}  // namespace

TEST_CASE("png: CRC-32 and Adler-32 match their check values", "[png]") {
  CHECK(crc32("123456789") == 0xCBF43926u);
  CHECK(crc32("") == 0u);
  CHECK(crc32("IEND") == 0xAE426082u);  // the CRC every PNG ends with
  CHECK(crc32("56789", crc32("1234")) == 0xCBF43926u);
  // Eight bytes at a time agrees with one byte at a time, at every length and alignment.
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes += static_cast<char>(i * 37 + 11);
  for (std::size_t from = 0; from < 9; ++from) {
    for (std::size_t n = 0; from + n <= bytes.size(); n += 7) {
      std::uint32_t one_by_one = 0;
      for (std::size_t i = from; i < from + n; ++i) one_by_one = crc32(bytes.substr(i, 1), one_by_one);
      CHECK(crc32(std::string_view(bytes).substr(from, n)) == one_by_one);
    }
  }
  CHECK(crc32(std::string(1000, 'a')) == 0x9A38DA03u);  // Python: zlib.crc32(b"a" * 1000)
  CHECK(adler32("Wikipedia") == 0x11E60398u);
  CHECK(adler32("") == 1u);
  CHECK(adler32("pedia", adler32("Wiki")) == 0x11E60398u);

  // Long input of 0xFF bytes, where the deferred modulo matters, against the textbook loop.
  const std::string ff(1'000'003, '\xff');
  std::uint32_t a = 1, b = 0;
  for (const char c : ff) {
    a = (a + static_cast<unsigned char>(c)) % 65521;
    b = (b + a) % 65521;
  }
  CHECK(adler32(ff) == (b << 16 | a));
}

TEST_CASE("png: a greyscale image decodes back to its pixels", "[png]") {
  std::vector<std::uint8_t> pixels;
  for (std::size_t y = 0; y < 3; ++y) {
    for (std::size_t x = 0; x < 5; ++x) pixels.push_back(static_cast<std::uint8_t>(40 * x + 80 * y));
  }
  const std::string png = encode_png_gray(5, 3, pixels);
  const Decoded d = decode(png);
  CHECK(d.width == 5);
  CHECK(d.height == 3);
  CHECK(d.bit_depth == 8);
  CHECK(d.colour_type == 0);
  CHECK(d.compression == 0);
  CHECK(d.filter == 0);
  CHECK(d.interlace == 0);
  CHECK(d.chunk_types == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
  CHECK(d.stored_blocks == 1);
  CHECK(d.pixels == pixels);
  // 8 signature + 25 IHDR + 12 + (2 + 5 + 18 + 4) IDAT + 12 IEND
  CHECK(png.size() == 8 + 25 + 12 + 29 + 12);
}

TEST_CASE("png: large images span several stored blocks and IDAT chunks", "[png]") {
  // 700 x 800 x 3 + 800 filter bytes = 1 680 800 bytes: 26 blocks, two IDAT chunks.
  const std::size_t w = 700, h = 800;
  std::vector<std::uint8_t> pixels(w * h * 3);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 7 + i / 1000);
  const Decoded d = decode(encode_png_rgb(w, h, pixels));
  CHECK(d.colour_type == 2);
  CHECK(d.width == w);
  CHECK(d.height == h);
  CHECK(d.stored_blocks == (w * 3 + 1) * h / 65535 + 1);
  CHECK(d.chunk_types == std::vector<std::string>{"IHDR", "IDAT", "IDAT", "IEND"});
  CHECK(d.pixels == pixels);

  // Exactly one full block: 65535 bytes of rows, no empty block after it.
  const std::vector<std::uint8_t> one_block(65534, 9);
  const Decoded exact = decode(encode_png_gray(65534, 1, one_block));
  CHECK(exact.stored_blocks == 1);
  CHECK(exact.pixels == one_block);
}

TEST_CASE("png: bad dimensions are rejected", "[png]") {
  const std::vector<std::uint8_t> four(4);
  CHECK_THROWS_AS(encode_png_gray(0, 4, {}), std::invalid_argument);
  CHECK_THROWS_AS(encode_png_gray(2, 3, four), std::invalid_argument);
  CHECK_THROWS_AS(encode_png_rgb(2, 2, four), std::invalid_argument);
  CHECK_THROWS_AS(encode_png_gray(std::size_t{1} << 31, 1, four), std::invalid_argument);
  CHECK_NOTHROW(encode_png_gray(2, 2, four));
}

TEST_CASE("png: write_png_gray and write_png_rgb write the encoded bytes", "[png]") {
  castnet::test::TempDir dir;
  const std::vector<std::uint8_t> pixels = {0, 64, 128, 255, 1, 2};
  castnet::io::write_png_gray(dir / "g.png", 3, 2, pixels);
  CHECK(castnet::io::read_file(dir / "g.png") == encode_png_gray(3, 2, pixels));
  castnet::io::write_png_rgb(dir / "c.png", 2, 1, pixels);
  CHECK(castnet::io::read_file(dir / "c.png") == encode_png_rgb(2, 1, pixels));
}
