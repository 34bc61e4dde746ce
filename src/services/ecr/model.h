// ECR's image model, shared by the ECR JSON API and the OCI registry (/v2/): repositories, images
// (one per manifest digest, with the manifest bytes), tags, the blobs (layers and configs) each
// repository holds, and registry authorization tokens. Handlers and the registry work on these types
// through EcrTables; only sqlite_tables.cpp knows how they are stored. The blob bytes themselves live
// in image::BlobStore; a repository sees a blob only once it is linked to it (ECR scopes layers per
// repository).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/arn.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/database.h"
#include "store/service_store.h"

namespace gantry::ecr {

using Tag = store::ResourceTag;

enum class TagMutability { kMutable, kImmutable };

struct Repository {
  std::string account;
  std::string region;
  std::string name;
  TagMutability mutability = TagMutability::kMutable;
  bool scan_on_push = false;
  std::string encryption_type = "AES256";  // AES256 | KMS | KMS_DSSE
  std::string kms_key;                     // empty unless KMS*
  TimePoint created_at;
  std::string policy;                      // the repository policy (SetRepositoryPolicy); empty: none

  Scope scope() const { return Scope{account, region}; }
  std::string arn() const;
};

struct Image {
  std::string digest;               // "sha256:…" of the manifest bytes
  std::string manifest;             // exactly as pushed
  std::string media_type;           // the manifest's
  std::string artifact_media_type;  // its config's (empty for an index)
  uint64_t size_bytes = 0;          // config + layers (for an index: the manifests it lists)
  TimePoint pushed_at;
};

struct TaggedDigest {
  std::string tag;
  std::string digest;
};

// A registry password issued by GetAuthorizationToken. Only a hash of the password is stored.
struct AuthToken {
  std::string lookup;  // first 16 hex digits of hash: the row's key
  std::string hash;    // hex sha256 of the password
  std::string account;
  TimePoint expires_at;
  // Who asked for it: registry calls made with it are authorized as that caller.
  std::string principal_arn;
  std::string principal_id;
  std::string access_key_id;
};

// One transaction's view of ECR state. Valid only inside EcrStore::read/write. Repository-scoped
// calls take the repository's (account, region, name) as a Repository's scope() and name.
class EcrTables {
 public:
  virtual ~EcrTables() = default;

  virtual std::optional<Repository> find_repository(const Scope& scope, std::string_view name) = 0;
  virtual void put_repository(const Repository& repo) = 0;
  // Removes the repository with its images, tags, blob links, upload records and resource tags.
  virtual void delete_repository(const Scope& scope, std::string_view name) = 0;
  // Repositories of the scope by name, after `after` (exclusive).
  virtual std::vector<Repository> list_repositories(const Scope& scope, std::string_view after, int limit) = 0;
  // Names only (the registry's catalog), in name order, after `after` (exclusive).
  virtual std::vector<std::string> list_repository_names(const Scope& scope, std::string_view after, int limit) = 0;

  virtual std::optional<Image> find_image(const Scope& scope, std::string_view repo, std::string_view digest) = 0;
  virtual void put_image(const Scope& scope, std::string_view repo, const Image& image) = 0;
  // Removes the image and every tag on it.
  virtual void delete_image(const Scope& scope, std::string_view repo, std::string_view digest) = 0;
  // Images of the repository in digest order, after `after` (exclusive).
  virtual std::vector<Image> list_images(const Scope& scope, std::string_view repo, std::string_view after,
                                         int limit) = 0;
  virtual int64_t count_images(const Scope& scope, std::string_view repo) = 0;

  virtual std::optional<std::string> tag_digest(const Scope& scope, std::string_view repo, std::string_view tag) = 0;
  virtual void set_tag(const Scope& scope, std::string_view repo, std::string_view tag, std::string_view digest) = 0;
  virtual void remove_tag(const Scope& scope, std::string_view repo, std::string_view tag) = 0;
  // Tags on one image, in tag order.
  virtual std::vector<std::string> tags_of(const Scope& scope, std::string_view repo, std::string_view digest) = 0;
  // Every (tag, digest) of the repository in tag order, after `after` (exclusive).
  virtual std::vector<TaggedDigest> list_tags(const Scope& scope, std::string_view repo, std::string_view after,
                                              int limit) = 0;

  // Blob links: which blobs (by digest) a repository holds, with their sizes.
  virtual std::optional<uint64_t> blob_size(const Scope& scope, std::string_view repo, std::string_view digest) = 0;
  virtual void link_blob(const Scope& scope, std::string_view repo, std::string_view digest, uint64_t size) = 0;

  // Resource tags by ARN; set_tags overwrites values of existing keys.
  virtual std::vector<Tag> resource_tags(std::string_view arn) = 0;
  virtual void set_resource_tags(std::string_view arn, const std::vector<Tag>& tags) = 0;
  virtual void remove_resource_tags(std::string_view arn, const std::vector<std::string>& keys) = 0;

  // Blob upload sessions of the registry: which repository an upload id (image::BlobStore's) belongs to.
  virtual void put_upload(const Scope& scope, std::string_view repo, std::string_view upload_id) = 0;
  virtual bool has_upload(const Scope& scope, std::string_view repo, std::string_view upload_id) = 0;
  virtual void delete_upload(std::string_view upload_id) = 0;

  virtual void put_token(const AuthToken& token) = 0;
  virtual std::optional<AuthToken> find_token(std::string_view lookup) = 0;
  virtual void delete_expired_tokens(TimePoint now) = 0;
};

using TablesFn = std::function<Status(EcrTables&)>;

// Runs ECR work in transactions; write() commits only when fn succeeds. Results leave through
// variables the callback captures.
class EcrStore {
 public:
  virtual ~EcrStore() = default;
  virtual Status read(const TablesFn& fn) = 0;
  virtual Status write(const TablesFn& fn) = 0;
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<EcrStore> make_sqlite_store(store::Database& db);

std::string_view to_string(TagMutability m);

}  // namespace gantry::ecr
