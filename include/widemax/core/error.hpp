// Errors that carry where they were raised and a hint for the user.
// widemax::Error is the only exception type the library throws on bad input or a failed
// invariant; apps/ catches it, prints it and calls MPI_Abort so that no rank is left waiting.
// This header deliberately knows nothing of MPI.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace widemax {

class Error : public std::runtime_error {
 public:
  Error(const std::string& what, const char* file, int line, std::string hint = {})
      : std::runtime_error(what), file_(file), line_(line), hint_(std::move(hint)) {}
  const char* file() const { return file_; }
  int line() const { return line_; }
  const std::string& hint() const { return hint_; }

 private:
  const char* file_;
  int line_;
  std::string hint_;
};

// Formats every argument with operator<< into one string.
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Multi-line human message: "what\n  hint: ...\n  (at file:line)".
std::string describe(const Error& e);

}  // namespace widemax

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
