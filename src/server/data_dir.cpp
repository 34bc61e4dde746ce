#include "server/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gantry::server {

Result<std::unique_ptr<DataDirLock>> DataDirLock::acquire(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ErrorKind::kInternal, "cannot create data dir '" + dir.string() + "': " + ec.message());
  auto path = dir / "gantry.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorKind::kInternal, "open '" + path.string() + "': " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return make_error(ErrorKind::kInternal, "data dir '" + dir.string() +
                                                  "' is in use by another gantry process (a running server?); stop "
                                                  "it or use another --data-dir");
    return make_error(ErrorKind::kInternal, "flock '" + path.string() + "': " + std::strerror(err));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace gantry::server
