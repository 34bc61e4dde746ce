// The OCI Distribution API (/v2/) on Gantry's port, over ECR's image model: repositories must exist
// (CreateRepository; a push never creates one), images and tags are ECR's, blobs live in the blob
// store and are linked to the repositories that received them. Authentication is HTTP Basic
// "AWS:<password>" with a password from ECR GetAuthorizationToken. The account and region come from
// the Host header (ACCOUNT.dkr.ecr.REGION.localhost[:port]), else the server's defaults.
//
// Blob uploads stream: request bodies pass through BodySinks chunk by chunk into the blob store, and
// blob downloads are file responses; neither is ever held in memory whole.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/context.h"
#include "core/clock.h"
#include "http/message.h"
#include "image/blob_store.h"
#include "services/ecr/model.h"

namespace gantry::registry {

struct RegistryOptions {
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
  // With IAM enforced: every call is authorized as the caller its token was issued to, with the ECR
  // action it amounts to (ecr:BatchGetImage for a manifest GET, ecr:PutImage for a manifest PUT, ...) on
  // the repository's ARN. Null: a valid token is enough.
  api::Authorizer* authorizer = nullptr;
};

class Registry {
 public:
  // `store`, `blobs` and `clock` must outlive the registry. Thread-safe.
  Registry(RegistryOptions options, ecr::EcrStore& store, image::BlobStore& blobs, const Clock& clock);
  ~Registry();

  // Whether a path is the registry's: "/v2" and everything below "/v2/".
  static bool owns(std::string_view path);

  // A request whose headers arrived: answers it, streams its body into a blob upload, or (manifest
  // PUT) asks for the body whole and answers in handle().
  http::HeadDecision head(http::Request& request);
  http::Response handle(http::Request& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::registry
