// SHA-256 (FIPS 180-4) for fingerprinting specs, generated files and data: the generator records
// the spec's hash in the emitted code, build steps compare hashes to skip needless rewrites, and a
// checkpoint records the hashes of the data it was trained on. Own implementation, so neither the
// generator nor the runtime needs anything beyond the standard library.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace castnet::io {

// Lowercase hex digest (64 characters) of `bytes`.
std::string sha256_hex(std::string_view bytes);

// Lowercase hex digest of a file's contents. Throws std::runtime_error "<path>: error: cannot read".
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace castnet::io
