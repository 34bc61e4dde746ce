// SQLite storage of IAM entities, keys, policies, attachments, tags and STS sessions.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "services/iam/model.h"
#include "store/service_store.h"

namespace gantry::iam {

namespace {

namespace json = boost::json;
using store::from_ms;
using store::to_ms;

EntityKind kind_of(std::string_view s) {
  if (s == "role") return EntityKind::kRole;
  if (s == "group") return EntityKind::kGroup;
  return EntityKind::kUser;
}

// Users and groups have the same columns.
template <class T>
T read_basic(store::Statement& q) {
  return T{q.text(0), q.text(1), q.text(2), q.text(3), from_ms(q.integer(4))};
}
Role read_role(store::Statement& q) {
  return Role{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), static_cast<int>(q.integer(6)),
              from_ms(q.integer(7))};
}
AccessKeyRecord read_key(store::Statement& q) {
  return AccessKeyRecord{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), from_ms(q.integer(5))};
}
InlinePolicy read_inline(store::Statement& q) {
  return InlinePolicy{q.text(0), kind_of(q.text(1)), q.text(2), q.text(3), q.text(4)};
}
ManagedPolicy read_policy(store::Statement& q) {
  return ManagedPolicy{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5),
                       static_cast<int>(q.integer(6)), from_ms(q.integer(7)), from_ms(q.integer(8))};
}
PolicyVersion read_version(store::Statement& q) {
  return PolicyVersion{q.text(0), q.text(1), q.text(2), q.text(3), from_ms(q.integer(4))};
}

constexpr const char* kUserCols = "account, name, id, path, created_ms";  // users and groups
constexpr const char* kRoleCols =
    "account, name, id, path, trust_policy, description, max_session_seconds, created_ms";
constexpr const char* kPolicyCols =
    "account, name, id, path, description, default_version, next_version, created_ms, updated_ms";
constexpr const char* kSessionCols =
    "access_key_id, secret, token, account, principal_arn, principal_id, role_name, session_policy, "
    "session_policy_arns, tags, expires_ms";

class SqliteTables final : public IamTables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  std::optional<User> find_user(std::string_view account, std::string_view name) override {
    return find_named("iam_users", kUserCols, read_basic<User>, account, name);
  }
  void put_user(const User& u) override { put_basic("iam_users", u); }
  void delete_user(std::string_view account, std::string_view name) override {
    delete_named("iam_users", account, name);
  }
  std::vector<User> list_users(std::string_view account, std::string_view path_prefix, std::string_view after,
                               int limit) override {
    return list_named("iam_users", kUserCols, read_basic<User>, account, path_prefix, after, limit);
  }

  std::optional<Role> find_role(std::string_view account, std::string_view name) override {
    return find_named("iam_roles", kRoleCols, read_role, account, name);
  }
  void put_role(const Role& r) override {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO iam_roles ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            kRoleCols))
        .bind(1, r.account)
        .bind(2, r.name)
        .bind(3, r.id)
        .bind(4, r.path)
        .bind(5, r.trust_policy)
        .bind(6, r.description)
        .bind(7, static_cast<int64_t>(r.max_session_seconds))
        .bind(8, to_ms(r.created_at))
        .step();
  }
  void delete_role(std::string_view account, std::string_view name) override {
    delete_named("iam_roles", account, name);
  }
  std::vector<Role> list_roles(std::string_view account, std::string_view path_prefix, std::string_view after,
                               int limit) override {
    return list_named("iam_roles", kRoleCols, read_role, account, path_prefix, after, limit);
  }

  std::optional<Group> find_group(std::string_view account, std::string_view name) override {
    return find_named("iam_groups", kUserCols, read_basic<Group>, account, name);
  }
  void put_group(const Group& g) override { put_basic("iam_groups", g); }
  void delete_group(std::string_view account, std::string_view name) override {
    delete_named("iam_groups", account, name);
  }
  std::vector<Group> list_groups(std::string_view account, std::string_view path_prefix, std::string_view after,
                                 int limit) override {
    return list_named("iam_groups", kUserCols, read_basic<Group>, account, path_prefix, after, limit);
  }
  void add_member(std::string_view account, std::string_view group, std::string_view user) override {
    tx_.prepare("INSERT OR IGNORE INTO iam_group_members (account, group_name, user_name) VALUES (?1, ?2, ?3)")
        .bind(1, account)
        .bind(2, group)
        .bind(3, user)
        .step();
  }
  void remove_member(std::string_view account, std::string_view group, std::string_view user) override {
    tx_.prepare("DELETE FROM iam_group_members WHERE account = ?1 AND group_name = ?2 AND user_name = ?3")
        .bind(1, account)
        .bind(2, group)
        .bind(3, user)
        .step();
  }
  std::vector<std::string> members_of(std::string_view account, std::string_view group) override {
    auto q = tx_.prepare(
        "SELECT user_name FROM iam_group_members WHERE account = ?1 AND group_name = ?2 ORDER BY user_name");
    q.bind(1, account).bind(2, group);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }
  std::vector<std::string> groups_of(std::string_view account, std::string_view user) override {
    auto q = tx_.prepare(
        "SELECT group_name FROM iam_group_members WHERE account = ?1 AND user_name = ?2 ORDER BY group_name");
    q.bind(1, account).bind(2, user);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }

  std::optional<AccessKeyRecord> find_access_key(std::string_view id) override {
    auto q = tx_.prepare(
        "SELECT id, secret, account, user_name, status, created_ms FROM iam_access_keys WHERE id = ?1");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return read_key(q);
  }
  void put_access_key(const AccessKeyRecord& k) override {
    tx_.prepare(
           "INSERT OR REPLACE INTO iam_access_keys (id, secret, account, user_name, status, created_ms) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, k.id)
        .bind(2, k.secret)
        .bind(3, k.account)
        .bind(4, k.user_name)
        .bind(5, k.status)
        .bind(6, to_ms(k.created_at))
        .step();
  }
  void delete_access_key(std::string_view id) override {
    tx_.prepare("DELETE FROM iam_access_keys WHERE id = ?1").bind(1, id).step();
  }
  std::vector<AccessKeyRecord> access_keys_of(std::string_view account, std::string_view user) override {
    auto q = tx_.prepare(
        "SELECT id, secret, account, user_name, status, created_ms FROM iam_access_keys WHERE account = ?1 AND "
        "user_name = ?2 ORDER BY created_ms, id");
    q.bind(1, account).bind(2, user);
    std::vector<AccessKeyRecord> out;
    while (q.step()) out.push_back(read_key(q));
    return out;
  }

  std::optional<InlinePolicy> find_inline(std::string_view account, EntityKind kind, std::string_view entity,
                                          std::string_view name) override {
    auto q = tx_.prepare(
        "SELECT account, kind, entity, name, document FROM iam_inline_policies WHERE account = ?1 AND kind = ?2 AND "
        "entity = ?3 AND name = ?4");
    q.bind(1, account).bind(2, kind_name(kind)).bind(3, entity).bind(4, name);
    if (!q.step()) return std::nullopt;
    return read_inline(q);
  }
  void put_inline(const InlinePolicy& p) override {
    tx_.prepare(
           "INSERT OR REPLACE INTO iam_inline_policies (account, kind, entity, name, document) "
           "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, p.account)
        .bind(2, kind_name(p.kind))
        .bind(3, p.entity)
        .bind(4, p.name)
        .bind(5, p.document)
        .step();
  }
  void delete_inline(std::string_view account, EntityKind kind, std::string_view entity,
                     std::string_view name) override {
    tx_.prepare("DELETE FROM iam_inline_policies WHERE account = ?1 AND kind = ?2 AND entity = ?3 AND name = ?4")
        .bind(1, account)
        .bind(2, kind_name(kind))
        .bind(3, entity)
        .bind(4, name)
        .step();
  }
  std::vector<InlinePolicy> inline_policies(std::string_view account, EntityKind kind,
                                            std::string_view entity) override {
    auto q = tx_.prepare(
        "SELECT account, kind, entity, name, document FROM iam_inline_policies WHERE account = ?1 AND kind = ?2 AND "
        "entity = ?3 ORDER BY name");
    q.bind(1, account).bind(2, kind_name(kind)).bind(3, entity);
    std::vector<InlinePolicy> out;
    while (q.step()) out.push_back(read_inline(q));
    return out;
  }

  std::optional<ManagedPolicy> find_policy(std::string_view account, std::string_view name) override {
    return find_named("iam_policies", kPolicyCols, read_policy, account, name);
  }
  void put_policy(const ManagedPolicy& p) override {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO iam_policies ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                            kPolicyCols))
        .bind(1, p.account)
        .bind(2, p.name)
        .bind(3, p.id)
        .bind(4, p.path)
        .bind(5, p.description)
        .bind(6, p.default_version)
        .bind(7, static_cast<int64_t>(p.next_version))
        .bind(8, to_ms(p.created_at))
        .bind(9, to_ms(p.updated_at))
        .step();
  }
  void delete_policy(std::string_view account, std::string_view name) override {
    tx_.prepare("DELETE FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2")
        .bind(1, account)
        .bind(2, name)
        .step();
    tx_.prepare("DELETE FROM iam_policies WHERE account = ?1 AND name = ?2").bind(1, account).bind(2, name).step();
  }
  std::vector<ManagedPolicy> list_policies(std::string_view account, std::string_view path_prefix,
                                           std::string_view after, int limit) override {
    return list_named("iam_policies", kPolicyCols, read_policy, account, path_prefix, after, limit);
  }
  std::optional<PolicyVersion> find_version(std::string_view account, std::string_view policy,
                                            std::string_view version) override {
    auto q = tx_.prepare(
        "SELECT account, policy_name, version_id, document, created_ms FROM iam_policy_versions WHERE account = ?1 "
        "AND policy_name = ?2 AND version_id = ?3");
    q.bind(1, account).bind(2, policy).bind(3, version);
    if (!q.step()) return std::nullopt;
    return read_version(q);
  }
  void put_version(const PolicyVersion& v) override {
    tx_.prepare(
           "INSERT OR REPLACE INTO iam_policy_versions (account, policy_name, version_id, document, created_ms) "
           "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, v.account)
        .bind(2, v.policy_name)
        .bind(3, v.version_id)
        .bind(4, v.document)
        .bind(5, to_ms(v.created_at))
        .step();
  }
  void delete_version(std::string_view account, std::string_view policy, std::string_view version) override {
    tx_.prepare("DELETE FROM iam_policy_versions WHERE account = ?1 AND policy_name = ?2 AND version_id = ?3")
        .bind(1, account)
        .bind(2, policy)
        .bind(3, version)
        .step();
  }
  std::vector<PolicyVersion> versions_of(std::string_view account, std::string_view policy) override {
    auto q = tx_.prepare(
        "SELECT account, policy_name, version_id, document, created_ms FROM iam_policy_versions WHERE account = ?1 "
        "AND policy_name = ?2 ORDER BY created_ms DESC, length(version_id) DESC, version_id DESC");
    q.bind(1, account).bind(2, policy);
    std::vector<PolicyVersion> out;
    while (q.step()) out.push_back(read_version(q));
    return out;
  }

  void attach(const Attachment& a) override {
    tx_.prepare(
           "INSERT OR IGNORE INTO iam_attachments (account, kind, entity, policy_arn) VALUES (?1, ?2, ?3, ?4)")
        .bind(1, a.account)
        .bind(2, kind_name(a.kind))
        .bind(3, a.entity)
        .bind(4, a.policy_arn)
        .step();
  }
  void detach(const Attachment& a) override {
    tx_.prepare(
           "DELETE FROM iam_attachments WHERE account = ?1 AND kind = ?2 AND entity = ?3 AND policy_arn = ?4")
        .bind(1, a.account)
        .bind(2, kind_name(a.kind))
        .bind(3, a.entity)
        .bind(4, a.policy_arn)
        .step();
  }
  std::vector<std::string> attached_to(std::string_view account, EntityKind kind, std::string_view entity) override {
    auto q = tx_.prepare(
        "SELECT policy_arn FROM iam_attachments WHERE account = ?1 AND kind = ?2 AND entity = ?3 ORDER BY policy_arn");
    q.bind(1, account).bind(2, kind_name(kind)).bind(3, entity);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }
  std::vector<Attachment> attachments_of(std::string_view account, std::string_view policy_arn) override {
    auto q = tx_.prepare(
        "SELECT account, kind, entity, policy_arn FROM iam_attachments WHERE account = ?1 AND policy_arn = ?2 "
        "ORDER BY kind, entity");
    q.bind(1, account).bind(2, policy_arn);
    std::vector<Attachment> out;
    while (q.step()) out.push_back(Attachment{q.text(0), kind_of(q.text(1)), q.text(2), q.text(3)});
    return out;
  }

  std::vector<store::ResourceTag> tags(std::string_view arn) override {
    return store::read_resource_tags(tx_, "iam_tags", arn);
  }
  void tag(std::string_view arn, const std::vector<store::ResourceTag>& tags) override {
    store::upsert_resource_tags(tx_, "iam_tags", arn, tags);
  }
  void untag(std::string_view arn, const std::vector<std::string>& keys) override {
    store::delete_resource_tags(tx_, "iam_tags", arn, keys);
  }

  std::optional<Session> find_session(std::string_view access_key_id) override {
    auto q = tx_.prepare(fmt::format("SELECT {} FROM sts_sessions WHERE access_key_id = ?1", kSessionCols));
    q.bind(1, access_key_id);
    if (!q.step()) return std::nullopt;
    Session s{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6), q.text(7), {}, {},
              from_ms(q.integer(10))};
    std::error_code ec;
    auto arns = json::parse(q.text(8), ec);
    if (!ec && arns.is_array())
      for (const auto& a : arns.as_array())
        if (a.is_string()) s.session_policy_arns.emplace_back(a.as_string());
    auto tags = json::parse(q.text(9), ec);
    if (!ec && tags.is_array())
      for (const auto& t : tags.as_array())
        if (t.is_array() && t.as_array().size() == 2 && t.as_array()[0].is_string() && t.as_array()[1].is_string())
          s.tags.push_back({std::string(t.as_array()[0].as_string()), std::string(t.as_array()[1].as_string())});
    return s;
  }
  void put_session(const Session& s) override {
    json::array arns;
    for (const auto& a : s.session_policy_arns) arns.emplace_back(a);
    json::array tags;
    for (const auto& t : s.tags) tags.emplace_back(json::array{json::string(t.key), json::string(t.value)});
    tx_.prepare(fmt::format(
                    "INSERT OR REPLACE INTO sts_sessions ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    kSessionCols))
        .bind(1, s.access_key_id)
        .bind(2, s.secret)
        .bind(3, s.token)
        .bind(4, s.account)
        .bind(5, s.principal_arn)
        .bind(6, s.principal_id)
        .bind(7, s.role_name)
        .bind(8, s.session_policy)
        .bind(9, json::serialize(arns))
        .bind(10, json::serialize(tags))
        .bind(11, to_ms(s.expires_at))
        .step();
  }
  void delete_sessions_expired_before(TimePoint t) override {
    tx_.prepare("DELETE FROM sts_sessions WHERE expires_ms < ?1").bind(1, to_ms(t)).step();
  }

 private:
  // One row of an entity table (users, groups, roles, policies) by (account, name), read with `read`.
  template <class T>
  std::optional<T> find_named(std::string_view table, std::string_view cols, T (*read)(store::Statement&),
                              std::string_view account, std::string_view name) {
    auto q = tx_.prepare(fmt::format("SELECT {} FROM {} WHERE account = ?1 AND name = ?2", cols, table));
    q.bind(1, account).bind(2, name);
    if (!q.step()) return std::nullopt;
    return read(q);
  }
  template <class T>
  void put_basic(std::string_view table, const T& e) {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO {} ({}) VALUES (?1, ?2, ?3, ?4, ?5)", table, kUserCols))
        .bind(1, e.account)
        .bind(2, e.name)
        .bind(3, e.id)
        .bind(4, e.path)
        .bind(5, to_ms(e.created_at))
        .step();
  }
  // A page of an entity table: paths under `path_prefix`, names after `after`, by name.
  template <class T>
  std::vector<T> list_named(std::string_view table, std::string_view cols, T (*read)(store::Statement&),
                            std::string_view account, std::string_view path_prefix, std::string_view after,
                            int limit) {
    auto q = tx_.prepare(
        fmt::format("SELECT {} FROM {} WHERE account = ?1 AND substr(path, 1, ?2) = ?3 AND name > ?4 ORDER BY name "
                    "LIMIT ?5",
                    cols, table));
    q.bind(1, account)
        .bind(2, static_cast<int64_t>(path_prefix.size()))
        .bind(3, path_prefix)
        .bind(4, after)
        .bind(5, static_cast<int64_t>(limit));
    std::vector<T> out;
    while (q.step()) out.push_back(read(q));
    return out;
  }
  void delete_named(std::string_view table, std::string_view account, std::string_view name) {
    tx_.prepare(fmt::format("DELETE FROM {} WHERE account = ?1 AND name = ?2", table))
        .bind(1, account)
        .bind(2, name)
        .step();
  }


  store::Tx& tx_;
};

}  // namespace

std::string_view kind_name(EntityKind kind) {
  switch (kind) {
    case EntityKind::kUser: return "user";
    case EntityKind::kRole: return "role";
    case EntityKind::kGroup: return "group";
  }
  return "user";
}

std::string User::arn() const { return fmt::format("arn:aws:iam::{}:user{}{}", account, path, name); }
std::string Role::arn() const { return fmt::format("arn:aws:iam::{}:role{}{}", account, path, name); }
std::string Group::arn() const { return fmt::format("arn:aws:iam::{}:group{}{}", account, path, name); }
std::string ManagedPolicy::arn() const { return fmt::format("arn:aws:iam::{}:policy{}{}", account, path, name); }

std::vector<store::Migration> sqlite_migrations() {
  return {{"iam", 1, R"sql(
CREATE TABLE iam_users (
  account TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL,
  path TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, name)
);
CREATE TABLE iam_access_keys (
  id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  account TEXT NOT NULL,
  user_name TEXT NOT NULL COLLATE NOCASE,
  status TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX iam_access_keys_user ON iam_access_keys (account, user_name);
CREATE TABLE iam_user_policies (
  account TEXT NOT NULL,
  user_name TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (account, user_name, name)
);
)sql"},
          {"iam", 2, R"sql(
CREATE TABLE iam_roles (
  account TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL,
  path TEXT NOT NULL,
  trust_policy TEXT NOT NULL,
  description TEXT NOT NULL,
  max_session_seconds INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, name)
);
CREATE TABLE iam_groups (
  account TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL,
  path TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, name)
);
CREATE TABLE iam_group_members (
  account TEXT NOT NULL,
  group_name TEXT NOT NULL COLLATE NOCASE,
  user_name TEXT NOT NULL COLLATE NOCASE,
  PRIMARY KEY (account, group_name, user_name)
);
CREATE INDEX iam_group_members_user ON iam_group_members (account, user_name);
CREATE TABLE iam_inline_policies (
  account TEXT NOT NULL,
  kind TEXT NOT NULL,
  entity TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL,
  document TEXT NOT NULL,
  PRIMARY KEY (account, kind, entity, name)
);
INSERT INTO iam_inline_policies (account, kind, entity, name, document)
  SELECT account, 'user', user_name, name, document FROM iam_user_policies;
DROP TABLE iam_user_policies;
CREATE TABLE iam_policies (
  account TEXT NOT NULL,
  name TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL,
  path TEXT NOT NULL,
  description TEXT NOT NULL,
  default_version TEXT NOT NULL,
  next_version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (account, name)
);
CREATE TABLE iam_policy_versions (
  account TEXT NOT NULL,
  policy_name TEXT NOT NULL COLLATE NOCASE,
  version_id TEXT NOT NULL,
  document TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, policy_name, version_id)
);
CREATE TABLE iam_attachments (
  account TEXT NOT NULL,
  kind TEXT NOT NULL,
  entity TEXT NOT NULL COLLATE NOCASE,
  policy_arn TEXT NOT NULL,
  PRIMARY KEY (account, kind, entity, policy_arn)
);
CREATE INDEX iam_attachments_policy ON iam_attachments (account, policy_arn);
CREATE TABLE iam_tags (
  arn TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (arn, key)
);
CREATE TABLE sts_sessions (
  access_key_id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  token TEXT NOT NULL,
  account TEXT NOT NULL,
  principal_arn TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  role_name TEXT NOT NULL,
  session_policy TEXT NOT NULL,
  session_policy_arns TEXT NOT NULL,
  tags TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX sts_sessions_expiry ON sts_sessions (expires_ms);
)sql"}};
}

std::unique_ptr<IamStore> make_sqlite_store(store::Database& db) {
  return std::make_unique<store::TransactionalStore<IamStore, SqliteTables, TablesFn, Status>>(db);
}

}  // namespace gantry::iam
