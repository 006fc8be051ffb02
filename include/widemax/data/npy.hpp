// NumPy .npy files (format version 1.0), the on-disk format of tensors (docs/design.md §5):
// little-endian
// '<f4' or '<f8', C order, 2-D. Serial only: the collective (MPI-IO) writer in comm/ uses
// npy_header() and writes the rows itself.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace widemax::data {

struct NpyInfo {
  std::string dtype;                // "<f4" or "<f8"
  std::vector<std::int64_t> shape;  // e.g. {m, d}
  std::int64_t data_offset = 0;     // bytes from the start of the file to the first element
  int word_size() const { return dtype == "<f4" ? 4 : 8; }
};

// The complete header (magic, version, length, dict, padding to a multiple of 64 bytes, '\n').
std::string npy_header(const std::string& dtype, const std::vector<std::int64_t>& shape);

// Reads and validates the header of `path`: version 1.0 or 2.0, dtype <f4 or <f8, not Fortran
// order, and a file size that matches the shape. Errors name the file and what is wrong.
NpyInfo read_npy_info(const std::filesystem::path& path);

// Reads rows [row_begin, row_end) of a 2-D .npy file as T (converting from the stored dtype).
// Checks that the file has `expected_cols` columns (when >= 0).
template <class T>
std::vector<T> read_npy_rows(const std::filesystem::path& path, std::int64_t row_begin,
                             std::int64_t row_end, std::int64_t expected_cols = -1);

// Writes a 2-D array (rows, cols) of T as .npy through a temporary file and an atomic rename.
template <class T>
void write_npy(const std::filesystem::path& path, const T* data, std::int64_t rows,
               std::int64_t cols);

}  // namespace widemax::data
