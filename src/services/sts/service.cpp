#include "services/sts/service.h"

#include <fmt/format.h>

#include <regex>

#include "core/arn.h"
#include "iam/policy.h"
#include "services/iam/access.h"
#include "services/iam/sessions.h"

namespace gantry::sts {

namespace {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<protocol::xml::Element>;

constexpr int kMinDuration = 900;
constexpr int kChainedMax = 3600;
constexpr int kSessionTokenMax = 129600;
constexpr int kSessionTokenDefault = 43200;
constexpr size_t kMaxSessionPolicyChars = 2048;
constexpr size_t kMaxSessionTags = 50;

std::optional<std::string> get_string(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

Error validation(std::string message) { return make_error(ErrorKind::kValidation, std::move(message)); }

bool is_root(const Ctx& ctx) {
  auto arn = Arn::parse(ctx.principal_arn);
  return arn && arn->resource == "root";
}
bool is_role_session(const Ctx& ctx) {
  auto arn = Arn::parse(ctx.principal_arn);
  return arn && arn->service == "sts" && arn->resource.starts_with("assumed-role/");
}

Result<int> duration(const json::object& in, int fallback, int max, std::string_view too_long) {
  auto* v = in.if_contains("DurationSeconds");
  if (!v) return std::min(fallback, max);
  int64_t n = v->is_int64() ? v->as_int64() : 0;
  if (n < kMinDuration)
    return validation(fmt::format("1 validation error detected: Value '{}' at 'durationSeconds' failed to satisfy "
                                  "constraint: Member must have value greater than or equal to 900",
                                  n));
  if (n > max) return validation(std::string(too_long));
  return static_cast<int>(n);
}

// New temporary credentials for `session` (its identity fields already set), stored.
Status issue(iam::CountingStore& store, Ctx& ctx, iam::Session& session, int seconds) {
  return iam::store_new_session(store, session, ctx.scope.account, ctx.now, std::chrono::seconds(seconds),
                                *ctx.random);
}

void add_credentials(protocol::xml::Element& out, const iam::Session& s) {
  auto& c = out.add("Credentials");
  c.add("AccessKeyId", s.access_key_id);
  c.add("SecretAccessKey", s.secret);
  c.add("SessionToken", s.token);
  c.add("Expiration", iso8601(s.expires_at));
}

// The caller as GetCallerIdentity reports it. For the account root AWS gives the account id as UserId;
// for an IAM user or role session its unique id.
Out get_caller_identity(Ctx& ctx, json::object&) {
  protocol::xml::Element out("GetCallerIdentityResult");
  out.add("Arn", ctx.principal_arn);
  out.add("UserId", is_root(ctx) || ctx.principal_id.empty() ? ctx.scope.account : ctx.principal_id);
  out.add("Account", ctx.scope.account);
  return out;
}

Out assume_role(iam::CountingStore& store, Ctx& ctx, json::object& in) {
  std::string role_arn = get_string(in, "RoleArn").value_or("");
  std::string session_name = get_string(in, "RoleSessionName").value_or("");
  static const std::regex name_re("[\\w+=,.@-]*");
  if (session_name.size() < 2 || session_name.size() > 64 ||
      !std::regex_match(session_name.begin(), session_name.end(), name_re))
    return validation(fmt::format("1 validation error detected: Value '{}' at 'roleSessionName' failed to satisfy "
                                  "constraint: Member must have length between 2 and 64 and satisfy regular "
                                  "expression pattern: [\\w+=,.@-]*",
                                  session_name.substr(0, 64)));
  for (const char* unsupported : {"SerialNumber", "TokenCode", "SourceIdentity", "ProvidedContexts",
                                  "TransitiveTagKeys"})
    if (in.contains(unsupported))
      return make_error(ErrorKind::kUnsupportedOperation,
                        fmt::format("Gantry does not support {} in AssumeRole yet.", unsupported));
  auto denied = [&](std::string why) {
    return make_error(ErrorKind::kAccessDeniedQuery,
                      fmt::format("User: {} is not authorized to perform: sts:AssumeRole on resource: {}{}",
                                  ctx.principal_arn, role_arn.substr(0, 2048), why));
  };
  if (is_root(ctx)) return make_error(ErrorKind::kAccessDeniedQuery, "Roles may not be assumed by root accounts.");

  iam::Session session;
  session.session_policy = get_string(in, "Policy").value_or("");
  if (!session.session_policy.empty()) {
    if (session.session_policy.size() > kMaxSessionPolicyChars)
      return make_error(ErrorKind::kIamLimitExceeded /* PackedPolicyTooLarge in AWS */,
                        "Packed size of consumed session policies exceeds the 2048 character limit.");
    auto parsed = iam::parse_policy(session.session_policy, iam::PolicyKind::kIdentity);
    if (!parsed.ok()) return make_error(ErrorKind::kIamMalformedPolicyDocument, parsed.error().message);
  }
  if (auto* arns = in.if_contains("PolicyArns"); arns && arns->is_array())
    for (const auto& a : arns->as_array())
      if (a.is_object())
        if (auto arn = get_string(a.as_object(), "arn")) session.session_policy_arns.push_back(*arn);
  if (auto* tags = in.if_contains("Tags"); tags && tags->is_array()) {
    for (const auto& t : tags->as_array())
      if (t.is_object())
        session.tags.push_back({get_string(t.as_object(), "Key").value_or(""),
                                get_string(t.as_object(), "Value").value_or("")});
    if (session.tags.size() > kMaxSessionTags)
      return validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must "
                        "have length less than or equal to 50");
  }

  std::optional<iam::Role> role;
  auto arn = Arn::parse(role_arn);
  if (arn && arn->service == "iam" && arn->account == ctx.scope.account && arn->resource.starts_with("role/")) {
    std::string name = arn->resource.substr(arn->resource.rfind('/') + 1);
    GANTRY_RETURN_IF_ERROR(store.read([&](iam::IamTables& t) -> Status {
      role = t.find_role(ctx.scope.account, name);
      if (role && role->arn() != role_arn) role.reset();
      if (!session.session_policy_arns.empty() &&
          iam::managed_documents(t, ctx.scope.account, session.session_policy_arns).size() !=
              session.session_policy_arns.size())
        return make_error(ErrorKind::kIamInvalidInput, "A PolicyArns entry names no managed policy.");
      return {};
    }));
  }
  if (!role) return denied("");

  if (ctx.authorizer != nullptr) {
    api::ConditionKeys keys;
    if (auto external = get_string(in, "ExternalId")) keys.emplace_back("sts:externalid", *external);
    keys.emplace_back("sts:rolesessionname", session_name);
    for (const auto& t : session.tags) {
      keys.emplace_back("aws:tagkeys", t.key);
      keys.emplace_back(api::tag_condition_key("aws:requesttag/", t.key), t.value);
    }
    if (auto no = ctx.authorizer->deny(ctx, "sts:AssumeRole", role_arn, keys, {role->trust_policy}))
      return make_error(ErrorKind::kAccessDeniedQuery, *no);
    if (!session.tags.empty())
      if (auto no = ctx.authorizer->deny(ctx, "sts:TagSession", role_arn, keys, {role->trust_policy}))
        return make_error(ErrorKind::kAccessDeniedQuery, *no);
  }

  bool chained = is_role_session(ctx);
  int max = chained ? kChainedMax : role->max_session_seconds;
  GANTRY_ASSIGN_OR_RETURN(
      int seconds,
      duration(in, 3600, max,
               chained ? "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
                         "chaining."
                       : "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
  session.role_name = role->name;
  session.principal_arn = fmt::format("arn:aws:sts::{}:assumed-role/{}/{}", ctx.scope.account, role->name,
                                      session_name);
  session.principal_id = role->id + ":" + session_name;
  GANTRY_RETURN_IF_ERROR(issue(store, ctx, session, seconds));

  protocol::xml::Element out("AssumeRoleResult");
  add_credentials(out, session);
  auto& user = out.add("AssumedRoleUser");
  user.add("AssumedRoleId", session.principal_id);
  user.add("Arn", session.principal_arn);
  if (!session.session_policy.empty() || !session.tags.empty())
    out.add("PackedPolicySize",
            static_cast<int64_t>((session.session_policy.size() * 100) / kMaxSessionPolicyChars));
  return out;
}

Out get_session_token(iam::CountingStore& store, Ctx& ctx, json::object& in) {
  if (is_role_session(ctx) || iam::is_session_key(ctx.access_key_id))
    return make_error(ErrorKind::kAccessDeniedQuery, "Cannot call GetSessionToken with session credentials");
  if (in.contains("SerialNumber") || in.contains("TokenCode"))
    return make_error(ErrorKind::kUnsupportedOperation, "Gantry does not support MFA (SerialNumber, TokenCode) yet.");
  bool root = is_root(ctx);
  int max = root ? 3600 : kSessionTokenMax;
  GANTRY_ASSIGN_OR_RETURN(int seconds,
                          duration(in, root ? 3600 : kSessionTokenDefault, max,
                                   fmt::format("1 validation error detected: Value at 'durationSeconds' failed to "
                                               "satisfy constraint: Member must have value less than or equal to {}",
                                               max)));
  iam::Session session;
  session.principal_arn = ctx.principal_arn;
  session.principal_id = ctx.principal_id.empty() ? ctx.scope.account : ctx.principal_id;
  GANTRY_RETURN_IF_ERROR(issue(store, ctx, session, seconds));
  protocol::xml::Element out("GetSessionTokenResult");
  add_credentials(out, session);
  return out;
}

}  // namespace

api::QueryService make_service(iam::CountingStore& store) {
  api::QueryService s;
  s.name = "sts";
  s.validation_error_type = "ValidationError";
  s.operations.emplace("GetCallerIdentity", get_caller_identity);
  s.operations.emplace("AssumeRole", [&store](Ctx& ctx, json::object& in) { return assume_role(store, ctx, in); });
  s.operations.emplace("GetSessionToken",
                       [&store](Ctx& ctx, json::object& in) { return get_session_token(store, ctx, in); });
  // GetCallerIdentity and GetSessionToken need no permission (as in AWS); AssumeRole weighs the role's trust
  // policy with the caller's identity policies itself.
  s.auth_target = [](std::string_view, const json::object&, const Ctx&) {
    api::AuthTarget t;
    t.self_checked = true;
    return t;
  };
  return s;
}

}  // namespace gantry::sts
