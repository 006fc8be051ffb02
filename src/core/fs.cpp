// Atomic file writes and directory checks. See fs.hpp.
#include "widemax/core/fs.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "widemax/core/error.hpp"

namespace widemax {

namespace fs = std::filesystem;

void write_file_atomic(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    WIDEMAX_CHECK(out, "cannot write '", tmp.string(), "': ", std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      WIDEMAX_FAIL_HINT("free space on that file system, or choose another --out", "writing '",
                        path.string(), "' failed (file system full or read-only?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    WIDEMAX_FAIL("cannot rename '", tmp.string(), "' to '", path.string(), "': ", ec.message());
  }
}

void ensure_writable_dir(const fs::path& dir, const std::string& option) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  WIDEMAX_CHECK_HINT(!ec && fs::is_directory(dir), "choose a directory you can write to", option,
                     ": cannot create directory '", dir.string(),
                     "': ", ec ? ec.message() : "a file of that name exists");
  const fs::path probe = dir / (".widemax-probe." + std::to_string(::getpid()));
  std::ofstream out(probe);
  WIDEMAX_CHECK_HINT(static_cast<bool>(out), "choose a directory you can write to", option,
                     ": directory '", dir.string(), "' is not writable: ", std::strerror(errno));
  out.close();
  fs::remove(probe, ec);
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  WIDEMAX_CHECK(in, "cannot open '", path.string(), "': ", std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace widemax
