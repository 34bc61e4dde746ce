// The registry's content-addressed blob store: layers, configs and manifests, each stored once under
// its sha256 digest.
//
// On disk, below `root`:
//   sha256/<hex[0:2]>/<hex>   committed blobs; immutable; a file appears here only by an atomic
//                             rename after its content was hashed, checked against the digest the
//                             client named, and fsynced — a partial or unverified blob is never visible.
//   uploads/<upload id>       the bytes of an upload in progress. This file is the upload's only
//                             state, so an upload survives a restart: the next call on it rehashes the
//                             file and carries on (resumable chunked uploads).
//   tmp/                      scratch for put(); emptied when the store is opened.
//
// Contract:
// - Every method is thread-safe. Calls on one upload are serialised; different uploads and reads run
//   in parallel. Only one BlobStore per root per process (two would not see each other's uploads).
// - Content is hashed incrementally (OpenSSL EVP): an upload of any size is streamed through bounded
//   memory, chunk by chunk, never held whole.
// - Committing content that is already stored succeeds (idempotent); two uploads of the same content
//   committed at the same time both succeed and leave one correct file.
// - Errors are gantry::Error with the image kinds of core/error.h (DIGEST_INVALID, BLOB_UNKNOWN,
//   BLOB_UPLOAD_UNKNOWN, BLOB_UPLOAD_INVALID, RANGE_INVALID, SIZE_INVALID on the wire); a failing
//   system call is kInternal. Every message names the operation, the digest or upload id and why.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/random.h"
#include "image/digest.h"
#include "image/posix_file.h"

namespace gantry::image {

struct BlobStoreOptions {
  // Largest blob accepted; an append or put beyond it fails with kImageSizeInvalid.
  uint64_t max_blob_bytes = uint64_t{64} << 30;
  // Upload sessions kept open in memory (file descriptor + running hash). Beyond this, the least
  // recently used idle session is closed; its next call reopens and rehashes the partial file.
  size_t max_open_uploads = 256;
};

// A byte range of one committed blob, read through its own file descriptor: the range stays readable
// even if the blob is removed meanwhile. Not thread-safe; movable.
class BlobReader {
 public:
  BlobReader(UniqueFd fd, uint64_t blob_size, uint64_t begin, uint64_t end, std::string digest)
      : fd_(std::move(fd)), blob_size_(blob_size), pos_(begin), end_(end), digest_(std::move(digest)) {}

  uint64_t blob_size() const { return blob_size_; }  // the whole blob, not the range
  uint64_t offset() const { return pos_; }           // blob offset of the next byte read() returns
  uint64_t remaining() const { return end_ - pos_; }
  // Copies the next bytes of the range into `out`; returns how many, 0 once the range is done.
  Result<size_t> read(std::span<uint8_t> out);
  // For sendfile(2) from offset() for remaining() bytes. read() uses pread, so the descriptor's own
  // file position is never moved by this class.
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  uint64_t blob_size_;
  uint64_t pos_;
  uint64_t end_;
  std::string digest_;
};

class BlobStore {
 public:
  // Creates root/{sha256,uploads,tmp} as needed and empties tmp/. `random` names uploads (uuid4) and
  // must outlive the store.
  static Result<std::unique_ptr<BlobStore>> open(std::filesystem::path root, Random& random,
                                                 BlobStoreOptions options = {});
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  const std::filesystem::path& root() const { return root_; }

  // --- committed blobs ---
  Result<bool> exists(const Digest& digest) const;
  // kImageBlobUnknown when absent.
  Result<uint64_t> size(const Digest& digest) const;
  // Bytes [offset, offset + length) of the blob; without `length`, to its end. A range that does not
  // fit inside the blob → kImageRangeInvalid (an empty range at the very end is allowed).
  Result<BlobReader> open_read(const Digest& digest, uint64_t offset = 0,
                               std::optional<uint64_t> length = std::nullopt) const;
  // A whole small blob (a manifest, an image config) in memory; larger than max_bytes →
  // kImageSizeInvalid.
  Result<std::string> read_all(const Digest& digest, uint64_t max_bytes) const;
  // Where the blob's file lives, e.g. to unpack a layer straight from it. Meaningful only while the
  // blob exists; never write to it.
  std::filesystem::path blob_path(const Digest& digest) const;
  // kImageBlobUnknown when absent. Open readers keep their bytes.
  Status remove(const Digest& digest);

  // Monolithic upload: verifies that `bytes` hash to `expected` before anything is written (mismatch
  // → kImageDigestInvalid and nothing stored), then stores atomically. Returns the blob size.
  Result<uint64_t> put(std::span<const uint8_t> bytes, const Digest& expected);
  Result<uint64_t> put(std::string_view bytes, const Digest& expected);

  // --- uploads (OCI chunked/resumable) ---
  // Starts an empty upload; returns its id (a uuid4).
  Result<std::string> begin_upload();
  // Appends a chunk. `expected_offset` must equal the upload's current size, else
  // kImageUploadOffset with the current size in the message (and nothing written): the client
  // resumes from upload_size(). A failed write leaves the upload at its previous size. Returns the
  // new size. Growing past max_blob_bytes → kImageSizeInvalid.
  Result<uint64_t> append(std::string_view upload_id, std::span<const uint8_t> bytes, uint64_t expected_offset);
  Result<uint64_t> append(std::string_view upload_id, std::string_view bytes, uint64_t expected_offset);
  // Bytes received so far (the next expected_offset).
  Result<uint64_t> upload_size(std::string_view upload_id);
  // Finishes an upload: its content must hash to `expected`. On a match the bytes are fsynced and
  // renamed into sha256/ (or dropped if that blob is already stored) and the upload ends; returns the
  // blob size. On a mismatch the upload is deleted and kImageDigestInvalid names both digests. An id
  // that is not a live upload → kImageUploadUnknown.
  Result<uint64_t> commit(std::string_view upload_id, const Digest& expected);
  // Deletes an upload and its bytes; kImageUploadUnknown if there is none.
  Status cancel(std::string_view upload_id);

  // Deletes every blob and upload (Gantry's test reset). Calls running meanwhile may fail or leave a
  // blob behind; run it when nothing else uses the store.
  Status clear();

 private:
  struct Upload;
  class UploadLock;

  BlobStore(std::filesystem::path root, Random& random, BlobStoreOptions options);
  std::filesystem::path upload_path(std::string_view upload_id) const;
  Result<UploadLock> lock_upload(std::string_view upload_id, const char* operation);
  Result<UploadLock> acquire_upload(std::string_view upload_id, const char* operation);
  void drop_upload(UploadLock& lock);
  void evict_idle_locked(const Upload* keep);
  Status ensure_shard_dir(const Digest& digest) const;

  std::filesystem::path root_;
  Random& random_;
  BlobStoreOptions options_;

  std::mutex mu_;  // guards uploads_ and tick_; lock order: an Upload's mutex before mu_
  std::unordered_map<std::string, std::shared_ptr<Upload>> uploads_;
  uint64_t tick_ = 0;
};

}  // namespace gantry::image
