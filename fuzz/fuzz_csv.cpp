// fuzz_csv: bytes -> a scratch file -> io::read_csv, then a column lookup and every cell read.
// A file the reader rejects throws castnet::Error; anything else escaping, a crash or a sanitizer
// report is a bug.
#include <cstddef>
#include <cstdint>

#include <castnet/error.hpp>
#include <castnet/data/csv.hpp>

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static castnet::fuzz::ScratchFile file;
  try {
    const castnet::io::CsvTable t = castnet::io::read_csv(file.write(data, size));
    double sum = 0;
    for (std::size_t r = 0; r < t.rows(); ++r)
      for (std::size_t c = 0; c < t.cols(); ++c) sum += t.at(r, c);
    (void)sum;
    (void)t.column(t.header.back());
    (void)t.column("y");  // usually absent: the error names the columns
  } catch (const castnet::Error&) {
  }
  return 0;
}
