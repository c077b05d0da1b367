// A minimal PNG writer with no library: 8-bit greyscale or RGB, no interlacing, every row with
// filter type 0, and the pixel data in a zlib stream of stored (uncompressed) deflate blocks. The
// files are a little larger than compressed ones and every PNG reader accepts them. Used for
// pictures of inputs, weights and activations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace castnet::io {

// CRC-32 as PNG and zlib's crc32 compute it (reflected polynomial 0xEDB88320). Pass the previous
// result as `crc` to continue: crc32(b, crc32(a)) == crc32(a + b).
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);
// Adler-32 as zlib computes it. Pass the previous result as `adler` to continue.
std::uint32_t adler32(std::string_view bytes, std::uint32_t adler = 1);

// The PNG file of a `width` x `height` image; `pixels` holds the rows top to bottom, one byte per
// pixel (0 black, 255 white), or three (red, green, blue) for the RGB variant. Throws
// std::invalid_argument if a dimension is 0 or above 2^31 - 1, or if pixels.size() is not
// width * height (* 3).
std::string encode_png_gray(std::size_t width, std::size_t height, std::span<const std::uint8_t> pixels);
std::string encode_png_rgb(std::size_t width, std::size_t height, std::span<const std::uint8_t> pixels);

// encode_png_* written with write_file_atomic (castnet::Error on an I/O failure).
void write_png_gray(const std::filesystem::path& path, std::size_t width, std::size_t height,
                    std::span<const std::uint8_t> pixels);
void write_png_rgb(const std::filesystem::path& path, std::size_t width, std::size_t height,
                   std::span<const std::uint8_t> pixels);

}  // namespace castnet::io
