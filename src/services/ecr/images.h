// The image operations the ECR API and the registry share, so a push through either path obeys the
// same rules: repository lookup, manifest validation, referenced blobs and manifests, immutable
// tags. All run inside one EcrStore transaction the caller opens. Errors are ECR kinds (the registry
// maps them to OCI codes).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "services/ecr/model.h"

namespace gantry::ecr {

// ECR's rules: lowercase letters, digits and . _ - separators, in /-separated components; 2-256.
bool valid_repository_name(std::string_view name);
// Letters, digits, _ . -; first character not . or -; 1-300 (ECR's length, OCI's character set).
bool valid_image_tag(std::string_view tag);

// kEcrRepositoryNotFound with ECR's message when the repository does not exist.
Result<Repository> require_repository(EcrTables& t, const Scope& scope, std::string_view name);

// The image a tag or "sha256:…" digest names; kEcrImageNotFound when there is none.
Result<Image> find_by_reference(EcrTables& t, const Repository& repo, std::string_view reference);

struct PushRequest {
  std::string_view manifest;
  std::string_view media_type;  // as declared by the client; may be empty
  std::optional<std::string> tag;
  std::optional<std::string> expected_digest;
  TimePoint now;
  // The ECR API refuses to store what is already there (ImageAlreadyExistsException); the registry
  // accepts an identical push again, as registries do.
  bool refuse_existing = false;
};

// Validates and stores a manifest and its tag. Every blob of an image manifest must be linked to the
// repository (kEcrLayersNotFound), every manifest of an index must be an image of the repository
// (kEcrReferencedImagesNotFound); moving a tag of an IMMUTABLE repository → kEcrImageTagAlreadyExists;
// a manifest whose sha256 is not `expected_digest` → kEcrImageDigestDoesNotMatch.
Result<Image> push_image(EcrTables& t, const Repository& repo, const PushRequest& request);

// The digests of the repository's indexes (manifest lists) that list `digest`: such an image must
// stay while they exist (BatchDeleteImage's ImageReferencedByManifestList).
std::vector<std::string> indexes_referencing(EcrTables& t, const Scope& scope, std::string_view repo,
                                             std::string_view digest);

// What to serve a client that takes the media types `accepted` says yes to: the image itself, or for
// an index (manifest list) the client cannot take, the index's linux/amd64 image when the client takes
// that. nullopt when neither fits.
std::optional<Image> negotiate(EcrTables& t, const Repository& repo, const Image& image,
                               const std::function<bool(std::string_view)>& accepted);

}  // namespace gantry::ecr
