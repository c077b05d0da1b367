// IDX reading (see idx.hpp): the header is checked field by field, in file order, so the first
// problem reported is the first one in the file; the data stays as the file's bytes.
#include <castnet/error.hpp>
#include <castnet/io/atomic_file.hpp>
#include <castnet/data/idx.hpp>

#include <bit>
#include <cstdio>

namespace castnet::io {
namespace {

constexpr std::size_t kMagicSize = 4;

[[noreturn]] void fail(const std::filesystem::path& path, std::size_t offset, const std::string& what) {
  throw Error(path.string() + ": error: byte " + std::to_string(offset) + ": " + what);
}

std::uint32_t big_endian_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

std::uint64_t big_endian_u64(const unsigned char* p) {
  return static_cast<std::uint64_t>(big_endian_u32(p)) << 32 | big_endian_u32(p + 4);
}

std::string hex_byte(unsigned char b) {
  char buf[3];
  std::snprintf(buf, sizeof buf, "%02x", b);
  return buf;
}

bool known_type(unsigned char code) {
  switch (code) {
    case 0x08: case 0x09: case 0x0B: case 0x0C: case 0x0D: case 0x0E: return true;
    default: return false;
  }
}

// Element i of `data` (the bytes after the header) as the file's type, then converted to R.
template <IdxType Type, typename R>
R decode(const unsigned char* data, std::size_t i) {
  if constexpr (Type == IdxType::u8) {
    return static_cast<R>(data[i]);
  } else if constexpr (Type == IdxType::i8) {
    return static_cast<R>(static_cast<std::int8_t>(data[i]));
  } else if constexpr (Type == IdxType::i16) {
    const auto* p = data + 2 * i;
    return static_cast<R>(static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] << 8 | p[1])));
  } else if constexpr (Type == IdxType::i32) {
    return static_cast<R>(static_cast<std::int32_t>(big_endian_u32(data + 4 * i)));
  } else if constexpr (Type == IdxType::f32) {
    return static_cast<R>(std::bit_cast<float>(big_endian_u32(data + 4 * i)));
  } else {
    return static_cast<R>(std::bit_cast<double>(big_endian_u64(data + 8 * i)));
  }
}

template <IdxType Type, typename R>
void decode_range(const unsigned char* data, std::size_t first, std::size_t count, R* out) {
  for (std::size_t i = 0; i < count; ++i) out[i] = decode<Type, R>(data, first + i);
}

// One switch on the type per call, not per element.
template <typename R>
void decode_range(IdxType type, const unsigned char* data, std::size_t first, std::size_t count, R* out) {
  switch (type) {
    case IdxType::u8: return decode_range<IdxType::u8>(data, first, count, out);
    case IdxType::i8: return decode_range<IdxType::i8>(data, first, count, out);
    case IdxType::i16: return decode_range<IdxType::i16>(data, first, count, out);
    case IdxType::i32: return decode_range<IdxType::i32>(data, first, count, out);
    case IdxType::f32: return decode_range<IdxType::f32>(data, first, count, out);
    case IdxType::f64: return decode_range<IdxType::f64>(data, first, count, out);
  }
}

}  // namespace

std::size_t idx_element_size(IdxType type) {
  switch (type) {
    case IdxType::u8: case IdxType::i8: return 1;
    case IdxType::i16: return 2;
    case IdxType::i32: case IdxType::f32: return 4;
    case IdxType::f64: return 8;
  }
  __builtin_unreachable();  // every enumerator returns above; -Wswitch flags a new one
}

std::string_view idx_type_name(IdxType type) {
  switch (type) {
    case IdxType::u8: return "u8";
    case IdxType::i8: return "i8";
    case IdxType::i16: return "i16";
    case IdxType::i32: return "i32";
    case IdxType::f32: return "f32";
    case IdxType::f64: return "f64";
  }
  __builtin_unreachable();
}

std::string idx_dims_text(const std::vector<std::uint32_t>& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? "x" : "") + std::to_string(dims[i]);
  return text;
}

std::size_t IdxArray::size() const {
  std::size_t n = 1;
  for (const std::uint32_t d : dims) n *= d;
  return n;
}

double IdxArray::value(std::size_t i) const {
  double v = 0;
  copy_to(i, 1, &v);
  return v;
}

template <std::floating_point T>
void IdxArray::copy_to(std::size_t first, std::size_t count, T* out) const {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data()) + data_offset;
  decode_range(type, data, first, count, out);
}

template void IdxArray::copy_to<float>(std::size_t, std::size_t, float*) const;
template void IdxArray::copy_to<double>(std::size_t, std::size_t, double*) const;

IdxArray read_idx(const std::filesystem::path& path) {
  IdxArray a;
  a.path = path;
  a.bytes = read_file(path);
  const auto* b = reinterpret_cast<const unsigned char*>(a.bytes.data());
  const std::size_t file_size = a.bytes.size();

  if (file_size < kMagicSize) {
    fail(path, file_size,
         (file_size == 0 ? std::string("the file is empty") : "the file ends after " + std::to_string(file_size) + " bytes") +
             " (expected the 4-byte IDX magic 00 00 <type> <ndims>)");
  }
  if (b[0] != 0 || b[1] != 0) {
    const std::string magic = hex_byte(b[0]) + " " + hex_byte(b[1]) + " " + hex_byte(b[2]) + " " + hex_byte(b[3]);
    const bool gzip = b[0] == 0x1f && b[1] == 0x8b;
    fail(path, 0,
         "magic " + magic + (gzip ? " is gzip data, not IDX: decompress it first" : " is not an IDX magic") +
             " (expected 00 00 <type> <ndims>)");
  }
  if (!known_type(b[2])) {
    fail(path, 2,
         "unknown IDX type code 0x" + hex_byte(b[2]) +
             " (expected 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32 or 0x0e f64)");
  }
  a.type = static_cast<IdxType>(b[2]);
  const std::size_t ndims = b[3];
  if (ndims == 0) fail(path, 3, "the magic gives 0 dimensions (expected at least 1)");
  a.data_offset = kMagicSize + 4 * ndims;
  if (file_size < a.data_offset) {
    fail(path, file_size,
         "the file ends inside the header (expected " + std::to_string(ndims) + " dimensions of 4 bytes, a header of " +
             std::to_string(a.data_offset) + " bytes)");
  }

  // Bytes the data needs, checked for overflow as each dimension multiplies it.
  const std::size_t element_size = idx_element_size(a.type);
  std::size_t need = element_size;
  for (std::size_t k = 0; k < ndims; ++k) {
    const std::size_t at = kMagicSize + 4 * k;
    const std::uint32_t d = big_endian_u32(b + at);
    a.dims.push_back(d);
    if (d == 0) {
      fail(path, at,
           "dimension " + std::to_string(k + 1) + " of " + std::to_string(ndims) + " is 0 (expected at least 1)");
    }
    if (__builtin_mul_overflow(need, std::size_t{d}, &need)) {
      fail(path, at,
           "dimensions " + idx_dims_text(a.dims) + (k + 1 < ndims ? "x..." : "") + " of " +
               std::string(idx_type_name(a.type)) + " overflow the address space (expected a size below 2^" +
               std::to_string(8 * sizeof(std::size_t)) + " bytes)");
    }
  }

  const std::size_t have = file_size - a.data_offset;
  if (have != need) {
    const std::string dims = "dimensions " + idx_dims_text(a.dims) + " of " + std::string(idx_type_name(a.type));
    const std::string expected = " (expected a file of " + std::to_string(a.data_offset) + " + " +
                                 std::to_string(need) + " bytes, it has " + std::to_string(file_size) + ")";
    const std::string what = "file has " + std::to_string(have) + " bytes of data after the header at offset " +
                             std::to_string(a.data_offset) + "; " + dims + " need " + std::to_string(need);
    if (have < need) fail(path, file_size, what + ": the file is truncated" + expected);
    fail(path, a.data_offset + need, what + ": " + std::to_string(have - need) + " bytes too many" + expected);
  }
  return a;
}

}  // namespace castnet::io
