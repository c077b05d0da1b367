// fuzz_safetensors: bytes -> a scratch file -> io::read_safetensors, then what castnet does with a
// weight file it loaded: the shape check against a model's expectation and the normalisation
// metadata. A file the reader rejects throws castnet::Error; anything else escaping, a crash or a
// sanitizer report is a bug.
#include <cstddef>
#include <cstdint>

#include <castnet/error.hpp>
#include <castnet/io/safetensors.hpp>
#include <castnet/data/normalize.hpp>

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static castnet::fuzz::ScratchFile file;
  const std::string& path = file.write(data, size);
  castnet::io::SafetensorsFile st;
  try {
    st = castnet::io::read_safetensors(path);
  } catch (const castnet::Error&) {
    return 0;
  }
  const std::size_t inputs = st.tensors.empty() ? 1 : st.tensors.front().values.size();
  try {
    (void)castnet::Normalization::from_metadata(st.metadata, inputs, path);
  } catch (const castnet::Error&) {
  }
  try {
    castnet::io::check_tensors(st, path, {{"fc1.weight", {2, 2}}, {"fc1.bias", {2}}});
  } catch (const castnet::Error&) {
  }
  return 0;
}
