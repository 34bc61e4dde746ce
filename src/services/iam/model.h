// IAM users, their access keys and inline policies, and the transaction-scoped view of them. IAM is
// global: everything is scoped by account only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "store/database.h"
#include "store/service_store.h"

namespace gantry::iam {

struct User {
  std::string account;
  std::string name;
  std::string id;    // AIDA + 16 characters
  std::string path;  // "/" or "/a/b/"
  TimePoint created_at;
  std::string arn() const;  // arn:aws:iam::<account>:user<path><name>
};

struct AccessKeyRecord {
  std::string id;  // AKIA + 16 characters
  std::string secret;
  std::string account;
  std::string user_name;
  std::string status;  // Active | Inactive
  TimePoint created_at;
};

struct UserPolicy {
  std::string account;
  std::string user_name;
  std::string name;
  std::string document;  // as given (validated)
};

class IamTables {
 public:
  virtual ~IamTables() = default;
  virtual std::optional<User> find_user(std::string_view account, std::string_view name) = 0;
  virtual void put_user(const User& user) = 0;
  virtual void delete_user(std::string_view account, std::string_view name) = 0;
  // Users whose path starts with `path_prefix`, by name, after `after` (exclusive).
  virtual std::vector<User> list_users(std::string_view account, std::string_view path_prefix,
                                       std::string_view after, int limit) = 0;

  virtual std::optional<AccessKeyRecord> find_access_key(std::string_view id) = 0;
  virtual void put_access_key(const AccessKeyRecord& key) = 0;
  virtual void delete_access_key(std::string_view id) = 0;
  virtual std::vector<AccessKeyRecord> access_keys_of(std::string_view account, std::string_view user) = 0;

  virtual std::optional<UserPolicy> find_user_policy(std::string_view account, std::string_view user,
                                                     std::string_view name) = 0;
  virtual void put_user_policy(const UserPolicy& policy) = 0;
  virtual void delete_user_policy(std::string_view account, std::string_view user, std::string_view name) = 0;
  virtual std::vector<UserPolicy> user_policies(std::string_view account, std::string_view user) = 0;
};

using TablesFn = std::function<Status(IamTables&)>;

class IamStore {
 public:
  virtual ~IamStore() = default;
  virtual Status read(const TablesFn& fn) = 0;
  virtual Status write(const TablesFn& fn) = 0;
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<IamStore> make_sqlite_store(store::Database& db);

}  // namespace gantry::iam
