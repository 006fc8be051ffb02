// Tests of the .npy reader and writer: round trips, the header bytes against the format spec
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), interoperability
// with NumPy itself in both directions when it is installed, and the refusals.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "widemax/core/error.hpp"
#include "widemax/data/npy.hpp"

namespace widemax::data {
namespace {

namespace fs = std::filesystem;

class NpyTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("widemax_test_npy_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

// A version-1.0 file built by hand from the spec, independently of npy_header().
std::string handmade_npy(const std::string& dict_body, const std::string& payload) {
  std::string dict = dict_body;
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() % 256);
  out += static_cast<char>(dict.size() / 256);
  return out + dict + payload;
}

template <class T>
std::string raw_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

testing::AssertionResult throws_with(const std::function<void()>& fn,
                                     std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& part : parts)
      if (msg.find(part) == std::string::npos)
        return testing::AssertionFailure() << "message lacks \"" << part << "\": " << msg;
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << "no widemax::Error thrown";
}

bool have_numpy() {
  return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

int run_python(const fs::path& dir, const std::string& script) {
  const fs::path py = dir / "check.py";
  std::ofstream(py) << script;
  return std::system(("/usr/bin/python3 '" + py.string() + "'").c_str());
}

// Values that are exact in float, so a float/double comparison can be exact.
double value(std::int64_t i, std::int64_t j) {
  return static_cast<double>(i * 100 + j) * 0.25 - 7;
}

TEST_F(NpyTest, RoundTripDouble) {
  const std::int64_t rows = 7, cols = 5;
  std::vector<double> a(rows * cols);
  for (std::int64_t k = 0; k < rows * cols; ++k) a[k] = std::sin(0.37 * k) * 1e-3 + k;
  const auto p = dir_ / "a.npy";
  write_npy(p, a.data(), rows, cols);
  const NpyInfo info = read_npy_info(p);
  EXPECT_EQ(info.dtype, "<f8");
  EXPECT_EQ(info.shape, (std::vector<std::int64_t>{rows, cols}));
  EXPECT_EQ(read_npy_rows<double>(p, 0, rows, cols), a);
  EXPECT_EQ(read_npy_rows<double>(p, 0, -1), a);
}

TEST_F(NpyTest, RoundTripFloat) {
  const std::int64_t rows = 3, cols = 11;
  std::vector<float> a(rows * cols);
  for (std::int64_t k = 0; k < rows * cols; ++k) a[k] = std::cos(0.9f * k) / 3.0f;
  const auto p = dir_ / "a.npy";
  write_npy(p, a.data(), rows, cols);
  EXPECT_EQ(read_npy_info(p).dtype, "<f4");
  EXPECT_EQ(read_npy_rows<float>(p, 0, rows), a);
  // And the payload is the raw little-endian floats right after the header.
  const std::string bytes = read_bytes(p);
  EXPECT_EQ(bytes.substr(bytes.size() - a.size() * 4), raw_bytes(a));
}

TEST_F(NpyTest, HeaderBytesFollowTheSpec) {
  const std::vector<float> a(12, 1.0f);
  const auto p = dir_ / "a.npy";
  write_npy(p, a.data(), 3, 4);
  const std::string b = read_bytes(p);
  ASSERT_GE(b.size(), 10u);
  EXPECT_EQ(b.substr(0, 6), std::string("\x93NUMPY"));
  EXPECT_EQ(b[6], 1);
  EXPECT_EQ(b[7], 0);
  const std::size_t hlen = static_cast<unsigned char>(b[8]) |
                           (static_cast<std::size_t>(static_cast<unsigned char>(b[9])) << 8);
  EXPECT_EQ((10 + hlen) % 64, 0u);
  ASSERT_EQ(b.size(), 10 + hlen + 12 * 4);
  const std::string dict = b.substr(10, hlen);
  EXPECT_EQ(dict.back(), '\n');
  EXPECT_EQ(dict.find('\n'), hlen - 1);
  EXPECT_EQ(dict.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 0), 0u)
      << dict;
  for (std::size_t k = dict.find('}') + 1; k + 1 < dict.size(); ++k) EXPECT_EQ(dict[k], ' ');
  EXPECT_EQ(read_npy_info(p).data_offset, static_cast<std::int64_t>(10 + hlen));
  // npy_header is the same header (the collective writer relies on it).
  EXPECT_EQ(npy_header("<f4", {3, 4}), b.substr(0, 10 + hlen));
}

TEST_F(NpyTest, ReadsHandmadeFileAndRowRanges) {
  const std::int64_t rows = 6, cols = 3;
  std::vector<double> a;
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) a.push_back(value(i, j));
  const auto p = dir_ / "h.npy";
  write_bytes(
      p, handmade_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6, 3), }", raw_bytes(a)));
  const auto rows_2_5 = read_npy_rows<double>(p, 2, 5, 3);
  ASSERT_EQ(rows_2_5.size(), 9u);
  for (std::int64_t i = 2; i < 5; ++i)
    for (std::int64_t j = 0; j < cols; ++j) EXPECT_EQ(rows_2_5[(i - 2) * cols + j], value(i, j));
  EXPECT_TRUE(read_npy_rows<double>(p, 4, 4).empty());
  EXPECT_TRUE(throws_with([&] { read_npy_rows<double>(p, 4, 7); }, {"h.npy", "6 rows"}));
  EXPECT_TRUE(throws_with([&] { read_npy_rows<double>(p, 0, 6, 4); }, {"h.npy", "4 columns"}));
}

TEST_F(NpyTest, ConvertsBetweenFloatAndDouble) {
  std::vector<float> f;
  for (int k = 0; k < 8; ++k) f.push_back(static_cast<float>(value(k, 1)));
  const auto pf = dir_ / "f.npy";
  write_npy(pf, f.data(), 2, 4);
  const auto as_double = read_npy_rows<double>(pf, 0, 2);
  for (int k = 0; k < 8; ++k) EXPECT_EQ(as_double[k], value(k, 1));

  const std::vector<double> d = {0.1, 1.0 / 3.0, -2.5, 1e-40};
  const auto pd = dir_ / "d.npy";
  write_npy(pd, d.data(), 1, 4);
  const auto as_float = read_npy_rows<float>(pd, 0, 1);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(as_float[k], static_cast<float>(d[k]));
}

TEST_F(NpyTest, WriteIsAtomicAndLeavesNoTemporary) {
  const std::vector<double> a = {1, 2};
  const auto p = dir_ / "a.npy";
  write_bytes(p, "old content");
  write_npy(p, a.data(), 2, 1);
  EXPECT_EQ(read_npy_rows<double>(p, 0, 2), a);
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(NpyTest, RefusesTruncatedFile) {
  const std::vector<double> a(20, 3.0);
  const auto p = dir_ / "t.npy";
  write_npy(p, a.data(), 4, 5);
  fs::resize_file(p, fs::file_size(p) - 8);
  EXPECT_TRUE(throws_with([&] { read_npy_info(p); }, {"t.npy", "truncated"}));
  EXPECT_TRUE(throws_with([&] { read_npy_rows<double>(p, 0, 1); }, {"t.npy", "truncated"}));
  // Truncated inside the header.
  fs::resize_file(p, 30);
  EXPECT_TRUE(throws_with([&] { read_npy_info(p); }, {"t.npy"}));
}

TEST_F(NpyTest, RefusesOtherDtypesOrderAndShapes) {
  const std::string payload(4 * 8, '\0');
  struct Case {
    std::string dict, expect;
  };
  const std::vector<Case> cases = {
      {"{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", "'<i8'"},
      {"{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }", "'>f8'"},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (4, 4), }", "'<f2'"},
      {"{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", "Fortran"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", "2-D"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2), }", "2-D"},
  };
  for (const auto& c : cases) {
    const auto p = dir_ / "bad.npy";
    write_bytes(p, handmade_npy(c.dict, payload));
    EXPECT_TRUE(throws_with([&] { read_npy_info(p); }, {"bad.npy", c.expect})) << c.dict;
  }
  const auto p = dir_ / "magic.npy";
  write_bytes(p, "not an npy file at all, just text");
  EXPECT_TRUE(throws_with([&] { read_npy_info(p); }, {"magic.npy"}));
  EXPECT_TRUE(throws_with([&] { read_npy_info(dir_ / "missing.npy"); }, {"missing.npy"}));
}

TEST_F(NpyTest, NumpyLoadsWhatWeWrite) {
  if (!have_numpy()) GTEST_SKIP() << "python3 with numpy not available";
  const std::int64_t rows = 5, cols = 7;
  std::vector<double> d(rows * cols);
  std::vector<float> f(rows * cols);
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      d[i * cols + j] = value(i, j);
      f[i * cols + j] = static_cast<float>(value(i, j));
    }
  write_npy(dir_ / "d.npy", d.data(), rows, cols);
  write_npy(dir_ / "f.npy", f.data(), rows, cols);
  const std::string script =
      "import numpy as np, sys\n"
      "i, j = np.meshgrid(np.arange(5), np.arange(7), indexing='ij')\n"
      "want = (i * 100 + j) * 0.25 - 7\n"
      "d = np.load(r'" +
      (dir_ / "d.npy").string() +
      "')\n"
      "f = np.load(r'" +
      (dir_ / "f.npy").string() +
      "')\n"
      "ok = (d.dtype == np.float64 and f.dtype == np.float32 and d.shape == (5, 7)\n"
      "      and f.shape == (5, 7) and np.array_equal(d, want) and np.array_equal(f, want)\n"
      "      and d.flags['C_CONTIGUOUS'])\n"
      "print(d.dtype, d.shape, f.dtype, f.shape, ok)\n"
      "sys.exit(0 if ok else 1)\n";
  EXPECT_EQ(run_python(dir_, script), 0);
}

TEST_F(NpyTest, WeReadWhatNumpyWrites) {
  if (!have_numpy()) GTEST_SKIP() << "python3 with numpy not available";
  const std::string script =
      "import numpy as np\n"
      "i, j = np.meshgrid(np.arange(9), np.arange(4), indexing='ij')\n"
      "a = (i * 100 + j) * 0.25 - 7\n"
      "np.save(r'" +
      (dir_ / "v1_f8.npy").string() +
      "', a)\n"
      "np.save(r'" +
      (dir_ / "v1_f4.npy").string() +
      "', a.astype(np.float32))\n"
      "with open(r'" +
      (dir_ / "v2_f8.npy").string() +
      "', 'wb') as fh:\n"
      "    np.lib.format.write_array(fh, a, version=(2, 0))\n"
      "np.save(r'" +
      (dir_ / "fortran.npy").string() +
      "', np.asfortranarray(a))\n"
      "np.save(r'" +
      (dir_ / "ints.npy").string() + "', (i * 10 + j).astype(np.int64))\n";
  ASSERT_EQ(run_python(dir_, script), 0);

  for (const char* name : {"v1_f8.npy", "v1_f4.npy", "v2_f8.npy"}) {
    SCOPED_TRACE(name);
    const auto info = read_npy_info(dir_ / name);
    EXPECT_EQ(info.shape, (std::vector<std::int64_t>{9, 4}));
    const auto all = read_npy_rows<double>(dir_ / name, 0, 9, 4);
    ASSERT_EQ(all.size(), 36u);
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 4; ++j) EXPECT_EQ(all[i * 4 + j], value(i, j));
    const auto part = read_npy_rows<float>(dir_ / name, 3, 6);
    for (int i = 3; i < 6; ++i)
      for (int j = 0; j < 4; ++j) EXPECT_EQ(part[(i - 3) * 4 + j], static_cast<float>(value(i, j)));
  }
  const std::string v2 = read_bytes(dir_ / "v2_f8.npy");
  EXPECT_EQ(v2[6], 2);  // the file really is version 2.0
  EXPECT_EQ(read_npy_info(dir_ / "v2_f8.npy").data_offset % 64, 0);
  EXPECT_TRUE(
      throws_with([&] { read_npy_info(dir_ / "fortran.npy"); }, {"fortran.npy", "Fortran"}));
  EXPECT_TRUE(throws_with([&] { read_npy_info(dir_ / "ints.npy"); }, {"ints.npy", "'<i8'"}));
}

}  // namespace
}  // namespace widemax::data
