// CSV datasets and the column statistics used to standardise them. See dataset.hpp.
// The file is streamed line by line (never held whole in memory) and every line is checked for its
// number of cells, even outside the requested row range, so every rank refuses the same bad file.
// Deliberately not a general CSV reader: no quoted cells containing commas, no escaped quotes, no
// missing values. Training data with any of these should be cleaned before it reaches the trainer.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "widemax/core/error.hpp"
#include "widemax/data/dataset.hpp"

namespace widemax::data {

namespace {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  const auto a = s.find_first_not_of(ws);
  if (a == std::string_view::npos) return {};
  const auto b = s.find_last_not_of(ws);
  return s.substr(a, b - a + 1);
}

// Spreadsheets often quote every cell, numbers included; the quotes carry no meaning here.
std::string_view unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim(s.substr(1, s.size() - 2));
  return s;
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      cells.push_back(line.substr(start));
      return cells;
    }
    cells.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

std::int64_t count_cells(std::string_view line) {
  std::int64_t n = 1;
  for (const char c : line) n += (c == ',');
  return n;
}

bool is_blank(std::string_view line) {
  return trim(line).empty();
}

// Hands out the non-blank lines of a CSV file with their 1-based numbers, CR stripped. Blank lines
// are skipped before the header and at the end (editors leave them there); a blank line between
// data lines is refused, since it most likely marks a damaged or concatenated file.
class LineReader {
 public:
  explicit LineReader(const std::filesystem::path& path)
      : path_(path), in_(path, std::ios::binary) {
    WIDEMAX_CHECK_HINT(in_,
                       "check the path: a relative one is relative to the working directory (to "
                       "the file's own directory when it comes from a --config file)",
                       "cannot open CSV file '", path_.string(), "'",
                       std::filesystem::exists(path_) ? "" : ": no such file");
  }

  // The next non-blank line, or false at the end of the file (trailing blank lines skipped).
  bool next(std::string& line, std::int64_t& number) {
    std::int64_t first_blank = 0;
    while (std::getline(in_, line)) {
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line_no_ == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
      if (is_blank(line)) {
        if (first_blank == 0) first_blank = line_no_;
        continue;
      }
      WIDEMAX_CHECK(first_blank == 0 || !had_line_, path_.string(), ":", first_blank,
                    ": blank line inside the data (only trailing blank lines are allowed)");
      had_line_ = true;
      number = line_no_;
      return true;
    }
    WIDEMAX_CHECK(!in_.bad(), "error while reading '", path_.string(), "'");
    return false;
  }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::int64_t line_no_ = 0;
  bool had_line_ = false;
};

struct Header {
  std::vector<std::string> names;
  std::int64_t line = 0;
};

Header read_header(LineReader& reader, const std::filesystem::path& path) {
  std::string line;
  Header h;
  WIDEMAX_CHECK(reader.next(line, h.line), path.string(),
                ": the file is empty (expected a header "
                "line of column names)");
  std::map<std::string, std::int64_t> seen;
  for (const auto cell : split_cells(line)) {
    std::string name(unquote(cell));
    const std::int64_t col = static_cast<std::int64_t>(h.names.size()) + 1;
    WIDEMAX_CHECK(!name.empty(), path.string(), ":", h.line, ": column ", col,
                  " of the header has an empty name");
    const auto [it, fresh] = seen.emplace(name, col);
    WIDEMAX_CHECK(fresh, path.string(), ":", h.line, ": duplicate column name '", name,
                  "' (columns ", it->second, " and ", col, ")");
    h.names.push_back(std::move(name));
  }
  return h;
}

void check_cell_count(const std::filesystem::path& path, std::int64_t line_no, std::int64_t got,
                      std::size_t expected) {
  WIDEMAX_CHECK(got == static_cast<std::int64_t>(expected), path.string(), ":", line_no, ": ", got,
                " cells, but the header has ", expected, " columns");
}

double parse_cell(std::string_view cell, const std::filesystem::path& path, std::int64_t line_no,
                  const std::string& column) {
  const std::string_view text = unquote(cell);
  double v = 0;
  // from_chars rejects a leading '+', which some exporters write. Only one sign is stripped: '+-1'
  // must not read as -1, so a second sign is left for from_chars to refuse.
  const bool plus = text.size() >= 2 && text.front() == '+' && text[1] != '-' && text[1] != '+';
  const std::string_view digits = plus ? text.substr(1) : text;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  WIDEMAX_CHECK(ec != std::errc::result_out_of_range, path.string(), ":", line_no, ": column '",
                column, "': '", text, "' is out of the range of a double");
  WIDEMAX_CHECK(!text.empty() && ec == std::errc() && end == digits.data() + digits.size(),
                path.string(), ":", line_no, ": column '", column, "': cannot parse '", text,
                "' as a number");
  WIDEMAX_CHECK(std::isfinite(v), path.string(), ":", line_no, ": column '", column, "': '", text,
                "' is not a finite number (NaN and Inf are not allowed)");
  return v;
}

// Statistics of a column are computed on x / scale, scale a power of two near the column's largest
// |x| when that is huge or tiny (so dividing is exact, and x^2 neither overflows, as for a 1e160
// column, nor underflows), else 1: ordinary columns keep their arithmetic bit for bit.
std::vector<double> stats_scale(const std::vector<double>& max_abs) {
  std::vector<double> scale(max_abs.size(), 1.0);
  for (std::size_t c = 0; c < max_abs.size(); ++c) {
    const double a = max_abs[c];
    if (std::isfinite(a) && (a > 0x1p400 || (a > 0 && a < 0x1p-400)))
      scale[c] = std::ldexp(1.0, std::ilogb(a));
  }
  return scale;
}

}  // namespace

Dataset read_csv(const std::filesystem::path& path, const std::vector<std::string>& targets,
                 std::int64_t row_begin, std::int64_t row_end) {
  WIDEMAX_CHECK(row_begin >= 0 && (row_end < 0 || row_end >= row_begin), path.string(),
                ": invalid row range [", row_begin, ", ", row_end, ")");
  LineReader reader(path);
  const Header header = read_header(reader, path);
  const std::size_t ncols = header.names.size();

  // Which file column feeds which feature / target slot.
  std::vector<int> is_target(ncols, 0);
  std::vector<std::int64_t> slot(ncols, -1);
  for (std::size_t t = 0; t < targets.size(); ++t) {
    std::size_t c = 0;
    while (c < ncols && header.names[c] != targets[t]) ++c;
    if (c == ncols) {
      std::string available;
      for (const auto& name : header.names) available += (available.empty() ? "" : ", ") + name;
      WIDEMAX_FAIL(path.string(), ": no target column '", targets[t],
                   "'; the columns are: ", available);
    }
    WIDEMAX_CHECK(!is_target[c], path.string(), ": target column '", targets[t],
                  "' is named twice");
    is_target[c] = 1;
    slot[c] = static_cast<std::int64_t>(t);
  }
  Dataset ds;
  ds.d_out = static_cast<std::int64_t>(targets.size());
  ds.target_names = targets;
  for (std::size_t c = 0; c < ncols; ++c) {
    if (is_target[c]) continue;
    slot[c] = static_cast<std::int64_t>(ds.feature_names.size());
    ds.feature_names.push_back(header.names[c]);
  }
  ds.d = static_cast<std::int64_t>(ds.feature_names.size());
  WIDEMAX_CHECK(ds.d >= 1, path.string(), ": every column is a target; no feature columns left");

  std::string line;
  std::int64_t line_no = 0;
  std::int64_t row = 0;
  while (reader.next(line, line_no)) {
    if (row >= row_begin && (row_end < 0 || row < row_end)) {
      const auto cells = split_cells(line);
      check_cell_count(path, line_no, static_cast<std::int64_t>(cells.size()), ncols);
      ds.X.resize(static_cast<std::size_t>((ds.n + 1) * ds.d));
      ds.Y.resize(static_cast<std::size_t>((ds.n + 1) * ds.d_out));
      for (std::size_t c = 0; c < ncols; ++c) {
        const double v = parse_cell(cells[c], path, line_no, header.names[c]);
        if (is_target[c])
          ds.Y[ds.n * ds.d_out + slot[c]] = v;
        else
          ds.X[ds.n * ds.d + slot[c]] = v;
      }
      ++ds.n;
    } else {
      check_cell_count(path, line_no, count_cells(line), ncols);
    }
    ++row;
  }
  WIDEMAX_CHECK(row > 0, path.string(), ": no data rows after the header");
  WIDEMAX_CHECK(row_begin <= row && row_end <= row, path.string(), ": row range [", row_begin, ", ",
                row_end, ") is outside the ", row, " data rows of the file");
  return ds;
}

std::int64_t count_csv_rows(const std::filesystem::path& path) {
  LineReader reader(path);
  const Header header = read_header(reader, path);
  std::string line;
  std::int64_t line_no = 0;
  std::int64_t rows = 0;
  while (reader.next(line, line_no)) {
    check_cell_count(path, line_no, count_cells(line), header.names.size());
    ++rows;
  }
  WIDEMAX_CHECK(rows > 0, path.string(), ": no data rows after the header");
  return rows;
}

std::vector<std::string> read_csv_header(const std::filesystem::path& path) {
  LineReader reader(path);
  return read_header(reader, path).names;
}

ColumnStats column_stats(const std::vector<double>& M, std::int64_t n, std::int64_t cols) {
  WIDEMAX_CHECK(n >= 1 && cols >= 0 && static_cast<std::int64_t>(M.size()) == n * cols,
                "column_stats: a matrix of ", M.size(), " values is not (", n, ", ", cols, ")");
  ColumnStats s;
  s.mean.assign(static_cast<std::size_t>(cols), 0.0);
  s.stddev.assign(static_cast<std::size_t>(cols), 0.0);
  std::vector<double> amax(static_cast<std::size_t>(cols), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < cols; ++c) amax[c] = std::max(amax[c], std::abs(M[i * cols + c]));
  const std::vector<double> scale = stats_scale(amax);
  // Two passes: the one-pass sum-of-squares formula cancels badly on columns with a large mean
  // (raw cholesterol values, years), exactly the columns that most need standardising.
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < cols; ++c) s.mean[c] += M[i * cols + c] / scale[c];
  for (auto& m : s.mean) m /= static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < cols; ++c) {
      const double dev = M[i * cols + c] / scale[c] - s.mean[c];
      s.stddev[c] += dev * dev;
    }
  for (std::int64_t c = 0; c < cols; ++c) {
    s.stddev[c] = std::sqrt(s.stddev[c] / static_cast<double>(n)) * scale[c];
    s.mean[c] *= scale[c];
  }
  return s;
}

void standardize(std::vector<double>& M, std::int64_t n, std::int64_t cols, const ColumnStats& s) {
  WIDEMAX_CHECK(n >= 0 && cols >= 0 && static_cast<std::int64_t>(M.size()) == n * cols,
                "standardize: a matrix of ", M.size(), " values is not (", n, ", ", cols, ")");
  WIDEMAX_CHECK(static_cast<std::int64_t>(s.mean.size()) == cols &&
                    static_cast<std::int64_t>(s.stddev.size()) == cols,
                "standardize: statistics for ", s.mean.size(), " columns, matrix has ", cols);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < cols; ++c) {
      double& v = M[i * cols + c];
      if (!(s.stddev[c] > 0)) {
        v = 0.0;
        continue;
      }
      const double z = (v - s.mean[c]) / s.stddev[c];
      // v - mean overflows only for values near the largest double; then divide first.
      v = std::isfinite(z) ? z : v / s.stddev[c] - s.mean[c] / s.stddev[c];
    }
}

void check_finite(const std::vector<double>& v, const std::string& what) {
  for (std::size_t i = 0; i < v.size(); ++i)
    WIDEMAX_CHECK(std::isfinite(v[i]), what, ": value ", v[i], " at index ", i,
                  " is not finite (NaN or Inf)");
}

}  // namespace widemax::data
