// Who may call Gantry, and what they may do: the access keys (the account root's, given at start; IAM
// users' Active keys; STS sessions' temporary keys) and the policy decision for each call.
//
// The policies of a caller: an IAM user's inline and attached policies and those of its groups; a role
// session's role's inline and attached policies, narrowed by the session policies given to AssumeRole;
// the account root is allowed everything. What a key stands for and its caller's parsed policies are
// cached per access key until the next write to IAM's tables (CountingStore).
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "api/router.h"
#include "auth/sigv4_verify.h"
#include "iam/policy.h"
#include "services/iam/model.h"

namespace gantry::iam {

class Access final : public auth::KeyStore, public api::Authorizer {
 public:
  // `store` must outlive this; every change to IAM's tables must go through it.
  Access(CountingStore& store, auth::AccessKey root) : store_(store), root_(std::move(root)) {}

  std::optional<auth::AccessKey> find(std::string_view access_key_id) const override;
  std::optional<std::string> deny(const api::RequestContext& ctx, std::string_view action, std::string_view resource,
                                  const api::ConditionKeys& keys,
                                  const std::vector<std::string>& resource_policies) override;
  std::optional<std::string> service_cannot_assume(const api::RequestContext& ctx, std::string_view role_arn,
                                                   std::string_view service) override;

  // Whether a session `session_name` of `role_arn` (of `scope`'s account), assumed by the service principal
  // `service`, may do `action` on `resource` — what Gantry asks before it acts with a task's execution
  // role. nullopt when it may; otherwise AWS's sentence (the role cannot be assumed, or its policies do
  // not allow the action).
  std::optional<std::string> deny_service_role(const Scope& scope, const std::string& role_arn,
                                               std::string_view service, const std::string& session_name,
                                               std::string_view action, std::string_view resource, TimePoint now);

  // What a caller's permissions are made of, read in one transaction and parsed once.
  struct Caller {
    uint64_t version = 0;  // CountingStore::writes() when read
    bool root = false;
    std::string type;        // aws:PrincipalType: Account, User, AssumedRole
    std::string name;        // the user's or role's name
    std::string entity_arn;  // the user's or role's ARN
    bool session = false;    // temporary credentials
    bool role_session = false;
    bool has_session_policy = false;
    std::optional<TimePoint> expires_at;  // temporary credentials
    std::vector<std::string> identity_documents;
    std::vector<std::string> session_documents;
    std::vector<store::ResourceTag> tags;  // aws:PrincipalTag/...
    std::vector<std::shared_ptr<const Policy>> identity;
    std::vector<std::shared_ptr<const Policy>> session_policies;
    // Decisions of identity-only checks (no resource policy), by action, resource, region and condition keys:
    // the same request of the same caller gets the same answer until IAM changes (then the Caller is read
    // anew). Not kept when a policy mentions the time (aws:CurrentTime, aws:EpochTime), which changes.
    bool time_dependent = false;
    mutable std::mutex decisions_mu;
    mutable std::unordered_map<std::string, std::optional<std::string>> decisions;
  };

 private:
  std::shared_ptr<const Caller> caller(const api::RequestContext& ctx);
  // The decision itself (deny() without its cache).
  std::optional<std::string> decide(const api::RequestContext& ctx, const Caller& p, std::string_view action,
                                    std::string_view resource, const api::ConditionKeys& keys,
                                    const std::vector<std::string>& resource_policies);

  CountingStore& store_;
  auth::AccessKey root_;
  struct CachedKey {
    uint64_t version;
    std::optional<auth::AccessKey> key;
  };
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, CachedKey> keys_;                     // by access key id
  std::unordered_map<std::string, std::shared_ptr<const Caller>> callers_;      // by access key id
};

// The default version's document of each managed policy ARN (AWS managed or the account's); ARNs that
// name nothing are skipped.
std::vector<std::string> managed_documents(IamTables& t, std::string_view account,
                                           const std::vector<std::string>& arns);

}  // namespace gantry::iam
