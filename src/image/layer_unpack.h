// Unpacks one image layer (a tar, plain, gzip or zstd) into a directory that later serves as an
// overlayfs lower dir, and computes the layer's diffID (sha256 of the uncompressed tar stream).
//
// Contract:
// - All or nothing: entries are extracted into a fresh temp dir beside `target` and the temp dir is
//   renamed onto `target` (which must not exist) only after the whole stream was read, every check
//   passed and (unless told otherwise) the data reached the disk. On any error nothing is left at
//   `target` or beside it.
// - The compressed stream is decoded here (zlib / libzstd), so the uncompressed bytes are hashed on
//   the way to libarchive's tar reader; the stream is read to its very end (the whole tar including
//   trailing padding, and a gzip stream's CRC and length are checked). Reading, decoding and hashing
//   run on a helper thread of the unpack's own, a few MiB ahead of the calling thread, which writes
//   the tree: the LayerSource is called from that thread (one call at a time, never after
//   unpack_layer returns).
// - Kept: regular files, directories, symlinks (their targets are stored as they are and may point
//   anywhere), hard links, FIFOs, permissions including setuid/setgid/sticky, numeric owner and
//   group (never mapped through the host's user names), mtimes, and xattrs (security.capability
//   included). Whiteouts become overlayfs form: `.wh.<name>` → a 0:0 character device `<name>`;
//   `.wh..wh..opq` → xattr trusted.overlay.opaque="y" on its directory. Other `.wh..wh.*` entries
//   (aufs bookkeeping) are skipped, as Docker does. A 0:0 character device already in the layer is
//   the overlayfs whiteout form itself and is kept.
// - Rejected, with kImageLayerInvalid naming the entry, and nothing unpacked: absolute paths; any
//   `..` component; an entry whose path passes through a symlink (also caught on the filesystem by
//   libarchive's secure-symlinks check); hard links whose target is absolute, has `..`, passes through
//   a symlink or is not an entry of this layer; block devices; character devices other than 0:0;
//   sockets; xattrs in the trusted.overlay.* namespace (they would steer overlayfs: redirect,
//   metacopy, opaque — the last is only ever set from a `.wh..wh..opq` entry); more than
//   max_entries entries or more than max_uncompressed_bytes of tar stream; a truncated or corrupt
//   gzip/zstd/tar stream.
// - Owners, trusted.* xattrs (opaque dirs) and, before Linux 5.8, whiteout devices need root
//   (CAP_CHOWN, CAP_SYS_ADMIN, CAP_MKNOD); without it the unpack fails with an error that says so —
//   it never silently drops them.
// - Thread-safe: concurrent unpacks (into different targets) share nothing, and the process's
//   working directory is never changed (paths too long to reach without chdir are rejected). One
//   process-wide effect remains: libarchive's disk writer reads the umask with umask(0) + umask(old)
//   for every entry, so a file another thread creates in that instant gets umask 0 — create files
//   with explicit, non-permissive modes (Gantry does).
// - Not kept: POSIX ACLs and file flags (chattr); OCI layers carry neither, and an immutable flag would
//   make the cache impossible to clean.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "core/error.h"
#include "image/digest.h"

namespace gantry::image {

enum class LayerCompression {
  kDetect,  // by the magic bytes at the start of the stream
  kNone,
  kGzip,
  kZstd,
};

// Maps an OCI or Docker layer media type to its compression ("application/vnd.oci.image.layer.v1.tar",
// "...+gzip", "...+zstd", the nondistributable variants, "application/vnd.docker.image.rootfs.diff.tar.gzip",
// "...foreign.diff.tar.gzip"). Anything else → kImageLayerInvalid.
Result<LayerCompression> layer_compression_for_media_type(std::string_view media_type);

struct UnpackOptions {
  // kDetect reads the magic bytes. An explicit value must agree with them (gzip and zstd have magic
  // bytes; a stream that starts with neither counts as plain tar), else the layer is rejected.
  LayerCompression compression = LayerCompression::kDetect;
  uint64_t max_uncompressed_bytes = uint64_t{16} << 30;  // of tar stream, headers and padding included
  uint64_t max_entries = 1'000'000;                      // tar headers, whiteouts included
  // When set, a layer whose diffID differs is rejected before anything appears at `target`.
  std::optional<Digest> expected_diff_id;
  // syncfs() the target's filesystem before the final rename, so a layer dir that exists after a
  // crash is complete. Tests turn it off.
  bool sync = true;
};

struct UnpackResult {
  Digest diff_id;               // sha256 of the uncompressed tar stream
  uint64_t tar_bytes = 0;       // length of the uncompressed tar stream
  uint64_t unpacked_bytes = 0;  // sum of the sizes of regular files written (hard links not counted)
  uint64_t entries = 0;         // tar entries processed
};

// Pulls the next bytes of the (possibly compressed) layer into `out`; returns how many, 0 at the end.
using LayerSource = std::function<Result<size_t>(std::span<uint8_t> out)>;

// `target`'s parent must exist; `target` must not (kInternal otherwise — the caller owns the naming,
// usually <data>/layers/<diffid>). If another unpack creates `target` first, this one fails with
// kInternal "already exists" and cleans up after itself.
Result<UnpackResult> unpack_layer(const LayerSource& source, const std::filesystem::path& target,
                                  const UnpackOptions& options = {});
// Removes the temp dirs (".<name>.unpack-XXXXXX") that unpacks interrupted by a crash left in `dir`
// (the parent of the targets). Call at startup, before any unpack into `dir` runs; returns how many.
Result<size_t> remove_stale_unpacks(const std::filesystem::path& dir);

Result<UnpackResult> unpack_layer_file(const std::filesystem::path& layer_file, const std::filesystem::path& target,
                                       const UnpackOptions& options = {});

}  // namespace gantry::image
