// Small file-system helpers shared by every writer: atomic writes (temporary name, then rename),
// so that a crash or an error never leaves a file that looks complete.
// Not for collective (MPI-IO) writes: those live in comm/.
#pragma once

#include <filesystem>
#include <string>

namespace widemax {

// Writes `content` to `path` through a temporary file (created exclusively, never through a
// symlink) and an atomic rename.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

// Flushes a directory's entries (a rename into it, say) to stable storage; best effort: a file
// system that cannot sync a directory is not an error.
void fsync_directory(const std::filesystem::path& dir);

// Creates `dir` (and parents) and checks that a file can be written inside it.
// Throws an Error naming `option` (for example "--out") when it cannot.
void ensure_writable_dir(const std::filesystem::path& dir, const std::string& option);

// Reads a whole text file; throws an Error naming the file when it cannot.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace widemax
