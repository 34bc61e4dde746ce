#include "services/ecr/images.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "image/digest.h"
#include "services/ecr/manifest.h"

namespace gantry::ecr {

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+([._-][a-z0-9]+)*
bool valid_component(std::string_view c) {
  if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
  for (size_t i = 1; i < c.size(); ++i) {
    bool sep = c[i] == '.' || c[i] == '_' || c[i] == '-';
    if (!sep && !lower_alnum(c[i])) return false;
    if (sep && !lower_alnum(c[i - 1])) return false;
  }
  return true;
}

// Blobs a registry never holds: Docker's foreign layers and OCI's non-distributable ones are
// fetched from their own URLs.
bool external_layer(std::string_view media_type) {
  return media_type.find("foreign") != std::string_view::npos ||
         media_type.find("nondistributable") != std::string_view::npos;
}

}  // namespace

std::string_view to_string(TagMutability m) { return m == TagMutability::kImmutable ? "IMMUTABLE" : "MUTABLE"; }

std::string Repository::arn() const { return scope().arn("ecr", "repository/" + name); }

bool valid_repository_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 256) return false;
  size_t pos = 0;
  while (true) {
    size_t slash = name.find('/', pos);
    if (!valid_component(name.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos)))
      return false;
    if (slash == std::string_view::npos) return true;
    pos = slash + 1;
  }
}

bool valid_image_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 300 || tag.front() == '.' || tag.front() == '-') return false;
  for (char c : tag) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<Repository> require_repository(EcrTables& t, const Scope& scope, std::string_view name) {
  auto repo = t.find_repository(scope, name);
  if (!repo)
    return make_error(ErrorKind::kEcrRepositoryNotFound,
                      fmt::format("The repository with name '{}' does not exist in the registry with id '{}'",
                                  name.substr(0, 256), scope.account));
  return *repo;
}

Result<Image> find_by_reference(EcrTables& t, const Repository& repo, std::string_view reference) {
  std::optional<Image> image;
  if (reference.starts_with("sha256:")) {
    image = t.find_image(repo.scope(), repo.name, reference);
  } else if (auto digest = t.tag_digest(repo.scope(), repo.name, reference)) {
    image = t.find_image(repo.scope(), repo.name, *digest);
  }
  if (!image)
    return make_error(ErrorKind::kEcrImageNotFound,
                      fmt::format("The image with imageId {{{}:'{}'}} does not exist within the repository with name "
                                  "'{}' in the registry with id '{}'",
                                  reference.starts_with("sha256:") ? "imageDigest" : "imageTag",
                                  reference.substr(0, 300), repo.name, repo.account));
  return *image;
}

Result<Image> push_image(EcrTables& t, const Repository& repo, const PushRequest& r) {
  GANTRY_ASSIGN_OR_RETURN(auto manifest, parse_manifest(r.manifest, r.media_type));
  const std::string digest = image::sha256_of(r.manifest).str();
  if (r.expected_digest && *r.expected_digest != digest)
    return make_error(ErrorKind::kEcrImageDigestDoesNotMatch,
                      fmt::format("Invalid parameter at 'imageDigest': the manifest's digest is {}, not {}", digest,
                                  r.expected_digest->substr(0, 128)));
  if (r.tag && !valid_image_tag(*r.tag))
    return make_error(ErrorKind::kEcrInvalidParameter,
                      fmt::format("Invalid parameter at 'imageTag': '{}' is not a valid image tag (letters, digits, "
                                  "_ . -, not starting with . or -, at most 300 characters)",
                                  r.tag->substr(0, 300)));
  const Scope scope = repo.scope();
  std::vector<std::string> missing;
  if (manifest.is_index()) {
    for (const auto& m : manifest.manifests)
      if (!t.find_image(scope, repo.name, m.digest.str())) missing.push_back(m.digest.str());
    if (!missing.empty())
      return make_error(ErrorKind::kEcrReferencedImagesNotFound,
                        fmt::format("The manifests {} referenced by the index are not images of the repository '{}'",
                                    fmt::join(missing, ", "), repo.name));
  } else {
    std::vector<const Descriptor*> blobs{&*manifest.config};
    for (const auto& l : manifest.layers)
      if (!external_layer(l.media_type)) blobs.push_back(&l);
    for (const auto* b : blobs) {
      auto size = t.blob_size(scope, repo.name, b->digest.str());
      if (!size) missing.push_back(b->digest.str());
    }
    if (!missing.empty())
      return make_error(ErrorKind::kEcrLayersNotFound,
                        fmt::format("Layers with digests {} are not present in the repository '{}'; upload them "
                                    "before the manifest",
                                    fmt::join(missing, ", "), repo.name));
  }

  auto existing = t.find_image(scope, repo.name, digest);
  std::optional<std::string> tagged = r.tag ? t.tag_digest(scope, repo.name, *r.tag) : std::nullopt;
  if (r.refuse_existing && existing && (!r.tag || tagged == digest))
    return make_error(ErrorKind::kEcrImageAlreadyExists,
                      fmt::format("Image with digest '{}'{} already exists in the repository with name '{}' in "
                                  "registry with id '{}'",
                                  digest, r.tag ? fmt::format(" and tag '{}'", *r.tag) : std::string(), repo.name,
                                  repo.account));
  if (tagged && *tagged != digest && repo.mutability == TagMutability::kImmutable)
    return make_error(ErrorKind::kEcrImageTagAlreadyExists,
                      fmt::format("The image tag '{}' already exists in the '{}' repository and cannot be overwritten "
                                  "because the repository is immutable.",
                                  *r.tag, repo.name));
  Image image;
  if (existing) {
    image = *existing;
  } else {
    image.digest = digest;
    image.manifest = std::string(r.manifest);
    image.media_type = manifest.media_type;
    image.artifact_media_type = manifest.config ? manifest.config->media_type : std::string();
    image.size_bytes = manifest.size_bytes();
    image.pushed_at = r.now;
    t.put_image(scope, repo.name, image);
  }
  if (r.tag) t.set_tag(scope, repo.name, *r.tag, digest);
  return image;
}

std::optional<Image> negotiate(EcrTables& t, const Repository& repo, const Image& image,
                               const std::function<bool(std::string_view)>& accepted) {
  if (accepted(image.media_type)) return image;
  if (!is_index_media_type(image.media_type)) return std::nullopt;
  auto index = parse_manifest(image.manifest, image.media_type);
  if (!index) return std::nullopt;
  auto entry = select_platform(*index, "linux", "amd64");
  if (!entry) return std::nullopt;
  auto child = t.find_image(repo.scope(), repo.name, entry->digest.str());
  if (!child || !accepted(child->media_type)) return std::nullopt;
  return child;
}

// The indexes (manifest lists) of the repository that list `digest`, in digest order.
std::vector<std::string> indexes_referencing(EcrTables& t, const Scope& scope, std::string_view repo,
                                             std::string_view digest) {
  std::vector<std::string> out;
  std::string after;
  for (;;) {
    auto page = t.list_images(scope, repo, after, 500);
    for (const auto& image : page) {
      if (!is_index_media_type(image.media_type)) continue;
      auto m = parse_manifest(image.manifest, image.media_type);
      if (!m.ok()) continue;
      for (const auto& d : m->manifests) {
        if (d.digest.str() == digest) {
          out.push_back(image.digest);
          break;
        }
      }
    }
    if (page.size() < 500) break;
    after = page.back().digest;
  }
  return out;
}


}  // namespace gantry::ecr
