// comm::agree_on_errors, the agreement that turns an error some ranks saw into one every rank
// raises (core/error.hpp): with no failure nothing is thrown; when every rank fails, every rank
// throws rank 0's error, of scope kAllRanks, unchanged (message, hint, kind, place); when only the
// last rank fails, the others (which did not fail) throw its error too, naming it ("on rank P-1
// of P"); an exception that is not a widemax::Error arrives as an internal error.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "widemax/comm/communicator.hpp"
#include "widemax/core/error.hpp"

using namespace widemax;

namespace {
// The Error every rank gets from an agreement on `local` (the test fails when none is thrown).
Error agreed(const comm::Communicator& world, const std::function<void()>& local) {
  try {
    comm::agree_on_errors(world, local);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error after the agreement";
  return Error("", "", 0);
}
}  // namespace

TEST(AgreeOnErrors, NothingFailed) {
  const comm::Communicator world(MPI_COMM_WORLD);
  int ran = 0;
  EXPECT_NO_THROW(comm::agree_on_errors(world, [&] { ++ran; }));
  EXPECT_EQ(ran, 1);
}

TEST(AgreeOnErrors, EveryRankFailedGetsRankZerosError) {
  const comm::Communicator world(MPI_COMM_WORLD);
  const Error e = agreed(
      world, [&] { WIDEMAX_FAIL_HINT("give another", "--thing ", world.rank(), " is bad"); });
  EXPECT_STREQ(e.what(), "--thing 0 is bad");  // rank 0's, with no rank list: all failed
  EXPECT_EQ(e.hint(), "give another");
  EXPECT_TRUE(e.on_all_ranks());
  EXPECT_FALSE(e.internal());
  EXPECT_NE(std::string(e.file()).find("test_agree.cpp"), std::string::npos);
  EXPECT_GT(e.line(), 0);
}

TEST(AgreeOnErrors, OneRankFailedNamesIt) {
  const comm::Communicator world(MPI_COMM_WORLD);
  const int last = world.size() - 1;
  const Error e = agreed(world, [&] {
    if (world.rank() == last) WIDEMAX_FAIL("cannot read the file on this node");
  });
  const std::string want = world.size() == 1 ? std::string("cannot read the file on this node")
                                             : "cannot read the file on this node (on rank " +
                                                   std::to_string(last) + " of " +
                                                   std::to_string(world.size()) + ")";
  EXPECT_EQ(e.what(), want);
  EXPECT_TRUE(e.on_all_ranks());
  // The console text of a user error has no source location.
  EXPECT_EQ(describe(e).find(".cpp"), std::string::npos) << describe(e);
}

TEST(AgreeOnErrors, OtherExceptionsAreInternal) {
  const comm::Communicator world(MPI_COMM_WORLD);
  const Error e = agreed(world, [&] {
    if (world.rank() == 0) throw std::runtime_error("map::at");
  });
  EXPECT_TRUE(e.internal());
  EXPECT_NE(describe(e).find("internal error"), std::string::npos);
}

TEST(Error, InternalErrorsGiveTheirPlaceUserErrorsDoNot) {
  try {
    WIDEMAX_ASSERT(1 + 1 == 3, "arithmetic is broken");
    ADD_FAILURE() << "no throw";
  } catch (const Error& e) {
    const std::string text = describe(e);
    EXPECT_NE(text.find("arithmetic is broken"), std::string::npos);
    EXPECT_NE(text.find("internal error at test_agree.cpp:"), std::string::npos) << text;
    EXPECT_FALSE(e.on_all_ranks());
  }
  try {
    WIDEMAX_CHECK_HINT(false, "use a larger --width", "--width 0 is too small");
    ADD_FAILURE() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(describe(e), "--width 0 is too small\n  hint: use a larger --width");
    EXPECT_FALSE(e.on_all_ranks());
  }
  try {
    WIDEMAX_CHECK_ALL(false, "--grid 3x1 does not fit");
    ADD_FAILURE() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(describe(e), "--grid 3x1 does not fit");
    EXPECT_TRUE(e.on_all_ranks());
  }
}
