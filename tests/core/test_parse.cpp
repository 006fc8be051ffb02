// Tests of parse_count and split_list: the accepted spellings of counts, and that every refusal is
// a widemax::Error naming the option the user typed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "widemax/core/error.hpp"
#include "widemax/core/parse.hpp"

namespace widemax {
namespace {

// Runs parse_count expecting an Error whose message names `option` and quotes the text.
testing::AssertionResult refuses(const std::string& text, const std::string& option) {
  try {
    const auto v = parse_count(text, option);
    return testing::AssertionFailure() << "'" << text << "' was accepted as " << v;
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.find(option) == std::string::npos)
      return testing::AssertionFailure() << "message does not name " << option << ": " << msg;
    if (msg.find("'" + text + "'") == std::string::npos && !text.empty())
      return testing::AssertionFailure() << "message does not quote the text: " << msg;
    return testing::AssertionSuccess();
  }
}

TEST(ParseCount, PlainInteger) {
  EXPECT_EQ(parse_count("65536", "--width"), 65536);
  EXPECT_EQ(parse_count("1", "--width"), 1);
}

TEST(ParseCount, ScientificNotation) {
  EXPECT_EQ(parse_count("1e6", "--width"), 1000000);
  EXPECT_EQ(parse_count("1.5e3", "--width"), 1500);
}

TEST(ParseCount, PowerOfTwo) {
  EXPECT_EQ(parse_count("2^20", "--width"), std::int64_t{1} << 20);
  EXPECT_EQ(parse_count("2^0", "--width"), 1);
  EXPECT_EQ(parse_count("10^3", "--width"), 1000);
}

TEST(ParseCount, DecimalSuffixes) {
  EXPECT_EQ(parse_count("4k", "--width"), 4000);
  EXPECT_EQ(parse_count("1M", "--width"), 1000000);
  EXPECT_EQ(parse_count("2G", "--width"), 2000000000);
}

TEST(ParseCount, SurroundingWhitespace) {
  EXPECT_EQ(parse_count(" 12 ", "--width"), 12);
}

TEST(ParseCount, RefusesNonPositiveFractionalAndGarbage) {
  EXPECT_TRUE(refuses("0", "--width"));
  EXPECT_TRUE(refuses("-3", "--epochs"));
  EXPECT_TRUE(refuses("1.5", "--width"));
  EXPECT_TRUE(refuses("abc", "--batch"));
  EXPECT_TRUE(refuses("2^0.5", "--width"));
  EXPECT_TRUE(refuses("", "--width"));
  EXPECT_TRUE(refuses("4x", "--width"));
  EXPECT_TRUE(refuses("1e400", "--width"));
}

TEST(SplitList, TrimsItems) {
  EXPECT_EQ(split_list("a,b , c", "--targets"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_list("single", "--targets"), (std::vector<std::string>{"single"}));
}

TEST(SplitList, RefusesEmptyItemsNamingTheOption) {
  for (const std::string text : {"a,,b", "", "a,", " , b"}) {
    try {
      split_list(text, "--targets");
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--targets"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace widemax
