// What a handler knows about the request it serves.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/arn.h"
#include "core/clock.h"
#include "core/random.h"

namespace gantry::api {

struct RequestContext;

// Service-specific condition keys of one request: lower-case name ("ecs:cluster",
// "iam:passedtoservice") and value; a name may repeat for a multi-valued key.
using ConditionKeys = std::vector<std::pair<std::string, std::string>>;

// A tag's condition key (`prefix` "aws:resourcetag/", "aws:principaltag/", "aws:requesttag/"), lower-cased
// as condition keys are matched.
inline std::string tag_condition_key(std::string_view prefix, std::string_view tag_key) {
  std::string k(prefix);
  for (char c : tag_key) k.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  return k;
}
inline std::string resource_tag_key(std::string_view tag_key) { return tag_condition_key("aws:resourcetag/", tag_key); }

// Decides whether an authenticated caller may do an action on a resource (IAM policy evaluation).
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // nullopt: allowed. Otherwise AWS's sentence for the denial ("User: ... is not authorized to perform:
  // ecs:RunTask on resource: * because no identity-based policy allows the ecs:RunTask action").
  // `resource_policies`: the documents of the resource's own policy (a trust policy for sts:AssumeRole,
  // a function or repository policy), combined with the caller's identity policies as AWS combines them.
  virtual std::optional<std::string> deny(const RequestContext& ctx, std::string_view action,
                                          std::string_view resource, const ConditionKeys& keys,
                                          const std::vector<std::string>& resource_policies) = 0;
  // Why the AWS service principal `service` ("ecs-tasks.amazonaws.com") could not assume `role_arn`
  // (no such role, or a trust policy that does not allow it); nullopt when it can.
  virtual std::optional<std::string> service_cannot_assume(const RequestContext& ctx, std::string_view role_arn,
                                                           std::string_view service) = 0;
};

struct RequestContext {
  std::string request_id;
  Scope scope;                 // account and region of the call (region from the SigV4 scope)
  std::string access_key_id;   // of the caller's credentials
  std::string principal_arn;   // the caller, e.g. arn:aws:iam::000000000000:root
  std::string principal_id;    // its unique id (the account id for the root)
  TimePoint now;               // one instant for the whole request
  Random* random = nullptr;
  // Set when IAM is enforced: handlers ask it about what only they can see (iam:PassRole of the roles a
  // request hands over). Null: everything is allowed (--auth off). It reads the IAM store, which shares
  // the database: never ask from inside a store transaction (the transaction's lock would deadlock it).
  Authorizer* authorizer = nullptr;

  // AWS's sentence when `authorizer` denies `action` on `resource`; nullopt when allowed.
  std::optional<std::string> denied(std::string_view action, std::string_view resource,
                                    const ConditionKeys& keys = {}) const {
    return authorizer != nullptr ? authorizer->deny(*this, action, resource, keys, {}) : std::nullopt;
  }
};

}  // namespace gantry::api
