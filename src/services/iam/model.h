// IAM's entities (users, roles, groups), their access keys, inline and managed policies, attachments,
// tags, and STS sessions; and the transaction-scoped view of them. IAM is global: everything is scoped
// by account only.
#pragma once

#include <atomic>
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

// What holds policies. The names are the ones in IAM's API (UserName, RoleName, GroupName).
enum class EntityKind { kUser, kRole, kGroup };
std::string_view kind_name(EntityKind kind);  // "user" | "role" | "group"

struct User {
  std::string account;
  std::string name;
  std::string id;    // AIDA + 17 characters
  std::string path;  // "/" or "/a/b/"
  TimePoint created_at;
  std::string arn() const;  // arn:aws:iam::<account>:user<path><name>
};

struct Role {
  std::string account;
  std::string name;
  std::string id;  // AROA + 17 characters
  std::string path;
  std::string trust_policy;  // AssumeRolePolicyDocument, as given (validated)
  std::string description;
  int max_session_seconds = 3600;
  TimePoint created_at;
  std::string arn() const;  // arn:aws:iam::<account>:role<path><name>
};

struct Group {
  std::string account;
  std::string name;
  std::string id;  // AGPA + 17 characters
  std::string path;
  TimePoint created_at;
  std::string arn() const;  // arn:aws:iam::<account>:group<path><name>
};

struct AccessKeyRecord {
  std::string id;  // AKIA + 16 characters
  std::string secret;
  std::string account;
  std::string user_name;
  std::string status;  // Active | Inactive
  TimePoint created_at;
};

// A policy embedded in one user, role or group.
struct InlinePolicy {
  std::string account;
  EntityKind kind = EntityKind::kUser;
  std::string entity;
  std::string name;
  std::string document;  // as given (validated)
};

// A customer managed policy. AWS managed policies are built in (aws_managed.h), never stored.
struct ManagedPolicy {
  std::string account;
  std::string name;
  std::string id;  // ANPA + 17 characters
  std::string path;
  std::string description;
  std::string default_version;  // "v1", ...
  int next_version = 2;         // the number CreatePolicyVersion gives next
  TimePoint created_at;
  TimePoint updated_at;
  std::string arn() const;  // arn:aws:iam::<account>:policy<path><name>
};

struct PolicyVersion {
  std::string account;
  std::string policy_name;
  std::string version_id;  // "v1", ...
  std::string document;
  TimePoint created_at;
};

// A managed policy (customer or AWS) attached to a user, role or group.
struct Attachment {
  std::string account;
  EntityKind kind = EntityKind::kUser;
  std::string entity;
  std::string policy_arn;
};

// Temporary credentials from STS: AssumeRole (a role session) or GetSessionToken (the user's or
// root's own identity for a while).
struct Session {
  std::string access_key_id;  // ASIA + 16 characters
  std::string secret;
  std::string token;
  std::string account;
  std::string principal_arn;  // arn:aws:sts::<account>:assumed-role/<role>/<session>, or the user's/root's
  std::string principal_id;   // <role id>:<session name>, or the user's id / the account id
  std::string role_name;      // empty for GetSessionToken sessions
  std::string session_policy; // AssumeRole's Policy (JSON), empty when none
  std::vector<std::string> session_policy_arns;
  std::vector<store::ResourceTag> tags;  // session tags (aws:PrincipalTag/...)
  TimePoint expires_at;
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

  virtual std::optional<Role> find_role(std::string_view account, std::string_view name) = 0;
  virtual void put_role(const Role& role) = 0;
  virtual void delete_role(std::string_view account, std::string_view name) = 0;
  virtual std::vector<Role> list_roles(std::string_view account, std::string_view path_prefix,
                                       std::string_view after, int limit) = 0;

  virtual std::optional<Group> find_group(std::string_view account, std::string_view name) = 0;
  virtual void put_group(const Group& group) = 0;
  virtual void delete_group(std::string_view account, std::string_view name) = 0;
  virtual std::vector<Group> list_groups(std::string_view account, std::string_view path_prefix,
                                         std::string_view after, int limit) = 0;
  virtual void add_member(std::string_view account, std::string_view group, std::string_view user) = 0;
  virtual void remove_member(std::string_view account, std::string_view group, std::string_view user) = 0;
  virtual std::vector<std::string> members_of(std::string_view account, std::string_view group) = 0;
  virtual std::vector<std::string> groups_of(std::string_view account, std::string_view user) = 0;

  virtual std::optional<AccessKeyRecord> find_access_key(std::string_view id) = 0;
  virtual void put_access_key(const AccessKeyRecord& key) = 0;
  virtual void delete_access_key(std::string_view id) = 0;
  virtual std::vector<AccessKeyRecord> access_keys_of(std::string_view account, std::string_view user) = 0;

  virtual std::optional<InlinePolicy> find_inline(std::string_view account, EntityKind kind, std::string_view entity,
                                                  std::string_view name) = 0;
  virtual void put_inline(const InlinePolicy& policy) = 0;
  virtual void delete_inline(std::string_view account, EntityKind kind, std::string_view entity,
                             std::string_view name) = 0;
  virtual std::vector<InlinePolicy> inline_policies(std::string_view account, EntityKind kind,
                                                    std::string_view entity) = 0;

  virtual std::optional<ManagedPolicy> find_policy(std::string_view account, std::string_view name) = 0;
  virtual void put_policy(const ManagedPolicy& policy) = 0;
  virtual void delete_policy(std::string_view account, std::string_view name) = 0;
  virtual std::vector<ManagedPolicy> list_policies(std::string_view account, std::string_view path_prefix,
                                                   std::string_view after, int limit) = 0;
  virtual std::optional<PolicyVersion> find_version(std::string_view account, std::string_view policy,
                                                    std::string_view version) = 0;
  virtual void put_version(const PolicyVersion& version) = 0;
  virtual void delete_version(std::string_view account, std::string_view policy, std::string_view version) = 0;
  virtual std::vector<PolicyVersion> versions_of(std::string_view account, std::string_view policy) = 0;

  virtual void attach(const Attachment& a) = 0;
  virtual void detach(const Attachment& a) = 0;
  virtual std::vector<std::string> attached_to(std::string_view account, EntityKind kind, std::string_view entity) = 0;
  virtual std::vector<Attachment> attachments_of(std::string_view account, std::string_view policy_arn) = 0;

  virtual std::vector<store::ResourceTag> tags(std::string_view arn) = 0;
  virtual void tag(std::string_view arn, const std::vector<store::ResourceTag>& tags) = 0;
  virtual void untag(std::string_view arn, const std::vector<std::string>& keys) = 0;

  virtual std::optional<Session> find_session(std::string_view access_key_id) = 0;
  virtual void put_session(const Session& session) = 0;
  virtual void delete_sessions_expired_before(TimePoint t) = 0;
};

using TablesFn = std::function<Status(IamTables&)>;

class IamStore {
 public:
  virtual ~IamStore() = default;
  virtual Status read(const TablesFn& fn) = 0;
  virtual Status write(const TablesFn& fn) = 0;
};

// An IamStore that counts its writes, so what is derived from IAM's tables (parsed policies per caller)
// can be cached until the next write.
class CountingStore final : public IamStore {
 public:
  explicit CountingStore(IamStore& inner) : inner_(inner) {}
  Status read(const TablesFn& fn) override { return inner_.read(fn); }
  Status write(const TablesFn& fn) override {
    auto st = inner_.write(fn);
    writes_.fetch_add(1, std::memory_order_release);
    return st;
  }
  // A write that changes nothing cached: new STS sessions (inserted under fresh random key ids; expiry is
  // checked when a request is verified) and the removal of expired ones.
  Status write_uncounted(const TablesFn& fn) { return inner_.write(fn); }
  // Read before reading the tables: a write that lands after it makes the cached result stale.
  uint64_t writes() const { return writes_.load(std::memory_order_acquire); }
  // Marks everything cached stale, after the tables changed around this store (a reset of the database).
  void touch() { writes_.fetch_add(1, std::memory_order_release); }

 private:
  IamStore& inner_;
  std::atomic<uint64_t> writes_{0};
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<IamStore> make_sqlite_store(store::Database& db);

}  // namespace gantry::iam
