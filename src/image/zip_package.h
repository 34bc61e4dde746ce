// Unpacks a Lambda deployment package (a zip archive held in memory) into a function's code directory,
// and computes Lambda's CodeSha256.
//
// Contract of unpack_zip():
// - `dest` is created (0755) and must not exist yet; its parent must. On any error `dest` is removed
//   again, so nothing half-made remains. Concurrent unpacks into different `dest`s share nothing; the
//   process's working directory and umask are never touched.
// - Written: regular files (0755 when the zip's mode has the owner-executable bit, else 0644; the
//   entry's mtime is kept), directories (0755, also for parents the zip only implies) and symlinks
//   whose target is relative and, resolved from the symlink's own directory, stays inside `dest`
//   (packages made by pip contain such links, e.g. "libfoo.so -> libfoo.so.1"). A symlink target is
//   stored in normal form: "." components dropped and "x/.." pairs folded, so what the link reaches on
//   disk is exactly what was checked, whatever a later entry makes of "x". Owners are the caller's.
// - Every file and directory is created relative to an already open directory, without following any
//   symlink (O_NOFOLLOW, O_EXCL), so a symlink written by an earlier entry can never redirect a later
//   one: an entry beneath a symlink is refused, even one whose link points inside `dest`.
// - Refused (kLambdaInvalidParameterValue, AWS's wording where AWS has one): bytes that are not a zip
//   archive, or a corrupt one (bad CRC, truncated, encrypted, unsupported compression); entry names that
//   are absolute or have a ".." component; symlinks that are absolute or reach outside `dest`; hard links,
//   devices and sockets (an entry with a FIFO's mode is read as a regular file, as libarchive reads what
//   Info-ZIP's `zip -FI` stores for data that came through a pipe; no FIFO is ever made); an entry whose
//   name a file, symlink or directory of an earlier entry already took (a directory entry for an existing
//   directory is fine); an entry beneath a file or symlink; more than max_entries entries;
//   more than max_unzipped_bytes of file content. The size is counted from the bytes actually
//   decompressed, never from the sizes the headers declare (a zip bomb lies about those), and the
//   unpack stops as soon as the count passes the limit.
// - Names are kept as bytes: UTF-8 names (flagged so or not) stay UTF-8, whatever the process's locale.
// - Disk and other system failures are kLambdaService with the operation, the path and the errno text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::image {

struct ZipLimits {
  uint64_t max_unzipped_bytes = 262144000;  // AWS Lambda: 250 MB unzipped (sum of the files' contents)
  uint64_t max_entries = 100000;            // zip entries, directories and symlinks included
};

struct ZipSummary {
  uint64_t unzipped_bytes = 0;  // bytes of regular files written
  uint64_t files = 0;           // regular files written
};

Result<ZipSummary> unpack_zip(std::string_view zip, const std::filesystem::path& dest, const ZipLimits& limits = {});

// base64 (standard alphabet, padded) of the SHA-256 of `bytes`: Lambda's CodeSha256. Throws
// std::bad_alloc only when OpenSSL cannot allocate.
std::string code_sha256(std::string_view bytes);

}  // namespace gantry::image
