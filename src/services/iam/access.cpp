#include "services/iam/access.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "services/iam/aws_managed.h"
#include "services/iam/sessions.h"

namespace gantry::iam {

namespace {

constexpr size_t kMaxCachedCallers = 10000;
constexpr size_t kMaxDecisionsPerCaller = 1024;
// The access key id of the calls Gantry checks for a service acting with a role (deny_service_role), with
// the role's ARN after it: never a real key id, and its own cache entry per role.
constexpr std::string_view kServiceRoleKey = "service-role:";

Status read_principal(IamTables& t, const api::RequestContext& ctx, Access::Caller& p) {
  const std::string& account = ctx.scope.account;
  auto collect = [&](EntityKind kind, const std::string& name) {  // inline and attached policies
    for (auto& ip : t.inline_policies(account, kind, name)) p.identity_documents.push_back(std::move(ip.document));
    for (auto& d : managed_documents(t, account, t.attached_to(account, kind, name)))
      p.identity_documents.push_back(std::move(d));
  };
  std::optional<Session> session;
  if (is_session_key(ctx.access_key_id)) {
    session = t.find_session(ctx.access_key_id);
    p.session = true;
    if (!session) return {};  // no such session (any more): no permissions
    p.expires_at = session->expires_at;
  }
  // A session of a role: the role's policies and tags.
  auto role_session = [&](std::optional<Role> role) {
    p.type = "AssumedRole";
    p.role_session = true;
    if (!role) return false;
    p.name = role->name;
    p.entity_arn = role->arn();
    collect(EntityKind::kRole, role->name);
    p.tags = t.tags(role->arn());
    return true;
  };
  if (ctx.access_key_id.starts_with(kServiceRoleKey)) {
    std::string role_arn = ctx.access_key_id.substr(kServiceRoleKey.size());
    auto arn = Arn::parse(role_arn);
    std::optional<Role> role;
    if (arn && arn->resource.starts_with("role/"))
      role = t.find_role(account, arn->resource.substr(arn->resource.rfind('/') + 1));
    role_session(role && role->arn() == role_arn ? role : std::nullopt);
    return {};
  }
  if (session && !session->role_name.empty()) {
    auto role = t.find_role(account, session->role_name);
    // The role is gone, or another role now has its name: its sessions keep no permissions.
    if (!role_session(role && session->principal_id.starts_with(role->id + ":") ? role : std::nullopt)) return {};
    p.has_session_policy = !session->session_policy.empty() || !session->session_policy_arns.empty();
    if (!session->session_policy.empty()) p.session_documents.push_back(session->session_policy);
    for (auto& d : managed_documents(t, account, session->session_policy_arns))
      p.session_documents.push_back(std::move(d));
    for (const auto& tag : session->tags) {
      std::erase_if(p.tags, [&](const store::ResourceTag& x) { return x.key == tag.key; });
      p.tags.push_back(tag);
    }
    return {};
  }
  // The account root, or an IAM user of the account; anything else gets no permissions (fail closed).
  auto arn = Arn::parse(ctx.principal_arn);
  if (!arn || arn->service != "iam" || arn->account != account) return {};
  if (arn->resource == "root") {
    p.root = true;
    p.type = "Account";
    return {};
  }
  if (!arn->resource.starts_with("user/")) return {};
  p.type = "User";
  p.name = arn->resource.substr(arn->resource.rfind('/') + 1);
  auto user = t.find_user(account, p.name);
  // A user deleted and made again under the same name is another user: old sessions keep nothing.
  if (!user || user->arn() != ctx.principal_arn || (session && session->principal_id != user->id)) return {};
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
  uint64_t version = store_.writes();
  std::string id(access_key_id);
  {
    std::lock_guard lock(mu_);
    auto it = keys_.find(id);
    if (it != keys_.end() && it->second.version == version) return it->second.key;
  }
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
  if (!st.ok()) {
    spdlog::error("reading access keys: {}", st.error().message);
    return std::nullopt;
  }
  std::lock_guard lock(mu_);
  if (keys_.size() >= kMaxCachedCallers) keys_.clear();
  keys_[id] = CachedKey{version, out};
  return out;
}

std::optional<std::string> Access::service_cannot_assume(const api::RequestContext& ctx, std::string_view role_arn,
                                                        std::string_view service) {
  auto role = role_trusting_service(store_, ctx.scope.account, std::string(role_arn), service);
  if (role.ok()) return std::nullopt;
  return role.error().message;
}

std::optional<std::string> Access::deny_service_role(const Scope& scope, const std::string& role_arn,
                                                     std::string_view service, const std::string& session_name,
                                                     std::string_view action, std::string_view resource,
                                                     TimePoint now) {
  auto role = role_trusting_service(store_, scope.account, role_arn, service);
  if (!role.ok()) return role.error().message;
  // The same decision as for a call made with the session's credentials (its role's policies and tags,
  // every condition key), through a cache entry of its own.
  api::RequestContext ctx;
  ctx.scope = scope;
  ctx.access_key_id = std::string(kServiceRoleKey) + role_arn;
  ctx.principal_arn = fmt::format("arn:aws:sts::{}:assumed-role/{}/{}", scope.account, role->name, session_name);
  ctx.principal_id = role->id + ":" + session_name;
  ctx.now = now;
  return deny(ctx, action, resource, {}, {});
}

std::shared_ptr<const Access::Caller> Access::caller(const api::RequestContext& ctx) {
  uint64_t version = store_.writes();
  {
    std::lock_guard lock(mu_);
    auto it = callers_.find(ctx.access_key_id);
    if (it != callers_.end() && it->second->version == version) return it->second;
  }
  auto c = std::make_shared<Caller>();
  c->version = version;
  auto st = store_.read([&](IamTables& t) { return read_principal(t, ctx, *c); });
  if (!st.ok()) return nullptr;
  // Validated when stored; a document that no longer parses grants nothing.
  for (const auto& d : c->identity_documents)
    if (auto p = parse_policy(d, PolicyKind::kIdentity); p.ok())
      c->identity.push_back(std::make_shared<Policy>(std::move(*p)));
  for (const auto& d : c->session_documents)
    if (auto p = parse_policy(d, PolicyKind::kIdentity); p.ok())
      c->session_policies.push_back(std::make_shared<Policy>(std::move(*p)));
  auto mentions_time = [](const std::string& doc) {
    std::string lower(doc.size(), '\0');
    std::transform(doc.begin(), doc.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return lower.find("aws:currenttime") != std::string::npos || lower.find("aws:epochtime") != std::string::npos;
  };
  c->time_dependent = std::any_of(c->identity_documents.begin(), c->identity_documents.end(), mentions_time) ||
                      std::any_of(c->session_documents.begin(), c->session_documents.end(), mentions_time);
  std::lock_guard lock(mu_);
  if (callers_.size() >= kMaxCachedCallers) callers_.clear();
  callers_[ctx.access_key_id] = c;
  return c;
}

std::optional<std::string> Access::deny(const api::RequestContext& ctx, std::string_view action,
                                        std::string_view resource, const api::ConditionKeys& keys,
                                        const std::vector<std::string>& resource_policies) {
  auto shared = caller(ctx);
  if (!shared) return fmt::format("User: {} is not authorized: its policies could not be read", ctx.principal_arn);
  const Caller& p = *shared;
  if (p.expires_at && ctx.now >= *p.expires_at)  // e.g. a registry token outliving its session
    return fmt::format("User: {} is not authorized to perform: {} on resource: {}: the security token included in "
                       "the request is expired",
                       ctx.principal_arn, action, resource);
  if (p.session && !p.role_session && action.starts_with("iam:"))
    return fmt::format("User: {} is not authorized to perform: {} on resource: {}: credentials from GetSessionToken "
                       "cannot call IAM without MFA (which Gantry does not support)",
                       ctx.principal_arn, action, resource);
  if (p.root && resource_policies.empty()) return std::nullopt;  // the account root may do everything
  // The same identity-only question again: the answer given before (see Caller::decisions).
  std::string decision_key;
  const bool cacheable = resource_policies.empty() && !p.time_dependent;
  if (cacheable) {
    decision_key.reserve(action.size() + resource.size() + ctx.scope.region.size() + 64);
    decision_key.append(action).append("\n").append(resource).append("\n").append(ctx.scope.region);
    for (const auto& [k, v] : keys) decision_key.append("\n").append(k).append("=").append(v);
    std::lock_guard lock(p.decisions_mu);
    if (auto it = p.decisions.find(decision_key); it != p.decisions.end()) return it->second;
  }
  auto decided = decide(ctx, p, action, resource, keys, resource_policies);
  if (cacheable) {
    std::lock_guard lock(p.decisions_mu);
    if (p.decisions.size() >= kMaxDecisionsPerCaller) p.decisions.clear();
    p.decisions.emplace(std::move(decision_key), decided);
  }
  return decided;
}

std::optional<std::string> Access::decide(const api::RequestContext& ctx, const Caller& p, std::string_view action,
                                          std::string_view resource, const api::ConditionKeys& keys,
                                          const std::vector<std::string>& resource_policies) {

  std::vector<const Policy*> identity, session, resource_side;
  for (const auto& policy : p.identity) identity.push_back(policy.get());
  for (const auto& policy : p.session_policies) session.push_back(policy.get());
  std::vector<Policy> resource_parsed;  // resource and trust policies: rare (AssumeRole), parsed each time
  for (const auto& d : resource_policies)
    if (auto policy = parse_policy(d, PolicyKind::kResource); policy.ok())
      resource_parsed.push_back(std::move(*policy));
  for (const auto& policy : resource_parsed) resource_side.push_back(&policy);

  RequestContext request;
  request.action = std::string(action);
  request.resource = std::string(resource);
  // Resource and trust policies may name a role session by its session ARN or by its role's ARN (the
  // evaluator matches both).
  request.principal_arn = ctx.principal_arn;
  request.principal_account = ctx.scope.account;
  request.keys = {{"aws:principalarn", {p.role_session && !p.entity_arn.empty() ? p.entity_arn : ctx.principal_arn}},
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
    request.keys[api::tag_condition_key("aws:principaltag/", tag.key)] = {tag.value};
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
  const bool trust = action == "sts:AssumeRole" || action == "sts:TagSession";
  auto result = resource_side.empty() ? evaluate(identity, request)
                : trust               ? evaluate_trust(identity, resource_side, request)
                                      : evaluate(identity, resource_side, request);
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
