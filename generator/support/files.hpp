// The generator's file I/O. Outputs are written only when their bytes change (so an unchanged
// spec never triggers recompiles), through an exclusively created temporary file and a rename
// (so a reader never sees half a file).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace castnet::support {

// The whole file. Throws std::runtime_error "<path>: error: cannot read: <reason>".
std::string read_file(const std::filesystem::path& path);

// Returns true if the file was (re)written. Creates missing directories. Throws
// std::runtime_error naming the path and the reason on failure, leaving any previous file intact.
bool write_if_changed(const std::filesystem::path& path, std::string_view bytes);

// "target: dep1 dep2\n" in Makefile syntax, spaces escaped (what Ninja and Make read as DEPFILE).
std::string make_depfile(const std::filesystem::path& target, const std::vector<std::filesystem::path>& deps);

}  // namespace castnet::support
