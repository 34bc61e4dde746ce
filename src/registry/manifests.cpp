// Manifest PUT, GET/HEAD and DELETE, by tag or digest.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "image/digest.h"
#include "registry/internal.h"
#include "services/ecr/images.h"
#include "services/ecr/manifest.h"

namespace gantry::registry {

namespace {

// Every Accept header of the request, joined as one list.
std::string accept_list(const http::Request& req) {
  std::string out;
  for (const auto& [k, v] : req.headers) {
    if (k != "accept") continue;
    if (!out.empty()) out += ",";
    out += v;
  }
  return out;
}

bool is_digest(std::string_view ref) { return ref.starts_with("sha256:") || ref.find(':') != std::string_view::npos; }

// A manifest reference: a digest (checked) or a tag (checked).
Status check_reference(std::string_view ref) {
  if (is_digest(ref)) {
    auto digest = image::Digest::parse(ref);
    if (!digest) return digest.error();
    return {};
  }
  if (!ecr::valid_image_tag(ref))
    return make_error(ErrorKind::kRegistryTagInvalid,
                      fmt::format("'{}' is not a valid tag (letters, digits, _ . -, at most 300 characters, not "
                                  "starting with . or -)",
                                  ref.substr(0, 300)));
  return {};
}

}  // namespace

http::Response get_manifest(Call& call) {
  if (auto st = check_reference(call.route.ref); !st) return oci_error(st.error());
  const std::string accept = accept_list(call.request);
  // Image manifests go out as stored; an index goes out only to a client that takes it, else its
  // linux/amd64 image does.
  auto takes = [&](std::string_view media_type) {
    return !ecr::is_index_media_type(media_type) || ecr::accepts(accept, media_type);
  };
  std::optional<ecr::Image> served;
  auto st = call.env.store.read([&](ecr::EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, ecr::require_repository(t, call.scope, call.route.name));
    GANTRY_ASSIGN_OR_RETURN(auto image, ecr::find_by_reference(t, repo, call.route.ref));
    served = ecr::negotiate(t, repo, image, takes);
    if (!served)
      return make_error(ErrorKind::kRegistryManifestUnknown,
                        fmt::format("{} is a {} and the client accepts neither it nor a linux/amd64 image it lists",
                                    call.route.ref.substr(0, 300), image.media_type));
    return {};
  });
  if (!st) return oci_error(st.error());
  http::Response r = reply(200);
  r.set_header("Content-Type", served->media_type);
  r.set_header("Docker-Content-Digest", served->digest);
  r.set_header("ETag", "\"" + served->digest + "\"");
  r.body = served->manifest;
  return r;
}

http::Response put_manifest(Call& call, std::string_view body) {
  if (auto st = check_reference(call.route.ref); !st) return oci_error(st.error());
  constexpr size_t kMaxManifest = 4 * 1024 * 1024;  // ECR's limit
  if (body.size() > kMaxManifest)
    return oci_error(make_error(ErrorKind::kRegistryManifestInvalid,
                                fmt::format("manifest of {} bytes exceeds the 4 MiB limit", body.size())));
  ecr::PushRequest request;
  request.manifest = body;
  request.media_type = call.request.header("content-type");
  if (is_digest(call.route.ref)) request.expected_digest = call.route.ref;
  else request.tag = call.route.ref;
  request.now = call.env.clock.now();
  std::optional<ecr::Image> image;
  auto st = call.env.store.write([&](ecr::EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, ecr::require_repository(t, call.scope, call.route.name));
    GANTRY_ASSIGN_OR_RETURN(auto pushed, ecr::push_image(t, repo, request));
    image = std::move(pushed);
    return {};
  });
  if (!st) return oci_error(st.error());
  http::Response r = reply(201);
  r.set_header("Location", fmt::format("/v2/{}/manifests/{}", call.route.name, image->digest));
  r.set_header("Docker-Content-Digest", image->digest);
  return r;
}

// By digest: the image and its tags. By tag: the tag, and the image with it when that was its last
// tag (as ECR's BatchDeleteImage does). An image an index of the repository lists stays: by digest
// that is a DENIED error, by tag only the tag goes.
http::Response delete_manifest(Call& call) {
  if (auto st = check_reference(call.route.ref); !st) return oci_error(st.error());
  auto st = call.env.store.write([&](ecr::EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, ecr::require_repository(t, call.scope, call.route.name));
    GANTRY_ASSIGN_OR_RETURN(auto image, ecr::find_by_reference(t, repo, call.route.ref));
    auto referenced_by = ecr::indexes_referencing(t, call.scope, repo.name, image.digest);
    if (is_digest(call.route.ref)) {
      if (!referenced_by.empty())
        return make_error(ErrorKind::kRegistryDenied,
                          fmt::format("Requested image referenced by manifest list: [{}]", fmt::join(referenced_by, ", ")));
      t.delete_image(call.scope, repo.name, image.digest);
      return {};
    }
    t.remove_tag(call.scope, repo.name, call.route.ref);
    if (t.tags_of(call.scope, repo.name, image.digest).empty() && referenced_by.empty())
      t.delete_image(call.scope, repo.name, image.digest);
    return {};
  });
  if (!st) return oci_error(st.error());
  return reply(202);
}

}  // namespace gantry::registry
