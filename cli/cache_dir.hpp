// castnet's cache directory and the checks on what castnet keeps there: compiled runners
// (build_cache.cpp) and downloaded data sets (mnist.cpp).
#pragma once

#include <filesystem>
#include <string_view>

namespace castnet::cli {

// $CASTNET_CACHE_DIR, else $XDG_CACHE_HOME/castnet, else ~/.cache/castnet. Throws
// std::runtime_error if none of these is set (never a shared, predictable place such as /tmp).
std::filesystem::path cache_root();

// Checks that `p` itself (not what a symlink points to) is a directory (want_dir) or a regular
// file owned by the effective user and writable by nobody else. Throws std::runtime_error
// "castnet: error: <p> is owned by another user (uid N); <refusal>", e.g. with the refusal
// "castnet will not run programs from it".
void check_private(const std::filesystem::path& p, bool want_dir, std::string_view refusal);

// Creates `dir` (mode 0700) if it is missing, then checks it as check_private does.
void private_dir(const std::filesystem::path& dir, std::string_view refusal);

}  // namespace castnet::cli
