#include "services/iam/access.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "services/iam/aws_managed.h"
#include "services/iam/sessions.h"

namespace gantry::iam {

namespace {

constexpr size_t kMaxCachedPolicies = 4096;

bool is_session_key(std::string_view id) { return id.starts_with("ASIA"); }

// What a caller's policies are made of, read in one transaction.
struct Principal {
  bool root = false;
  std::string type;          // aws:PrincipalType: Account, User, AssumedRole
  std::string name;          // the user's or role's name
  std::string entity_arn;    // the user's or role's ARN
  bool session = false;      // temporary credentials
  bool role_session = false;
  std::vector<std::string> identity;  // documents
  std::vector<std::string> session_policies;
  bool has_session_policy = false;
  std::vector<store::ResourceTag> tags;  // aws:PrincipalTag/...
};

Status read_principal(IamTables& t, const api::RequestContext& ctx, Principal& p) {
  const std::string& account = ctx.scope.account;
  auto collect = [&](EntityKind kind, const std::string& name) {  // inline and attached policies
    for (auto& ip : t.inline_policies(account, kind, name)) p.identity.push_back(std::move(ip.document));
    for (auto& d : managed_documents(t, account, t.attached_to(account, kind, name)))
      p.identity.push_back(std::move(d));
  };
  std::optional<Session> session;
  if (is_session_key(ctx.access_key_id)) {
    session = t.find_session(ctx.access_key_id);
    p.session = session.has_value();
  }
  if (session && !session->role_name.empty()) {
    auto role = t.find_role(ctx.scope.account, session->role_name);
    p.type = "AssumedRole";
    p.role_session = true;
    p.name = session->role_name;
    if (!role) return {};  // the role is gone: its sessions keep no permissions
    p.entity_arn = role->arn();
    collect(EntityKind::kRole, role->name);
    p.has_session_policy = !session->session_policy.empty() || !session->session_policy_arns.empty();
    if (!session->session_policy.empty()) p.session_policies.push_back(session->session_policy);
    for (auto& d : managed_documents(t, ctx.scope.account, session->session_policy_arns))
      p.session_policies.push_back(std::move(d));
    p.tags = t.tags(role->arn());
    for (const auto& tag : session->tags) {
      std::erase_if(p.tags, [&](const store::ResourceTag& x) { return x.key == tag.key; });
      p.tags.push_back(tag);
    }
    return {};
  }
  auto arn = Arn::parse(ctx.principal_arn);
  if (!arn || arn->resource == "root") {
    p.root = true;
    p.type = "Account";
    return {};
  }
  p.type = "User";
  p.name = arn->resource.substr(arn->resource.rfind('/') + 1);
  p.entity_arn = ctx.principal_arn;
  collect(EntityKind::kUser, p.name);
  for (const auto& group : t.groups_of(account, p.name)) collect(EntityKind::kGroup, group);
  p.tags = t.tags(ctx.principal_arn);
  return {};
}

}  // namespace

std::vector<std::string> managed_documents(IamTables& t, std::string_view account,
                                           const std::vector<std::string>& arns) {
  std::vector<std::string> out;
  for (const auto& arn : arns) {
    if (const auto* aws = find_aws_managed(arn)) {
      out.emplace_back(aws->document);
      continue;
    }
    auto parsed = Arn::parse(arn);
    if (!parsed || parsed->account != account || !parsed->resource.starts_with("policy/")) continue;
    std::string name = parsed->resource.substr(parsed->resource.rfind('/') + 1);
    auto policy = t.find_policy(account, name);
    if (!policy || policy->arn() != arn) continue;
    if (auto v = t.find_version(account, name, policy->default_version)) out.push_back(std::move(v->document));
  }
  return out;
}

std::optional<auth::AccessKey> Access::find(std::string_view access_key_id) const {
  if (access_key_id == root_.access_key_id) return root_;
  std::optional<auth::AccessKey> out;
  auto st = store_.read([&](IamTables& t) -> Status {
    if (is_session_key(access_key_id)) {
      auto s = t.find_session(access_key_id);
      if (s) out = auth::AccessKey{s->access_key_id, s->secret, s->account, s->principal_arn, s->principal_id,
                                   s->token, s->expires_at};
      return {};
    }
    auto key = t.find_access_key(access_key_id);
    if (!key || key->status != "Active") return {};
    auto user = t.find_user(key->account, key->user_name);
    if (!user) return {};
    out = auth::AccessKey{key->id, key->secret, key->account, user->arn(), user->id, "", std::nullopt};
    return {};
  });
  if (!st.ok()) spdlog::error("reading access keys: {}", st.error().message);
  return out;
}

std::optional<std::string> Access::service_cannot_assume(const api::RequestContext& ctx, std::string_view role_arn,
                                                        std::string_view service) {
  auto role = role_trusting_service(store_, ctx.scope.account, std::string(role_arn), service);
  if (role.ok()) return std::nullopt;
  return role.error().message;
}

std::shared_ptr<const Policy> Access::parsed(const std::string& document, PolicyKind kind) {
  std::string key = std::to_string(static_cast<int>(kind)) + document;
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  auto result = parse_policy(document, kind);
  if (!result.ok()) return nullptr;  // validated when stored; a document that no longer parses grants nothing
  auto policy = std::make_shared<const Policy>(std::move(*result));
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= kMaxCachedPolicies) cache_.clear();
  cache_.emplace(std::move(key), policy);
  return policy;
}

std::optional<std::string> Access::deny(const api::RequestContext& ctx, std::string_view action,
                                        std::string_view resource, const api::ConditionKeys& keys,
                                        const std::vector<std::string>& resource_policies) {
  Principal p;
  auto st = store_.read([&](IamTables& t) { return read_principal(t, ctx, p); });
  if (!st.ok()) return fmt::format("User: {} is not authorized: its policies could not be read", ctx.principal_arn);
  if (p.root && resource_policies.empty()) return std::nullopt;  // the account root may do everything
  if (p.session && !p.role_session && action.starts_with("iam:"))
    return fmt::format("User: {} is not authorized to perform: {} on resource: {}: credentials from GetSessionToken "
                       "cannot call IAM without MFA (which Gantry does not support)",
                       ctx.principal_arn, action, resource);

  std::vector<std::shared_ptr<const Policy>> holders;
  std::vector<const Policy*> identity, session, resource_side;
  auto add = [&](const std::vector<std::string>& docs, PolicyKind kind, std::vector<const Policy*>& into) {
    for (const auto& d : docs)
      if (auto policy = parsed(d, kind)) {
        into.push_back(policy.get());
        holders.push_back(std::move(policy));
      }
  };
  add(p.identity, PolicyKind::kIdentity, identity);
  add(p.session_policies, PolicyKind::kIdentity, session);
  add(resource_policies, PolicyKind::kResource, resource_side);

  RequestContext request;
  request.action = std::string(action);
  request.resource = std::string(resource);
  // Resource and trust policies name a role session by its role's ARN.
  request.principal_arn = p.role_session && !p.entity_arn.empty() ? p.entity_arn : ctx.principal_arn;
  request.principal_account = ctx.scope.account;
  request.keys = {{"aws:principalarn", {request.principal_arn}},
                  {"aws:principalaccount", {ctx.scope.account}},
                  {"aws:principaltype", {p.type}},
                  {"aws:userid", {ctx.principal_id}},
                  {"aws:requestedregion", {ctx.scope.region}},
                  {"aws:securetransport", {"false"}},
                  {"aws:viamfa", {"false"}},
                  {"aws:multifactorauthpresent", {"false"}},
                  {"aws:currenttime", {iso8601(ctx.now)}},
                  {"aws:epochtime", {std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                        ctx.now.time_since_epoch())
                                                        .count())}}};
  if (p.type == "User") request.keys["aws:username"] = {p.name};
  for (const auto& tag : p.tags) {
    std::string k = "aws:principaltag/" + tag.key;
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
    request.keys[k] = {tag.value};
  }
  for (const auto& [k, v] : keys) request.keys[k].push_back(v);

  std::string who = ctx.principal_arn;
  if (p.root) {  // only resource policies can refuse the root (explicit Deny)
    auto r = evaluate({}, resource_side, request);
    if (r.decision != Decision::kExplicitDeny) return std::nullopt;
    return fmt::format("User: {} is not authorized to perform: {} on resource: {} with an explicit deny in a "
                       "resource-based policy",
                       who, action, resource);
  }
  auto result = resource_side.empty() ? evaluate(identity, request) : evaluate(identity, resource_side, request);
  if (result.decision == Decision::kExplicitDeny) {
    bool in_resource = result.statement && result.statement->resource_policy;
    return fmt::format("User: {} is not authorized to perform: {} on resource: {} with an explicit deny in {}", who,
                       action, resource, in_resource ? "a resource-based policy" : "an identity-based policy");
  }
  if (result.decision == Decision::kImplicitDeny)
    return fmt::format("User: {} is not authorized to perform: {} on resource: {} because no {} allows the {} action",
                       who, action, resource,
                       resource_side.empty() ? "identity-based policy" : "identity-based or resource-based policy",
                       action);
  if (p.has_session_policy) {
    auto s = evaluate(session, request);
    if (s.decision == Decision::kExplicitDeny)
      return fmt::format("User: {} is not authorized to perform: {} on resource: {} with an explicit deny in a "
                         "session policy",
                         who, action, resource);
    if (s.decision == Decision::kImplicitDeny)
      return fmt::format("User: {} is not authorized to perform: {} on resource: {} because no session policy "
                         "allows the {} action",
                         who, action, resource, action);
  }
  return std::nullopt;
}

}  // namespace gantry::iam
