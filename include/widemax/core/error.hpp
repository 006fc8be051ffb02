// Errors that say what went wrong, with a hint for the user, and who saw them.
// widemax::Error is the only exception type the library throws on bad input or a failed
// invariant; apps/main.cpp catches it and ends the job. Two properties decide how:
//   - the kind: a user error (bad option, file or value) is printed as its message and hint; an
//     internal error (a broken invariant: a bug) also gives the file and line that raised it;
//   - the scope: an error raised by every rank at the same point (kAllRanks) ends every rank with
//     MPI_Finalize and is printed once, by rank 0; any other (kLocal) may leave other ranks waiting
//     in a collective, so the rank that saw it prints it and calls MPI_Abort.
// An error is kAllRanks when its condition depends only on values every rank holds alike (the
// options, the rank counts, the result of a collective), or after comm::agree_on_errors has shared
// it. This header deliberately knows nothing of MPI.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace widemax {

class Error : public std::runtime_error {
 public:
  enum class Kind { kUser, kInternal };
  enum class Scope { kLocal, kAllRanks };

  Error(const std::string& what, const char* file, int line, std::string hint = {},
        Scope scope = Scope::kLocal, Kind kind = Kind::kUser)
      : std::runtime_error(what),
        file_(file ? file : ""),
        line_(line),
        hint_(std::move(hint)),
        scope_(scope),
        kind_(kind) {}
  const char* file() const { return file_.c_str(); }
  int line() const { return line_; }
  const std::string& hint() const { return hint_; }
  Scope scope() const { return scope_; }
  Kind kind() const { return kind_; }
  bool on_all_ranks() const { return scope_ == Scope::kAllRanks; }
  bool internal() const { return kind_ == Kind::kInternal; }

 private:
  std::string file_;  // a string, not the __FILE__ pointer: agreed errors travel between ranks
  int line_;
  std::string hint_;
  Scope scope_;
  Kind kind_;
};

// Formats every argument with operator<< into one string.
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// The console text: "what\n  hint: ..." for a user error; an internal error adds
// "\n  (internal error at file.cpp:NN; please report it)".
std::string describe(const Error& e);

}  // namespace widemax

// User errors raised by this rank alone (kLocal).
// WIDEMAX_FAIL(message parts...): throw an Error at this file and line.
#define WIDEMAX_FAIL(...) throw ::widemax::Error(::widemax::cat(__VA_ARGS__), __FILE__, __LINE__)
// WIDEMAX_FAIL_HINT(hint, message parts...)
#define WIDEMAX_FAIL_HINT(hint, ...) \
  throw ::widemax::Error(::widemax::cat(__VA_ARGS__), __FILE__, __LINE__, (hint))
// WIDEMAX_CHECK(cond, message parts...): throw when cond is false.
#define WIDEMAX_CHECK(cond, ...)            \
  do {                                      \
    if (!(cond)) WIDEMAX_FAIL(__VA_ARGS__); \
  } while (0)
#define WIDEMAX_CHECK_HINT(cond, hint, ...)            \
  do {                                                 \
    if (!(cond)) WIDEMAX_FAIL_HINT(hint, __VA_ARGS__); \
  } while (0)

// User errors that every rank raises at the same point (kAllRanks): use them only where the
// condition depends on nothing but values every rank holds alike.
#define WIDEMAX_FAIL_ALL_HINT(hint, ...)                                          \
  throw ::widemax::Error(::widemax::cat(__VA_ARGS__), __FILE__, __LINE__, (hint), \
                         ::widemax::Error::Scope::kAllRanks)
#define WIDEMAX_CHECK_ALL_HINT(cond, hint, ...)            \
  do {                                                     \
    if (!(cond)) WIDEMAX_FAIL_ALL_HINT(hint, __VA_ARGS__); \
  } while (0)
#define WIDEMAX_CHECK_ALL(cond, ...) WIDEMAX_CHECK_ALL_HINT(cond, std::string(), __VA_ARGS__)

// WIDEMAX_ASSERT(cond, message parts...): an invariant of the code, not of the input; when it
// fails it is a bug, reported with its file and line.
#define WIDEMAX_ASSERT(cond, ...)                                                                 \
  do {                                                                                            \
    if (!(cond))                                                                                  \
      throw ::widemax::Error(::widemax::cat(__VA_ARGS__), __FILE__, __LINE__, std::string(),      \
                             ::widemax::Error::Scope::kLocal, ::widemax::Error::Kind::kInternal); \
  } while (0)
