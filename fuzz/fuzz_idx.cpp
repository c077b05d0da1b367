// fuzz_idx: bytes -> a scratch file -> io::read_idx, then elements converted to float and double.
// A file the reader rejects throws castnet::Error; anything else escaping, a crash or a sanitizer
// report is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <castnet/error.hpp>
#include <castnet/data/idx.hpp>

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static castnet::fuzz::ScratchFile file;
  try {
    const castnet::io::IdxArray a = castnet::io::read_idx(file.write(data, size));
    const std::size_t n = a.size();
    (void)castnet::io::idx_dims_text(a.dims);
    (void)a.value(0);
    (void)a.value(n - 1);
    // The last few elements, as the data sets copy them.
    const std::size_t count = std::min<std::size_t>(n, 64);
    std::vector<float> f(count);
    std::vector<double> d(count);
    a.copy_to(n - count, count, f.data());
    a.copy_to(n - count, count, d.data());
  } catch (const castnet::Error&) {
  }
  return 0;
}
