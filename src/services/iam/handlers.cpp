// The IAM service: the helpers its handlers share, and users with their access keys and tags
// (CreateUser, GetUser, ListUsers, DeleteUser, Tag/Untag/ListUserTags; Create/List/Update/DeleteAccessKey).
#include <fmt/format.h>

#include <boost/json.hpp>
#include <regex>

#include "auth/keys.h"
#include "core/arn.h"
#include "services/iam/handlers.h"
#include "services/iam/service.h"

namespace gantry::iam {

namespace detail {

std::optional<std::string> get_string(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::string entity_field(EntityKind kind) { return title(kind) + "Name"; }

std::string title(EntityKind kind) {
  switch (kind) {
    case EntityKind::kUser: return "User";
    case EntityKind::kRole: return "Role";
    case EntityKind::kGroup: return "Group";
  }
  return "User";
}

Error no_such(EntityKind kind, std::string_view name) {
  return make_error(ErrorKind::kIamNoSuchEntity,
                    fmt::format("The {} with name {} cannot be found.", kind_name(kind), name));
}

Status require_entity(IamTables& t, std::string_view account, EntityKind kind, std::string_view name) {
  bool found = false;
  switch (kind) {
    case EntityKind::kUser: found = t.find_user(account, name).has_value(); break;
    case EntityKind::kRole: found = t.find_role(account, name).has_value(); break;
    case EntityKind::kGroup: found = t.find_group(account, name).has_value(); break;
  }
  return found ? Status{} : Status(no_such(kind, name));
}

std::string new_id(Random& random, std::string_view prefix) {
  return std::string(prefix) + auth::random_chars(random, 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
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

Status check_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.back() != '/' || path.size() > 512)
    return make_error(ErrorKind::kValidation, "The specified value for path is invalid. It must begin and end with / "
                                              "and contain only alphanumeric characters and/or / characters.");
  return {};
}

Status check_document(std::string_view document, PolicyKind kind) {
  if (document.size() > kMaxPolicyChars)
    return make_error(ErrorKind::kIamLimitExceeded,
                      fmt::format("Cannot exceed quota for PolicySize: {}", kMaxPolicyChars));
  auto parsed = parse_policy(document, kind);
  if (!parsed.ok()) return make_error(ErrorKind::kIamMalformedPolicyDocument, parsed.error().message);
  return {};
}

Result<std::vector<store::ResourceTag>> read_tags(const json::object& in) {
  std::vector<store::ResourceTag> out;
  auto* v = in.if_contains("Tags");
  if (!v) return out;
  if (!v->is_array()) return make_error(ErrorKind::kValidation, "Tags must be a list of {Key, Value}");
  for (const auto& t : v->as_array()) {
    if (!t.is_object()) return make_error(ErrorKind::kValidation, "Tags must be a list of {Key, Value}");
    auto key = get_string(t.as_object(), "Key").value_or("");
    auto value = get_string(t.as_object(), "Value").value_or("");
    if (key.empty() || key.size() > 128 || value.size() > 256)
      return make_error(ErrorKind::kValidation,
                        "1 validation error detected: a tag key must have 1 to 128 characters and a value at most 256");
    out.push_back({key, value});
  }
  if (out.size() > 50)
    return make_error(ErrorKind::kIamLimitExceeded, "The number of tags has reached the maximum limit of 50.");
  return out;
}

Result<std::vector<std::string>> read_tag_keys(const json::object& in) {
  std::vector<std::string> out;
  auto* v = in.if_contains("TagKeys");
  if (v && v->is_array())
    for (const auto& k : v->as_array())
      if (k.is_string()) out.emplace_back(k.as_string());
  return out;
}

protocol::xml::Element& add_user(protocol::xml::Element& parent, const User& u, const char* name) {
  auto& e = parent.add(name);
  e.add("Path", u.path);
  e.add("UserName", u.name);
  e.add("UserId", u.id);
  e.add("Arn", u.arn());
  e.add("CreateDate", iso8601(u.created_at));
  return e;
}

void drop_tags(IamTables& t, const std::string& arn) {
  std::vector<std::string> keys;
  for (const auto& tag : t.tags(arn)) keys.push_back(tag.key);
  t.untag(arn, keys);
}

void add_tags(protocol::xml::Element& parent, const std::vector<store::ResourceTag>& tags, const char* name) {
  auto& list = parent.add(name);
  for (const auto& t : tags) {
    auto& m = list.add("member");
    m.add("Key", t.key);
    m.add("Value", t.value);
  }
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

}  // namespace detail

namespace {

using namespace detail;

constexpr size_t kMaxKeysPerUser = 2;

Error no_such_user(std::string_view name) { return no_such(EntityKind::kUser, name); }

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


Out create_user(IamStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "UserName").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name("userName", name, 64));
  std::string path = get_string(in, "Path").value_or("/");
  GANTRY_RETURN_IF_ERROR(check_path(path));
  if (in.contains("PermissionsBoundary"))
    return make_error(ErrorKind::kUnsupportedOperation, "Gantry does not support permissions boundaries yet.");
  GANTRY_ASSIGN_OR_RETURN(auto tags, read_tags(in));
  User user{ctx.scope.account, name, new_id(*ctx.random, "AIDA"), path, ctx.now};
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (t.find_user(ctx.scope.account, name))
      return make_error(ErrorKind::kIamEntityAlreadyExists, fmt::format("User with name {} already exists.", name));
    t.put_user(user);
    t.tag(user.arn(), tags);
    return {};
  }));
  protocol::xml::Element out("CreateUserResult");
  auto& e = add_user(out, user, "User");
  if (!tags.empty()) add_tags(e, tags);
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
  std::vector<store::ResourceTag> tags;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    user = t.find_user(ctx.scope.account, name);
    if (!user) return no_such_user(name);
    tags = t.tags(user->arn());
    return {};
  }));
  auto& e = add_user(out, *user, "User");
  if (!tags.empty()) add_tags(e, tags);
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
  for (size_t i = 0; i < users.size() && i < limit; ++i) add_user(list, users[i], "member");
  page_end(out, users, limit, [](const User& u) { return u.name; });
  return out;
}

Out delete_user(IamStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "UserName").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (!t.find_user(ctx.scope.account, name)) return no_such_user(name);
    if (!t.access_keys_of(ctx.scope.account, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must delete access keys first.");
    if (!t.inline_policies(ctx.scope.account, EntityKind::kUser, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must delete policies first.");
    if (!t.attached_to(ctx.scope.account, EntityKind::kUser, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must detach all policies first.");
    if (!t.groups_of(ctx.scope.account, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must remove users from group first.");
    auto user = t.find_user(ctx.scope.account, name);
    drop_tags(t, user->arn());
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

}  // namespace

void detail::add_user_operations(api::QueryService& s, IamStore& store) {
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
}

namespace {

// The resource each IAM operation is authorized on (AWS's Service Authorization Reference): the user,
// role, group or policy it names (with its path, when it exists), the caller's own user for access key
// operations without UserName, "*" for listings.
api::AuthTarget iam_auth_target(IamStore& store, std::string_view op, const json::object& in, const Ctx& ctx) {
  api::AuthTarget target;
  if (op.starts_with("List") && op != "ListUserPolicies" && op != "ListRolePolicies" && op != "ListGroupPolicies" &&
      !op.starts_with("ListAttached") && !op.ends_with("Tags") && op != "ListAccessKeys" &&
      op != "ListGroupsForUser" && op != "ListPolicyVersions" && op != "ListEntitiesForPolicy")
    return target;
  std::string account = ctx.scope.account;
  auto path = get_string(in, "Path").value_or("/");
  auto policy_arn = get_string(in, "PolicyArn");
  // Attach/Detach{User,Role,Group}Policy act on the entity, with the policy as iam:PolicyARN.
  const bool attaching = op.starts_with("Attach") || op.starts_with("Detach");
  if (policy_arn) target.keys.emplace_back("iam:policyarn", *policy_arn);
  if (policy_arn && !attaching) {
    target.resources = {*policy_arn};
  } else if (op == "CreatePolicy") {
    target.resources = {fmt::format("arn:aws:iam::{}:policy{}{}", account, path,
                                    get_string(in, "PolicyName").value_or(""))};
  } else if (auto role = get_string(in, "RoleName")) {
    std::string arn = fmt::format("arn:aws:iam::{}:role{}{}", account, path, *role);
    (void)store.read([&](IamTables& t) -> Status {
      if (auto r = t.find_role(account, *role)) arn = r->arn();
      return {};
    });
    target.resources = {arn};
  } else if (auto group = get_string(in, "GroupName")) {
    std::string arn = fmt::format("arn:aws:iam::{}:group{}{}", account, path, *group);
    (void)store.read([&](IamTables& t) -> Status {
      if (auto g = t.find_group(account, *group)) arn = g->arn();
      return {};
    });
    target.resources = {arn};
  } else if (auto user = get_string(in, "UserName")) {
    std::string arn = fmt::format("arn:aws:iam::{}:user{}{}", account, path, *user);
    (void)store.read([&](IamTables& t) -> Status {
      if (auto u = t.find_user(account, *user)) arn = u->arn();
      return {};
    });
    target.resources = {arn};
  } else if (op.find("AccessKey") != std::string_view::npos || op == "GetUser") {
    target.resources = {ctx.principal_arn};  // the caller's own user
  }
  return target;
}

}  // namespace

api::QueryService make_service(IamStore& store) {
  api::QueryService s;
  s.name = "iam";
  s.validation_error_type = "ValidationError";
  detail::add_user_operations(s, store);
  detail::add_role_and_group_operations(s, store);
  detail::add_policy_operations(s, store);
  s.auth_target = [&store](std::string_view op, const json::object& in, const Ctx& ctx) {
    return iam_auth_target(store, op, in, ctx);
  };
  return s;
}

}  // namespace gantry::iam
