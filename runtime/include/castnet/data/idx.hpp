// IDX reading: the format MNIST is distributed in. A file is a 4-byte magic 00 00 <type> <ndims>,
// then ndims big-endian uint32 dimensions, then the elements, row-major and big-endian:
//   0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64.
// The elements are kept as the file's bytes (MNIST's training images are 47 MB as u8, 376 MB as
// double) and converted when they are copied out. Errors name the file and the byte offset:
// "<path>: error: byte <offset>: <what> (expected ...)".
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace castnet::io {

enum class IdxType : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

// Bytes per element: 1, 1, 2, 4, 4, 8.
std::size_t idx_element_size(IdxType type);
// "u8", "i8", "i16", "i32", "f32", "f64".
std::string_view idx_type_name(IdxType type);

struct IdxArray {
  std::filesystem::path path;
  IdxType type = IdxType::u8;
  std::vector<std::uint32_t> dims;  // at least one, none of them 0
  std::size_t data_offset = 0;      // header size, 4 + 4 * dims.size(): where element 0 starts
  std::string bytes;                // the whole file: header, then size() elements

  // Number of elements: the product of dims.
  std::size_t size() const;
  // File byte offset of element i.
  std::size_t offset_of(std::size_t i) const { return data_offset + i * idx_element_size(type); }
  // Element i, converted (exactly, for every type) to double.
  double value(std::size_t i) const;
  // Copies `count` elements starting at `first` to `out`, converted to T.
  template <std::floating_point T>
  void copy_to(std::size_t first, std::size_t count, T* out) const;
};

// "60000x28x28": the dimensions as IDX tools print them.
std::string idx_dims_text(const std::vector<std::uint32_t>& dims);

// Reads and checks a whole IDX file. Throws castnet::Error "<path>: error: byte <offset>: ..." for
// an unreadable file (without a byte offset), a magic that is not 00 00 (offset 0; gzip data is
// named as such), an unknown type code (offset 2), no dimensions (offset 3), a dimension of 0
// (its offset), a file that ends inside the header, dimensions whose size overflows size_t, and
// data whose length differs from what the dimensions need.
IdxArray read_idx(const std::filesystem::path& path);

extern template void IdxArray::copy_to<float>(std::size_t, std::size_t, float*) const;
extern template void IdxArray::copy_to<double>(std::size_t, std::size_t, double*) const;

}  // namespace castnet::io
