#include "runtime/rootfs.h"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace gantry::runtime {
namespace json = boost::json;
namespace {

constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";

Error invalid_image(std::string message) { return make_error(ErrorKind::kRuntimeImageInvalid, std::move(message)); }

Result<json::object> parse_object(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return invalid_image(fmt::format("{}: not JSON: {}", what, ec.message()));
  if (!v.is_object()) return invalid_image(fmt::format("{}: not a JSON object", what));
  return std::move(v.get_object());
}

std::string str_or_empty(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

Result<image::Digest> digest_of(const json::object& descriptor, std::string_view what) {
  const auto* d = descriptor.if_contains("digest");
  if (d == nullptr || !d->is_string()) return invalid_image(fmt::format("{}: descriptor without a digest", what));
  auto digest = image::Digest::parse(d->get_string());
  if (!digest.ok()) return invalid_image(fmt::format("{}: {}", what, digest.error().message));
  return *digest;
}

Result<const json::array*> array_member(const json::object& o, std::string_view key, std::string_view what) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return invalid_image(fmt::format("{}: no {} array", what, key));
  return &v->get_array();
}

Result<std::string> read_blob(Os& os, const BlobPathFn& blobs, const image::Digest& digest) {
  auto path = blobs(digest);
  auto text = os.read_file(path);
  if (!text.ok()) return invalid_image(fmt::format("blob {}: {}", digest.str(), text.error().message));
  if (image::sha256_of(*text) != digest) {
    return invalid_image(fmt::format("blob {} at {} does not hash to its digest", digest.str(), path.string()));
  }
  return std::move(*text);
}

}  // namespace

BlobPathFn oci_layout_blobs(const std::filesystem::path& layout_dir) {
  return [layout_dir](const image::Digest& d) { return layout_dir / "blobs" / "sha256" / std::string(d.hex()); };
}

BlobPathFn blob_store_blobs(const image::BlobStore& store) {
  return [&store](const image::Digest& d) { return store.blob_path(d); };
}

Result<ResolvedImage> resolve_image(Os& os, const BlobPathFn& blobs, const image::Digest& manifest_digest,
                                    std::string_view architecture, const ManifestFn& manifests) {
  std::string text;
  if (manifests) {
    GANTRY_ASSIGN_OR_RETURN(text, manifests(manifest_digest));
    if (image::sha256_of(text) != manifest_digest)
      return invalid_image(fmt::format("manifest {} does not hash to its digest", manifest_digest.str()));
  } else {
    GANTRY_ASSIGN_OR_RETURN(text, read_blob(os, blobs, manifest_digest));
  }
  std::string what = fmt::format("manifest {}", manifest_digest.str());
  GANTRY_ASSIGN_OR_RETURN(json::object manifest, parse_object(text, what));
  std::string media_type = str_or_empty(manifest, "mediaType");
  if (media_type == kOciIndex || media_type == kDockerList || (media_type.empty() && manifest.contains("manifests"))) {
    GANTRY_ASSIGN_OR_RETURN(const json::array* entries, array_member(manifest, "manifests", what));
    for (const auto& e : *entries) {
      if (!e.is_object()) continue;
      const auto* platform = e.get_object().if_contains("platform");
      if (platform == nullptr || !platform->is_object()) continue;
      if (str_or_empty(platform->get_object(), "os") != "linux" ||
          str_or_empty(platform->get_object(), "architecture") != architecture) {
        continue;
      }
      GANTRY_ASSIGN_OR_RETURN(auto child, digest_of(e.get_object(), what));
      return resolve_image(os, blobs, child, architecture, manifests);
    }
    return invalid_image(fmt::format("{}: no linux/{} image in this index", what, architecture));
  }
  if (!media_type.empty() && media_type != kOciManifest && media_type != kDockerManifest) {
    return invalid_image(fmt::format("{}: unsupported media type {}", what, media_type));
  }
  const auto* config_desc = manifest.if_contains("config");
  if (config_desc == nullptr || !config_desc->is_object()) return invalid_image(fmt::format("{}: no config", what));
  GANTRY_ASSIGN_OR_RETURN(auto config_digest, digest_of(config_desc->get_object(), what));
  GANTRY_ASSIGN_OR_RETURN(std::string config_text, read_blob(os, blobs, config_digest));
  ResolvedImage out{manifest_digest, {}, {}};
  GANTRY_ASSIGN_OR_RETURN(out.config, parse_image_config(config_text));
  GANTRY_ASSIGN_OR_RETURN(json::object config,
                          parse_object(config_text, fmt::format("config {}", config_digest.str())));
  const auto* rootfs = config.if_contains("rootfs");
  if (rootfs == nullptr || !rootfs->is_object())
    return invalid_image(fmt::format("config {}: no rootfs", config_digest.str()));
  GANTRY_ASSIGN_OR_RETURN(const json::array* diff_ids, array_member(rootfs->get_object(), "diff_ids",
                                                                    fmt::format("config {}", config_digest.str())));
  GANTRY_ASSIGN_OR_RETURN(const json::array* layers, array_member(manifest, "layers", what));
  if (diff_ids->size() != layers->size()) {
    return invalid_image(
        fmt::format("{}: {} layers but its config lists {} diff_ids", what, layers->size(), diff_ids->size()));
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    const auto& l = (*layers)[i];
    if (!l.is_object() || !(*diff_ids)[i].is_string())
      return invalid_image(fmt::format("{}: malformed layer {}", what, i));
    GANTRY_ASSIGN_OR_RETURN(auto blob, digest_of(l.get_object(), what));
    auto diff_id = image::Digest::parse((*diff_ids)[i].get_string());
    if (!diff_id.ok()) return invalid_image(fmt::format("config {}: {}", config_digest.str(), diff_id.error().message));
    out.layers.push_back(ImageLayer{blob, *diff_id, str_or_empty(l.get_object(), "mediaType")});
  }
  return out;
}

Result<ResolvedImage> resolve_oci_layout(Os& os, const std::filesystem::path& layout_dir, std::string_view ref,
                                         std::string_view architecture) {
  auto index_path = layout_dir / "index.json";
  auto text = os.read_file(index_path);
  if (!text.ok()) return invalid_image(fmt::format("OCI layout {}: {}", layout_dir.string(), text.error().message));
  GANTRY_ASSIGN_OR_RETURN(json::object index, parse_object(*text, index_path.string()));
  GANTRY_ASSIGN_OR_RETURN(const json::array* entries, array_member(index, "manifests", index_path.string()));
  std::optional<image::Digest> chosen;
  for (const auto& e : *entries) {
    if (!e.is_object()) continue;
    std::string name;
    if (const auto* ann = e.get_object().if_contains("annotations"); ann != nullptr && ann->is_object()) {
      name = str_or_empty(ann->get_object(), "org.opencontainers.image.ref.name");
    }
    if (!ref.empty() && name != ref) continue;
    if (chosen) return invalid_image(fmt::format("{}: several images; name one by its ref", index_path.string()));
    GANTRY_ASSIGN_OR_RETURN(chosen, digest_of(e.get_object(), index_path.string()));
  }
  if (!chosen) {
    return invalid_image(
        fmt::format("{}: no image{}", index_path.string(), ref.empty() ? "" : fmt::format(" named \"{}\"", ref)));
  }
  return resolve_image(os, oci_layout_blobs(layout_dir), *chosen, architecture);
}

LayerCache::LayerCache(Os& os, std::filesystem::path dir, Unpacker unpacker)
    : os_(os), dir_(std::move(dir)), unpacker_(std::move(unpacker)) {
  if (!unpacker_) {
    unpacker_ = [](const std::filesystem::path& file, const std::filesystem::path& target,
                   const image::UnpackOptions& o) { return image::unpack_layer_file(file, target, o); };
  }
}

std::filesystem::path LayerCache::layer_dir(const image::Digest& diff_id) const {
  return dir_ / std::string(diff_id.hex());
}

Result<std::filesystem::path> LayerCache::ensure(const ImageLayer& layer, const BlobPathFn& blobs) {
  std::shared_ptr<std::mutex> lock;
  {
    std::lock_guard guard(mu_);
    auto& slot = layer_locks_[layer.diff_id.str()];
    if (!slot) slot = std::make_shared<std::mutex>();
    lock = slot;
  }
  std::lock_guard layer_guard(*lock);
  auto target = layer_dir(layer.diff_id);
  GANTRY_ASSIGN_OR_RETURN(bool present, os_.exists(target));
  if (present) return target;
  GANTRY_RETURN_IF_ERROR(os_.make_dirs(dir_));
  image::UnpackOptions options;
  options.expected_diff_id = layer.diff_id;
  if (!layer.media_type.empty()) {
    auto compression = image::layer_compression_for_media_type(layer.media_type);
    if (!compression.ok())
      return invalid_image(fmt::format("layer {}: {}", layer.blob.str(), compression.error().message));
    options.compression = *compression;
  }
  auto unpacked = unpacker_(blobs(layer.blob), target, options);
  if (!unpacked.ok()) {
    // Another process may have unpacked the same layer meanwhile: its complete result is as good.
    GANTRY_ASSIGN_OR_RETURN(bool now_present, os_.exists(target));
    if (now_present) return target;
    return make_error(unpacked.error().kind, fmt::format("unpack layer {} (diffID {}): {}", layer.blob.str(),
                                                         layer.diff_id.str(), unpacked.error().message));
  }
  return target;
}

Result<std::vector<std::filesystem::path>> LayerCache::ensure_all(const ResolvedImage& image, const BlobPathFn& blobs) {
  std::vector<std::filesystem::path> out;
  for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it) {
    GANTRY_ASSIGN_OR_RETURN(auto dir, ensure(*it, blobs));
    out.push_back(std::move(dir));
  }
  return out;
}

Result<RootfsPlan> plan_rootfs(const std::vector<std::filesystem::path>& lower_top_first,
                               const std::filesystem::path& container_dir) {
  if (lower_top_first.empty())
    return make_error(ErrorKind::kRuntimeInvalidSpec, "rootfs: an image needs at least one layer");
  RootfsPlan plan;
  plan.upper = (container_dir / "upper").string();
  plan.work = (container_dir / "work").string();
  plan.target = (container_dir / "rootfs").string();
  std::string lower;
  for (const auto& l : lower_top_first) {
    std::string s = l.string();
    if (s.find_first_of(":,") != std::string::npos) {
      return make_error(ErrorKind::kRuntimeInvalidSpec, fmt::format("rootfs: layer path {} holds ':' or ','", s));
    }
    if (!lower.empty()) lower += ':';
    lower += s;
    plan.lower_dirs.push_back(std::move(s));
  }
  for (const auto* p : {&plan.upper, &plan.work}) {
    if (p->find_first_of(":,") != std::string::npos) {
      return make_error(ErrorKind::kRuntimeInvalidSpec, fmt::format("rootfs: path {} holds ':' or ','", *p));
    }
  }
  plan.options = fmt::format("lowerdir={},upperdir={},workdir={}", lower, plan.upper, plan.work);
  if (plan.options.size() > 4095) {
    return make_error(ErrorKind::kRuntimeInvalidSpec,
                      fmt::format("rootfs: overlay mount options are {} bytes, over the kernel's 4095 ({} layers)",
                                  plan.options.size(), plan.lower_dirs.size()));
  }
  return plan;
}

Status mount_rootfs(Os& os, const RootfsPlan& plan) {
  for (const auto* dir : {&plan.upper, &plan.work, &plan.target}) GANTRY_RETURN_IF_ERROR(os.make_dirs(*dir));
  return os.mount("overlay", plan.target, "overlay", 0, plan.options);
}

Status unmount_rootfs(Os& os, const RootfsPlan& plan) {
  GANTRY_RETURN_IF_ERROR(os.unmount(plan.target, 0));
  for (const auto* dir : {&plan.upper, &plan.work}) GANTRY_RETURN_IF_ERROR(os.remove_all(*dir));
  return os.remove_dir(plan.target);
}

}  // namespace gantry::runtime
