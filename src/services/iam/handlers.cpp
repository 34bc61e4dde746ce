// CreateUser, GetUser, ListUsers, DeleteUser; CreateAccessKey, ListAccessKeys, UpdateAccessKey,
// DeleteAccessKey; PutUserPolicy, GetUserPolicy, ListUserPolicies, DeleteUserPolicy.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <regex>

#include "auth/keys.h"
#include "core/arn.h"
#include "iam/policy.h"
#include "protocol/xml.h"
#include "services/iam/service.h"

namespace gantry::iam {

namespace {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<protocol::xml::Element>;

constexpr size_t kMaxKeysPerUser = 2;
constexpr size_t kMaxPolicyChars = 10240;

std::optional<std::string> get_string(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

Error no_such_user(std::string_view name) {
  return make_error(ErrorKind::kIamNoSuchEntity, fmt::format("The user with name {} cannot be found.", name));
}

Status check_name(std::string_view what, std::string_view name, size_t max) {
  static const std::regex re("[\\w+=,.@-]+");
  if (name.empty() || name.size() > max || !std::regex_match(name.begin(), name.end(), re))
    return make_error(ErrorKind::kValidation,
                      fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: "
                                  "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
                                  name.substr(0, 128), what));
  return {};
}

// The caller's own user when the request names none (GetUser, access keys), or the named one.
Result<std::string> user_name_or_caller(const Ctx& ctx, const json::object& in) {
  if (auto name = get_string(in, "UserName")) return *name;
  auto arn = Arn::parse(ctx.principal_arn);
  if (arn && arn->resource.starts_with("user/")) {
    auto r = std::string_view(arn->resource);
    return std::string(r.substr(r.rfind('/') + 1));
  }
  return make_error(ErrorKind::kIamInvalidInput,
                    "Name the user (UserName): Gantry keeps a single access key for the account root, given to the "
                    "server at start.");
}

void add_user(protocol::xml::Element& parent, const User& u) {
  auto& e = parent.add("User");
  e.add("Path", u.path);
  e.add("UserName", u.name);
  e.add("UserId", u.id);
  e.add("Arn", u.arn());
  e.add("CreateDate", iso8601(u.created_at));
}

// Marker: the last name of the page, as given back by a listing.
template <class T, class Name>
void page_end(protocol::xml::Element& out, const std::vector<T>& rows, size_t limit, Name name) {
  bool truncated = rows.size() > limit;
  out.add("IsTruncated", truncated);
  if (truncated) out.add("Marker", name(rows[limit - 1]));
}

Result<size_t> max_items(const json::object& in) {
  auto* v = in.if_contains("MaxItems");
  if (!v) return 100;
  int64_t n = v->is_int64() ? v->as_int64() : 0;
  if (n < 1 || n > 1000)
    return make_error(ErrorKind::kValidation, "1 validation error detected: Value at 'maxItems' failed to satisfy "
                                              "constraint: Member must have value between 1 and 1000");
  return static_cast<size_t>(n);
}

Out create_user(IamStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "UserName").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name("userName", name, 64));
  std::string path = get_string(in, "Path").value_or("/");
  if (path.empty() || path.front() != '/' || path.back() != '/' || path.size() > 512)
    return make_error(ErrorKind::kValidation, "The specified value for path is invalid. It must begin and end with / "
                                              "and contain only alphanumeric characters and/or / characters.");
  if (in.contains("PermissionsBoundary") || in.contains("Tags"))
    return make_error(ErrorKind::kUnsupportedOperation,
                      "Gantry does not support permissions boundaries or tags on IAM users yet.");
  User user{ctx.scope.account, name, "AIDA" + auth::random_chars(*ctx.random, 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            path, ctx.now};
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (t.find_user(ctx.scope.account, name))
      return make_error(ErrorKind::kIamEntityAlreadyExists, fmt::format("User with name {} already exists.", name));
    t.put_user(user);
    return {};
  }));
  protocol::xml::Element out("CreateUserResult");
  add_user(out, user);
  return out;
}

Out get_user(IamStore& store, Ctx& ctx, json::object& in) {
  protocol::xml::Element out("GetUserResult");
  if (!get_string(in, "UserName")) {
    auto arn = Arn::parse(ctx.principal_arn);
    if (arn && arn->resource == "root") {
      auto& e = out.add("User");
      e.add("UserId", ctx.scope.account);
      e.add("Arn", ctx.principal_arn);
      e.add("CreateDate", iso8601(TimePoint{}));
      return out;
    }
  }
  GANTRY_ASSIGN_OR_RETURN(auto name, user_name_or_caller(ctx, in));
  std::optional<User> user;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    user = t.find_user(ctx.scope.account, name);
    return user ? Status{} : Status(no_such_user(name));
  }));
  add_user(out, *user);
  return out;
}

Out list_users(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(size_t limit, max_items(in));
  std::vector<User> users;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    users = t.list_users(ctx.scope.account, get_string(in, "PathPrefix").value_or("/"),
                         get_string(in, "Marker").value_or(""), static_cast<int>(limit + 1));
    return {};
  }));
  protocol::xml::Element out("ListUsersResult");
  auto& list = out.add("Users");
  for (size_t i = 0; i < users.size() && i < limit; ++i) {
    auto& m = list.add("member");
    m.add("Path", users[i].path);
    m.add("UserName", users[i].name);
    m.add("UserId", users[i].id);
    m.add("Arn", users[i].arn());
    m.add("CreateDate", iso8601(users[i].created_at));
  }
  page_end(out, users, limit, [](const User& u) { return u.name; });
  return out;
}

Out delete_user(IamStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "UserName").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (!t.find_user(ctx.scope.account, name)) return no_such_user(name);
    if (!t.access_keys_of(ctx.scope.account, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must delete access keys first.");
    if (!t.user_policies(ctx.scope.account, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must delete policies first.");
    t.delete_user(ctx.scope.account, name);
    return {};
  }));
  return protocol::xml::Element("DeleteUserResult");
}

Out create_access_key(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, user_name_or_caller(ctx, in));
  auto pair = auth::generate_key_pair(*ctx.random);
  AccessKeyRecord key{pair.access_key_id, pair.secret, ctx.scope.account, name, "Active", ctx.now};
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    auto user = t.find_user(ctx.scope.account, name);
    if (!user) return no_such_user(name);
    key.user_name = user->name;
    if (t.access_keys_of(ctx.scope.account, name).size() >= kMaxKeysPerUser)
      return make_error(ErrorKind::kIamLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2");
    t.put_access_key(key);
    return {};
  }));
  protocol::xml::Element out("CreateAccessKeyResult");
  auto& e = out.add("AccessKey");
  e.add("UserName", key.user_name);
  e.add("AccessKeyId", key.id);
  e.add("Status", key.status);
  e.add("SecretAccessKey", key.secret);
  e.add("CreateDate", iso8601(key.created_at));
  return out;
}

Out list_access_keys(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, user_name_or_caller(ctx, in));
  std::vector<AccessKeyRecord> keys;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    if (!t.find_user(ctx.scope.account, name)) return no_such_user(name);
    keys = t.access_keys_of(ctx.scope.account, name);
    return {};
  }));
  protocol::xml::Element out("ListAccessKeysResult");
  auto& list = out.add("AccessKeyMetadata");
  for (const auto& k : keys) {
    auto& m = list.add("member");
    m.add("UserName", k.user_name);
    m.add("AccessKeyId", k.id);
    m.add("Status", k.status);
    m.add("CreateDate", iso8601(k.created_at));
  }
  out.add("IsTruncated", false);
  return out;
}

// The key named, which must belong to the user named (or the caller).
Status with_key(IamTables& t, const Ctx& ctx, const std::string& user, const std::string& id,
                const std::function<void(AccessKeyRecord&)>& fn) {
  if (!t.find_user(ctx.scope.account, user)) return no_such_user(user);
  auto key = t.find_access_key(id);
  if (!key || key->account != ctx.scope.account || key->user_name != user)
    return make_error(ErrorKind::kIamNoSuchEntity, fmt::format("The Access Key with id {} cannot be found.", id));
  fn(*key);
  return {};
}

Out update_access_key(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, user_name_or_caller(ctx, in));
  std::string id = get_string(in, "AccessKeyId").value_or("");
  std::string status = get_string(in, "Status").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    return with_key(t, ctx, name, id, [&](AccessKeyRecord& k) {
      k.status = status;
      t.put_access_key(k);
    });
  }));
  return protocol::xml::Element("UpdateAccessKeyResult");
}

Out delete_access_key(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, user_name_or_caller(ctx, in));
  std::string id = get_string(in, "AccessKeyId").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    return with_key(t, ctx, name, id, [&](AccessKeyRecord& k) { t.delete_access_key(k.id); });
  }));
  return protocol::xml::Element("DeleteAccessKeyResult");
}

Out put_user_policy(IamStore& store, Ctx& ctx, json::object& in) {
  std::string user = get_string(in, "UserName").value_or("");
  std::string name = get_string(in, "PolicyName").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name("policyName", name, 128));
  std::string document = get_string(in, "PolicyDocument").value_or("");
  if (document.size() > kMaxPolicyChars)
    return make_error(ErrorKind::kIamLimitExceeded, "Maximum policy size of 2048 bytes exceeded for user " + user);
  auto parsed = parse_policy(document, PolicyKind::kIdentity);
  if (!parsed.ok()) return make_error(ErrorKind::kIamMalformedPolicyDocument, parsed.error().message);
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    auto u = t.find_user(ctx.scope.account, user);
    if (!u) return no_such_user(user);
    t.put_user_policy(UserPolicy{ctx.scope.account, u->name, name, document});
    return {};
  }));
  return protocol::xml::Element("PutUserPolicyResult");
}

Out get_user_policy(IamStore& store, Ctx& ctx, json::object& in) {
  std::string user = get_string(in, "UserName").value_or("");
  std::string name = get_string(in, "PolicyName").value_or("");
  std::optional<UserPolicy> policy;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    if (!t.find_user(ctx.scope.account, user)) return no_such_user(user);
    policy = t.find_user_policy(ctx.scope.account, user, name);
    if (!policy)
      return make_error(ErrorKind::kIamNoSuchEntity,
                        fmt::format("The user policy with name {} cannot be found.", name));
    return {};
  }));
  protocol::xml::Element out("GetUserPolicyResult");
  out.add("UserName", policy->user_name);
  out.add("PolicyName", policy->name);
  out.add("PolicyDocument", auth::uri_encode(policy->document, false));  // URL-encoded, as IAM returns it
  return out;
}

Out list_user_policies(IamStore& store, Ctx& ctx, json::object& in) {
  std::string user = get_string(in, "UserName").value_or("");
  std::vector<UserPolicy> policies;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    if (!t.find_user(ctx.scope.account, user)) return no_such_user(user);
    policies = t.user_policies(ctx.scope.account, user);
    return {};
  }));
  protocol::xml::Element out("ListUserPoliciesResult");
  auto& names = out.add("PolicyNames");
  for (const auto& p : policies) names.add("member", p.name);
  out.add("IsTruncated", false);
  return out;
}

Out delete_user_policy(IamStore& store, Ctx& ctx, json::object& in) {
  std::string user = get_string(in, "UserName").value_or("");
  std::string name = get_string(in, "PolicyName").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (!t.find_user(ctx.scope.account, user)) return no_such_user(user);
    if (!t.find_user_policy(ctx.scope.account, user, name))
      return make_error(ErrorKind::kIamNoSuchEntity,
                        fmt::format("The user policy with name {} cannot be found.", name));
    t.delete_user_policy(ctx.scope.account, user, name);
    return {};
  }));
  return protocol::xml::Element("DeleteUserPolicyResult");
}

}  // namespace

api::QueryService make_service(IamStore& store) {
  api::QueryService s;
  s.name = "iam";
  s.validation_error_type = "ValidationError";
  auto add = [&](std::string name, Out (*fn)(IamStore&, Ctx&, json::object&)) {
    s.operations.emplace(std::move(name), [&store, fn](Ctx& ctx, json::object& in) { return fn(store, ctx, in); });
  };
  add("CreateUser", create_user);
  add("GetUser", get_user);
  add("ListUsers", list_users);
  add("DeleteUser", delete_user);
  add("CreateAccessKey", create_access_key);
  add("ListAccessKeys", list_access_keys);
  add("UpdateAccessKey", update_access_key);
  add("DeleteAccessKey", delete_access_key);
  add("PutUserPolicy", put_user_policy);
  add("GetUserPolicy", get_user_policy);
  add("ListUserPolicies", list_user_policies);
  add("DeleteUserPolicy", delete_user_policy);
  return s;
}

}  // namespace gantry::iam
