// Classifies MNIST test digits with the exported model (digits.hpp, castnet_add_model WEIGHTS):
//   classify_digits IMAGES LABELS [--probabilities N]
// prints the accuracy, and with --probabilities the class probabilities of the first N images,
// comma-separated, as `castnet predict` prints them. The model itself allocates nothing; this
// program reads the IDX files into memory.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "digits.hpp"

namespace {

// An IDX file (big-endian header: magic, then one size per dimension, then unsigned bytes);
// empty if it cannot be read or is not of `dims` dimensions.
std::vector<unsigned char> read_idx(const char* path, unsigned dims, std::size_t& count) {
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t header = 4 + 4 * dims;
  if (bytes.size() < header || bytes[2] != 0x08 || bytes[3] != dims) return {};
  const auto size = [&](std::size_t at) {
    return std::size_t{bytes[at]} << 24 | std::size_t{bytes[at + 1]} << 16 | std::size_t{bytes[at + 2]} << 8 | bytes[at + 3];
  };
  count = size(4);
  std::size_t values = 1;
  for (unsigned d = 0; d < dims; ++d) values *= size(4 + 4 * d);
  if (bytes.size() != header + values) return {};
  return std::vector<unsigned char>(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 5 && std::strcmp(argv[3], "--probabilities") == 0)) {
    std::fprintf(stderr, "usage: classify_digits IMAGES LABELS [--probabilities N]\n");
    return 2;
  }
  std::size_t images = 0, labels = 0;
  const std::vector<unsigned char> pixels = read_idx(argv[1], 3, images);
  const std::vector<unsigned char> classes = read_idx(argv[2], 1, labels);
  if (pixels.empty() || classes.empty() || images != labels || pixels.size() != images * digits::kInputs) {
    std::fprintf(stderr, "classify_digits: %s and %s are not matching MNIST image and label files\n", argv[1], argv[2]);
    return 1;
  }
  const std::size_t show = argc == 5 ? std::strtoul(argv[4], nullptr, 10) : 0;

  std::size_t correct = 0;
  float x[digits::kInputs], p[digits::kOutputs];
  for (std::size_t i = 0; i < images; ++i) {
    // Raw pixel values, 0..255, as in the training data: the header applies the normalisation.
    for (std::size_t j = 0; j < digits::kInputs; ++j) x[j] = pixels[i * digits::kInputs + j];
    correct += digits::classify(x) == classes[i];
    if (i < show) {
      digits::predict(x, p);
      for (std::size_t k = 0; k < digits::kOutputs; ++k) std::printf(k ? ",%.9g" : "%.9g", static_cast<double>(p[k]));
      std::printf("\n");
    }
  }
  std::printf("accuracy %.4f (%zu of %zu test digits)\n", static_cast<double>(correct) / static_cast<double>(images),
              correct, images);
  return 0;
}
