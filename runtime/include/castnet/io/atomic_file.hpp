// Writing files so that a crash never leaves a half-written one: temporary file in the same
// directory, write, fsync, rename over the target, fsync the directory. Also the matching
// whole-file read that the CSV and safetensors readers share.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace castnet::io {

// Replaces `path` with `bytes` atomically. Throws castnet::Error naming the path and the failing
// step. Up to the rename, the previous file (if any) is left intact and the temporary file is
// removed; after it (syncing the directory), the new file is in place and the message says so.
void write_file_atomic(const std::filesystem::path& path, std::span<const char> bytes);
inline void write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  write_file_atomic(path, std::span<const char>(text.data(), text.size()));
}
// std::string and string literals convert to both overloads above; these pick the text one.
inline void write_file_atomic(const std::filesystem::path& path, const std::string& text) {
  write_file_atomic(path, std::string_view(text));
}
inline void write_file_atomic(const std::filesystem::path& path, const char* text) {
  write_file_atomic(path, std::string_view(text));
}

// Removes the temporary files of write_file_atomic(path, ...) whose process is no longer running
// (killed mid-write, e.g. by SIGKILL), so that repeated kills do not fill the disk. Best effort:
// errors are ignored. Returns how many it removed.
std::size_t remove_stale_temporaries(const std::filesystem::path& path);

// Returns the whole contents of `path`. Throws castnet::Error "<path>: error: cannot read: <reason>".
std::string read_file(const std::filesystem::path& path);

}  // namespace castnet::io
