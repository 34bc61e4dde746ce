#include "image/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "image/posix_file.h"

namespace gantry::image {

namespace fs = std::filesystem;

namespace {

constexpr size_t kInputChunk = size_t{1} << 20;
constexpr size_t kOutputChunk = size_t{1} << 20;
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

Error layer_error(std::string message) { return make_error(ErrorKind::kImageLayerInvalid, std::move(message)); }

Error sys_error(std::string what, int err) {
  return make_error(ErrorKind::kInternal, fmt::format("{}: {}", what, errno_text(err)));
}

const char* compression_name(LayerCompression c) {
  switch (c) {
    case LayerCompression::kDetect: return "detected";
    case LayerCompression::kNone: return "uncompressed";
    case LayerCompression::kGzip: return "gzip";
    case LayerCompression::kZstd: return "zstd";
  }
  return "?";
}

// ---- decompression + diffID ----

// Pulls the layer from a LayerSource, decodes gzip/zstd, and hashes and counts the uncompressed bytes,
// writing them into buffers the caller provides.
class Decoder {
 public:
  Decoder(const LayerSource& source, uint64_t max_bytes) : source_(source), max_bytes_(max_bytes) {}
  ~Decoder() {
    if (zlib_ready_) inflateEnd(&zs_);
    if (zstd_ != nullptr) ZSTD_freeDStream(zstd_);
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  Status start(LayerCompression requested) {
    in_.resize(kInputChunk);
    // Enough bytes to see every magic number we know.
    while (in_len_ < 6 && !source_eof_) GANTRY_RETURN_IF_ERROR(fill_input());
    auto starts_with = [&](std::initializer_list<uint8_t> magic) {
      if (in_len_ < magic.size()) return false;
      return std::equal(magic.begin(), magic.end(), in_.begin());
    };
    LayerCompression found = LayerCompression::kNone;
    if (starts_with({0x1f, 0x8b})) {
      found = LayerCompression::kGzip;
    } else if (starts_with({0x28, 0xb5, 0x2f, 0xfd})) {
      found = LayerCompression::kZstd;
    } else if (starts_with({0xfd, '7', 'z', 'X', 'Z', 0x00})) {
      return layer_error("layer is xz-compressed; OCI layers are plain tar, gzip or zstd");
    }
    if (requested != LayerCompression::kDetect && requested != found) {
      return layer_error(fmt::format("layer was declared {} but its bytes are {}", compression_name(requested),
                                     compression_name(found)));
    }
    kind_ = found;
    if (kind_ == LayerCompression::kGzip) {
      std::memset(&zs_, 0, sizeof zs_);
      if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) {
        return make_error(ErrorKind::kInternal, "zlib inflateInit2 failed");
      }
      zlib_ready_ = true;
    } else if (kind_ == LayerCompression::kZstd) {
      zstd_ = ZSTD_createDStream();
      if (zstd_ == nullptr) return make_error(ErrorKind::kInternal, "ZSTD_createDStream failed");
      ZSTD_initDStream(zstd_);
    }
    return {};
  }

  // Writes the next uncompressed bytes into `out` (at least one unless the stream has ended cleanly —
  // truncation is an error); returns how many, 0 at the end.
  Result<size_t> read(std::span<uint8_t> out) {
    size_t n = 0;
    switch (kind_) {
      case LayerCompression::kGzip: {
        GANTRY_ASSIGN_OR_RETURN(n, read_gzip(out));
        break;
      }
      case LayerCompression::kZstd: {
        GANTRY_ASSIGN_OR_RETURN(n, read_zstd(out));
        break;
      }
      default: {
        GANTRY_ASSIGN_OR_RETURN(n, read_plain(out));
        break;
      }
    }
    if (n > max_bytes_ - total_) {
      return layer_error(fmt::format("layer is larger than the limit of {} uncompressed bytes", max_bytes_));
    }
    total_ += n;
    hash_.update(std::span<const uint8_t>(out.data(), n));
    return n;
  }

  Digest digest() const { return hash_.digest(); }
  uint64_t total() const { return total_; }

 private:
  Status fill_input() {
    // Keep unconsumed bytes (only the magic-number peek leaves any) at the front.
    if (in_pos_ > 0) {
      std::memmove(in_.data(), in_.data() + in_pos_, in_len_ - in_pos_);
      in_len_ -= in_pos_;
      in_pos_ = 0;
    }
    GANTRY_ASSIGN_OR_RETURN(size_t n, source_(std::span<uint8_t>(in_.data() + in_len_, in_.size() - in_len_)));
    if (n == 0) source_eof_ = true;
    in_len_ += n;
    compressed_ += n;
    return {};
  }

  Result<size_t> read_plain(std::span<uint8_t> out) {
    if (in_pos_ < in_len_) {  // the magic-number peek
      size_t n = std::min(out.size(), in_len_ - in_pos_);
      std::memcpy(out.data(), in_.data() + in_pos_, n);
      in_pos_ += n;
      return n;
    }
    if (source_eof_) return 0;
    // Straight from the source into the caller's buffer: no copy of its own.
    GANTRY_ASSIGN_OR_RETURN(size_t n, source_(out));
    if (n == 0) source_eof_ = true;
    compressed_ += n;
    return n;
  }

  Result<size_t> read_gzip(std::span<uint8_t> out) {
    for (;;) {
      if (stream_ended_) return 0;
      if (in_pos_ == in_len_ && !source_eof_) {
        in_pos_ = in_len_ = 0;
        GANTRY_RETURN_IF_ERROR(fill_input());
      }
      zs_.next_in = in_.data() + in_pos_;
      zs_.avail_in = static_cast<uInt>(in_len_ - in_pos_);
      zs_.next_out = out.data();
      zs_.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t consumed = (in_len_ - in_pos_) - zs_.avail_in;
      size_t produced = out.size() - zs_.avail_out;
      in_pos_ += consumed;
      if (rc == Z_STREAM_END) {
        // One gzip member done (its CRC and length checked by zlib). Another may follow.
        if (in_pos_ == in_len_ && !source_eof_) {
          in_pos_ = in_len_ = 0;
          GANTRY_RETURN_IF_ERROR(fill_input());
        }
        if (in_pos_ == in_len_) {
          stream_ended_ = true;
        } else if (inflateReset(&zs_) != Z_OK) {
          return make_error(ErrorKind::kInternal, "zlib inflateReset failed");
        }
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return layer_error(fmt::format("gzip stream is corrupt after {} compressed bytes: {}",
                                       compressed_ - (in_len_ - in_pos_), zs_.msg ? zs_.msg : "inflate failed"));
      } else if (produced == 0 && consumed == 0 && source_eof_ && in_pos_ == in_len_) {
        return layer_error(
            fmt::format("gzip stream is truncated: it ends after {} compressed bytes, "
                        "in the middle of the data",
                        compressed_));
      }
      if (produced > 0) return produced;
    }
  }

  Result<size_t> read_zstd(std::span<uint8_t> out_span) {
    for (;;) {
      if (stream_ended_) return 0;
      if (in_pos_ == in_len_ && !source_eof_) {
        in_pos_ = in_len_ = 0;
        GANTRY_RETURN_IF_ERROR(fill_input());
      }
      ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
      ZSTD_outBuffer out{out_span.data(), out_span.size(), 0};
      size_t rc = ZSTD_decompressStream(zstd_, &out, &in);
      if (ZSTD_isError(rc)) {
        return layer_error(fmt::format("zstd stream is corrupt after {} compressed bytes: {}",
                                       compressed_ - (in_len_ - in_pos_), ZSTD_getErrorName(rc)));
      }
      bool progress = in.pos != in_pos_ || out.pos > 0;
      in_pos_ = in.pos;
      // rc == 0: a frame is complete and fully flushed; another frame may follow. A call that made
      // no progress only reports what a next frame header would need, so it says nothing.
      if (progress) zstd_frame_open_ = rc != 0;
      if (out.pos > 0) return out.pos;
      if (in_pos_ == in_len_ && source_eof_) {
        if (zstd_frame_open_) {
          return layer_error(
              fmt::format("zstd stream is truncated: it ends after {} compressed bytes, "
                          "in the middle of a frame",
                          compressed_));
        }
        stream_ended_ = true;
      }
    }
  }

  const LayerSource& source_;
  uint64_t max_bytes_;
  LayerCompression kind_ = LayerCompression::kNone;
  std::vector<uint8_t> in_;
  size_t in_pos_ = 0;
  size_t in_len_ = 0;
  bool source_eof_ = false;
  uint64_t compressed_ = 0;
  z_stream zs_{};
  bool zlib_ready_ = false;
  ZSTD_DStream* zstd_ = nullptr;
  bool zstd_frame_open_ = false;
  bool stream_ended_ = false;
  Sha256 hash_;
  uint64_t total_ = 0;
};

// Runs a Decoder on a thread of its own and hands its output over in a small ring of buffers, so that
// reading, decompressing and hashing overlap with writing the files (mostly the kernel copying into the
// page cache and creating inodes). The reader side (next(), drain()) is used by one thread only: the
// unpacking one, through libarchive's read callback.
class DecodePipe {
 public:
  DecodePipe(const LayerSource& source, uint64_t max_bytes) : decoder_(source, max_bytes) {}
  ~DecodePipe() {
    {
      std::lock_guard lock(mu_);  // so the producer cannot miss the wake-up between its check and its wait
      stop_ = true;
    }
    free_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  DecodePipe(const DecodePipe&) = delete;
  DecodePipe& operator=(const DecodePipe&) = delete;

  // Detects the compression on the caller's thread (so a wrong declaration fails here), then starts
  // decoding ahead.
  Status start(LayerCompression requested) {
    GANTRY_RETURN_IF_ERROR(decoder_.start(requested));
    try {
      for (auto& b : buffers_) {
        b.bytes.resize(kOutputChunk);
        free_.push_back(&b);
      }
      thread_ = std::thread([this] { produce(); });
    } catch (const std::exception& e) {  // bad_alloc, or no thread to be had
      return make_error(ErrorKind::kInternal, fmt::format("start the layer decoding thread: {}", e.what()));
    }
    return {};
  }

  // The next uncompressed bytes; empty once the stream has ended. The span stays valid until the next
  // call (libarchive's read-callback contract).
  Result<std::span<const uint8_t>> next() {
    std::unique_lock lock(mu_);
    if (lent_ != nullptr) {
      free_.push_back(lent_);
      lent_ = nullptr;
      free_cv_.notify_one();
    }
    filled_cv_.wait(lock, [&] { return !filled_.empty() || finished_; });
    if (!filled_.empty()) {
      lent_ = filled_.front();
      filled_.pop_front();
      return std::span<const uint8_t>(lent_->bytes.data(), lent_->len);
    }
    if (failure_) return *failure_;
    return std::span<const uint8_t>();
  }

  // Reads (and hashes) whatever follows the tar's end-of-archive marker, to the end of the stream.
  Status drain() {
    for (;;) {
      GANTRY_ASSIGN_OR_RETURN(auto chunk, next());
      if (chunk.empty()) return {};
    }
  }

  // Only once next() has returned the end (the decoding thread has finished with the decoder).
  Digest digest() const { return decoder_.digest(); }
  uint64_t total() const { return decoder_.total(); }

  // Set by the libarchive read callback, which can only return -1.
  std::optional<Error> error;

 private:
  struct Buffer {
    std::vector<uint8_t> bytes;
    size_t len = 0;
  };

  void produce() {
    std::optional<Error> failure;
    try {
      for (;;) {
        Buffer* b = nullptr;
        {
          std::unique_lock lock(mu_);
          free_cv_.wait(lock, [&] { return !free_.empty() || stop_; });
          if (stop_) return;
          b = free_.front();
          free_.pop_front();
        }
        // Fill the buffer (fewer, larger hand-overs); a short one only at the end.
        b->len = 0;
        bool end = false;
        while (b->len < b->bytes.size() && !stop_) {
          auto n = decoder_.read(std::span<uint8_t>(b->bytes.data() + b->len, b->bytes.size() - b->len));
          if (!n.ok()) {
            failure = n.error();
            break;
          }
          if (*n == 0) {
            end = true;
            break;
          }
          b->len += *n;
        }
        std::lock_guard lock(mu_);
        if (b->len > 0) {
          filled_.push_back(b);
        } else {
          free_.push_back(b);
        }
        if (failure || end) break;
        filled_cv_.notify_one();
      }
    } catch (const std::exception& e) {  // e.g. bad_alloc; nothing may escape the thread
      failure = make_error(ErrorKind::kInternal, fmt::format("decoding the layer stream: {}", e.what()));
    } catch (...) {
      failure = make_error(ErrorKind::kInternal, "decoding the layer stream: an unknown exception");
    }
    {
      std::lock_guard lock(mu_);
      failure_ = std::move(failure);
      finished_ = true;
    }
    filled_cv_.notify_one();
  }

  Decoder decoder_;
  std::array<Buffer, 3> buffers_;
  std::mutex mu_;
  std::condition_variable free_cv_;    // a buffer was returned, or stop_
  std::condition_variable filled_cv_;  // a buffer was filled, or finished_
  std::deque<Buffer*> free_;
  std::deque<Buffer*> filled_;
  Buffer* lent_ = nullptr;         // handed to the reader by the last next()
  std::atomic<bool> stop_{false};  // set by the destructor; also read without the lock, to end a fill early
  bool finished_ = false;
  std::optional<Error> failure_;
  std::thread thread_;
};

la_ssize_t read_callback(struct archive* ar, void* data, const void** buffer) {
  auto* pipe = static_cast<DecodePipe*>(data);
  try {
    auto chunk = pipe->next();
    if (!chunk.ok()) {
      pipe->error = chunk.error();
      archive_set_error(ar, EIO, "%s", chunk.error().message.c_str());
      return -1;
    }
    *buffer = chunk->data();
    return static_cast<la_ssize_t>(chunk->size());
  } catch (const std::exception& e) {  // nothing may unwind through libarchive's C frames
    pipe->error = make_error(ErrorKind::kInternal, fmt::format("reading the layer stream: {}", e.what()));
    archive_set_error(ar, EIO, "%s", e.what());
    return -1;
  }
}

// ---- paths ----

// Turns a tar path into a clean relative path ("a/b/c"): drops "." components, repeated and trailing
// slashes. Absolute paths and ".." components are refused outright, wherever they point.
Result<std::string> clean_path(const char* raw, std::string_view what, std::string_view entry) {
  if (raw == nullptr || *raw == '\0') {
    return layer_error(fmt::format("entry '{}': {} is empty or not readable", entry, what));
  }
  std::string_view in(raw);
  if (!in.empty() && in.front() == '/') {
    return layer_error(fmt::format("entry '{}': {} '{}' is absolute", entry, what, printable(in)));
  }
  std::string out;
  size_t pos = 0;
  while (pos <= in.size()) {
    size_t slash = in.find('/', pos);
    if (slash == std::string_view::npos) slash = in.size();
    auto part = in.substr(pos, slash - pos);
    if (part == "..") {
      return layer_error(fmt::format("entry '{}': {} '{}' has a '..' component", entry, what, printable(in)));
    }
    if (!part.empty() && part != ".") {
      if (!out.empty()) out.push_back('/');
      out.append(part);
    }
    pos = slash + 1;
  }
  return out;
}

std::pair<std::string_view, std::string_view> split_parent(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// Opens directory `rel` below `root_fd` without following any symlink, optionally creating missing
// components (0755) the way tar creates implied parent directories.
Result<UniqueFd> open_dir_beneath(int root_fd, std::string_view rel, bool create, std::string_view entry) {
  UniqueFd dir(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!dir.valid()) return sys_error("dup directory descriptor", errno);
  size_t pos = 0;
  while (pos < rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string part(rel.substr(pos, slash - pos));
    if (create && ::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      return sys_error(
          fmt::format("entry '{}': create directory '{}'", printable(entry), printable(rel.substr(0, slash))), errno);
    }
    int fd = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return layer_error(fmt::format("entry '{}': '{}' is a symlink or not a directory", printable(entry),
                                       printable(rel.substr(0, slash))));
      }
      return sys_error(
          fmt::format("entry '{}': open directory '{}'", printable(entry), printable(rel.substr(0, slash))), errno);
    }
    dir = UniqueFd(fd);
    pos = slash + 1;
  }
  return dir;
}

bool is_resource_errno(int err) {
  return err == ENOSPC || err == EDQUOT || err == EIO || err == EROFS || err == ENOMEM || err == EMFILE ||
         err == ENFILE;
}

// ---- the unpack ----

class Unpacker {
 public:
  Unpacker(const UnpackOptions& options, fs::path tmp) : options_(options), tmp_(std::move(tmp)) {}
  ~Unpacker() {
    if (reader_ != nullptr) archive_read_free(reader_);
    if (writer_ != nullptr) archive_write_free(writer_);
  }
  Unpacker(const Unpacker&) = delete;
  Unpacker& operator=(const Unpacker&) = delete;

  Result<UnpackResult> run(const LayerSource& source) {
    int root_fd = ::open(tmp_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) return sys_error(fmt::format("open {}", tmp_.string()), errno);
    root_fd_ = UniqueFd(root_fd);

    DecodePipe decoder(source, options_.max_uncompressed_bytes);
    GANTRY_RETURN_IF_ERROR(decoder.start(options_.compression));

    reader_ = archive_read_new();
    writer_ = archive_write_disk_new();
    if (reader_ == nullptr || writer_ == nullptr) {
      return make_error(ErrorKind::kInternal, "libarchive allocation failed");
    }
    archive_read_support_format_tar(reader_);  // format tar only, no filters: we decode ourselves
    // NOABSOLUTEPATHS is left out on purpose: every path is rewritten to an absolute path inside the
    // temp dir (libarchive writes relative to the process cwd, which a server must not chdir), and
    // clean_path() has already refused absolute and '..' names. There is no standard user lookup:
    // owners stay numeric, as the image defines them.
    archive_write_disk_set_options(writer_, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                                ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    if (archive_read_open(reader_, &decoder, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
      return read_failure(decoder, "the layer is not a tar archive");
    }

    uint64_t entries = 0;
    uint64_t unpacked_bytes = 0;
    for (;;) {
      struct archive_entry* entry = nullptr;
      int rc = archive_read_next_header(reader_, &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        return read_failure(decoder, last_entry_.empty()
                                         ? std::string("read the first tar header")
                                         : fmt::format("read the tar header after entry '{}'", printable(last_entry_)));
      }
      if (++entries > options_.max_entries) {
        return layer_error(fmt::format("layer has more than the limit of {} entries", options_.max_entries));
      }
      const char* raw = archive_entry_pathname(entry);
      last_entry_ = raw != nullptr ? raw : "";
      GANTRY_ASSIGN_OR_RETURN(uint64_t written, extract(decoder, entry));
      unpacked_bytes += written;
    }
    GANTRY_RETURN_IF_ERROR(decoder.drain());
    if (archive_write_close(writer_) != ARCHIVE_OK) {
      return write_failure("finish (directory times and modes)", archive_errno(writer_), archive_error_string(writer_));
    }
    for (const auto& dir : opaque_dirs_) {
      GANTRY_ASSIGN_OR_RETURN(UniqueFd fd, open_dir_beneath(root_fd_.get(), dir, true, dir + "/.wh..wh..opq"));
      if (::fsetxattr(fd.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
        int err = errno;
        return make_error(
            ErrorKind::kInternal,
            fmt::format("entry '{}/{}': set xattr trusted.overlay.opaque: {}{}", printable(dir), kOpaqueMarker,
                        errno_text(err), err == EPERM ? " (trusted.* xattrs need root: CAP_SYS_ADMIN)" : ""));
      }
    }
    return UnpackResult{decoder.digest(), decoder.total(), unpacked_bytes, entries};
  }

 private:
  // Writes one entry; returns the regular-file bytes written.
  Result<uint64_t> extract(DecodePipe& decoder, struct archive_entry* entry) {
    std::string shown = printable(last_entry_);
    GANTRY_ASSIGN_OR_RETURN(std::string name, clean_path(archive_entry_pathname(entry), "path", shown));
    auto [parent, base] = split_parent(name);

    // Nothing may be written through a symlink this layer created.
    for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      if (symlinks_.contains(name.substr(0, slash))) {
        return layer_error(
            fmt::format("entry '{}' lies beneath symlink '{}'", shown, printable(name.substr(0, slash))));
      }
    }

    if (base.starts_with(kWhiteoutPrefix)) return whiteout(name, parent, base, shown);

    mode_t type = archive_entry_filetype(entry);
    const char* hardlink = archive_entry_hardlink(entry);
    if (type == AE_IFBLK) {
      return layer_error(fmt::format("entry '{}' is a block device ({}:{}); layers may not create devices", shown,
                                     archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry)));
    }
    if (type == AE_IFCHR && (archive_entry_rdevmajor(entry) != 0 || archive_entry_rdevminor(entry) != 0)) {
      return layer_error(
          fmt::format("entry '{}' is a character device ({}:{}); only 0:0 (an overlay "
                      "whiteout) is allowed",
                      shown, archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry)));
    }
    if (type == AE_IFSOCK) return layer_error(fmt::format("entry '{}' is a socket", shown));
    if (name.empty() && (hardlink != nullptr || type != AE_IFDIR)) {
      return layer_error(fmt::format("entry '{}' names the layer root but is not a directory", shown));
    }

    GANTRY_RETURN_IF_ERROR(check_xattrs(entry, shown));

    bool is_symlink = type == AE_IFLNK;
    if (hardlink != nullptr) {
      GANTRY_ASSIGN_OR_RETURN(std::string link, clean_path(hardlink, "hard link target", shown));
      if (link.empty()) return layer_error(fmt::format("entry '{}' is a hard link to the layer root", shown));
      for (size_t slash = link.find('/'); slash != std::string::npos; slash = link.find('/', slash + 1)) {
        if (symlinks_.contains(link.substr(0, slash))) {
          return layer_error(
              fmt::format("entry '{}' is a hard link through symlink '{}'", shown, printable(link.substr(0, slash))));
        }
      }
      is_symlink = symlinks_.contains(link);  // a hard link to a symlink is that symlink again
      GANTRY_ASSIGN_OR_RETURN(std::string full_link, full_path(link, shown));
      // No component of `link` is a symlink (checked above), so this stat stays inside the layer.
      struct stat st {};
      if (::lstat(full_link.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
          return layer_error(
              fmt::format("entry '{}' is a hard link to '{}', which is not an earlier entry of this "
                          "layer",
                          shown, printable(link)));
        }
        return sys_error(fmt::format("entry '{}': stat hard link target '{}'", shown, printable(link)), errno);
      }
      if (S_ISDIR(st.st_mode)) {
        return layer_error(fmt::format("entry '{}' is a hard link to directory '{}'", shown, printable(link)));
      }
      archive_entry_copy_hardlink(entry, full_link.c_str());
    }
    if (is_symlink) {
      symlinks_.insert(name);
    } else {
      symlinks_.erase(name);  // replaced (libarchive unlinks an existing symlink before writing)
    }

    bool regular = type == AE_IFREG && hardlink == nullptr;
    int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    if (size < 0 || static_cast<uint64_t>(size) > options_.max_uncompressed_bytes) {
      return layer_error(fmt::format("entry '{}' declares {} bytes, over the layer limit of {} bytes", shown, size,
                                     options_.max_uncompressed_bytes));
    }

    GANTRY_ASSIGN_OR_RETURN(std::string full, full_path(name, shown));
    archive_entry_copy_pathname(entry, full.c_str());
    int rc = archive_write_header(writer_, entry);
    if (rc != ARCHIVE_OK) {
      return write_failure(fmt::format("entry '{}'", shown), archive_errno(writer_), archive_error_string(writer_));
    }
    if (archive_entry_size(entry) > 0) {
      for (;;) {
        const void* buf = nullptr;
        size_t len = 0;
        la_int64_t offset = 0;
        rc = archive_read_data_block(reader_, &buf, &len, &offset);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK) return read_failure(decoder, fmt::format("read the data of entry '{}'", shown));
        la_ssize_t w = archive_write_data_block(writer_, buf, len, offset);
        if (w < ARCHIVE_OK) {
          return write_failure(fmt::format("write the data of entry '{}'", shown), archive_errno(writer_),
                               archive_error_string(writer_));
        }
      }
    }
    rc = archive_write_finish_entry(writer_);
    if (rc != ARCHIVE_OK) {
      return write_failure(fmt::format("finish entry '{}' (owner, mode, times, xattrs)", shown), archive_errno(writer_),
                           archive_error_string(writer_));
    }
    return regular ? static_cast<uint64_t>(size) : 0;
  }

  Result<uint64_t> whiteout(const std::string& name, std::string_view parent, std::string_view base,
                            const std::string& shown) {
    if (base == kOpaqueMarker) {
      opaque_dirs_.emplace_back(parent);
      return 0;
    }
    if (base.starts_with(kWhiteoutMetaPrefix)) return 0;  // aufs bookkeeping (.wh..wh.plnk, …)
    std::string hidden(base.substr(kWhiteoutPrefix.size()));
    if (hidden.empty() || hidden == "." || hidden == "..") {
      return layer_error(fmt::format("entry '{}' is a whiteout for an invalid name", shown));
    }
    GANTRY_ASSIGN_OR_RETURN(UniqueFd dir, open_dir_beneath(root_fd_.get(), parent, true, name));
    if (::mknodat(dir.get(), hidden.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
      int err = errno;
      // A file of the same name in this very layer wins: whiteouts only hide lower layers.
      if (err == EEXIST) return 0;
      return make_error(
          ErrorKind::kInternal,
          fmt::format("entry '{}': create whiteout device '{}': {}{}", shown, printable(hidden), errno_text(err),
                      err == EPERM ? " (whiteouts are 0:0 character devices; before Linux 5.8 "
                                     "creating them needs root: CAP_MKNOD)"
                                   : ""));
    }
    return 0;
  }

  Status check_xattrs(struct archive_entry* entry, const std::string& shown) {
    if (archive_entry_xattr_reset(entry) == 0) return {};
    const char* key = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
      if (key != nullptr && std::string_view(key).starts_with(kOverlayXattrPrefix)) {
        return layer_error(fmt::format("entry '{}' carries xattr '{}'; overlayfs xattrs may not come from a layer",
                                       shown, printable(key)));
      }
    }
    return {};
  }

  Result<std::string> full_path(const std::string& rel, const std::string& shown) const {
    std::string full = rel.empty() ? tmp_.string() : tmp_.string() + "/" + rel;
    // Longer paths would make libarchive chdir() the whole process to reach them.
    if (full.size() >= PATH_MAX - 1) {
      return layer_error(fmt::format("entry '{}': path of {} bytes is too long", shown, rel.size()));
    }
    return full;
  }

  Error read_failure(const DecodePipe& decoder, const std::string& what) const {
    if (decoder.error) return *decoder.error;
    const char* msg = archive_error_string(reader_);
    return layer_error(fmt::format("{}: {}", what, msg != nullptr ? msg : "tar stream is damaged"));
  }

  Error write_failure(const std::string& what, int err, const char* msg) const {
    std::string text = fmt::format("{}: {}", what, msg != nullptr ? msg : errno_text(err));
    if (is_resource_errno(err)) return make_error(ErrorKind::kInternal, std::move(text));
    if (err == EPERM) {
      return make_error(ErrorKind::kInternal, text + " (restoring owners, devices and trusted.* xattrs needs root)");
    }
    return layer_error(std::move(text));
  }

  const UnpackOptions& options_;
  fs::path tmp_;
  UniqueFd root_fd_;
  struct archive* reader_ = nullptr;
  struct archive* writer_ = nullptr;
  std::string last_entry_;
  std::unordered_set<std::string> symlinks_;
  std::vector<std::string> opaque_dirs_;
};

Status sync_filesystem(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return sys_error(fmt::format("open {}", dir.string()), errno);
  if (::syncfs(fd.get()) != 0) return sys_error(fmt::format("syncfs {}", dir.string()), errno);
  return {};
}

Status fsync_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return sys_error(fmt::format("open {}", dir.string()), errno);
  if (::fsync(fd.get()) != 0) return sys_error(fmt::format("fsync {}", dir.string()), errno);
  return {};
}

}  // namespace

Result<LayerCompression> layer_compression_for_media_type(std::string_view media_type) {
  static constexpr std::pair<std::string_view, LayerCompression> kTypes[] = {
      {"application/vnd.oci.image.layer.v1.tar", LayerCompression::kNone},
      {"application/vnd.oci.image.layer.v1.tar+gzip", LayerCompression::kGzip},
      {"application/vnd.oci.image.layer.v1.tar+zstd", LayerCompression::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", LayerCompression::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LayerCompression::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", LayerCompression::kZstd},
      {"application/vnd.docker.image.rootfs.diff.tar", LayerCompression::kNone},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", LayerCompression::kGzip},
      {"application/vnd.docker.image.rootfs.diff.tar.zstd", LayerCompression::kZstd},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", LayerCompression::kGzip},
  };
  for (const auto& [type, compression] : kTypes) {
    if (media_type == type) return compression;
  }
  return layer_error(fmt::format("media type '{}' is not a layer type Gantry can unpack", printable(media_type)));
}

Result<UnpackResult> unpack_layer(const LayerSource& source, const fs::path& target, const UnpackOptions& options) {
  fs::path name = target.filename();
  if (name.empty() || name == "." || name == "..") {
    return make_error(ErrorKind::kInternal,
                      fmt::format("unpack layer into '{}': not a directory name", target.string()));
  }
  // A canonical parent: no symlink in the prefix, so libarchive's secure-symlinks walk over the
  // absolute paths only ever meets what the layer itself created.
  std::unique_ptr<char, decltype(&free)> parent(
      ::realpath(target.parent_path().empty() ? "." : target.parent_path().c_str(), nullptr), &free);
  if (!parent) return sys_error(fmt::format("unpack layer into {}: resolve parent directory", target.string()), errno);
  fs::path dest = fs::path(parent.get()) / name;
  struct stat st {};
  if (::lstat(dest.c_str(), &st) == 0) {
    return make_error(ErrorKind::kInternal, fmt::format("unpack layer into {}: it already exists", dest.string()));
  }
  std::string tmpl = (fs::path(parent.get()) / ("." + name.string() + ".unpack-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return sys_error(fmt::format("unpack layer into {}: create temp dir", dest.string()), errno);
  }
  fs::path tmp(tmpl);
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
  };
  // mkdtemp makes 0700; a layer's root is 0755 unless the layer has a "./" entry saying otherwise.
  if (::chmod(tmp.c_str(), 0755) != 0) {
    int err = errno;
    cleanup();
    return sys_error(fmt::format("unpack layer into {}: chmod temp dir", dest.string()), err);
  }

  Result<UnpackResult> result = [&]() -> Result<UnpackResult> {
    Unpacker unpacker(options, tmp);
    return unpacker.run(source);
  }();
  if (!result.ok()) {
    cleanup();
    Error e = result.error();
    e.message = fmt::format("unpack layer into {}: {}", dest.string(), e.message);
    return e;
  }
  if (options.expected_diff_id && result->diff_id != *options.expected_diff_id) {
    cleanup();
    return make_error(ErrorKind::kImageLayerInvalid,
                      fmt::format("unpack layer into {}: diffID {} does not match the expected {}", dest.string(),
                                  result->diff_id.str(), options.expected_diff_id->str()));
  }
  if (options.sync) {
    if (auto st2 = sync_filesystem(tmp); !st2.ok()) {
      cleanup();
      return make_error(st2.error().kind, fmt::format("unpack layer into {}: {}", dest.string(), st2.error().message));
    }
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    cleanup();
    if (err == EEXIST) {
      return make_error(ErrorKind::kInternal,
                        fmt::format("unpack layer into {}: it already exists (unpacked concurrently)", dest.string()));
    }
    return sys_error(fmt::format("unpack layer into {}: rename into place", dest.string()), err);
  }
  if (options.sync) {
    // The layer is in place and complete; only the rename's durability is in question.
    if (auto st2 = fsync_dir(dest.parent_path()); !st2.ok()) {
      return make_error(st2.error().kind, fmt::format("unpack layer into {}: {}", dest.string(), st2.error().message));
    }
  }
  return result;
}

Result<UnpackResult> unpack_layer_file(const fs::path& layer_file, const fs::path& target,
                                       const UnpackOptions& options) {
  UniqueFd fd(::open(layer_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error(fmt::format("unpack layer {}: open", layer_file.string()), errno);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  uint64_t offset = 0;
  LayerSource source = [&](std::span<uint8_t> out) -> Result<size_t> {
    ssize_t n = pread_some(fd.get(), out, offset);
    if (n < 0) return sys_error(fmt::format("unpack layer {}: read", layer_file.string()), static_cast<int>(-n));
    offset += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  };
  return unpack_layer(source, target, options);
}

Result<size_t> remove_stale_unpacks(const fs::path& dir) {
  std::error_code ec;
  size_t removed = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    auto marker = name.rfind(".unpack-");
    if (name.size() < 2 || name[0] != '.' || marker == std::string::npos || marker == 0 ||
        name.size() - marker != std::string_view(".unpack-XXXXXX").size()) {
      continue;
    }
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (rm) {
      return make_error(ErrorKind::kInternal,
                        fmt::format("remove stale unpack dir {}: {}", it->path().string(), rm.message()));
    }
    ++removed;
  }
  if (ec) return make_error(ErrorKind::kInternal, fmt::format("list {}: {}", dir.string(), ec.message()));
  return removed;
}

}  // namespace gantry::image
