#include "server/image_load.h"

#include <fmt/format.h>

#include <cstdio>

#include "core/clock.h"
#include "core/random.h"
#include "image/archive_import.h"
#include "image/blob_store.h"
#include "server/data_dir.h"
#include "services/ecr/images.h"
#include "services/ecr/manifest.h"
#include "services/ecr/model.h"
#include "services/ecs/model.h"
#include "store/database.h"

namespace gantry::server {

namespace {

// Links an image manifest's blobs to the repository (ECR scopes layers per repository), then stores
// the manifest under each of its tags (or untagged).
Status store_manifest(ecr::EcrTables& t, const ecr::Repository& repo, const image::ImportedManifest& m,
                      const std::vector<std::string>& tags, TimePoint now) {
  GANTRY_ASSIGN_OR_RETURN(auto parsed, ecr::parse_manifest(m.bytes, m.media_type));
  if (parsed.config) t.link_blob(repo.scope(), repo.name, parsed.config->digest.str(), parsed.config->size);
  for (const auto& layer : parsed.layers) t.link_blob(repo.scope(), repo.name, layer.digest.str(), layer.size);
  ecr::PushRequest push;
  push.manifest = m.bytes;
  push.media_type = m.media_type;
  push.now = now;
  if (tags.empty()) {
    auto pushed = ecr::push_image(t, repo, push);
    if (!pushed) return pushed.error();
    return {};
  }
  for (const auto& tag : tags) {
    push.tag = tag;
    auto pushed = ecr::push_image(t, repo, push);
    if (!pushed) return pushed.error();
  }
  return {};
}

}  // namespace

Status load_image(const ImageLoadOptions& options) {
  if (!ecr::valid_repository_name(options.repository))
    return make_error(ErrorKind::kEcrInvalidParameter,
                      fmt::format("invalid repository name '{}': lowercase letters, digits and . _ - separators in "
                                  "/-separated components, 2 to 256 characters",
                                  options.repository));
  if (options.tag && !ecr::valid_image_tag(*options.tag))
    return make_error(ErrorKind::kEcrInvalidParameter, fmt::format("invalid tag '{}'", *options.tag));
  GANTRY_ASSIGN_OR_RETURN(auto lock, DataDirLock::acquire(options.data_dir));
  std::filesystem::path dir(options.data_dir);
  std::vector<store::Migration> migrations = ecs::sqlite_migrations();
  for (auto& m : ecr::sqlite_migrations()) migrations.push_back(std::move(m));
  GANTRY_ASSIGN_OR_RETURN(auto db, store::Database::open((dir / "gantry.db").string(), migrations));
  SystemRandom random;
  SystemClock clock;
  GANTRY_ASSIGN_OR_RETURN(auto blobs, image::BlobStore::open(dir / "blobs", random));
  auto ecr_store = ecr::make_sqlite_store(*db);
  Scope scope{options.account_id, options.region};

  // Check the repository before reading a possibly large archive.
  GANTRY_RETURN_IF_ERROR(ecr_store->write([&](ecr::EcrTables& t) -> Status {
    if (t.find_repository(scope, options.repository)) return {};
    if (!options.create_repository)
      return make_error(ErrorKind::kEcrRepositoryNotFound,
                        fmt::format("The repository with name '{}' does not exist in the registry with id '{}' "
                                    "(region {}); create it first or pass --create-repository",
                                    options.repository, options.account_id, options.region));
    ecr::Repository repo;
    repo.account = scope.account;
    repo.region = scope.region;
    repo.name = options.repository;
    repo.created_at = clock.now();
    t.put_repository(repo);
    return {};
  }));

  GANTRY_ASSIGN_OR_RETURN(auto imported, image::import_image_archive(options.file, *blobs));
  auto now = clock.now();
  GANTRY_RETURN_IF_ERROR(ecr_store->write([&](ecr::EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, ecr::require_repository(t, scope, options.repository));
    for (const auto& m : imported.manifests) {
      std::vector<std::string> tags;
      if (m.top_level) tags = options.tag ? std::vector<std::string>{*options.tag} : m.tags;
      GANTRY_RETURN_IF_ERROR(store_manifest(t, repo, m, tags, now));
    }
    return {};
  }));
  for (const auto& m : imported.manifests) {
    if (!m.top_level) continue;
    std::string tags;
    for (const auto& tag : options.tag ? std::vector<std::string>{*options.tag} : m.tags)
      tags += (tags.empty() ? "" : ", ") + tag;
    std::printf("loaded %s@%s (%s)%s%s\n", options.repository.c_str(), m.digest.str().c_str(), m.media_type.c_str(),
                tags.empty() ? "" : " tags: ", tags.c_str());
  }
  std::printf("%llu blobs added (%llu bytes), %llu already present\n",
              static_cast<unsigned long long>(imported.blobs_added),
              static_cast<unsigned long long>(imported.bytes_added),
              static_cast<unsigned long long>(imported.blobs_present));
  return {};
}

}  // namespace gantry::server
