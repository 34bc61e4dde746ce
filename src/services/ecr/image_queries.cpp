// ListImages, DescribeImages, BatchGetImage.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/pagination.h"
#include "image/digest.h"
#include "services/ecr/handlers.h"

namespace gantry::ecr {

namespace {

// Every image of a repository: the listings page through these in memory (ECR caps a repository at
// 20,000 images; the manifest bytes are not needed here but come with the row).
constexpr int kAllImages = 1'000'000;

enum class TagFilter { kAny, kTagged, kUntagged };

TagFilter tag_filter(const json::object& in) {
  auto* f = in.if_contains("filter");
  if (f == nullptr || !f->is_object()) return TagFilter::kAny;
  auto s = get_string(f->as_object(), "tagStatus").value_or("ANY");
  return s == "TAGGED" ? TagFilter::kTagged : s == "UNTAGGED" ? TagFilter::kUntagged : TagFilter::kAny;
}

json::object image_detail(const Repository& repo, const Image& image, const std::vector<std::string>& tags) {
  json::object o{{"registryId", repo.account},
                 {"repositoryName", repo.name},
                 {"imageDigest", image.digest}};
  if (!tags.empty()) {
    json::array t;
    for (const auto& tag : tags) t.emplace_back(tag);
    o["imageTags"] = std::move(t);
  }
  o["imageSizeInBytes"] = image.size_bytes;
  o["imagePushedAt"] = epoch_seconds(image.pushed_at);
  o["imageManifestMediaType"] = image.media_type;
  if (!image.artifact_media_type.empty()) o["artifactMediaType"] = image.artifact_media_type;
  return o;
}

Error image_not_found(const Repository& repo, const ImageId& id) {
  std::string which = id.digest ? "imageDigest:'" + *id.digest + "'" : "imageTag:'" + id.tag.value_or("") + "'";
  return make_error(ErrorKind::kEcrImageNotFound,
                    fmt::format("The image with imageId {{{}}} does not exist within the repository with name '{}' in "
                                "the registry with id '{}'",
                                which, repo.name, repo.account));
}

}  // namespace

std::variant<Image, ImageFailure> resolve_image_id(EcrTables& t, const Repository& repo, const ImageId& id) {
  if (!id.digest && !id.tag) return ImageFailure{"MissingDigestAndTag", "Requested image has no digest and no tag"};
  if (id.digest && !image::Digest::parse(*id.digest)) return ImageFailure{"InvalidImageDigest", "Invalid image digest"};
  if (id.tag && !valid_image_tag(*id.tag)) return ImageFailure{"InvalidImageTag", "Invalid image tag"};
  std::optional<std::string> digest = id.digest;
  if (id.tag) {
    auto tagged = t.tag_digest(repo.scope(), repo.name, *id.tag);
    if (!tagged) return ImageFailure{"ImageNotFound", "Requested image not found"};
    if (digest && *digest != *tagged)
      return ImageFailure{"ImageTagDoesNotMatchDigest", "Image tag does not match the given image digest"};
    digest = tagged;
  }
  auto image = t.find_image(repo.scope(), repo.name, *digest);
  if (!image) return ImageFailure{"ImageNotFound", "Requested image not found"};
  return *image;
}

ImageId parse_image_id(const json::value& v) {
  ImageId id;
  if (!v.is_object()) return id;
  id.digest = get_string(v.as_object(), "imageDigest");
  id.tag = get_string(v.as_object(), "imageTag");
  return id;
}

json::object encode_image_id(const ImageId& id) {
  json::object o;
  if (id.digest) o["imageDigest"] = *id.digest;
  if (id.tag) o["imageTag"] = *id.tag;
  return o;
}

Out list_images(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  GANTRY_ASSIGN_OR_RETURN(int limit, page_size(in, 100));
  GANTRY_ASSIGN_OR_RETURN(auto after, page_start(in, "ecr.ListImages"));
  const TagFilter filter = tag_filter(in);
  json::object out;
  GANTRY_RETURN_IF_ERROR(env.store.read([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    std::vector<std::pair<std::string, ImageId>> rows;  // (sort key, id)
    for (const auto& image : t.list_images(ctx.scope, name, "", kAllImages)) {
      auto tags = t.tags_of(ctx.scope, name, image.digest);
      if (tags.empty() && filter != TagFilter::kTagged) rows.emplace_back(image.digest + "\n", ImageId{image.digest, {}});
      if (filter != TagFilter::kUntagged)
        for (auto& tag : tags) rows.emplace_back(image.digest + "\n" + tag, ImageId{image.digest, tag});
    }
    json::array ids;
    size_t i = 0;
    while (i < rows.size() && !after.empty() && rows[i].first <= after) ++i;
    size_t end = std::min(rows.size(), i + static_cast<size_t>(limit));
    for (size_t k = i; k < end; ++k) ids.push_back(encode_image_id(rows[k].second));
    if (end < rows.size() && end > i) out["nextToken"] = encode_page_token("ecr.ListImages", rows[end - 1].first);
    out["imageIds"] = std::move(ids);
    return {};
  }));
  return out;
}

Out describe_images(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  auto* ids = get_array(in, "imageIds");
  if (ids && (in.contains("maxResults") || in.contains("nextToken")))
    return make_error(ErrorKind::kEcrInvalidParameter, "maxResults and nextToken cannot be used together with imageIds");
  GANTRY_ASSIGN_OR_RETURN(int limit, page_size(in, 100));
  GANTRY_ASSIGN_OR_RETURN(auto after, page_start(in, "ecr.DescribeImages"));
  const TagFilter filter = tag_filter(in);
  json::object out;
  GANTRY_RETURN_IF_ERROR(env.store.read([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    json::array details;
    if (ids) {
      std::set<std::string> seen;
      for (const auto& v : *ids) {
        ImageId id = parse_image_id(v);
        auto r = resolve_image_id(t, repo, id);
        if (auto* f = std::get_if<ImageFailure>(&r)) {
          if (f->code == "ImageNotFound" || f->code == "MissingDigestAndTag") return image_not_found(repo, id);
          return make_error(ErrorKind::kEcrInvalidParameter, f->reason);
        }
        const auto& image = std::get<Image>(r);
        if (seen.insert(image.digest).second)
          details.push_back(image_detail(repo, image, t.tags_of(ctx.scope, name, image.digest)));
      }
      out["imageDetails"] = std::move(details);
      return {};
    }
    auto images = t.list_images(ctx.scope, name, after, kAllImages);
    size_t taken = 0;
    std::string last;
    bool more = false;
    for (const auto& image : images) {
      auto tags = t.tags_of(ctx.scope, name, image.digest);
      if ((filter == TagFilter::kTagged && tags.empty()) || (filter == TagFilter::kUntagged && !tags.empty())) continue;
      if (taken == static_cast<size_t>(limit)) {
        more = true;
        break;
      }
      details.push_back(image_detail(repo, image, tags));
      last = image.digest;
      ++taken;
    }
    if (more) out["nextToken"] = encode_page_token("ecr.DescribeImages", last);
    out["imageDetails"] = std::move(details);
    return {};
  }));
  return out;
}

Out batch_get_image(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  std::set<std::string, std::less<>> accepted;
  if (auto* types = get_array(in, "acceptedMediaTypes"))
    for (const auto& v : *types) accepted.emplace(v.as_string());
  auto accepts = [&](std::string_view media_type) { return accepted.empty() || accepted.contains(media_type); };
  json::object out;
  GANTRY_RETURN_IF_ERROR(env.store.read([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    json::array images, failures;
    for (const auto& v : *get_array(in, "imageIds")) {
      ImageId id = parse_image_id(v);
      auto r = resolve_image_id(t, repo, id);
      if (auto* f = std::get_if<ImageFailure>(&r)) {
        failures.push_back(json::object{{"imageId", encode_image_id(id)}, {"failureCode", f->code},
                                        {"failureReason", f->reason}});
        continue;
      }
      auto served = negotiate(t, repo, std::get<Image>(r), accepts);
      if (!served) {
        failures.push_back(json::object{
            {"imageId", encode_image_id(id)},
            {"failureCode", "ImageNotFound"},
            {"failureReason", fmt::format("The image's manifest is of media type {}, which acceptedMediaTypes does not "
                                          "include",
                                          std::get<Image>(r).media_type)}});
        continue;
      }
      ImageId served_id{served->digest, id.tag};
      images.push_back(json::object{{"registryId", repo.account},
                                    {"repositoryName", repo.name},
                                    {"imageId", encode_image_id(served_id)},
                                    {"imageManifest", served->manifest},
                                    {"imageManifestMediaType", served->media_type}});
    }
    out["images"] = std::move(images);
    out["failures"] = std::move(failures);
    return {};
  }));
  return out;
}

}  // namespace gantry::ecr
