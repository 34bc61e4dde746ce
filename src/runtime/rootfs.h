// A container's root filesystem: the image's layers, each unpacked once into a cache keyed by diffID,
// stacked as the read-only lower dirs of an overlayfs with a private upper dir per container.
//
// Images come as a manifest digest plus a way to find a blob's file: an OCI image layout directory
// (blobs/sha256/<hex>; what scripts/make-test-images and skopeo write) or Gantry's BlobStore (the
// registry's blobs). Layers are unpacked straight from those files (src/image/layer_unpack.h): whiteouts
// in overlayfs form, diffID checked against the image config's rootfs.diff_ids.
//
// On disk:
//   <layer cache>/<diffID hex>/          one unpacked layer, shared read-only by every container
//   <container dir>/upper, work          the container's private overlayfs upper and work dirs
//   <container dir>/rootfs               the overlay mount point (the bundle's root.path)
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "image/blob_store.h"
#include "image/digest.h"
#include "image/layer_unpack.h"
#include "runtime/oci_spec.h"
#include "runtime/os.h"

namespace gantry::runtime {

struct ImageLayer {
  image::Digest blob;     // the (possibly compressed) layer blob
  image::Digest diff_id;  // sha256 of its uncompressed tar, from the config's rootfs.diff_ids
  std::string media_type;
};

struct ResolvedImage {
  image::Digest manifest;
  ImageConfig config;
  std::vector<ImageLayer> layers;  // bottom first, as the manifest lists them
};

// Where the file of a blob is (it need not exist: reading it then fails with the path named).
using BlobPathFn = std::function<std::filesystem::path(const image::Digest&)>;
BlobPathFn oci_layout_blobs(const std::filesystem::path& layout_dir);
BlobPathFn blob_store_blobs(const image::BlobStore& store);

// Reads the manifest (OCI or Docker schema 2 image manifest), its config and layer list. An index /
// manifest list is followed to its entry for linux/<architecture>. Blobs are read through `os`.
// Anything malformed, a diff_ids count that differs from the layers' → kRuntimeImageInvalid.
// Where manifests come from when they are not blobs (Gantry's registry keeps them in its store): the
// manifest's bytes, which must hash to the digest asked for.
using ManifestFn = std::function<Result<std::string>(const image::Digest&)>;
Result<ResolvedImage> resolve_image(Os& os, const BlobPathFn& blobs, const image::Digest& manifest,
                                    std::string_view architecture = "amd64", const ManifestFn& manifests = {});
// The image an OCI layout's index.json names: the entry tagged `ref` (annotation
// org.opencontainers.image.ref.name), or the only entry when `ref` is empty.
Result<ResolvedImage> resolve_oci_layout(Os& os, const std::filesystem::path& layout_dir, std::string_view ref = "",
                                         std::string_view architecture = "amd64");

// Unpacks layers into <dir>/<diffID hex>, each once. Thread-safe: concurrent ensure() of one layer
// unpack it once (within this process; across processes layer_unpack's atomic rename decides). A layer
// dir that exists is complete (unpack_layer renames it into place last); at startup, call
// image::remove_stale_unpacks(dir) for the temp dirs a crash may have left.
class LayerCache {
 public:
  using Unpacker = std::function<Result<image::UnpackResult>(const std::filesystem::path& layer_file,
                                                             const std::filesystem::path& target,
                                                             const image::UnpackOptions& options)>;
  // `unpacker` defaults to image::unpack_layer_file (tests pass a fake).
  LayerCache(Os& os, std::filesystem::path dir, Unpacker unpacker = {});

  std::filesystem::path layer_dir(const image::Digest& diff_id) const;
  // The unpacked layer's directory, unpacking it first if the cache does not hold it.
  Result<std::filesystem::path> ensure(const ImageLayer& layer, const BlobPathFn& blobs);
  // Every layer of `image`, top layer first (the order overlayfs lowerdir wants).
  Result<std::vector<std::filesystem::path>> ensure_all(const ResolvedImage& image, const BlobPathFn& blobs);

 private:
  Os& os_;
  std::filesystem::path dir_;
  Unpacker unpacker_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> layer_locks_;
};

struct RootfsPlan {
  std::vector<std::string> lower_dirs;  // top first
  std::string upper;
  std::string work;
  std::string target;
  std::string options;  // the overlay mount data
};
// Plans an overlay of `lower_top_first` with upper/work/rootfs in `container_dir`. Lower paths with
// ':' or ',' or mount data over the kernel's 4095-byte limit → kRuntimeInvalidSpec.
Result<RootfsPlan> plan_rootfs(const std::vector<std::filesystem::path>& lower_top_first,
                               const std::filesystem::path& container_dir);
// Creates upper, work and target, mounts the overlay on target.
Status mount_rootfs(Os& os, const RootfsPlan& plan);
// Unmounts target and removes upper, work and target. Safe to repeat.
Status unmount_rootfs(Os& os, const RootfsPlan& plan);

}  // namespace gantry::runtime
