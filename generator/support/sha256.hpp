// SHA-256 (FIPS 180-4) for fingerprinting specs and generated files: the generator records the
// spec's hash in the emitted code, and build steps compare hashes to skip needless rewrites.
// Own implementation, so the generator needs nothing beyond the standard library.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace castnet::support {

// Lowercase hex digest (64 characters) of `bytes`.
std::string sha256_hex(std::string_view bytes);

// Lowercase hex digest of a file's contents. Throws std::runtime_error "<path>: error: cannot read".
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace castnet::support
