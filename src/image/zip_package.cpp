#include "image/zip_package.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <locale.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "core/pagination.h"
#include "image/posix_file.h"

namespace gantry::image {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCorruptMessage =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";
constexpr size_t kChunk = size_t{64} << 10;

Error invalid(std::string message) { return make_error(ErrorKind::kLambdaInvalidParameterValue, std::move(message)); }

Error corrupt() { return invalid(std::string(kCorruptMessage)); }

Error outside(std::string_view name) {
  return invalid(fmt::format(
      "Could not unzip uploaded file: the entry '{}' would be written outside the function's directory",
      printable(name)));
}

Error sys_error(std::string what, int err) {
  return make_error(ErrorKind::kLambdaService, fmt::format("{}: {}", what, errno_text(err)));
}

// A failure of libarchive's reader: the archive's fault unless libarchive ran out of memory.
Error read_error(struct archive* reader) {
  if (archive_errno(reader) == ENOMEM) return sys_error("unzip function code", ENOMEM);
  return corrupt();
}

struct ReaderFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// "a/./b//c/" → {"a", "b", "c"}. Absolute names and ".." components are refused wherever they point.
Result<std::vector<std::string>> split_entry_name(std::string_view name) {
  if (name.starts_with('/')) return outside(name);
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(pos, slash - pos);
    if (part == "..") return outside(name);
    if (part.size() > NAME_MAX) {
      return invalid(fmt::format(
          "Could not unzip uploaded file: the entry '{}' has a name component longer than {} bytes", printable(name),
          NAME_MAX));
    }
    if (!part.empty() && part != ".") parts.emplace_back(part);
    pos = slash + 1;
  }
  return parts;
}

// The symlink target in normal form ("../../a/b": a run of ".." then names), or nullopt when it is
// absolute or climbs above the unpack root from `depth` directories below it.
std::optional<std::string> normal_link_target(std::string_view target, size_t depth) {
  if (target.empty() || target.starts_with('/')) return std::nullopt;
  size_t up = 0;
  std::vector<std::string_view> names;
  size_t pos = 0;
  while (pos <= target.size()) {
    size_t slash = target.find('/', pos);
    if (slash == std::string_view::npos) slash = target.size();
    std::string_view part = target.substr(pos, slash - pos);
    if (part == "..") {
      if (!names.empty()) {
        names.pop_back();
      } else if (++up > depth) {
        return std::nullopt;
      }
    } else if (!part.empty() && part != ".") {
      names.push_back(part);
    }
    pos = slash + 1;
  }
  std::string out;
  for (size_t i = 0; i < up; ++i) out += i == 0 ? ".." : "/..";
  for (auto name : names) {
    if (!out.empty()) out.push_back('/');
    out.append(name);
  }
  return out.empty() ? std::string(".") : out;
}

// libarchive converts entry names to the charset of the calling thread's locale. A server runs in the C
// locale, where a UTF-8 name (flagged so in the zip) does not convert and comes out as nullptr; under
// C.UTF-8 it comes out as it is, and unflagged names keep their bytes either way.
class Utf8Names {
 public:
  Utf8Names() {
    static const locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (utf8 != static_cast<locale_t>(nullptr)) old_ = ::uselocale(utf8);
  }
  ~Utf8Names() {
    if (old_ != static_cast<locale_t>(nullptr)) ::uselocale(old_);
  }
  Utf8Names(const Utf8Names&) = delete;
  Utf8Names& operator=(const Utf8Names&) = delete;

 private:
  locale_t old_ = static_cast<locale_t>(nullptr);
};

class Unzipper {
 public:
  Unzipper(UniqueFd root, const ZipLimits& limits) : root_(std::move(root)), limits_(limits) {}

  Result<ZipSummary> run(std::string_view zip) {
    Utf8Names utf8;  // before archive_read_new(): the reader looks the charset up once
    std::unique_ptr<struct archive, ReaderFree> reader(archive_read_new());
    if (!reader) return sys_error("unzip function code: allocate the zip reader", ENOMEM);
    archive_read_support_format_zip(reader.get());
    if (archive_read_open_memory(reader.get(), zip.data(), zip.size()) != ARCHIVE_OK) return read_error(reader.get());
    uint64_t entries = 0;
    for (;;) {
      struct archive_entry* entry = nullptr;
      int rc = archive_read_next_header(reader.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      // ARCHIVE_WARN: a name that did not convert to the locale's charset cleanly; its bytes are kept.
      if (rc < ARCHIVE_WARN) return read_error(reader.get());
      if (++entries > limits_.max_entries) {
        return invalid(fmt::format("Could not unzip uploaded file: the archive has more than {} entries",
                                   limits_.max_entries));
      }
      GANTRY_RETURN_IF_ERROR(extract(reader.get(), entry));
    }
    return summary_;
  }

 private:
  Status extract(struct archive* reader, struct archive_entry* entry) {
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) raw = archive_entry_pathname_utf8(entry);
    if (raw == nullptr) return corrupt();
    std::string_view name(raw);
    GANTRY_ASSIGN_OR_RETURN(std::vector<std::string> parts, split_entry_name(name));

    mode_t type = archive_entry_filetype(entry);
    if (archive_entry_hardlink(entry) != nullptr) return refused_type(name, "a hard link");
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
      return refused_type(name, type == AE_IFCHR   ? "a character device"
                                : type == AE_IFBLK ? "a block device"
                                : type == AE_IFIFO ? "a FIFO"
                                : type == AE_IFSOCK ? "a socket"
                                                    : "of an unknown file type");
    }
    if (parts.empty()) {
      if (type == AE_IFDIR) return {};  // "./": the function's directory itself, which exists
      return invalid(fmt::format("Could not unzip uploaded file: the entry '{}' names the function's directory itself",
                                 printable(name)));
    }
    std::string base = std::move(parts.back());
    parts.pop_back();
    GANTRY_ASSIGN_OR_RETURN(int parent, open_parent(parts, name));

    if (type == AE_IFDIR) return make_dir(parent, base, name);
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      if (target == nullptr) target = archive_entry_symlink_utf8(entry);
      if (target == nullptr) return corrupt();
      std::optional<std::string> normal = normal_link_target(target, parts.size());
      if (!normal) return outside(name);
      if (::symlinkat(normal->c_str(), parent, base.c_str()) != 0) {
        return create_error(errno, name, "create symlink");
      }
      return {};
    }
    return write_file(reader, entry, parent, base, name);
  }

  Status write_file(struct archive* reader, struct archive_entry* entry, int parent, const std::string& base,
                    std::string_view name) {
    int fd = ::openat(parent, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return create_error(errno, name, "create file");
    Status written = fill_file(reader, entry, fd, name);
    // close() reports late write errors (NFS, quotas); on an earlier failure the file goes anyway.
    if (::close(fd) != 0 && written.ok()) {
      return sys_error(fmt::format("unzip function code: close file '{}'", printable(name)), errno);
    }
    if (written.ok()) ++summary_.files;
    return written;
  }

  Status fill_file(struct archive* reader, struct archive_entry* entry, int fd, std::string_view name) {
    if (buffer_.empty()) buffer_.resize(kChunk);
    uint64_t offset = 0;
    for (;;) {
      la_ssize_t n = archive_read_data(reader, buffer_.data(), buffer_.size());
      if (n < 0) return read_error(reader);
      if (n == 0) break;
      auto len = static_cast<uint64_t>(n);
      if (len > limits_.max_unzipped_bytes - summary_.unzipped_bytes) {
        return invalid(fmt::format("Unzipped size must be smaller than {} bytes", limits_.max_unzipped_bytes));
      }
      summary_.unzipped_bytes += len;
      int err = pwrite_all(fd, std::span<const uint8_t>(buffer_.data(), len), offset);
      if (err != 0) return sys_error(fmt::format("unzip function code: write file '{}'", printable(name)), err);
      offset += len;
    }
    mode_t mode = (archive_entry_perm(entry) & S_IXUSR) != 0 ? 0755 : 0644;
    if (::fchmod(fd, mode) != 0) {
      return sys_error(fmt::format("unzip function code: chmod file '{}'", printable(name)), errno);
    }
    if (archive_entry_mtime_is_set(entry)) {
      // Kept so that a packaged __pycache__ stays valid against its sources.
      std::array<struct timespec, 2> times{};
      times[0].tv_sec = times[1].tv_sec = archive_entry_mtime(entry);
      times[0].tv_nsec = times[1].tv_nsec = archive_entry_mtime_nsec(entry);
      if (::futimens(fd, times.data()) != 0) {
        return sys_error(fmt::format("unzip function code: set the mtime of file '{}'", printable(name)), errno);
      }
    }
    return {};
  }

  Status make_dir(int parent, const std::string& base, std::string_view name) {
    auto dir = open_or_make_dir(parent, base, name);
    if (!dir.ok()) return dir.error();
    return {};
  }

  // Opens (creating as needed) the directory `parts` below the root. The fd of the last one is kept:
  // zips list a directory's entries together, and a directory, once made, is never replaced.
  Result<int> open_parent(const std::vector<std::string>& parts, std::string_view name) {
    std::string key;
    for (const auto& part : parts) {
      key += part;
      key.push_back('/');
    }
    if (parts.empty()) return root_.get();
    if (cached_.valid() && key == cached_key_) return cached_.get();
    UniqueFd dir;
    int at = root_.get();
    for (const auto& part : parts) {
      GANTRY_ASSIGN_OR_RETURN(dir, open_or_make_dir(at, part, name));
      at = dir.get();
    }
    cached_ = std::move(dir);
    cached_key_ = std::move(key);
    return cached_.get();
  }

  // Directory `base` in `parent`, made 0755 when it is new; never a symlink.
  Result<UniqueFd> open_or_make_dir(int parent, const std::string& base, std::string_view name) {
    bool made = ::mkdirat(parent, base.c_str(), 0755) == 0;
    if (!made && errno != EEXIST) return create_error(errno, name, "create directory");
    UniqueFd dir(::openat(parent, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) {
      int err = errno;
      if (err == ELOOP || err == ENOTDIR) {
        return invalid(fmt::format(
            "Could not unzip uploaded file: the entry '{}' needs a directory '{}' where an earlier entry put a "
            "file or symlink",
            printable(name), printable(base)));
      }
      return sys_error(fmt::format("unzip function code: open directory '{}' of entry '{}'", printable(base),
                                   printable(name)),
                       err);
    }
    // The umask may have taken bits away.
    if (made && ::fchmod(dir.get(), 0755) != 0) {
      return sys_error(fmt::format("unzip function code: chmod directory '{}' of entry '{}'", printable(base),
                                   printable(name)),
                       errno);
    }
    return dir;
  }

  Error create_error(int err, std::string_view name, std::string_view what) const {
    if (err == EEXIST) {
      return invalid(fmt::format("Could not unzip uploaded file: the entry '{}' is in the archive more than once",
                                 printable(name)));
    }
    if (err == ENAMETOOLONG) {
      return invalid(fmt::format("Could not unzip uploaded file: the entry '{}' has a name or target that is too long",
                                 printable(name)));
    }
    return sys_error(fmt::format("unzip function code: {} '{}'", what, printable(name)), err);
  }

  static Error refused_type(std::string_view name, std::string_view kind) {
    return invalid(fmt::format(
        "Could not unzip uploaded file: the entry '{}' is {}; only files, directories and symlinks are allowed",
        printable(name), kind));
  }

  UniqueFd root_;
  const ZipLimits& limits_;
  ZipSummary summary_;
  UniqueFd cached_;
  std::string cached_key_;
  std::vector<uint8_t> buffer_;
};

}  // namespace

Result<ZipSummary> unpack_zip(std::string_view zip, const fs::path& dest, const ZipLimits& limits) {
  if (::mkdir(dest.c_str(), 0755) != 0) {
    return sys_error(fmt::format("unzip function code into {}: create the directory", dest.string()), errno);
  }
  auto remove_dest = [&] {
    std::error_code ignored;  // symlinks inside are removed, never followed
    fs::remove_all(dest, ignored);
  };
  Result<ZipSummary> result = [&]() -> Result<ZipSummary> {
    UniqueFd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root.valid()) return sys_error(fmt::format("unzip function code into {}: open", dest.string()), errno);
    if (::fchmod(root.get(), 0755) != 0) {
      return sys_error(fmt::format("unzip function code into {}: chmod", dest.string()), errno);
    }
    Unzipper unzipper(std::move(root), limits);
    try {
      return unzipper.run(zip);
    } catch (...) {  // std::bad_alloc: still leave nothing behind
      remove_dest();
      throw;
    }
  }();
  if (!result.ok()) remove_dest();
  return result;
}

std::string code_sha256(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
  return base64_encode(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

}  // namespace gantry::image
