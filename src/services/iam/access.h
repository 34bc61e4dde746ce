// Who may call Gantry, and what they may do: the access keys (the account root's, given at start; IAM
// users' Active keys; STS sessions' temporary keys) and the policy decision for each call.
//
// The policies of a caller: an IAM user's inline and attached policies and those of its groups; a role
// session's role's inline and attached policies, narrowed by the session policies given to AssumeRole;
// the account root is allowed everything. Parsed documents are cached by their text.
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
  // `store` must outlive this.
  Access(IamStore& store, auth::AccessKey root) : store_(store), root_(std::move(root)) {}

  std::optional<auth::AccessKey> find(std::string_view access_key_id) const override;
  std::optional<std::string> deny(const api::RequestContext& ctx, std::string_view action, std::string_view resource,
                                  const api::ConditionKeys& keys,
                                  const std::vector<std::string>& resource_policies) override;
  std::optional<std::string> service_cannot_assume(const api::RequestContext& ctx, std::string_view role_arn,
                                                   std::string_view service) override;

 private:
  std::shared_ptr<const Policy> parsed(const std::string& document, PolicyKind kind);

  IamStore& store_;
  auth::AccessKey root_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<const Policy>> cache_;  // by kind + document text
};

// The default version's document of each managed policy ARN (AWS managed or the account's); ARNs that
// name nothing are skipped.
std::vector<std::string> managed_documents(IamTables& t, std::string_view account,
                                           const std::vector<std::string>& arns);

}  // namespace gantry::iam
