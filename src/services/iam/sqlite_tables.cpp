// SQLite storage of IAM users, access keys and inline policies.
#include <fmt/format.h>

#include "services/iam/model.h"
#include "store/service_store.h"

namespace gantry::iam {

namespace {

using store::from_ms;
using store::to_ms;

User read_user(store::Statement& q) {
  return User{q.text(0), q.text(1), q.text(2), q.text(3), from_ms(q.integer(4))};
}
AccessKeyRecord read_key(store::Statement& q) {
  return AccessKeyRecord{q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), from_ms(q.integer(5))};
}

class SqliteTables final : public IamTables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  std::optional<User> find_user(std::string_view account, std::string_view name) override {
    auto q = tx_.prepare("SELECT account, name, id, path, created_ms FROM iam_users WHERE account = ?1 AND name = ?2");
    q.bind(1, account).bind(2, name);
    if (!q.step()) return std::nullopt;
    return read_user(q);
  }
  void put_user(const User& u) override {
    tx_.prepare("INSERT OR REPLACE INTO iam_users (account, name, id, path, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, u.account)
        .bind(2, u.name)
        .bind(3, u.id)
        .bind(4, u.path)
        .bind(5, to_ms(u.created_at))
        .step();
  }
  void delete_user(std::string_view account, std::string_view name) override {
    tx_.prepare("DELETE FROM iam_users WHERE account = ?1 AND name = ?2").bind(1, account).bind(2, name).step();
  }
  std::vector<User> list_users(std::string_view account, std::string_view path_prefix, std::string_view after,
                               int limit) override {
    auto q = tx_.prepare(
        "SELECT account, name, id, path, created_ms FROM iam_users WHERE account = ?1 AND substr(path, 1, ?2) = ?3 "
        "AND name > ?4 ORDER BY name LIMIT ?5");
    q.bind(1, account)
        .bind(2, static_cast<int64_t>(path_prefix.size()))
        .bind(3, path_prefix)
        .bind(4, after)
        .bind(5, static_cast<int64_t>(limit));
    std::vector<User> out;
    while (q.step()) out.push_back(read_user(q));
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

  std::optional<UserPolicy> find_user_policy(std::string_view account, std::string_view user,
                                             std::string_view name) override {
    auto q = tx_.prepare(
        "SELECT account, user_name, name, document FROM iam_user_policies WHERE account = ?1 AND user_name = ?2 AND "
        "name = ?3");
    q.bind(1, account).bind(2, user).bind(3, name);
    if (!q.step()) return std::nullopt;
    return UserPolicy{q.text(0), q.text(1), q.text(2), q.text(3)};
  }
  void put_user_policy(const UserPolicy& p) override {
    tx_.prepare(
           "INSERT OR REPLACE INTO iam_user_policies (account, user_name, name, document) VALUES (?1, ?2, ?3, ?4)")
        .bind(1, p.account)
        .bind(2, p.user_name)
        .bind(3, p.name)
        .bind(4, p.document)
        .step();
  }
  void delete_user_policy(std::string_view account, std::string_view user, std::string_view name) override {
    tx_.prepare("DELETE FROM iam_user_policies WHERE account = ?1 AND user_name = ?2 AND name = ?3")
        .bind(1, account)
        .bind(2, user)
        .bind(3, name)
        .step();
  }
  std::vector<UserPolicy> user_policies(std::string_view account, std::string_view user) override {
    auto q = tx_.prepare(
        "SELECT account, user_name, name, document FROM iam_user_policies WHERE account = ?1 AND user_name = ?2 "
        "ORDER BY name");
    q.bind(1, account).bind(2, user);
    std::vector<UserPolicy> out;
    while (q.step()) out.push_back(UserPolicy{q.text(0), q.text(1), q.text(2), q.text(3)});
    return out;
  }

 private:
  store::Tx& tx_;
};

}  // namespace

std::string User::arn() const { return fmt::format("arn:aws:iam::{}:user{}{}", account, path, name); }

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
)sql"}};
}

std::unique_ptr<IamStore> make_sqlite_store(store::Database& db) {
  return std::make_unique<store::TransactionalStore<IamStore, SqliteTables, TablesFn, Status>>(db);
}

}  // namespace gantry::iam
