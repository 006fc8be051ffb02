// Atomic file writes and directory checks. See fs.hpp.
#include "widemax/core/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "widemax/core/error.hpp"

namespace widemax {

namespace fs = std::filesystem;

void write_file_atomic(const fs::path& path, const std::string& content) {
  // The temporary file is created exclusively and never through a link: a name that exists (a
  // leftover, or a symlink planted there) is skipped, not written through.
  static int counter = 0;
  fs::path tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  WIDEMAX_CHECK(fd >= 0, "cannot write '", tmp.string(), "': ", std::strerror(errno));
  const char* p = content.data();
  std::size_t left = content.size();
  bool ok = true;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;  // on disk before the rename makes it visible
  ok = (::close(fd) == 0) && ok;
  std::error_code ec;
  if (!ok) {
    fs::remove(tmp, ec);
    WIDEMAX_FAIL_HINT("free space on that file system, or choose another --out", "writing '",
                      path.string(), "' failed (file system full or read-only?)");
  }
  // rename replaces whatever is at `path` (a link included) and does not follow it.
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    WIDEMAX_FAIL("cannot rename '", tmp.string(), "' to '", path.string(), "': ", ec.message());
  }
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
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
