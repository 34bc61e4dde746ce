#include "image/blob_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <limits>
#include <vector>

namespace gantry::image {

namespace fs = std::filesystem;

namespace {

constexpr size_t kHashChunk = size_t{1} << 20;

Error sys_error(std::string what, int err) {
  return make_error(ErrorKind::kInternal, fmt::format("{}: {}", what, errno_text(err)));
}

// Upload ids become file names, so only the exact shape begin_upload() hands out is accepted.
bool valid_upload_id(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string printable_id(std::string_view id) {
  std::string out;
  for (char c : id.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (id.size() > 64) out += "…";
  return out;
}

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error(fmt::format("open directory {}", dir.string()), errno);
  UniqueFd owner(fd);
  if (::fsync(fd) != 0) return sys_error(fmt::format("fsync directory {}", dir.string()), errno);
  return {};
}

Status make_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return sys_error(fmt::format("create directory {}", dir.string()), errno);
  }
  return {};
}

std::span<const uint8_t> as_bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

// ---- BlobReader ----

Result<size_t> BlobReader::read(std::span<uint8_t> out) {
  uint64_t want = std::min<uint64_t>(out.size(), end_ - pos_);
  if (want == 0) return size_t{0};
  ssize_t n = pread_some(fd_.get(), out.first(static_cast<size_t>(want)), pos_);
  if (n < 0) return sys_error(fmt::format("read blob {} at offset {}", digest_, pos_), static_cast<int>(-n));
  if (n == 0) {
    // Committed blobs never shrink; a short file means someone damaged the store.
    return make_error(
        ErrorKind::kInternal,
        fmt::format("read blob {}: file ends at offset {}, before the {} bytes recorded", digest_, pos_, blob_size_));
  }
  pos_ += static_cast<uint64_t>(n);
  return static_cast<size_t>(n);
}

// ---- upload sessions ----

struct BlobStore::Upload {
  std::mutex mu;
  // Everything below is guarded by mu.
  bool loaded = false;  // fd, size and hash reflect the upload file
  bool dead = false;    // ended (committed, cancelled, evicted): whoever waited must look it up again
  UniqueFd fd;
  uint64_t size = 0;
  std::optional<Sha256> hash;
  // Guarded by BlobStore::mu_.
  uint64_t last_used = 0;
};

class BlobStore::UploadLock {
 public:
  UploadLock(std::string id, std::shared_ptr<Upload> upload, std::unique_lock<std::mutex> lock)
      : id(std::move(id)), upload(std::move(upload)), lock(std::move(lock)) {}
  Upload* operator->() const { return upload.get(); }

  std::string id;
  std::shared_ptr<Upload> upload;
  std::unique_lock<std::mutex> lock;
};

BlobStore::BlobStore(fs::path root, Random& random, BlobStoreOptions options)
    : root_(std::move(root)), random_(random), options_(options) {}

BlobStore::~BlobStore() = default;

Result<std::unique_ptr<BlobStore>> BlobStore::open(fs::path root, Random& random, BlobStoreOptions options) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    return make_error(ErrorKind::kInternal, fmt::format("open blob store: create {}: {}", root.string(), ec.message()));
  }
  for (const char* sub : {"sha256", "uploads", "tmp"}) GANTRY_RETURN_IF_ERROR(make_dir(root / sub));
  // Leftovers of put() calls interrupted by a crash; never visible as blobs.
  for (auto it = fs::directory_iterator(root / "tmp", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
  }
  if (ec) {
    return make_error(ErrorKind::kInternal,
                      fmt::format("open blob store: clean {}: {}", (root / "tmp").string(), ec.message()));
  }
  if (options.max_open_uploads == 0) options.max_open_uploads = 1;
  return std::unique_ptr<BlobStore>(new BlobStore(std::move(root), random, options));
}

fs::path BlobStore::blob_path(const Digest& digest) const {
  auto hex = digest.hex();
  return root_ / "sha256" / std::string(hex.substr(0, 2)) / std::string(hex);
}

fs::path BlobStore::upload_path(std::string_view upload_id) const { return root_ / "uploads" / std::string(upload_id); }

// ---- committed blobs ----

Result<bool> BlobStore::exists(const Digest& digest) const {
  struct stat st {};
  auto path = blob_path(digest);
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    return sys_error(fmt::format("look up blob {}", digest.str()), errno);
  }
  return S_ISREG(st.st_mode);
}

Result<uint64_t> BlobStore::size(const Digest& digest) const {
  struct stat st {};
  auto path = blob_path(digest);
  if (::lstat(path.c_str(), &st) != 0 && errno != ENOENT) {
    return sys_error(fmt::format("look up blob {}", digest.str()), errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::kImageBlobUnknown, fmt::format("blob {} is not stored", digest.str()));
  }
  return static_cast<uint64_t>(st.st_size);
}

Result<BlobReader> BlobStore::open_read(const Digest& digest, uint64_t offset, std::optional<uint64_t> length) const {
  auto path = blob_path(digest);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      return make_error(ErrorKind::kImageBlobUnknown, fmt::format("read blob {}: not stored", digest.str()));
    }
    return sys_error(fmt::format("read blob {}: open", digest.str()), errno);
  }
  UniqueFd owner(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_error(fmt::format("read blob {}: stat", digest.str()), errno);
  auto blob_size = static_cast<uint64_t>(st.st_size);
  uint64_t end = blob_size;
  bool fits = offset <= blob_size;
  if (fits && length) {
    fits = *length <= blob_size - offset;
    end = offset + *length;
  }
  if (!fits) {
    return make_error(ErrorKind::kImageRangeInvalid,
                      fmt::format("read blob {}: range starting at {}{} lies outside the blob ({} bytes)", digest.str(),
                                  offset, length ? fmt::format(" of {} bytes", *length) : std::string(), blob_size));
  }
  return BlobReader(std::move(owner), blob_size, offset, end, digest.str());
}

Result<std::string> BlobStore::read_all(const Digest& digest, uint64_t max_bytes) const {
  GANTRY_ASSIGN_OR_RETURN(auto reader, open_read(digest));
  if (reader.blob_size() > max_bytes) {
    return make_error(ErrorKind::kImageSizeInvalid,
                      fmt::format("read blob {}: {} bytes is more than the {} allowed here", digest.str(),
                                  reader.blob_size(), max_bytes));
  }
  std::string out(static_cast<size_t>(reader.blob_size()), '\0');
  size_t done = 0;
  while (reader.remaining() > 0) {
    GANTRY_ASSIGN_OR_RETURN(
        size_t n, reader.read(std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()) + done, out.size() - done)));
    done += n;
  }
  return out;
}

Status BlobStore::remove(const Digest& digest) {
  auto path = blob_path(digest);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) {
      return make_error(ErrorKind::kImageBlobUnknown, fmt::format("remove blob {}: not stored", digest.str()));
    }
    return sys_error(fmt::format("remove blob {}", digest.str()), errno);
  }
  return {};
}

Status BlobStore::ensure_shard_dir(const Digest& digest) const {
  auto shard = blob_path(digest).parent_path();
  if (::mkdir(shard.c_str(), 0755) == 0) return fsync_dir(shard.parent_path());
  if (errno == EEXIST) return {};
  return sys_error(fmt::format("store blob {}: create {}", digest.str(), shard.string()), errno);
}

Result<uint64_t> BlobStore::put(std::string_view bytes, const Digest& expected) {
  return put(as_bytes(bytes), expected);
}

Result<uint64_t> BlobStore::put(std::span<const uint8_t> bytes, const Digest& expected) {
  if (bytes.size() > options_.max_blob_bytes) {
    return make_error(ErrorKind::kImageSizeInvalid,
                      fmt::format("put blob {}: {} bytes is more than the {} a blob may have", expected.str(),
                                  bytes.size(), options_.max_blob_bytes));
  }
  Digest actual = sha256_of(bytes);
  if (actual != expected) {
    return make_error(ErrorKind::kImageDigestInvalid,
                      fmt::format("put blob: content digest {} does not match the requested {} ({} bytes)",
                                  actual.str(), expected.str(), bytes.size()));
  }
  GANTRY_ASSIGN_OR_RETURN(bool present, exists(expected));
  if (present) return static_cast<uint64_t>(bytes.size());

  auto tmp = root_ / "tmp" / random_.uuid4();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error(fmt::format("put blob {}: create {}", expected.str(), tmp.string()), errno);
  UniqueFd owner(fd);
  auto fail = [&](std::string what, int err) {
    ::unlink(tmp.c_str());
    return sys_error(fmt::format("put blob {}: {}", expected.str(), what), err);
  };
  if (int err = pwrite_all(fd, bytes, 0); err != 0) return fail("write", err);
  if (::fsync(fd) != 0) return fail("fsync", errno);
  owner.reset();
  if (auto st = ensure_shard_dir(expected); !st.ok()) {
    ::unlink(tmp.c_str());
    return st.error();
  }
  auto target = blob_path(expected);
  // Replacing a concurrently stored copy is harmless: both hold the same verified bytes.
  if (::rename(tmp.c_str(), target.c_str()) != 0) return fail("rename into place", errno);
  GANTRY_RETURN_IF_ERROR(fsync_dir(target.parent_path()));
  return static_cast<uint64_t>(bytes.size());
}

// ---- uploads ----

Result<BlobStore::UploadLock> BlobStore::lock_upload(std::string_view upload_id, const char* operation) {
  if (!valid_upload_id(upload_id)) {
    return make_error(ErrorKind::kImageUploadUnknown, fmt::format("{} upload '{}': not an upload id Gantry issued",
                                                                  operation, printable_id(upload_id)));
  }
  std::string id(upload_id);
  for (;;) {
    std::shared_ptr<Upload> upload;
    {
      std::lock_guard guard(mu_);
      auto& slot = uploads_[id];
      if (!slot) slot = std::make_shared<Upload>();
      slot->last_used = ++tick_;
      upload = slot;
      if (uploads_.size() > options_.max_open_uploads) evict_idle_locked(upload.get());
    }
    std::unique_lock lock(upload->mu);
    if (upload->dead) continue;  // ended while we waited; look again
    return UploadLock(std::move(id), std::move(upload), std::move(lock));
  }
}

Result<BlobStore::UploadLock> BlobStore::acquire_upload(std::string_view upload_id, const char* operation) {
  GANTRY_ASSIGN_OR_RETURN(UploadLock u, lock_upload(upload_id, operation));
  if (u->loaded) return u;
  // First use since the store was opened (or since eviction): the file is the whole state.
  auto path = upload_path(u.id);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int err = errno;
    drop_upload(u);
    if (err == ENOENT) {
      return make_error(
          ErrorKind::kImageUploadUnknown,
          fmt::format("{} upload {}: no such upload (never begun, committed or cancelled)", operation, u.id));
    }
    return sys_error(fmt::format("{} upload {}: open {}", operation, u.id, path.string()), err);
  }
  UniqueFd owner(fd);
  Sha256 hash;
  std::vector<uint8_t> buf(kHashChunk);
  uint64_t size = 0;
  for (;;) {
    ssize_t n = pread_some(fd, buf, size);
    if (n < 0) {
      drop_upload(u);
      return sys_error(fmt::format("{} upload {}: rehash {}", operation, u.id, path.string()), static_cast<int>(-n));
    }
    if (n == 0) break;
    hash.update(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
    size += static_cast<uint64_t>(n);
  }
  u->fd = std::move(owner);
  u->size = size;
  u->hash = std::move(hash);
  u->loaded = true;
  return u;
}

// Ends the session in memory (not the file). The caller holds its lock; waiters will look again.
void BlobStore::drop_upload(UploadLock& u) {
  u->dead = true;
  u->fd.reset();
  u->hash.reset();
  std::lock_guard guard(mu_);
  auto it = uploads_.find(u.id);
  if (it != uploads_.end() && it->second == u.upload) uploads_.erase(it);
}

void BlobStore::evict_idle_locked(const Upload* keep) {
  while (uploads_.size() > options_.max_open_uploads) {
    auto victim = uploads_.end();
    for (auto it = uploads_.begin(); it != uploads_.end(); ++it) {
      if (it->second.get() == keep) continue;
      if (victim == uploads_.end() || it->second->last_used < victim->second->last_used) {
        // Only a session nobody holds can be closed; try_lock never waits, so no lock-order issue.
        if (it->second->mu.try_lock()) {
          if (victim != uploads_.end()) victim->second->mu.unlock();
          victim = it;
        }
      }
    }
    if (victim == uploads_.end()) return;  // all busy: stay over the cap, the next insert tries again
    Upload& up = *victim->second;
    up.dead = true;
    up.fd.reset();
    up.hash.reset();
    up.mu.unlock();
    uploads_.erase(victim);
  }
}

Result<std::string> BlobStore::begin_upload() {
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::string id = random_.uuid4();
    auto path = upload_path(id);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return sys_error(fmt::format("begin upload: create {}", path.string()), errno);
    }
    UniqueFd owner(fd);
    auto locked = lock_upload(id, "begin");
    if (!locked.ok()) {
      ::unlink(path.c_str());
      return locked.error();
    }
    auto& u = *locked;
    u->fd = std::move(owner);
    u->size = 0;
    u->hash.emplace();
    u->loaded = true;
    return id;
  }
  return make_error(ErrorKind::kInternal, "begin upload: could not pick an unused upload id");
}

Result<uint64_t> BlobStore::append(std::string_view upload_id, std::string_view bytes, uint64_t expected_offset) {
  return append(upload_id, as_bytes(bytes), expected_offset);
}

Result<uint64_t> BlobStore::append(std::string_view upload_id, std::span<const uint8_t> bytes,
                                   uint64_t expected_offset) {
  GANTRY_ASSIGN_OR_RETURN(UploadLock u, acquire_upload(upload_id, "append to"));
  if (expected_offset != u->size) {
    return make_error(ErrorKind::kImageUploadOffset,
                      fmt::format("append to upload {}: chunk starts at offset {} but the upload holds {} "
                                  "bytes; resume at offset {}",
                                  u.id, expected_offset, u->size, u->size));
  }
  if (u->size > options_.max_blob_bytes || bytes.size() > options_.max_blob_bytes - u->size) {
    return make_error(ErrorKind::kImageSizeInvalid,
                      fmt::format("append to upload {}: {} more bytes would exceed the {} a blob may have", u.id,
                                  bytes.size(), options_.max_blob_bytes));
  }
  if (int err = pwrite_all(u->fd.get(), bytes, u->size); err != 0) {
    // Put the file back to its last good size; if even that fails, forget the session so the next
    // call rehashes whatever the file holds (it is the truth the client resumes from).
    if (::ftruncate(u->fd.get(), static_cast<off_t>(u->size)) != 0) drop_upload(u);
    return sys_error(fmt::format("append to upload {} at offset {}", u.id, expected_offset), err);
  }
  u->hash->update(bytes);
  u->size += bytes.size();
  return u->size;
}

Result<uint64_t> BlobStore::upload_size(std::string_view upload_id) {
  GANTRY_ASSIGN_OR_RETURN(UploadLock u, acquire_upload(upload_id, "query"));
  return u->size;
}

Result<uint64_t> BlobStore::commit(std::string_view upload_id, const Digest& expected) {
  GANTRY_ASSIGN_OR_RETURN(UploadLock u, acquire_upload(upload_id, "commit"));
  auto path = upload_path(u.id);
  Digest actual = u->hash->digest();
  uint64_t size = u->size;
  if (actual != expected) {
    ::unlink(path.c_str());
    drop_upload(u);
    return make_error(ErrorKind::kImageDigestInvalid,
                      fmt::format("commit upload {}: content digest {} does not match the requested {} ({} "
                                  "bytes); the upload was discarded",
                                  u.id, actual.str(), expected.str(), size));
  }
  if (::fsync(u->fd.get()) != 0) return sys_error(fmt::format("commit upload {}: fsync", u.id), errno);
  GANTRY_RETURN_IF_ERROR(ensure_shard_dir(expected));
  auto target = blob_path(expected);
  GANTRY_ASSIGN_OR_RETURN(bool present, exists(expected));
  if (present) {
    ::unlink(path.c_str());
    drop_upload(u);
    return size;
  }
  // Atomic: readers see no file or the whole verified one. A concurrent commit of the same content
  // may rename over ours; both files hold identical bytes.
  if (::rename(path.c_str(), target.c_str()) != 0) {
    return sys_error(fmt::format("commit upload {}: rename into {}", u.id, target.string()), errno);
  }
  drop_upload(u);
  GANTRY_RETURN_IF_ERROR(fsync_dir(target.parent_path()));
  return size;
}

Status BlobStore::cancel(std::string_view upload_id) {
  // Locks without loading: no point rehashing bytes about to be deleted.
  GANTRY_ASSIGN_OR_RETURN(UploadLock u, lock_upload(upload_id, "cancel"));
  auto path = upload_path(u.id);
  int rc = ::unlink(path.c_str());
  int err = errno;
  drop_upload(u);
  if (rc != 0) {
    if (err == ENOENT) {
      return make_error(ErrorKind::kImageUploadUnknown,
                        fmt::format("cancel upload {}: no such upload (never begun, committed or cancelled)", u.id));
    }
    return sys_error(fmt::format("cancel upload {}: delete {}", u.id, path.string()), err);
  }
  return {};
}

Status BlobStore::clear() {
  std::vector<std::shared_ptr<Upload>> sessions;
  {
    std::lock_guard guard(mu_);
    for (auto& [id, upload] : uploads_) sessions.push_back(upload);
    uploads_.clear();
  }
  // Lock order: an Upload's mutex is never taken while holding mu_.
  for (auto& upload : sessions) {
    std::lock_guard lock(upload->mu);
    upload->dead = true;
    upload->fd.reset();
    upload->hash.reset();
  }
  for (const char* sub : {"sha256", "uploads", "tmp"}) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(root_ / sub, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::error_code removed;
      fs::remove_all(it->path(), removed);
      if (removed)
        return make_error(ErrorKind::kInternal,
                          fmt::format("clear blob store: remove {}: {}", it->path().string(), removed.message()));
    }
    if (ec)
      return make_error(ErrorKind::kInternal,
                        fmt::format("clear blob store: list {}: {}", (root_ / sub).string(), ec.message()));
  }
  return {};
}

}  // namespace gantry::image
