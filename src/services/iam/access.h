// Who may call Gantry, and what they may do: the access keys (the account root's, given at start, and
// IAM users' Active keys) and the policy decision for each call (IAM users: their inline policies;
// the root: everything).
#pragma once

#include "api/router.h"
#include "auth/sigv4_verify.h"
#include "services/iam/model.h"

namespace gantry::iam {

class Access final : public auth::KeyStore, public api::Authorizer {
 public:
  // `store` must outlive this.
  Access(IamStore& store, auth::AccessKey root) : store_(store), root_(std::move(root)) {}

  std::optional<auth::AccessKey> find(std::string_view access_key_id) const override;
  std::optional<std::string> deny(const api::RequestContext& ctx, std::string_view action,
                                  std::string_view resource) override;

 private:
  IamStore& store_;
  auth::AccessKey root_;
};

}  // namespace gantry::iam
