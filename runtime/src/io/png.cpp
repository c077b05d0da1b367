#include "castnet/io/png.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "castnet/io/atomic_file.hpp"

namespace castnet::io {

// The CRC loop reads bytes as little-endian words.
static_assert(std::endian::native == std::endian::little, "castnet assumes a little-endian host");

namespace {

// Slicing-by-8 tables: kCrcTable[0] is the classic byte table; kCrcTable[k][n] is the CRC of byte
// n followed by k zero bytes, so eight bytes are folded in per step (about 5x the byte-at-a-time
// speed, which matters for the checksums of weight files and checkpoints, safetensors.cpp).
constexpr std::array<std::array<std::uint32_t, 256>, 8> kCrcTable = [] {
  std::array<std::array<std::uint32_t, 256>, 8> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[0][n] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::uint32_t n = 0; n < 256; ++n) table[k][n] = (table[k - 1][n] >> 8) ^ table[0][table[k - 1][n] & 0xFF];
  return table;
}();

void put_u32(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

void put_u16_le(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}

// length, type, data, CRC of type and data.
void put_chunk(std::string& png, std::string_view type, std::string_view data) {
  put_u32(png, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = png.size();
  png += type;
  png += data;
  put_u32(png, crc32(std::string_view(png).substr(start)));
}

std::string encode(std::size_t width, std::size_t height, std::size_t channels,
                   std::span<const std::uint8_t> pixels) {
  constexpr std::size_t kMaxDimension = 0x7FFFFFFF;  // PNG's limit
  if (width == 0 || height == 0 || width > kMaxDimension || height > kMaxDimension) {
    throw std::invalid_argument("png: the image is " + std::to_string(width) + " x " + std::to_string(height) +
                                "; both sides must be between 1 and 2^31 - 1");
  }
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  if (width > (max / height - 1) / channels) throw std::invalid_argument("png: the image is too large");
  const std::size_t row = width * channels;
  if (pixels.size() != row * height) {
    throw std::invalid_argument("png: " + std::to_string(pixels.size()) + " bytes of pixels for a " +
                                std::to_string(width) + " x " + std::to_string(height) + " image of " +
                                std::to_string(channels) + " byte(s) per pixel");
  }

  // The filtered image: each row preceded by its filter type, 0 (none).
  std::string raw;
  raw.reserve((row + 1) * height);
  for (std::size_t y = 0; y < height; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(pixels.data() + y * row), row);
  }

  // zlib: CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (check bits; no dictionary, fastest), the
  // stored blocks (each byte-aligned: a header byte, LEN and its complement NLEN, then LEN bytes),
  // Adler-32 of the uncompressed data.
  constexpr std::size_t kBlock = 65535;
  std::string zlib;
  zlib.reserve(raw.size() + raw.size() / kBlock * 5 + 16);
  zlib += '\x78';
  zlib += '\x01';
  for (std::size_t at = 0; at < raw.size(); at += kBlock) {
    const std::size_t n = std::min(kBlock, raw.size() - at);
    zlib += static_cast<char>(at + n == raw.size() ? 1 : 0);  // BFINAL, BTYPE 00
    put_u16_le(zlib, static_cast<std::uint32_t>(n));
    put_u16_le(zlib, static_cast<std::uint32_t>(~n & 0xFFFF));
    zlib.append(raw, at, n);
  }
  put_u32(zlib, adler32(raw));

  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_u32(ihdr, static_cast<std::uint32_t>(width));
  put_u32(ihdr, static_cast<std::uint32_t>(height));
  ihdr += '\x08';                            // bit depth
  ihdr += channels == 1 ? '\x00' : '\x02';   // colour type: greyscale, truecolour
  ihdr += std::string(3, '\0');              // compression 0 (deflate), filter 0, no interlace
  put_chunk(png, "IHDR", ihdr);
  constexpr std::size_t kIdat = std::size_t{1} << 20;  // IDAT chunks of at most 1 MiB
  for (std::size_t at = 0; at < zlib.size(); at += kIdat) {
    put_chunk(png, "IDAT", std::string_view(zlib).substr(at, kIdat));
  }
  put_chunk(png, "IEND", {});
  return png;
}

}  // namespace

std::uint32_t crc32(std::string_view bytes, std::uint32_t crc) {
  crc = ~crc;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint32_t lo = 0, hi = 0;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = kCrcTable[7][lo & 0xFF] ^ kCrcTable[6][(lo >> 8) & 0xFF] ^ kCrcTable[5][(lo >> 16) & 0xFF] ^
          kCrcTable[4][lo >> 24] ^ kCrcTable[3][hi & 0xFF] ^ kCrcTable[2][(hi >> 8) & 0xFF] ^
          kCrcTable[1][(hi >> 16) & 0xFF] ^ kCrcTable[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) crc = kCrcTable[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::uint32_t adler32(std::string_view bytes, std::uint32_t adler) {
  constexpr std::uint32_t kMod = 65521;
  std::uint32_t a = adler & 0xFFFF, b = adler >> 16;
  // 5552 bytes is the most that can be summed before b can overflow 32 bits.
  for (std::size_t at = 0; at < bytes.size(); at += 5552) {
    const std::size_t end = std::min(bytes.size(), at + 5552);
    for (std::size_t i = at; i < end; ++i) {
      a += static_cast<unsigned char>(bytes[i]);
      b += a;
    }
    a %= kMod;
    b %= kMod;
  }
  return (b << 16) | a;
}

std::string encode_png_gray(std::size_t width, std::size_t height, std::span<const std::uint8_t> pixels) {
  return encode(width, height, 1, pixels);
}

std::string encode_png_rgb(std::size_t width, std::size_t height, std::span<const std::uint8_t> pixels) {
  return encode(width, height, 3, pixels);
}

void write_png_gray(const std::filesystem::path& path, std::size_t width, std::size_t height,
                    std::span<const std::uint8_t> pixels) {
  write_file_atomic(path, encode_png_gray(width, height, pixels));
}

void write_png_rgb(const std::filesystem::path& path, std::size_t width, std::size_t height,
                   std::span<const std::uint8_t> pixels) {
  write_file_atomic(path, encode_png_rgb(width, height, pixels));
}

}  // namespace castnet::io
