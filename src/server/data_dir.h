// The data directory: created when missing, and held by one Gantry process at a time (the server or
// an offline command such as `gantry image load`), through an exclusive lock on DIR/gantry.lock that
// the kernel drops when the process exits, however it exits.
#pragma once

#include <filesystem>
#include <memory>

#include "core/error.h"

namespace gantry::server {

class DataDirLock {
 public:
  // Fails, naming the directory, when another process holds it.
  static Result<std::unique_ptr<DataDirLock>> acquire(const std::filesystem::path& dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace gantry::server
