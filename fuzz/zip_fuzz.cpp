// libFuzzer target: the Lambda deployment-package unpacker (image/zip_package.h).
//
// The input is a zip archive. It is unpacked with small limits (1 MiB, 64 entries) into a code directory
// three levels below a scratch directory, then removed. Besides sanitizer findings, the run aborts when
//  - an unpack fails with a kind other than kLambdaInvalidParameterValue (kLambdaService only for
//    ENOSPC/EDQUOT: the disk is the harness's), or leaves the code directory behind;
//  - an unpack succeeds but the tree holds anything other than regular files (0644 or 0755), directories
//    (0755) and symlinks, a symlink that is absolute or resolves outside the code directory, or file
//    sizes and counts that differ from the summary or pass the limit;
//  - anything appears in the scratch directory outside the code directory, succeed or fail.
// See fuzz/README.md.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "image/zip_package.h"

namespace {

namespace fs = std::filesystem;

constexpr gantry::image::ZipLimits kLimits{.max_unzipped_bytes = 1 << 20, .max_entries = 64};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "zip_fuzz: %s\n", what.c_str());
  std::abort();
}

// <scratch>/a/b, made once per process; the code directory is <scratch>/a/b/code. In /dev/shm when
// there is one: every run makes and removes directories, which a disk-backed /tmp makes slow. libFuzzer
// leaves with _Exit(), so no exit hook can remove it: the scratch dir is named after the process, and
// those of processes that are gone are removed at start.
const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path base = ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
    constexpr std::string_view kPrefix = "gantry-zip-fuzz-";
    std::error_code ec;
    for (auto it = fs::directory_iterator(base, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!name.starts_with(kPrefix)) continue;
      long pid = std::strtol(name.c_str() + kPrefix.size(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        std::error_code ignored;
        fs::remove_all(it->path(), ignored);
      }
    }
    fs::path mine = base / (std::string(kPrefix) + std::to_string(::getpid()));
    fs::remove_all(mine, ec);
    fs::create_directories(mine / "a" / "b", ec);
    if (ec) fail("create the scratch dir " + mine.string() + ": " + ec.message());
    return mine;
  }();
  return dir;
}

bool is_within(const fs::path& p, const fs::path& root) {
  auto rel = p.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

void check_tree(const fs::path& dest, const gantry::image::ZipSummary& summary) {
  fs::path root = fs::canonical(dest);
  uint64_t bytes = 0;
  uint64_t files = 0;
  for (auto it = fs::recursive_directory_iterator(dest); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) fail("lstat failed: " + it->path().string());
    mode_t perm = st.st_mode & 07777;
    if (S_ISREG(st.st_mode)) {
      if (perm != 0644 && perm != 0755) fail("file with mode " + std::to_string(perm) + ": " + it->path().string());
      bytes += static_cast<uint64_t>(st.st_size);
      ++files;
    } else if (S_ISDIR(st.st_mode)) {
      if (perm != 0755) fail("directory with mode " + std::to_string(perm) + ": " + it->path().string());
    } else if (S_ISLNK(st.st_mode)) {
      fs::path target = fs::read_symlink(it->path());
      if (target.is_absolute()) fail("absolute symlink: " + it->path().string());
      // Lexically from the link's own (real) directory; the unpacker stores targets in normal form, so
      // this is also where the kernel goes.
      fs::path reached = (fs::canonical(it->path().parent_path()) / target).lexically_normal();
      if (!is_within(reached, root) && reached != root) fail("symlink leaves the code dir: " + it->path().string());
      // And as the kernel resolves it, through other links (a loop or a dangling link is fine).
      std::error_code ec;
      fs::path real = fs::weakly_canonical(it->path(), ec);
      if (!ec && !is_within(real, root) && real != root) {
        fail("symlink chain leaves the code dir: " + it->path().string());
      }
    } else {
      fail("special file: " + it->path().string());
    }
  }
  if (bytes != summary.unzipped_bytes || files != summary.files) fail("summary differs from the tree");
  if (bytes > kLimits.max_unzipped_bytes) fail("more bytes than the limit");
}

// Only a/, a/b/ and (when `dest_may_exist`) a/b/code/ may exist in the scratch directory.
void check_scratch(bool dest_may_exist) {
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(scratch())) entries += e.path().filename() == "a" ? 1 : 100;
  for (const auto& e : fs::directory_iterator(scratch() / "a")) entries += e.path().filename() == "b" ? 1 : 100;
  for (const auto& e : fs::directory_iterator(scratch() / "a" / "b")) {
    entries += e.path().filename() == "code" && dest_may_exist ? 1 : 100;
  }
  if (entries > (dest_may_exist ? 3u : 2u)) fail("something was written outside the code directory");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fs::path dest = scratch() / "a" / "b" / "code";
  auto result = gantry::image::unpack_zip(std::string_view(reinterpret_cast<const char*>(data), size), dest, kLimits);
  if (result.ok()) {
    check_scratch(true);
    check_tree(dest, *result);
  } else {
    const auto& e = result.error();
    bool disk_full = e.message.find("No space left") != std::string::npos ||
                     e.message.find("Disk quota") != std::string::npos;
    if (e.kind != gantry::ErrorKind::kLambdaInvalidParameterValue &&
        !(e.kind == gantry::ErrorKind::kLambdaService && disk_full)) {
      fail("unexpected error: " + e.message);
    }
    if (e.message.empty()) fail("error without a message");
    if (fs::exists(fs::symlink_status(dest))) fail("the code directory remains after an error");
    check_scratch(false);
  }
  std::error_code ignored;
  fs::remove_all(dest, ignored);
  return 0;
}
