// Imports an image archive — a `docker save` tarball or an OCI image layout tarball — into the blob
// store, and says which manifests it holds, so `gantry image load` can tag them in a repository.
//
// Formats (told apart by what sits at the top of the archive, in any entry order):
// - OCI image layout (oci-layout + index.json + blobs/sha256/<hex>), as skopeo's oci-archive, Docker
//   25+ `docker save` (which also writes a manifest.json; index.json wins) and scripts/make-test-images
//   write it. Every manifest index.json names is imported as it is (its digest is kept); an index
//   (OCI index or Docker manifest list) is followed to its child manifests, which must be there too.
// - Classic `docker save` (manifest.json, <config>.json, <id>/layer.tar; symlinked and hard-linked
//   layer files as docker and skopeo write them are followed). Each manifest.json image becomes a
//   Docker schema 2 manifest (application/vnd.docker.distribution.manifest.v2+json) built here, with
//   the config blob and the layer files stored as they are: uncompressed layers as
//   application/vnd.docker.image.rootfs.diff.tar, gzip ones as ...diff.tar.gzip. Every layer's diffID
//   is checked against the config's rootfs.diff_ids, and a config named <64 hex>.json must hash to
//   its name. Legacy <id>/json and <id>/VERSION files are skipped.
// The archive itself may be gzip-compressed (`docker save | gzip`).
//
// Contract:
// - Streaming: the archive is read once, front to back, in bounded memory. Each file is streamed into
//   a BlobStore upload and committed under its sha256 (for OCI blobs, the digest its name states: the
//   store verifies it, so a blob that does not hash to its name is never stored). A blob the store
//   already holds is not written again. Only index.json, oci-layout, manifest.json, repositories,
//   manifests and image configs (each at most max_metadata_bytes) are held in memory.
// - Every manifest returned is in the store, as are the configs and layers it references (from the
//   archive, or already present in the store: an OCI layout may leave out blobs the store has).
// - Rejected, naming the entry or the blob: absolute paths, `..` components, links that leave the
//   archive, devices, FIFOs and sockets (kImageLayerInvalid); an entry larger than max_entry_bytes,
//   more than max_total_bytes of content or more than max_entries entries (kImageSizeInvalid); blobs
//   that do not hash to their name, layers whose diffID is not the config's, configs that do not hash
//   to their name (kImageDigestInvalid); blobs referenced but neither in the archive nor in the store
//   (kImageBlobUnknown); descriptor sizes that differ from the blob's (kImageSizeInvalid); malformed
//   JSON, unknown manifest media types, duplicate entries, a truncated or corrupt archive
//   (kImageLayerInvalid — the kind for rejected image tarballs).
// - On an error, blobs already committed stay in the store: they are verified, content-addressed and
//   possibly shared with a concurrent push, so removing them is left to the registry's garbage
//   collection. Nothing else is left behind (open uploads are cancelled).
// - Thread-safe as far as the BlobStore is: concurrent imports may share a store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "image/blob_store.h"
#include "image/digest.h"
#include "image/media_types.h"

namespace gantry::image {

struct ArchiveImportOptions {
  uint64_t max_entries = 100'000;                   // tar headers of the archive, directories included
  uint64_t max_entry_bytes = uint64_t{16} << 30;    // one file of the archive
  uint64_t max_total_bytes = uint64_t{64} << 30;    // all file content of the archive
  uint64_t max_metadata_bytes = uint64_t{4} << 20;  // index.json, manifest.json, one manifest or config
};

enum class ArchiveFormat { kOciLayout, kDockerArchive };

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;  // empty when the image names none
  friend bool operator==(const Platform&, const Platform&) = default;
};

struct ImportedManifest {
  Digest digest;
  std::string media_type;  // one of the four kMediaType*Manifest* / *Index / *List above
  std::string bytes;       // exactly the stored blob
  // An image manifest's platform: from the index descriptor that names it, else from its config.
  // Empty for an index / manifest list.
  std::optional<Platform> platform;
  // Names as the archive writes them: docker RepoTags ("busybox:latest", "host:5000/a/b:v1") or the
  // OCI annotation org.opencontainers.image.ref.name ("latest" or a full reference; falling back to
  // io.containerd.image.name). Empty for an untagged image and for child manifests.
  std::vector<std::string> references;
  std::vector<std::string> tags;  // the tag of each reference that has one ("latest"), deduplicated
  // False for a manifest the archive only holds as a child of an index / manifest list.
  bool top_level = true;
};

struct ArchiveImport {
  ArchiveFormat format = ArchiveFormat::kOciLayout;
  // In push order: each manifest comes after every manifest it references (children before their
  // index), so putting them into a registry in this order never names a missing manifest.
  std::vector<ImportedManifest> manifests;
  uint64_t blobs_added = 0;  // files of the archive newly committed to the store
  uint64_t bytes_added = 0;
  uint64_t blobs_present = 0;  // files whose blob the store already held (not written again)
};

// Reads the archive at `path` ("-" is not special; use import_image_archive_fd for a pipe).
Result<ArchiveImport> import_image_archive(const std::filesystem::path& path, BlobStore& store,
                                           const ArchiveImportOptions& options = {});
// Reads the archive from `fd` (a file or a pipe; not closed). `name` only appears in messages.
Result<ArchiveImport> import_image_archive_fd(int fd, std::string_view name, BlobStore& store,
                                              const ArchiveImportOptions& options = {});

}  // namespace gantry::image
