// Serial reading and writing of 2-D .npy files. See npy.hpp.
// Reads format versions 1.0 and 2.0 (NumPy switches to 2.0 by itself for very long headers) and
// writes 1.0 with the header padded to 64 bytes, as NumPy does, so the data is aligned for mmap.
// Deliberately refuses everything else (other dtypes, big-endian, Fortran order, not 2-D) instead
// of converting: a tensor in an unexpected layout is a bug upstream, not something to guess about.
// Assumes a little-endian host, which static_assert enforces.
#include "widemax/data/npy.hpp"

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <type_traits>

#include "widemax/core/error.hpp"
#include "widemax/core/fs.hpp"

namespace widemax::data {

static_assert(std::endian::native == std::endian::little, "widemax .npy I/O assumes little-endian");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

template <class T>
constexpr const char* dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  return std::is_same_v<T, float> ? "<f4" : "<f8";
}

// Where a key's value starts in the header dict ("'key': value"), or npos.
std::size_t find_value(const std::string& dict, const std::string& key) {
  for (const char q : {'\'', '"'}) {
    const auto k = dict.find(q + key + q);
    if (k == std::string::npos) continue;
    auto p = dict.find(':', k + key.size() + 2);
    if (p == std::string::npos) return p;
    ++p;
    while (p < dict.size() && dict[p] == ' ') ++p;
    return p;
  }
  return std::string::npos;
}

NpyInfo parse_dict(const std::string& dict, const std::filesystem::path& path) {
  const std::string where = "'" + path.string() + "': ";
  NpyInfo info;

  auto p = find_value(dict, "descr");
  WIDEMAX_CHECK(p != std::string::npos && p < dict.size() && (dict[p] == '\'' || dict[p] == '"'),
                where, "the .npy header has no 'descr' string: ", dict);
  const auto close = dict.find(dict[p], p + 1);
  WIDEMAX_CHECK(close != std::string::npos, where, "malformed 'descr' in .npy header: ", dict);
  info.dtype = dict.substr(p + 1, close - p - 1);
  WIDEMAX_CHECK_HINT(info.dtype == "<f4" || info.dtype == "<f8",
                     "save the array as float32 or float64, e.g. np.save(f, a.astype('<f8'))",
                     where, "unsupported dtype '", info.dtype,
                     "' (only little-endian float32 '<f4' and float64 '<f8' are supported)");

  p = find_value(dict, "fortran_order");
  WIDEMAX_CHECK(p != std::string::npos, where, "the .npy header has no 'fortran_order': ", dict);
  if (dict.compare(p, 4, "True") == 0)
    WIDEMAX_FAIL_HINT("save a C-ordered array, e.g. np.save(f, np.ascontiguousarray(a))", where,
                      "Fortran-ordered arrays are not supported");
  WIDEMAX_CHECK(dict.compare(p, 5, "False") == 0, where, "malformed 'fortran_order': ", dict);

  p = find_value(dict, "shape");
  WIDEMAX_CHECK(p != std::string::npos && p < dict.size() && dict[p] == '(', where,
                "the .npy header has no 'shape' tuple: ", dict);
  const auto end = dict.find(')', p);
  WIDEMAX_CHECK(end != std::string::npos, where, "malformed 'shape' in .npy header: ", dict);
  const std::string tuple = dict.substr(p + 1, end - p - 1);
  std::size_t i = 0;
  while (i < tuple.size()) {
    while (i < tuple.size() && (tuple[i] == ' ' || tuple[i] == ',')) ++i;
    if (i == tuple.size()) break;
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(tuple.substr(i), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    WIDEMAX_CHECK(used > 0 && v >= 0, where, "malformed 'shape' (", tuple, ") in .npy header");
    info.shape.push_back(v);
    i += used;
  }
  WIDEMAX_CHECK(info.shape.size() == 2, where, "expected a 2-D array, the file holds shape (",
                tuple, ")");
  return info;
}

std::uint64_t read_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int b = bytes - 1; b >= 0; --b) v = (v << 8) | p[b];
  return v;
}

template <class S>
std::vector<S> read_values(std::ifstream& in, std::int64_t count,
                           const std::filesystem::path& path) {
  std::vector<S> v(static_cast<std::size_t>(count));
  const auto bytes = static_cast<std::streamsize>(v.size() * sizeof(S));
  in.read(reinterpret_cast<char*>(v.data()), bytes);
  WIDEMAX_CHECK(in && in.gcount() == bytes, "'", path.string(), "': short read of the data");
  return v;
}

}  // namespace

std::string npy_header(const std::string& dtype, const std::vector<std::int64_t>& shape) {
  WIDEMAX_CHECK(dtype == "<f4" || dtype == "<f8", "npy_header: unsupported dtype '", dtype, "'");
  std::string dims;
  for (const auto s : shape) {
    WIDEMAX_CHECK(s >= 0, "npy_header: negative dimension ", s);
    dims += (dims.empty() ? "" : ", ") + std::to_string(s);
  }
  if (shape.size() == 1) dims += ",";  // Python's one-element tuple
  std::string dict =
      "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t preamble = kMagicLen + 2 + 2;
  const std::size_t unpadded = preamble + dict.size() + 1;  // + '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  WIDEMAX_CHECK(dict.size() <= std::numeric_limits<std::uint16_t>::max(),
                "npy_header: header too long for format 1.0");
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

NpyInfo read_npy_info(const std::filesystem::path& path) {
  const std::string where = "'" + path.string() + "': ";
  std::ifstream in(path, std::ios::binary);
  WIDEMAX_CHECK_HINT(in, "check the path", "cannot open .npy file '", path.string(), "'",
                     std::filesystem::exists(path) ? "" : ": no such file");
  unsigned char pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), 10);
  WIDEMAX_CHECK(in.gcount() == 10 && std::memcmp(pre, kMagic, kMagicLen) == 0, where,
                "not a .npy file (bad magic string)");
  const int major = pre[6], minor = pre[7];
  WIDEMAX_CHECK((major == 1 || major == 2) && minor == 0, where, "unsupported .npy format version ",
                major, ".", minor, " (1.0 and 2.0 are supported)");
  std::uint64_t header_len = 0;
  std::int64_t offset = 0;
  if (major == 1) {
    header_len = read_le(pre + 8, 2);
    offset = 10;
  } else {
    in.read(reinterpret_cast<char*>(pre + 10), 2);
    WIDEMAX_CHECK(in.gcount() == 2, where, "truncated .npy header");
    header_len = read_le(pre + 8, 4);
    offset = 12;
  }
  WIDEMAX_CHECK(header_len < (1u << 24), where, "implausible .npy header length ", header_len);
  std::string dict(header_len, '\0');
  in.read(dict.data(), static_cast<std::streamsize>(header_len));
  WIDEMAX_CHECK(static_cast<std::uint64_t>(in.gcount()) == header_len, where,
                "truncated .npy header");

  NpyInfo info = parse_dict(dict, path);
  info.data_offset = offset + static_cast<std::int64_t>(header_len);

  const std::int64_t rows = info.shape[0], cols = info.shape[1];
  const std::int64_t max = std::numeric_limits<std::int64_t>::max() / 8;
  WIDEMAX_CHECK(cols == 0 || rows <= max / cols, where, "shape (", rows, ", ", cols,
                ") is too large");
  const std::int64_t expected = info.data_offset + rows * cols * info.word_size();
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(path));
  WIDEMAX_CHECK(size >= expected, where, "truncated .npy file: ", size, " bytes, but shape (", rows,
                ", ", cols, ") of ", info.dtype, " needs ", expected);
  WIDEMAX_CHECK(size == expected, where, size - expected,
                " unexpected bytes after the data of shape (", rows, ", ", cols, ")");
  return info;
}

template <class T>
std::vector<T> read_npy_rows(const std::filesystem::path& path, std::int64_t row_begin,
                             std::int64_t row_end, std::int64_t expected_cols) {
  const NpyInfo info = read_npy_info(path);
  const std::int64_t rows = info.shape[0], cols = info.shape[1];
  WIDEMAX_CHECK(expected_cols < 0 || cols == expected_cols, "'", path.string(), "': expected ",
                expected_cols, " columns, the file has ", cols, " (shape (", rows, ", ", cols,
                "))");
  if (row_end < 0) row_end = rows;
  WIDEMAX_CHECK(row_begin >= 0 && row_begin <= row_end && row_end <= rows, "'", path.string(),
                "': row range [", row_begin, ", ", row_end, ") is outside the ", rows,
                " rows of the file");

  const std::int64_t count = (row_end - row_begin) * cols;
  std::ifstream in(path, std::ios::binary);
  WIDEMAX_CHECK_HINT(in, "check the path", "cannot open .npy file '", path.string(), "'",
                     std::filesystem::exists(path) ? "" : ": no such file");
  in.seekg(info.data_offset + row_begin * cols * info.word_size());
  std::vector<T> out;
  if (info.dtype == dtype_of<T>()) {
    out = read_values<T>(in, count, path);
  } else if (info.word_size() == 4) {
    const auto stored = read_values<float>(in, count, path);
    out.assign(stored.begin(), stored.end());
  } else {
    const auto stored = read_values<double>(in, count, path);
    out.assign(stored.begin(), stored.end());
  }
  return out;
}

template <class T>
void write_npy(const std::filesystem::path& path, const T* data, std::int64_t rows,
               std::int64_t cols) {
  WIDEMAX_CHECK(rows >= 0 && cols >= 0, "write_npy '", path.string(), "': invalid shape (", rows,
                ", ", cols, ")");
  std::string content = npy_header(dtype_of<T>(), {rows, cols});
  const std::size_t header = content.size();
  const std::size_t bytes = static_cast<std::size_t>(rows * cols) * sizeof(T);
  content.resize(header + bytes);
  if (bytes > 0) std::memcpy(content.data() + header, data, bytes);
  write_file_atomic(path, content);
}

template std::vector<float> read_npy_rows<float>(const std::filesystem::path&, std::int64_t,
                                                 std::int64_t, std::int64_t);
template std::vector<double> read_npy_rows<double>(const std::filesystem::path&, std::int64_t,
                                                   std::int64_t, std::int64_t);
template void write_npy<float>(const std::filesystem::path&, const float*, std::int64_t,
                               std::int64_t);
template void write_npy<double>(const std::filesystem::path&, const double*, std::int64_t,
                                std::int64_t);

}  // namespace widemax::data
