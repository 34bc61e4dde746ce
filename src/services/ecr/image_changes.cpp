// PutImage, BatchDeleteImage.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "services/ecr/handlers.h"

namespace gantry::ecr {

Out put_image(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  std::string manifest = get_string(in, "imageManifest").value_or("");
  std::string media_type = get_string(in, "imageManifestMediaType").value_or("");
  PushRequest request{manifest, media_type, get_string(in, "imageTag"), get_string(in, "imageDigest"), ctx.now, true};
  json::object out;
  GANTRY_RETURN_IF_ERROR(env.store.write([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    GANTRY_ASSIGN_OR_RETURN(auto image, push_image(t, repo, request));
    out["image"] = json::object{{"registryId", repo.account},
                                {"repositoryName", repo.name},
                                {"imageId", encode_image_id(ImageId{image.digest, request.tag})},
                                {"imageManifest", image.manifest},
                                {"imageManifestMediaType", image.media_type}};
    return {};
  }));
  return out;
}


// By digest: the image and all its tags go. By tag: the tag goes, and the image with it when that was
// its last tag (as ECR does). An image an index of the repository lists stays (failure
// ImageReferencedByManifestList when asked by digest; by tag only the tag goes).
Out batch_delete_image(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  json::object out;
  GANTRY_RETURN_IF_ERROR(env.store.write([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    json::array deleted, failures;
    for (const auto& v : *get_array(in, "imageIds")) {
      ImageId id = parse_image_id(v);
      auto r = resolve_image_id(t, repo, id);
      if (auto* f = std::get_if<ImageFailure>(&r)) {
        failures.push_back(json::object{{"imageId", encode_image_id(id)}, {"failureCode", f->code},
                                        {"failureReason", f->reason}});
        continue;
      }
      const auto& image = std::get<Image>(r);
      auto referenced_by = indexes_referencing(t, ctx.scope, name, image.digest);
      if (id.tag && !id.digest) {
        t.remove_tag(ctx.scope, name, *id.tag);
        if (t.tags_of(ctx.scope, name, image.digest).empty() && referenced_by.empty())
          t.delete_image(ctx.scope, name, image.digest);
        deleted.push_back(encode_image_id(ImageId{image.digest, id.tag}));
        continue;
      }
      if (!referenced_by.empty()) {
        failures.push_back(json::object{
            {"imageId", encode_image_id(id)},
            {"failureCode", "ImageReferencedByManifestList"},
            {"failureReason", fmt::format("Requested image referenced by manifest list: [{}]",
                                          fmt::join(referenced_by, ", "))}});
        continue;
      }
      auto tags = t.tags_of(ctx.scope, name, image.digest);
      t.delete_image(ctx.scope, name, image.digest);
      if (tags.empty()) deleted.push_back(encode_image_id(ImageId{image.digest, {}}));
      for (auto& tag : tags) deleted.push_back(encode_image_id(ImageId{image.digest, tag}));
    }
    out["imageIds"] = std::move(deleted);
    out["failures"] = std::move(failures);
    return {};
  }));
  return out;
}

}  // namespace gantry::ecr
