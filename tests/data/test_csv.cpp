// Tests of read_csv / count_csv_rows on small files written by the test (values are checked against
// the literals written, row ranges against slices of a full read) and on the real diabetes data,
// and of column_stats / standardize / check_finite against statistics computed here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "widemax/core/error.hpp"
#include "widemax/data/dataset.hpp"

namespace widemax::data {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class CsvTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("widemax_test_csv_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  fs::path dir_;
};

// Expects `fn` to throw a widemax::Error whose message contains every one of `parts`.
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

TEST_F(CsvTest, ParsesValuesExactly) {
  const auto p = write("d.csv", "a,b,y\n1.5,2,-3e-2\n4,5.25,6\n");
  const Dataset ds = read_csv(p, {"y"});
  EXPECT_EQ(ds.n, 2);
  EXPECT_EQ(ds.d, 2);
  EXPECT_EQ(ds.d_out, 1);
  EXPECT_EQ(ds.X, (std::vector<double>{1.5, 2, 4, 5.25}));
  EXPECT_EQ(ds.Y, (std::vector<double>{-3e-2, 6}));
  EXPECT_EQ(ds.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ds.target_names, (std::vector<std::string>{"y"}));
}

TEST_F(CsvTest, TargetsFollowTheRequestedOrderAndHeaderIsCleaned) {
  // CRLF line endings, padded and quoted names, targets before and between features.
  const auto p = write("d.csv",
                       "t2 , x0,\"t1\", \"x1\" \r\n"
                       "1,2,3,4\r\n"
                       "5,6,7,8\r\n");
  const Dataset ds = read_csv(p, {"t1", "t2"});
  EXPECT_EQ(ds.feature_names, (std::vector<std::string>{"x0", "x1"}));
  EXPECT_EQ(ds.target_names, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(ds.X, (std::vector<double>{2, 4, 6, 8}));
  EXPECT_EQ(ds.Y, (std::vector<double>{3, 1, 7, 5}));
}

TEST_F(CsvTest, SkipsTrailingBlankLines) {
  const auto p = write("d.csv", "a,y\n1,2\n3,4\n\n  \r\n\n");
  const Dataset ds = read_csv(p, {"y"});
  EXPECT_EQ(ds.n, 2);
  EXPECT_EQ(ds.X, (std::vector<double>{1, 3}));
  EXPECT_EQ(count_csv_rows(p), 2);
}

TEST_F(CsvTest, NoFinalNewlineIsFine) {
  const auto p = write("d.csv", "a,y\n1,2\n3,4");
  EXPECT_EQ(read_csv(p, {"y"}).Y, (std::vector<double>{2, 4}));
}

TEST_F(CsvTest, RowRangeEqualsSliceOfFullRead) {
  std::string text = "f0,f1,y,f2\n";
  const int rows = 20;
  for (int i = 0; i < rows; ++i)
    text += std::to_string(i) + "," + std::to_string(i * 0.5) + "," + std::to_string(-i) + "," +
            std::to_string(i * i) + "\n";
  const auto p = write("d.csv", text);
  EXPECT_EQ(count_csv_rows(p), rows);
  const Dataset full = read_csv(p, {"y"});
  ASSERT_EQ(full.n, rows);
  for (const auto& [b, e] : std::vector<std::pair<int, int>>{{0, 20}, {5, 12}, {19, 20}, {7, 7}}) {
    const Dataset part = read_csv(p, {"y"}, b, e);
    EXPECT_EQ(part.n, e - b);
    EXPECT_EQ(part.X, std::vector<double>(full.X.begin() + b * 3, full.X.begin() + e * 3));
    EXPECT_EQ(part.Y, std::vector<double>(full.Y.begin() + b, full.Y.begin() + e));
    EXPECT_EQ(part.feature_names, full.feature_names);
  }
  // Row i's values, independently of the full read.
  const Dataset row9 = read_csv(p, {"y"}, 9, 10);
  EXPECT_EQ(row9.X, (std::vector<double>{9, 4.5, 81}));
  EXPECT_EQ(row9.Y, (std::vector<double>{-9}));
  // row_end < 0 means to the end.
  EXPECT_EQ(read_csv(p, {"y"}, 15, -1).n, 5);
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}, 10, 21); }, {"d.csv", "20"}));
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}, 5, 3); }, {"d.csv"}));
}

TEST_F(CsvTest, RowRangeStillChecksEveryLine) {
  const auto p = write("d.csv", "a,b,y\n1,2,3\n4,5,6\n7,8,9\n10,11\n");
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}, 0, 2); }, {"d.csv:5:", "2 cells", "3"}));
  EXPECT_TRUE(throws_with([&] { count_csv_rows(p); }, {"d.csv:5:"}));
}

TEST_F(CsvTest, EmptyFileIsAnError) {
  const auto p = write("empty.csv", "");
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}); }, {"empty.csv", "empty"}));
  EXPECT_TRUE(throws_with([&] { count_csv_rows(p); }, {"empty.csv", "empty"}));
}

TEST_F(CsvTest, HeaderOnlyIsAnError) {
  const auto p = write("h.csv", "a,b,y\n\n");
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}); }, {"h.csv", "no data rows"}));
}

TEST_F(CsvTest, MissingFileIsAnError) {
  EXPECT_TRUE(throws_with([&] { read_csv(dir_ / "nope.csv", {"y"}); }, {"nope.csv"}));
}

TEST_F(CsvTest, MissingTargetListsTheColumns) {
  const auto p = write("d.csv", "age,bmi,y\n1,2,3\n");
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"target"}); }, {"d.csv", "'target'", "age, bmi, y"}));
}

TEST_F(CsvTest, DuplicateColumnIsAnError) {
  const auto p = write("d.csv", "a,b,a,y\n1,2,3,4\n");
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}); }, {"d.csv:1:", "duplicate", "'a'"}));
}

TEST_F(CsvTest, WrongCellCountNamesTheLine) {
  const auto p = write("d.csv", "a,b,y\n1,2,3\n4,5,6,7\n");
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}); }, {"d.csv:3:", "4 cells"}));
}

TEST_F(CsvTest, NonNumberNamesLineAndColumn) {
  const auto p = write("data.csv", "age,bmi,y\n1,2,3\n4,abc,6\n");
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}); },
                          {"data.csv:3: column 'bmi': cannot parse 'abc' as a number"}));
  // Trailing garbage after a number, and an empty cell.
  const auto q = write("q.csv", "age,bmi,y\n1,2,3\n4,5x,6\n");
  EXPECT_TRUE(throws_with([&] { read_csv(q, {"y"}); }, {"q.csv:3:", "column 'bmi'", "'5x'"}));
  const auto r = write("r.csv", "age,bmi,y\n1,2,3\n4,5,\n");
  EXPECT_TRUE(throws_with([&] { read_csv(r, {"y"}); }, {"r.csv:3:", "column 'y'"}));
}

TEST_F(CsvTest, OneSignOnly) {
  // A leading '+' is accepted, but only one sign: '+-1' is not -1.
  const auto ok = write("ok.csv", "a,y\n+1.5,-2\n");
  EXPECT_EQ(read_csv(ok, {"y"}).X, (std::vector<double>{1.5}));
  for (const std::string cell : {"+-1", "++1", "-+1", "--1", "+"}) {
    const auto p = write("d.csv", "a,b,y\n1,2,3\n4," + cell + ",6\n");
    EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}); },
                            {"d.csv:3: column 'b': cannot parse '" + cell + "' as a number"}))
        << cell;
  }
}

TEST_F(CsvTest, NanAndInfAreErrors) {
  for (const std::string cell : {"nan", "NaN", "inf", "-inf", "Infinity", "1e999"}) {
    const auto p = write("d.csv", "a,b,y\n1,2,3\n4,5,6\n7," + cell + ",9\n");
    EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}); }, {"d.csv:4:", "column 'b'", cell})) << cell;
  }
}

TEST_F(CsvTest, BlankLineInsideDataIsAnError) {
  const auto p = write("d.csv", "a,y\n1,2\n\n3,4\n");
  EXPECT_TRUE(throws_with([&] { read_csv(p, {"y"}); }, {"d.csv:3:", "blank"}));
}

TEST_F(CsvTest, ReadsRealDiabetesData) {
  const char* env = std::getenv("WIDEMAX_SHARED_DATA");
  if (env == nullptr || !fs::exists(fs::path(env) / "diabetes.csv"))
    GTEST_SKIP() << "WIDEMAX_SHARED_DATA does not point to a directory with diabetes.csv";
  const fs::path p = fs::path(env) / "diabetes.csv";
  const Dataset ds = read_csv(p, {"progression"});
  EXPECT_EQ(ds.n, 442);
  EXPECT_EQ(ds.d, 10);
  EXPECT_EQ(ds.d_out, 1);
  EXPECT_EQ(count_csv_rows(p), 442);
  EXPECT_EQ(ds.feature_names, (std::vector<std::string>{"age", "sex", "bmi", "bp", "s1", "s2", "s3",
                                                        "s4", "s5", "s6"}));
  EXPECT_EQ(ds.target_names, (std::vector<std::string>{"progression"}));
  // First data line of the file: 59,2,32.1,101.0,157,93.2,38.0,4.0,4.8598,87,151.0
  EXPECT_EQ(std::vector<double>(ds.X.begin(), ds.X.begin() + 10),
            (std::vector<double>{59, 2, 32.1, 101.0, 157, 93.2, 38.0, 4.0, 4.8598, 87}));
  EXPECT_EQ(ds.Y[0], 151.0);
  // Last data line of the file: ...,4.5951,92,57.0
  EXPECT_EQ(ds.X[441 * 10 + 8], 4.5951);
  EXPECT_EQ(ds.X[441 * 10 + 9], 92);
  EXPECT_EQ(ds.Y[441], 57.0);
  const Dataset part = read_csv(p, {"progression"}, 100, 150);
  EXPECT_EQ(part.X, std::vector<double>(ds.X.begin() + 1000, ds.X.begin() + 1500));
  EXPECT_EQ(part.Y, std::vector<double>(ds.Y.begin() + 100, ds.Y.begin() + 150));
}

TEST(ColumnStats, StandardizeGivesZeroMeanUnitPopulationStd) {
  const std::int64_t n = 57, cols = 4;
  std::vector<double> M(n * cols);
  for (std::int64_t i = 0; i < n; ++i) {
    M[i * cols + 0] = 1000.0 + std::sin(0.7 * i);  // large offset, small spread
    M[i * cols + 1] = static_cast<double>(i * i) - 3.0;
    M[i * cols + 2] = 42.0;  // constant
    M[i * cols + 3] = (i % 3 == 0) ? -1e-3 : 2e-3;
  }
  // Oracle statistics in long double, computed here.
  std::vector<long double> mean(cols, 0), sd(cols, 0);
  for (std::int64_t c = 0; c < cols; ++c) {
    for (std::int64_t i = 0; i < n; ++i) mean[c] += M[i * cols + c];
    mean[c] /= n;
    for (std::int64_t i = 0; i < n; ++i)
      sd[c] += (M[i * cols + c] - mean[c]) * (M[i * cols + c] - mean[c]);
    sd[c] = std::sqrt(sd[c] / n);
  }
  const ColumnStats s = column_stats(M, n, cols);
  ASSERT_EQ(s.mean.size(), 4u);
  ASSERT_EQ(s.stddev.size(), 4u);
  for (std::int64_t c = 0; c < cols; ++c) {
    EXPECT_NEAR(s.mean[c], static_cast<double>(mean[c]), 1e-12 * (1 + std::abs(double(mean[c]))));
    EXPECT_NEAR(s.stddev[c], static_cast<double>(sd[c]), 1e-10 * (1 + double(sd[c])));
  }
  EXPECT_EQ(s.stddev[2], 0.0);

  standardize(M, n, cols, s);
  for (std::int64_t c = 0; c < cols; ++c) {
    long double m = 0, v = 0;
    for (std::int64_t i = 0; i < n; ++i) m += M[i * cols + c];
    m /= n;
    for (std::int64_t i = 0; i < n; ++i) v += (M[i * cols + c] - m) * (M[i * cols + c] - m);
    v /= n;
    EXPECT_NEAR(static_cast<double>(m), 0.0, 1e-9) << "column " << c;
    if (c == 2) {
      for (std::int64_t i = 0; i < n; ++i) EXPECT_EQ(M[i * cols + c], 0.0);
    } else {
      EXPECT_NEAR(static_cast<double>(std::sqrt(v)), 1.0, 1e-9) << "column " << c;
    }
  }
}

TEST(ColumnStats, HugeAndTinyColumnsAgainstTheClosedForm) {
  // Column c holds scale_c * (1, 2, 3, 4): mean 2.5 scale_c, population stddev sqrt(1.25) scale_c,
  // standardised (-3, -1, 1, 3) / sqrt(5). A 1e160 column's squares overflow a double and a 1e-170
  // column's underflow; a 4e307 column's sum overflows.
  const std::vector<double> scales = {1.0, 1e160, -1e160, 1e-170, 4e307};
  const std::int64_t n = 4, cols = static_cast<std::int64_t>(scales.size());
  std::vector<double> M(static_cast<std::size_t>(n * cols));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < cols; ++c)
      M[i * cols + c] = scales[c] * static_cast<double>(i + 1);
  const ColumnStats s = column_stats(M, n, cols);
  for (std::int64_t c = 0; c < cols; ++c) {
    const double a = std::abs(scales[c]);
    EXPECT_NEAR(s.mean[c], 2.5 * scales[c], 1e-15 * 2.5 * a) << "column " << c;
    EXPECT_NEAR(s.stddev[c], std::sqrt(1.25) * a, 1e-15 * 1.2 * a) << "column " << c;
  }
  standardize(M, n, cols, s);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < cols; ++c) {
      const double z = (2.0 * static_cast<double>(i) - 3.0) / std::sqrt(5.0);
      EXPECT_NEAR(M[i * cols + c], scales[c] > 0 ? z : -z, 1e-14) << i << " " << c;
    }
}

TEST(ColumnStats, StandardizingNearTheLargestDoubleDoesNotOverflow) {
  // 1.7e308 * (1, -1, 1, 1): mean 0.85e308, stddev sqrt(0.75) 1.7e308, and x - mean = -2.55e308
  // for the second value, beyond the largest double.
  const double h = 1.7e308;
  std::vector<double> M = {h, -h, h, h};
  const ColumnStats s = column_stats(M, 4, 1);
  EXPECT_NEAR(s.mean[0], 0.5 * h, 1e-15 * h);
  EXPECT_NEAR(s.stddev[0], std::sqrt(0.75) * h, 1e-15 * h);
  standardize(M, 4, 1, s);
  const double r = std::sqrt(0.75);
  const std::vector<double> z = {0.5 / r, -1.5 / r, 0.5 / r, 0.5 / r};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(M[i], z[i], 1e-14) << i;
}

TEST(ColumnStats, StandardizeUsesGivenStatistics) {
  // Statistics of a training set applied to other data: (x - mean) / std with the given values.
  std::vector<double> M = {3.0, 10.0, 5.0, 20.0};
  ColumnStats s{{1.0, 10.0}, {2.0, 5.0}};
  standardize(M, 2, 2, s);
  EXPECT_EQ(M, (std::vector<double>{1.0, 0.0, 2.0, 2.0}));
}

TEST(ColumnStats, ShapeMismatchIsAnError) {
  std::vector<double> M(6, 1.0);
  EXPECT_THROW(column_stats(M, 4, 2), Error);
  ColumnStats s{{0.0}, {1.0}};
  EXPECT_THROW(standardize(M, 3, 2, s), Error);
}

TEST(CheckFinite, NamesWhatAndRefusesNanAndInf) {
  EXPECT_NO_THROW(check_finite({1.0, -2.0, 0.0, 1e300}, "targets"));
  EXPECT_TRUE(throws_with(
      [] {
        check_finite({1.0, std::nan(""), 2.0}, "features X");
      },
      {"features X", "index 1"}));
  EXPECT_TRUE(throws_with([] { check_finite({-HUGE_VAL}, "Y"); }, {"Y"}));
}

}  // namespace
}  // namespace widemax::data
