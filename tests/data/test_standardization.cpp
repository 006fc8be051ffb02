// Tests of RUN/standardization.json: the statistics read back bit for bit (doubles of every
// magnitude, including ones with no short decimal form), through a file too; standardize then
// unstandardize gives the values back; and each malformed file is refused by the key at fault.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "widemax/core/error.hpp"
#include "widemax/data/standardization.hpp"

namespace widemax::data {
namespace {

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

Standardization sample() {
  Standardization s;
  s.features = {"age", "bmi", "s 1", "x_y"};
  s.targets = {"progression", "other"};
  s.standardize = true;
  s.standardize_target = true;
  // Values a decimal printer with 15 or 16 digits would round: 1/3, 0.1 + 0.2, pi, a subnormal,
  // the largest double, a value next to 1.
  s.x_stats.mean = {1.0 / 3.0, 0.1 + 0.2, -std::numeric_limits<double>::denorm_min() * 3,
                    std::nextafter(1.0, 2.0)};
  s.x_stats.stddev = {M_PI, std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
                      1e-300};
  s.y_stats.mean = {-152.13348416289594, 0};
  s.y_stats.stddev = {77.00574586945044, std::nextafter(0.0, 1.0)};
  return s;
}

void expect_equal(const Standardization& a, const Standardization& b) {
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_EQ(a.classes, b.classes);
  EXPECT_EQ(a.standardize, b.standardize);
  EXPECT_EQ(a.standardize_target, b.standardize_target);
  const std::pair<const std::vector<double>*, const std::vector<double>*> pairs[] = {
      {&a.x_stats.mean, &b.x_stats.mean},
      {&a.x_stats.stddev, &b.x_stats.stddev},
      {&a.y_stats.mean, &b.y_stats.mean},
      {&a.y_stats.stddev, &b.y_stats.stddev}};
  for (const auto& [u, v] : pairs) {
    ASSERT_EQ(u->size(), v->size());
    for (std::size_t i = 0; i < u->size(); ++i)
      EXPECT_TRUE(same_bits((*u)[i], (*v)[i])) << (*u)[i] << " read back as " << (*v)[i];
  }
}

TEST(Standardization, TextRoundTripIsBitwise) {
  const Standardization s = sample();
  const std::string text = to_json(s).dump(2);
  expect_equal(s, standardization_from_json(nlohmann::json::parse(text), "test"));
}

TEST(Standardization, RandomDoublesRoundTripBitwise) {
  std::mt19937_64 gen(7);
  Standardization s;
  s.features = {"a"};
  s.targets = {"y"};
  s.standardize = s.standardize_target = true;
  for (int trial = 0; trial < 2000; ++trial) {
    double v[4];
    for (double& x : v) {
      std::uint64_t bits = gen();
      std::memcpy(&x, &bits, sizeof x);
      if (!std::isfinite(x)) x = 1.5;
    }
    s.x_stats = {{v[0]}, {std::abs(v[1]) > 0 ? std::abs(v[1]) : 1.0}};
    s.y_stats = {{v[2]}, {std::abs(v[3]) > 0 ? std::abs(v[3]) : 1.0}};
    expect_equal(s, standardization_from_json(nlohmann::json::parse(to_json(s).dump()), "test"));
    if (testing::Test::HasFailure()) return;
  }
}

TEST(Standardization, FileRoundTripAndClasses) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("widemax_test_standardization_" + std::to_string(::getpid()) + ".json");
  Standardization s;
  s.features = {"f1", "f2"};
  s.targets = {"label"};
  s.classes = 3;
  s.standardize = true;
  s.x_stats = {{2.5, -1}, {0.5, 4}};
  write_standardization(path, s);
  const Standardization r = read_standardization(path);
  std::filesystem::remove(path);
  expect_equal(s, r);
  EXPECT_TRUE(r.y_stats.mean.empty());
}

TEST(Standardization, UnstandardizeUndoesStandardize) {
  ColumnStats st{{100.0, -3.0}, {20.0, 0.1}};
  std::vector<double> M = {120.0, -2.9, 80.0, -3.2, 100.0, -3.0};
  const std::vector<double> orig = M;
  standardize(M, 3, 2, st);
  EXPECT_DOUBLE_EQ(M[0], 1.0);  // (120 - 100) / 20
  EXPECT_NEAR(M[3], -2.0, 1e-12);
  unstandardize(M, 3, 2, st);
  for (std::size_t i = 0; i < M.size(); ++i) EXPECT_NEAR(M[i], orig[i], 1e-13 * std::abs(orig[i]));
}

// Each malformed file is refused with a message naming the key.
TEST(Standardization, RefusesMalformedFiles) {
  const nlohmann::json good = to_json(sample());
  auto refused = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& what) {
    nlohmann::json j = good;
    edit(j);
    try {
      standardization_from_json(j, "RUN/standardization.json");
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos)
          << "message '" << e.what() << "' lacks '" << what << "'";
      EXPECT_NE(std::string(e.what()).find("RUN/standardization.json"), std::string::npos);
      return;
    }
    ADD_FAILURE() << "accepted a file whose " << what << " is wrong";
  };
  refused([](auto& j) { j.erase("format"); }, "not a widemax standardization file");
  refused([](auto& j) { j.erase("features"); }, "'features'");
  refused([](auto& j) { j["features"][1] = "age"; }, "names 'age' twice");
  refused([](auto& j) { j["targets"][0] = "bmi"; }, "'bmi' is both a feature and a target");
  refused([](auto& j) { j["feature_std"][0] = 0.0; }, "'feature_std' holds 0");
  refused([](auto& j) { j["feature_std"][0] = -1.0; }, "not a positive finite spread");
  refused([](auto& j) { j["feature_mean"].erase(0); }, "'feature_mean' must be a list of 4");
  refused([](auto& j) { j["target_mean"][1] = "x"; }, "'target_mean' holds an entry");
  refused([](auto& j) { j["standardize"] = 1; }, "'standardize' is missing or not true/false");
  refused([](auto& j) { j["classes"] = 3; }, "'classes' 3 needs exactly one target column");
  refused([](auto& j) { j["classes"] = -1; }, "'classes' must be a whole number");
}

TEST(Standardization, RefusesMissingAndInvalidFiles) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("widemax_test_standardization_dir_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_THROW(read_standardization(dir / "absent.json"), Error);
  { std::ofstream(dir / "bad.json") << "{\"format\": "; }
  try {
    read_standardization(dir / "bad.json");
    ADD_FAILURE() << "accepted invalid JSON";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json: not valid JSON"), std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace widemax::data
