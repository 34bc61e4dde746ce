// Roles (CreateRole, GetRole, ListRoles, UpdateRole, UpdateAssumeRolePolicy, DeleteRole), groups
// (CreateGroup, GetGroup, ListGroups, DeleteGroup, AddUserToGroup, RemoveUserFromGroup,
// ListGroupsForUser) and the tags of users and roles (Tag/Untag/List{User,Role}Tags).
#include <fmt/format.h>

#include "auth/sigv4_verify.h"
#include "services/iam/handlers.h"
#include "services/iam/service.h"

namespace gantry::iam {

namespace {

using namespace detail;

constexpr int kMinSession = 3600;
constexpr int kMaxSession = 43200;

protocol::xml::Element& add_role(protocol::xml::Element& parent, const Role& r, const char* name) {
  auto& e = parent.add(name);
  e.add("Path", r.path);
  e.add("RoleName", r.name);
  e.add("RoleId", r.id);
  e.add("Arn", r.arn());
  e.add("CreateDate", iso8601(r.created_at));
  e.add("AssumeRolePolicyDocument", auth::uri_encode(r.trust_policy, false));  // URL-encoded, as IAM returns it
  if (!r.description.empty()) e.add("Description", r.description);
  e.add("MaxSessionDuration", r.max_session_seconds);
  return e;
}

protocol::xml::Element& add_group(protocol::xml::Element& parent, const Group& g, const char* name) {
  auto& e = parent.add(name);
  e.add("Path", g.path);
  e.add("GroupName", g.name);
  e.add("GroupId", g.id);
  e.add("Arn", g.arn());
  e.add("CreateDate", iso8601(g.created_at));
  return e;
}

Result<int> max_session(const json::object& in, int fallback) {
  auto* v = in.if_contains("MaxSessionDuration");
  if (!v) return fallback;
  int64_t n = v->is_int64() ? v->as_int64() : 0;
  if (n < kMinSession || n > kMaxSession)
    return make_error(ErrorKind::kValidation,
                      fmt::format("1 validation error detected: Value '{}' at 'maxSessionDuration' failed to satisfy "
                                  "constraint: Member must have value between 3600 and 43200",
                                  n));
  return static_cast<int>(n);
}

Status check_description(const std::string& d) {
  if (d.size() > 1000)
    return make_error(ErrorKind::kValidation, "1 validation error detected: Value at 'description' failed to "
                                              "satisfy constraint: Member must have length less than or equal to 1000");
  return {};
}

Out create_role(IamStore& store, Ctx& ctx, json::object& in) {
  Role role;
  role.account = ctx.scope.account;
  role.name = get_string(in, "RoleName").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name("roleName", role.name, 64));
  role.path = get_string(in, "Path").value_or("/");
  GANTRY_RETURN_IF_ERROR(check_path(role.path));
  role.trust_policy = get_string(in, "AssumeRolePolicyDocument").value_or("");
  GANTRY_RETURN_IF_ERROR(check_document(role.trust_policy, PolicyKind::kTrust));
  role.description = get_string(in, "Description").value_or("");
  GANTRY_RETURN_IF_ERROR(check_description(role.description));
  GANTRY_ASSIGN_OR_RETURN(role.max_session_seconds, max_session(in, kMinSession));
  if (in.contains("PermissionsBoundary"))
    return make_error(ErrorKind::kUnsupportedOperation, "Gantry does not support permissions boundaries yet.");
  GANTRY_ASSIGN_OR_RETURN(auto tags, read_tags(in));
  role.id = new_id(*ctx.random, "AROA");
  role.created_at = ctx.now;
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (t.find_role(ctx.scope.account, role.name))
      return make_error(ErrorKind::kIamEntityAlreadyExists,
                        fmt::format("Role with name {} already exists.", role.name));
    t.put_role(role);
    t.tag(role.arn(), tags);
    return {};
  }));
  protocol::xml::Element out("CreateRoleResult");
  auto& e = add_role(out, role, "Role");
  if (!tags.empty()) add_tags(e, tags);
  return out;
}

// The named role, read in its own transaction.
Result<Role> read_role(IamStore& store, const Ctx& ctx, const json::object& in,
                       std::vector<store::ResourceTag>* tags = nullptr) {
  std::string name = get_string(in, "RoleName").value_or("");
  std::optional<Role> role;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    role = t.find_role(ctx.scope.account, name);
    if (!role) return no_such(EntityKind::kRole, name);
    if (tags != nullptr) *tags = t.tags(role->arn());
    return {};
  }));
  return *role;
}

Out get_role(IamStore& store, Ctx& ctx, json::object& in) {
  std::vector<store::ResourceTag> tags;
  GANTRY_ASSIGN_OR_RETURN(auto role, read_role(store, ctx, in, &tags));
  protocol::xml::Element out("GetRoleResult");
  auto& e = add_role(out, role, "Role");
  if (!tags.empty()) add_tags(e, tags);
  e.add("RoleLastUsed");
  return out;
}

Out list_roles(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(size_t limit, max_items(in));
  std::vector<Role> roles;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    roles = t.list_roles(ctx.scope.account, get_string(in, "PathPrefix").value_or("/"),
                         get_string(in, "Marker").value_or(""), static_cast<int>(limit + 1));
    return {};
  }));
  protocol::xml::Element out("ListRolesResult");
  auto& list = out.add("Roles");
  for (size_t i = 0; i < roles.size() && i < limit; ++i) add_role(list, roles[i], "member");
  page_end(out, roles, limit, [](const Role& r) { return r.name; });
  return out;
}

// Changes the named role with `fn` (which may refuse).
Status update_role_with(IamStore& store, const Ctx& ctx, const json::object& in,
                        const std::function<Status(Role&)>& fn) {
  std::string name = get_string(in, "RoleName").value_or("");
  return store.write([&](IamTables& t) -> Status {
    auto role = t.find_role(ctx.scope.account, name);
    if (!role) return no_such(EntityKind::kRole, name);
    GANTRY_RETURN_IF_ERROR(fn(*role));
    t.put_role(*role);
    return {};
  });
}

Out update_role(IamStore& store, Ctx& ctx, json::object& in) {
  auto description = get_string(in, "Description");
  if (description) GANTRY_RETURN_IF_ERROR(check_description(*description));
  GANTRY_RETURN_IF_ERROR(update_role_with(store, ctx, in, [&](Role& r) -> Status {
    if (description) r.description = *description;
    GANTRY_ASSIGN_OR_RETURN(r.max_session_seconds, max_session(in, r.max_session_seconds));
    return {};
  }));
  return protocol::xml::Element("UpdateRoleResult");
}

Out update_assume_role_policy(IamStore& store, Ctx& ctx, json::object& in) {
  std::string document = get_string(in, "PolicyDocument").value_or("");
  GANTRY_RETURN_IF_ERROR(check_document(document, PolicyKind::kTrust));
  GANTRY_RETURN_IF_ERROR(update_role_with(store, ctx, in, [&](Role& r) -> Status {
    r.trust_policy = document;
    return {};
  }));
  return protocol::xml::Element("UpdateAssumeRolePolicyResult");
}

Out delete_role(IamStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "RoleName").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    auto role = t.find_role(ctx.scope.account, name);
    if (!role) return no_such(EntityKind::kRole, name);
    if (!t.inline_policies(ctx.scope.account, EntityKind::kRole, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must delete policies first.");
    if (!t.attached_to(ctx.scope.account, EntityKind::kRole, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must detach all policies first.");
    drop_tags(t, role->arn());
    t.delete_role(ctx.scope.account, name);
    return {};
  }));
  return protocol::xml::Element("DeleteRoleResult");
}

Out create_group(IamStore& store, Ctx& ctx, json::object& in) {
  Group group{ctx.scope.account, get_string(in, "GroupName").value_or(""), "", get_string(in, "Path").value_or("/"),
              ctx.now};
  GANTRY_RETURN_IF_ERROR(check_name("groupName", group.name, 128));
  GANTRY_RETURN_IF_ERROR(check_path(group.path));
  group.id = new_id(*ctx.random, "AGPA");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (t.find_group(ctx.scope.account, group.name))
      return make_error(ErrorKind::kIamEntityAlreadyExists,
                        fmt::format("Group with name {} already exists.", group.name));
    t.put_group(group);
    return {};
  }));
  protocol::xml::Element out("CreateGroupResult");
  add_group(out, group, "Group");
  return out;
}

Out get_group(IamStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "GroupName").value_or("");
  std::optional<Group> group;
  std::vector<User> users;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    group = t.find_group(ctx.scope.account, name);
    if (!group) return no_such(EntityKind::kGroup, name);
    for (const auto& u : t.members_of(ctx.scope.account, group->name))
      if (auto user = t.find_user(ctx.scope.account, u)) users.push_back(*user);
    return {};
  }));
  protocol::xml::Element out("GetGroupResult");
  add_group(out, *group, "Group");
  auto& list = out.add("Users");
  for (const auto& u : users) add_user(list, u, "member");
  out.add("IsTruncated", false);
  return out;
}

Out list_groups(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(size_t limit, max_items(in));
  std::vector<Group> groups;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    groups = t.list_groups(ctx.scope.account, get_string(in, "PathPrefix").value_or("/"),
                           get_string(in, "Marker").value_or(""), static_cast<int>(limit + 1));
    return {};
  }));
  protocol::xml::Element out("ListGroupsResult");
  auto& list = out.add("Groups");
  for (size_t i = 0; i < groups.size() && i < limit; ++i) add_group(list, groups[i], "member");
  page_end(out, groups, limit, [](const Group& g) { return g.name; });
  return out;
}

Out delete_group(IamStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "GroupName").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (!t.find_group(ctx.scope.account, name)) return no_such(EntityKind::kGroup, name);
    if (!t.members_of(ctx.scope.account, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must remove users from group first.");
    if (!t.inline_policies(ctx.scope.account, EntityKind::kGroup, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must delete policies first.");
    if (!t.attached_to(ctx.scope.account, EntityKind::kGroup, name).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete entity, must detach all policies first.");
    t.delete_group(ctx.scope.account, name);
    return {};
  }));
  return protocol::xml::Element("DeleteGroupResult");
}

// AddUserToGroup / RemoveUserFromGroup.
Out membership(IamStore& store, Ctx& ctx, json::object& in, bool add) {
  std::string group = get_string(in, "GroupName").value_or("");
  std::string user = get_string(in, "UserName").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    auto g = t.find_group(ctx.scope.account, group);
    if (!g) return no_such(EntityKind::kGroup, group);
    auto u = t.find_user(ctx.scope.account, user);
    if (!u) return no_such(EntityKind::kUser, user);
    if (add) {
      t.add_member(ctx.scope.account, g->name, u->name);
    } else {
      auto groups = t.groups_of(ctx.scope.account, u->name);
      bool member = false;
      for (const auto& name : groups) member = member || name == g->name;
      if (!member)
        return make_error(ErrorKind::kIamNoSuchEntity,
                          fmt::format("The user with name {} is not in group {}.", u->name, g->name));
      t.remove_member(ctx.scope.account, g->name, u->name);
    }
    return {};
  }));
  return protocol::xml::Element(add ? "AddUserToGroupResult" : "RemoveUserFromGroupResult");
}

Out list_groups_for_user(IamStore& store, Ctx& ctx, json::object& in) {
  std::string user = get_string(in, "UserName").value_or("");
  std::vector<Group> groups;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    if (!t.find_user(ctx.scope.account, user)) return no_such(EntityKind::kUser, user);
    for (const auto& name : t.groups_of(ctx.scope.account, user))
      if (auto g = t.find_group(ctx.scope.account, name)) groups.push_back(*g);
    return {};
  }));
  protocol::xml::Element out("ListGroupsForUserResult");
  auto& list = out.add("Groups");
  for (const auto& g : groups) add_group(list, g, "member");
  out.add("IsTruncated", false);
  return out;
}

// The ARN of the user or role named in the input, after checking it exists.
Result<std::string> tagged_arn(IamTables& t, const Ctx& ctx, const json::object& in, EntityKind kind) {
  std::string name = get_string(in, entity_field(kind)).value_or("");
  if (kind == EntityKind::kRole) {
    auto r = t.find_role(ctx.scope.account, name);
    if (!r) return no_such(kind, name);
    return r->arn();
  }
  auto u = t.find_user(ctx.scope.account, name);
  if (!u) return no_such(kind, name);
  return u->arn();
}

Out tag_entity(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind) {
  GANTRY_ASSIGN_OR_RETURN(auto tags, read_tags(in));
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto arn, tagged_arn(t, ctx, in, kind));
    t.tag(arn, tags);
    if (t.tags(arn).size() > 50)
      return make_error(ErrorKind::kIamLimitExceeded, "The number of tags has reached the maximum limit of 50.");
    return {};
  }));
  return protocol::xml::Element("Tag" + title(kind) + "Result");
}

Out untag_entity(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind) {
  GANTRY_ASSIGN_OR_RETURN(auto keys, read_tag_keys(in));
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto arn, tagged_arn(t, ctx, in, kind));
    t.untag(arn, keys);
    return {};
  }));
  return protocol::xml::Element("Untag" + title(kind) + "Result");
}

Out list_entity_tags(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind) {
  std::vector<store::ResourceTag> tags;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto arn, tagged_arn(t, ctx, in, kind));
    tags = t.tags(arn);
    return {};
  }));
  protocol::xml::Element out("List" + title(kind) + "TagsResult");
  add_tags(out, tags);
  out.add("IsTruncated", false);
  return out;
}

}  // namespace

void detail::add_role_and_group_operations(api::QueryService& s, IamStore& store) {
  auto add = [&](std::string name, std::function<Out(IamStore&, Ctx&, json::object&)> fn) {
    s.operations.emplace(std::move(name),
                         [&store, fn = std::move(fn)](Ctx& ctx, json::object& in) { return fn(store, ctx, in); });
  };
  add("CreateRole", create_role);
  add("GetRole", get_role);
  add("ListRoles", list_roles);
  add("UpdateRole", update_role);
  add("UpdateAssumeRolePolicy", update_assume_role_policy);
  add("DeleteRole", delete_role);
  add("CreateGroup", create_group);
  add("GetGroup", get_group);
  add("ListGroups", list_groups);
  add("DeleteGroup", delete_group);
  add("AddUserToGroup", [](IamStore& st, Ctx& c, json::object& in) { return membership(st, c, in, true); });
  add("RemoveUserFromGroup", [](IamStore& st, Ctx& c, json::object& in) { return membership(st, c, in, false); });
  add("ListGroupsForUser", list_groups_for_user);
  for (EntityKind kind : {EntityKind::kUser, EntityKind::kRole}) {
    add("Tag" + title(kind), [kind](IamStore& st, Ctx& c, json::object& in) { return tag_entity(st, c, in, kind); });
    add("Untag" + title(kind),
        [kind](IamStore& st, Ctx& c, json::object& in) { return untag_entity(st, c, in, kind); });
    add("List" + title(kind) + "Tags",
        [kind](IamStore& st, Ctx& c, json::object& in) { return list_entity_tags(st, c, in, kind); });
  }
}

}  // namespace gantry::iam
