// SQLite storage of ECR state.
#include <fmt/format.h>

#include "services/ecr/model.h"
#include "store/service_store.h"

namespace gantry::ecr {

namespace {

using store::from_ms;
using store::to_ms;

constexpr std::string_view kRepoColumns =
    "account, region, name, mutability, scan_on_push, encryption_type, kms_key, created_ms, policy";

Repository read_repo(store::Statement& q) {
  Repository r;
  r.account = q.text(0);
  r.region = q.text(1);
  r.name = q.text(2);
  r.mutability = q.text(3) == "IMMUTABLE" ? TagMutability::kImmutable : TagMutability::kMutable;
  r.scan_on_push = q.integer(4) != 0;
  r.encryption_type = q.text(5);
  r.kms_key = q.text(6);
  r.created_at = from_ms(q.integer(7));
  r.policy = q.text(8);
  return r;
}

constexpr std::string_view kImageColumns = "digest, manifest, media_type, artifact_media_type, size_bytes, pushed_ms";

Image read_image(store::Statement& q) {
  Image i;
  i.digest = q.text(0);
  i.manifest = q.text(1);
  i.media_type = q.text(2);
  i.artifact_media_type = q.text(3);
  i.size_bytes = static_cast<uint64_t>(q.integer(4));
  i.pushed_at = from_ms(q.integer(5));
  return i;
}

class SqliteTables final : public EcrTables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  std::optional<Repository> find_repository(const Scope& s, std::string_view name) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ecr_repositories WHERE account = ?1 AND region = ?2 AND name = ?3", kRepoColumns));
    q.bind(1, s.account).bind(2, s.region).bind(3, name);
    if (!q.step()) return std::nullopt;
    return read_repo(q);
  }

  void put_repository(const Repository& r) override {
    tx_.prepare(fmt::format(
                    "INSERT OR REPLACE INTO ecr_repositories ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    kRepoColumns))
        .bind(1, r.account)
        .bind(2, r.region)
        .bind(3, r.name)
        .bind(4, to_string(r.mutability))
        .bind(5, int64_t{r.scan_on_push ? 1 : 0})
        .bind(6, r.encryption_type)
        .bind(7, r.kms_key)
        .bind(8, to_ms(r.created_at))
        .bind(9, r.policy)
        .run();
  }

  void delete_repository(const Scope& s, std::string_view name) override {
    for (const char* table : {"ecr_repositories", "ecr_images", "ecr_tags", "ecr_blobs", "ecr_uploads"}) {
      const char* column = std::string_view(table) == "ecr_repositories" ? "name" : "repository";
      tx_.prepare(fmt::format("DELETE FROM {} WHERE account = ?1 AND region = ?2 AND {} = ?3", table, column))
          .bind(1, s.account)
          .bind(2, s.region)
          .bind(3, name)
          .run();
    }
    tx_.prepare("DELETE FROM ecr_resource_tags WHERE arn = ?1")
        .bind(1, s.arn("ecr", fmt::format("repository/{}", name)))
        .run();
  }

  std::vector<Repository> list_repositories(const Scope& s, std::string_view after, int limit) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ecr_repositories WHERE account = ?1 AND region = ?2 AND name > ?3 ORDER BY name LIMIT ?4",
        kRepoColumns));
    q.bind(1, s.account).bind(2, s.region).bind(3, after).bind(4, static_cast<int64_t>(limit));
    std::vector<Repository> out;
    while (q.step()) out.push_back(read_repo(q));
    return out;
  }

  std::vector<std::string> list_repository_names(const Scope& s, std::string_view after, int limit) override {
    auto q = tx_.prepare(
        "SELECT name FROM ecr_repositories WHERE account = ?1 AND region = ?2 AND name > ?3 ORDER BY name LIMIT ?4");
    q.bind(1, s.account).bind(2, s.region).bind(3, after).bind(4, static_cast<int64_t>(limit));
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }

  std::optional<Image> find_image(const Scope& s, std::string_view repo, std::string_view digest) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ecr_images WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4",
        kImageColumns));
    q.bind(1, s.account).bind(2, s.region).bind(3, repo).bind(4, digest);
    if (!q.step()) return std::nullopt;
    return read_image(q);
  }

  void put_image(const Scope& s, std::string_view repo, const Image& i) override {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO ecr_images (account, region, repository, {}) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                            kImageColumns))
        .bind(1, s.account)
        .bind(2, s.region)
        .bind(3, repo)
        .bind(4, i.digest)
        .bind(5, i.manifest)
        .bind(6, i.media_type)
        .bind(7, i.artifact_media_type)
        .bind(8, static_cast<int64_t>(i.size_bytes))
        .bind(9, to_ms(i.pushed_at))
        .run();
  }

  void delete_image(const Scope& s, std::string_view repo, std::string_view digest) override {
    for (const char* table : {"ecr_images", "ecr_tags"}) {
      tx_.prepare(fmt::format("DELETE FROM {} WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4",
                              table))
          .bind(1, s.account)
          .bind(2, s.region)
          .bind(3, repo)
          .bind(4, digest)
          .run();
    }
  }

  std::vector<Image> list_images(const Scope& s, std::string_view repo, std::string_view after, int limit) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ecr_images WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest > ?4 "
        "ORDER BY digest LIMIT ?5",
        kImageColumns));
    q.bind(1, s.account).bind(2, s.region).bind(3, repo).bind(4, after).bind(5, static_cast<int64_t>(limit));
    std::vector<Image> out;
    while (q.step()) out.push_back(read_image(q));
    return out;
  }

  int64_t count_images(const Scope& s, std::string_view repo) override {
    auto q = tx_.prepare("SELECT count(*) FROM ecr_images WHERE account = ?1 AND region = ?2 AND repository = ?3");
    q.bind(1, s.account).bind(2, s.region).bind(3, repo);
    return q.step() ? q.integer(0) : 0;
  }

  std::optional<std::string> tag_digest(const Scope& s, std::string_view repo, std::string_view tag) override {
    auto q = tx_.prepare(
        "SELECT digest FROM ecr_tags WHERE account = ?1 AND region = ?2 AND repository = ?3 AND tag = ?4");
    q.bind(1, s.account).bind(2, s.region).bind(3, repo).bind(4, tag);
    if (!q.step()) return std::nullopt;
    return q.text(0);
  }

  void set_tag(const Scope& s, std::string_view repo, std::string_view tag, std::string_view digest) override {
    tx_.prepare("INSERT OR REPLACE INTO ecr_tags (account, region, repository, tag, digest) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, s.account)
        .bind(2, s.region)
        .bind(3, repo)
        .bind(4, tag)
        .bind(5, digest)
        .run();
  }

  void remove_tag(const Scope& s, std::string_view repo, std::string_view tag) override {
    tx_.prepare("DELETE FROM ecr_tags WHERE account = ?1 AND region = ?2 AND repository = ?3 AND tag = ?4")
        .bind(1, s.account)
        .bind(2, s.region)
        .bind(3, repo)
        .bind(4, tag)
        .run();
  }

  std::vector<std::string> tags_of(const Scope& s, std::string_view repo, std::string_view digest) override {
    auto q = tx_.prepare(
        "SELECT tag FROM ecr_tags WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4 ORDER BY tag");
    q.bind(1, s.account).bind(2, s.region).bind(3, repo).bind(4, digest);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }

  std::vector<TaggedDigest> list_tags(const Scope& s, std::string_view repo, std::string_view after,
                                      int limit) override {
    auto q = tx_.prepare(
        "SELECT tag, digest FROM ecr_tags WHERE account = ?1 AND region = ?2 AND repository = ?3 AND tag > ?4 "
        "ORDER BY tag LIMIT ?5");
    q.bind(1, s.account).bind(2, s.region).bind(3, repo).bind(4, after).bind(5, static_cast<int64_t>(limit));
    std::vector<TaggedDigest> out;
    while (q.step()) out.push_back(TaggedDigest{q.text(0), q.text(1)});
    return out;
  }

  std::optional<uint64_t> blob_size(const Scope& s, std::string_view repo, std::string_view digest) override {
    auto q = tx_.prepare(
        "SELECT size FROM ecr_blobs WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4");
    q.bind(1, s.account).bind(2, s.region).bind(3, repo).bind(4, digest);
    if (!q.step()) return std::nullopt;
    return static_cast<uint64_t>(q.integer(0));
  }

  void link_blob(const Scope& s, std::string_view repo, std::string_view digest, uint64_t size) override {
    tx_.prepare("INSERT OR REPLACE INTO ecr_blobs (account, region, repository, digest, size) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, s.account)
        .bind(2, s.region)
        .bind(3, repo)
        .bind(4, digest)
        .bind(5, static_cast<int64_t>(size))
        .run();
  }

  std::vector<Tag> resource_tags(std::string_view arn) override {
    return store::read_resource_tags(tx_, "ecr_resource_tags", arn);
  }

  void set_resource_tags(std::string_view arn, const std::vector<Tag>& tags) override {
    store::upsert_resource_tags(tx_, "ecr_resource_tags", arn, tags);
  }

  void remove_resource_tags(std::string_view arn, const std::vector<std::string>& keys) override {
    store::delete_resource_tags(tx_, "ecr_resource_tags", arn, keys);
  }

  void put_upload(const Scope& s, std::string_view repo, std::string_view id) override {
    tx_.prepare("INSERT OR REPLACE INTO ecr_uploads (id, account, region, repository) VALUES (?1, ?2, ?3, ?4)")
        .bind(1, id)
        .bind(2, s.account)
        .bind(3, s.region)
        .bind(4, repo)
        .run();
  }

  bool has_upload(const Scope& s, std::string_view repo, std::string_view id) override {
    auto q = tx_.prepare(
        "SELECT 1 FROM ecr_uploads WHERE id = ?1 AND account = ?2 AND region = ?3 AND repository = ?4");
    q.bind(1, id).bind(2, s.account).bind(3, s.region).bind(4, repo);
    return q.step();
  }

  void delete_upload(std::string_view id) override {
    tx_.prepare("DELETE FROM ecr_uploads WHERE id = ?1").bind(1, id).run();
  }

  void put_token(const AuthToken& t) override {
    tx_.prepare(
           "INSERT OR REPLACE INTO ecr_auth_tokens (lookup, hash, account, expires_ms, principal_arn, principal_id, "
           "access_key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, t.lookup)
        .bind(2, t.hash)
        .bind(3, t.account)
        .bind(4, to_ms(t.expires_at))
        .bind(5, t.principal_arn)
        .bind(6, t.principal_id)
        .bind(7, t.access_key_id)
        .run();
  }

  std::optional<AuthToken> find_token(std::string_view lookup) override {
    auto q = tx_.prepare(
        "SELECT lookup, hash, account, expires_ms, principal_arn, principal_id, access_key_id FROM ecr_auth_tokens "
        "WHERE lookup = ?1");
    q.bind(1, lookup);
    if (!q.step()) return std::nullopt;
    return AuthToken{q.text(0), q.text(1), q.text(2), from_ms(q.integer(3)), q.text(4), q.text(5), q.text(6)};
  }

  void delete_expired_tokens(TimePoint now) override {
    tx_.prepare("DELETE FROM ecr_auth_tokens WHERE expires_ms <= ?1").bind(1, to_ms(now)).run();
  }

 private:
  store::Tx& tx_;
};


}  // namespace

std::vector<store::Migration> sqlite_migrations() {
  return {{"ecr", 1, R"sql(
CREATE TABLE ecr_repositories (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  mutability TEXT NOT NULL,
  scan_on_push INTEGER NOT NULL,
  encryption_type TEXT NOT NULL,
  kms_key TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, region, name)
);
CREATE TABLE ecr_images (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  manifest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  artifact_media_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  pushed_ms INTEGER NOT NULL,
  PRIMARY KEY (account, region, repository, digest)
);
CREATE TABLE ecr_tags (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (account, region, repository, tag)
);
CREATE INDEX ecr_tags_by_digest ON ecr_tags (account, region, repository, digest);
CREATE TABLE ecr_blobs (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (account, region, repository, digest)
);
CREATE TABLE ecr_resource_tags (
  arn TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (arn, key)
);
CREATE TABLE ecr_uploads (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  repository TEXT NOT NULL
);
CREATE TABLE ecr_auth_tokens (
  lookup TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  account TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
);
)sql"},
          {"ecr", 2, R"sql(
ALTER TABLE ecr_auth_tokens ADD COLUMN principal_arn TEXT NOT NULL DEFAULT '';
ALTER TABLE ecr_auth_tokens ADD COLUMN principal_id TEXT NOT NULL DEFAULT '';
ALTER TABLE ecr_auth_tokens ADD COLUMN access_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE ecr_repositories ADD COLUMN policy TEXT NOT NULL DEFAULT '';
)sql"}};
}

std::unique_ptr<EcrStore> make_sqlite_store(store::Database& db) { return std::make_unique<store::TransactionalStore<EcrStore, SqliteTables, TablesFn, Status>>(db); }

}  // namespace gantry::ecr
