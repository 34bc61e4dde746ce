// What the registry's route handlers share (not part of the component's interface).
#pragma once

#include <optional>
#include <functional>
#include <string>
#include <string_view>

#include "core/arn.h"
#include "core/clock.h"
#include "core/error.h"
#include "http/message.h"
#include "image/blob_store.h"
#include "services/ecr/model.h"

namespace gantry::registry {

struct Env {
  ecr::EcrStore& store;
  image::BlobStore& blobs;
  const Clock& clock;
};

enum class RouteKind { kBase, kCatalog, kTags, kManifest, kBlob, kUploadStart, kUpload, kUnknown };

struct Route {
  RouteKind kind = RouteKind::kUnknown;
  std::string name;  // repository
  std::string ref;   // manifest reference, blob digest or upload id
};

// Splits a /v2 path into its route. Repository names may contain '/'.
Route parse_route(std::string_view path);

// One authorized request.
struct Call {
  Env& env;
  Scope scope;
  Route route;
  const http::Request& request;
  // IAM: may the caller do `action` on repository `repo` of the scope? (A cross-repository mount reads
  // the source repository.) Unset: IAM is not enforced.
  std::function<Status(std::string_view action, const std::string& repo)> authorize;
};

// Every answer carries Docker-Distribution-API-Version.
http::Response reply(int status);
// The OCI error body {"errors":[{code,message,detail}]} for an error; ECR kinds become their OCI
// counterparts (RepositoryNotFound → NAME_UNKNOWN, ...).
http::Response oci_error(const Error& error);

// The repository of the call, or NAME_UNKNOWN.
Result<ecr::Repository> find_repository(Call& call);

// blobs.cpp
http::Response get_blob(Call& call);  // GET and HEAD
http::Response delete_blob(Call& call);

// uploads.cpp
http::HeadDecision start_upload(Call& call);  // POST .../blobs/uploads/
http::HeadDecision patch_upload(Call& call);
http::HeadDecision finish_upload(Call& call);  // PUT ...?digest=
http::Response upload_status(Call& call);
http::Response cancel_upload(Call& call);

// manifests.cpp
http::Response get_manifest(Call& call);  // GET and HEAD
http::Response put_manifest(Call& call, std::string_view body);
http::Response delete_manifest(Call& call);

// listing.cpp
http::Response list_tags(Call& call);
http::Response catalog(Call& call);

}  // namespace gantry::registry
