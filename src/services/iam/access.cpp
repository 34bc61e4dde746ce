#include "services/iam/access.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "iam/policy.h"

namespace gantry::iam {

std::optional<auth::AccessKey> Access::find(std::string_view access_key_id) const {
  if (access_key_id == root_.access_key_id) return root_;
  std::optional<auth::AccessKey> out;
  auto st = store_.read([&](IamTables& t) -> Status {
    auto key = t.find_access_key(access_key_id);
    if (!key || key->status != "Active") return {};
    auto user = t.find_user(key->account, key->user_name);
    if (!user) return {};
    out = auth::AccessKey{key->id, key->secret, key->account, user->arn(), user->id};
    return {};
  });
  if (!st.ok()) spdlog::error("reading access keys: {}", st.error().message);
  return out;
}

std::optional<std::string> Access::deny(const api::RequestContext& ctx, std::string_view action,
                                        std::string_view resource) {
  auto arn = Arn::parse(ctx.principal_arn);
  if (!arn || arn->resource == "root") return std::nullopt;  // the account root may do everything
  std::string user = arn->resource.substr(arn->resource.rfind('/') + 1);
  std::vector<UserPolicy> stored;
  auto st = store_.read([&](IamTables& t) -> Status {
    stored = t.user_policies(ctx.scope.account, user);
    return {};
  });
  if (!st.ok()) return fmt::format("User: {} is not authorized: its policies could not be read", ctx.principal_arn);
  std::vector<Policy> policies;
  for (const auto& p : stored) {
    auto parsed = parse_policy(p.document, PolicyKind::kIdentity);
    if (!parsed.ok()) continue;  // validated when stored; a document that no longer parses grants nothing
    parsed->name = p.name;
    policies.push_back(std::move(*parsed));
  }
  std::vector<const Policy*> identity;
  for (const auto& p : policies) identity.push_back(&p);
  RequestContext request;
  request.action = std::string(action);
  request.resource = std::string(resource);
  request.principal_arn = ctx.principal_arn;
  request.principal_account = ctx.scope.account;
  request.keys = {{"aws:username", {user}},
                  {"aws:principalarn", {ctx.principal_arn}},
                  {"aws:principalaccount", {ctx.scope.account}},
                  {"aws:principaltype", {"User"}},
                  {"aws:requestedregion", {ctx.scope.region}},
                  {"aws:securetransport", {"false"}},
                  {"aws:currenttime", {iso8601(ctx.now)}},
                  {"aws:epochtime", {std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                        ctx.now.time_since_epoch())
                                                        .count())}}};
  auto result = evaluate(identity, request);
  if (result.decision == Decision::kAllow) return std::nullopt;
  if (result.decision == Decision::kExplicitDeny)
    return fmt::format("User: {} is not authorized to perform: {} on resource: {} with an explicit deny in an "
                       "identity-based policy",
                       ctx.principal_arn, action, resource);
  return fmt::format("User: {} is not authorized to perform: {} on resource: {} because no identity-based policy "
                     "allows the {} action",
                     ctx.principal_arn, action, resource, action);
}

}  // namespace gantry::iam
