// Policies: inline policies of users, roles and groups (Put/Get/List/Delete{User,Role,Group}Policy),
// managed policies (CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, policy versions, tags),
// attachments (Attach/Detach/ListAttached{User,Role,Group}Policies, ListEntitiesForPolicy).
#include <fmt/format.h>

#include <algorithm>

#include "auth/sigv4_verify.h"
#include "core/arn.h"
#include "services/iam/aws_managed.h"
#include "services/iam/handlers.h"
#include "services/iam/service.h"

namespace gantry::iam {

namespace {

using namespace detail;

constexpr size_t kMaxVersions = 5;

Error no_such_inline(EntityKind kind, std::string_view name) {
  return make_error(ErrorKind::kIamNoSuchEntity,
                    fmt::format("The {} policy with name {} cannot be found.", kind_name(kind), name));
}

Out put_inline(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind) {
  std::string entity = get_string(in, entity_field(kind)).value_or("");
  std::string name = get_string(in, "PolicyName").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name("policyName", name, 128));
  std::string document = get_string(in, "PolicyDocument").value_or("");
  GANTRY_RETURN_IF_ERROR(check_document(document, PolicyKind::kIdentity));
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    GANTRY_RETURN_IF_ERROR(require_entity(t, ctx.scope.account, kind, entity));
    t.put_inline(InlinePolicy{ctx.scope.account, kind, entity, name, document});
    return {};
  }));
  return protocol::xml::Element("Put" + title(kind) + "PolicyResult");
}

Out get_inline(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind) {
  std::string entity = get_string(in, entity_field(kind)).value_or("");
  std::string name = get_string(in, "PolicyName").value_or("");
  std::optional<InlinePolicy> policy;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    GANTRY_RETURN_IF_ERROR(require_entity(t, ctx.scope.account, kind, entity));
    policy = t.find_inline(ctx.scope.account, kind, entity, name);
    return policy ? Status{} : Status(no_such_inline(kind, name));
  }));
  protocol::xml::Element out("Get" + title(kind) + "PolicyResult");
  out.add(entity_field(kind), policy->entity);
  out.add("PolicyName", policy->name);
  out.add("PolicyDocument", auth::uri_encode(policy->document, false));  // URL-encoded, as IAM returns it
  return out;
}

Out list_inline(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind) {
  std::string entity = get_string(in, entity_field(kind)).value_or("");
  std::vector<InlinePolicy> policies;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    GANTRY_RETURN_IF_ERROR(require_entity(t, ctx.scope.account, kind, entity));
    policies = t.inline_policies(ctx.scope.account, kind, entity);
    return {};
  }));
  protocol::xml::Element out("List" + title(kind) + "PoliciesResult");
  auto& names = out.add("PolicyNames");
  for (const auto& p : policies) names.add("member", p.name);
  out.add("IsTruncated", false);
  return out;
}

Out delete_inline(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind) {
  std::string entity = get_string(in, entity_field(kind)).value_or("");
  std::string name = get_string(in, "PolicyName").value_or("");
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    GANTRY_RETURN_IF_ERROR(require_entity(t, ctx.scope.account, kind, entity));
    if (!t.find_inline(ctx.scope.account, kind, entity, name)) return no_such_inline(kind, name);
    t.delete_inline(ctx.scope.account, kind, entity, name);
    return {};
  }));
  return protocol::xml::Element("Delete" + title(kind) + "PolicyResult");
}

// A managed policy as its ARN names it: AWS's (built in) or one of the account's.
struct PolicyRef {
  const AwsManagedPolicy* aws = nullptr;
  std::string name;  // customer policies
  std::string path;
};

Error no_such_policy(std::string_view arn) {
  return make_error(ErrorKind::kIamNoSuchEntity,
                    fmt::format("Policy {} does not exist or is not attachable.", arn.substr(0, 2048)));
}

Result<PolicyRef> policy_ref(const Ctx& ctx, std::string_view arn_text) {
  auto arn = Arn::parse(arn_text);
  if (!arn || arn->service != "iam" || !arn->resource.starts_with("policy/"))
    return make_error(ErrorKind::kIamInvalidInput, fmt::format("ARN {} is not valid.", arn_text.substr(0, 2048)));
  PolicyRef ref;
  if (arn->account == "aws") {
    ref.aws = find_aws_managed(arn_text);
    if (ref.aws == nullptr)
      return make_error(ErrorKind::kIamNoSuchEntity,
                        fmt::format("Policy {} does not exist or is not attachable. Gantry has these AWS managed "
                                    "policies built in: see docs/iam.md.",
                                    arn_text.substr(0, 2048)));
    return ref;
  }
  if (arn->account != ctx.scope.account) return no_such_policy(arn_text);
  std::string_view rest = std::string_view(arn->resource).substr(6);  // "/path/name"
  auto slash = rest.rfind('/');
  ref.name = std::string(rest.substr(slash + 1));
  ref.path = std::string(rest.substr(0, slash + 1));
  return ref;
}

// The customer policy `ref` names, when it exists with that path.
std::optional<ManagedPolicy> find_customer(IamTables& t, const Ctx& ctx, const PolicyRef& ref) {
  auto p = t.find_policy(ctx.scope.account, ref.name);
  if (!p || p->path != ref.path) return std::nullopt;
  return p;
}

protocol::xml::Element& add_policy(protocol::xml::Element& parent, const char* element, const ManagedPolicy& p,
                                   size_t attachments, bool with_description) {
  auto& e = parent.add(element);
  e.add("PolicyName", p.name);
  e.add("PolicyId", p.id);
  e.add("Arn", p.arn());
  e.add("Path", p.path);
  e.add("DefaultVersionId", p.default_version);
  e.add("AttachmentCount", static_cast<int64_t>(attachments));
  e.add("PermissionsBoundaryUsageCount", 0);
  e.add("IsAttachable", true);
  if (with_description && !p.description.empty()) e.add("Description", p.description);
  e.add("CreateDate", iso8601(p.created_at));
  e.add("UpdateDate", iso8601(p.updated_at));
  return e;
}

// AWS managed policies shown with the same fields as the account's.
ManagedPolicy as_managed(const AwsManagedPolicy& a) {
  ManagedPolicy p;
  p.account = "aws";
  p.name = std::string(a.name);
  p.id = std::string(a.id);
  p.path = std::string(a.path);
  p.description = std::string(a.description);
  p.default_version = "v1";
  p.created_at = TimePoint{};
  p.updated_at = TimePoint{};
  return p;
}

PolicyVersion aws_version(const AwsManagedPolicy& a) {
  return PolicyVersion{"aws", std::string(a.name), "v1", std::string(a.document), TimePoint{}};
}

Out create_policy(IamStore& store, Ctx& ctx, json::object& in) {
  ManagedPolicy p;
  p.account = ctx.scope.account;
  p.name = get_string(in, "PolicyName").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name("policyName", p.name, 128));
  p.path = get_string(in, "Path").value_or("/");
  GANTRY_RETURN_IF_ERROR(check_path(p.path));
  p.description = get_string(in, "Description").value_or("");
  std::string document = get_string(in, "PolicyDocument").value_or("");
  GANTRY_RETURN_IF_ERROR(check_document(document, PolicyKind::kIdentity));
  GANTRY_ASSIGN_OR_RETURN(auto tags, read_tags(in));
  p.id = new_id(*ctx.random, "ANPA");
  p.default_version = "v1";
  p.next_version = 2;
  p.created_at = p.updated_at = ctx.now;
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    if (t.find_policy(ctx.scope.account, p.name))
      return make_error(ErrorKind::kIamEntityAlreadyExists,
                        fmt::format("A policy called {} already exists. Duplicate names are not allowed.", p.name));
    t.put_policy(p);
    t.put_version(PolicyVersion{ctx.scope.account, p.name, "v1", document, ctx.now});
    t.tag(p.arn(), tags);
    return {};
  }));
  protocol::xml::Element out("CreatePolicyResult");
  auto& e = add_policy(out, "Policy", p, 0, true);
  if (!tags.empty()) add_tags(e, tags);
  return out;
}

Out get_policy(IamStore& store, Ctx& ctx, json::object& in) {
  std::string arn = get_string(in, "PolicyArn").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto ref, policy_ref(ctx, arn));
  std::optional<ManagedPolicy> p;
  size_t count = 0;
  std::vector<store::ResourceTag> tags;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    if (ref.aws != nullptr) {
      p = as_managed(*ref.aws);
    } else {
      p = find_customer(t, ctx, ref);
      if (!p) return make_error(ErrorKind::kIamNoSuchEntity, fmt::format("Policy {} was not found.", arn));
      tags = t.tags(arn);
    }
    count = t.attachments_of(ctx.scope.account, arn).size();
    return {};
  }));
  protocol::xml::Element out("GetPolicyResult");
  auto& e = add_policy(out, "Policy", *p, count, true);
  if (!tags.empty()) add_tags(e, tags);
  return out;
}

Out list_policies(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(size_t limit, max_items(in));
  std::string scope = get_string(in, "Scope").value_or("All");
  std::string prefix = get_string(in, "PathPrefix").value_or("/");
  auto* only = in.if_contains("OnlyAttached");
  bool only_attached = only != nullptr && only->is_bool() && only->as_bool();
  size_t offset = 0;
  if (auto marker = get_string(in, "Marker")) {
    try {
      offset = std::stoul(*marker);
    } catch (...) {
      return make_error(ErrorKind::kIamInvalidInput, "Invalid Marker.");
    }
  }
  std::vector<std::pair<ManagedPolicy, size_t>> rows;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    if (scope != "Local")
      for (const auto& a : aws_managed_policies())
        if (a.path.starts_with(prefix))
          rows.emplace_back(as_managed(a), t.attachments_of(ctx.scope.account, a.arn()).size());
    if (scope != "AWS")
      for (auto& p : t.list_policies(ctx.scope.account, prefix, "", 100000))
        rows.emplace_back(p, t.attachments_of(ctx.scope.account, p.arn()).size());
    return {};
  }));
  if (only_attached) std::erase_if(rows, [](const auto& r) { return r.second == 0; });
  protocol::xml::Element out("ListPoliciesResult");
  auto& list = out.add("Policies");
  for (size_t i = offset; i < rows.size() && i < offset + limit; ++i)
    add_policy(list, "member", rows[i].first, rows[i].second, false);
  bool truncated = offset + limit < rows.size();
  out.add("IsTruncated", truncated);
  if (truncated) out.add("Marker", std::to_string(offset + limit));
  return out;
}

// The account's policy named by PolicyArn, for the operations AWS managed policies refuse.
Result<PolicyRef> customer_ref(const Ctx& ctx, const json::object& in, std::string_view operation) {
  std::string arn = get_string(in, "PolicyArn").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto ref, policy_ref(ctx, arn));
  if (ref.aws != nullptr)
    return make_error(ErrorKind::kIamInvalidInput,
                      fmt::format("{} is not possible on an AWS managed policy ({}).", operation, arn));
  return ref;
}

// Runs `fn` on the account's policy named by PolicyArn, in a write transaction (`write`) or a read one.
Status with_customer_policy(IamStore& store, const Ctx& ctx, const json::object& in, std::string_view operation,
                            bool write, const std::function<Status(IamTables&, ManagedPolicy&)>& fn) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, customer_ref(ctx, in, operation));
  auto body = [&](IamTables& t) -> Status {
    auto p = find_customer(t, ctx, ref);
    if (!p) return make_error(ErrorKind::kIamNoSuchEntity, fmt::format("Policy {} was not found.", ref.name));
    return fn(t, *p);
  };
  return write ? store.write(body) : store.read(body);
}

Status require_version(IamTables& t, const ManagedPolicy& p, const std::string& id) {
  if (t.find_version(p.account, p.name, id)) return {};
  return make_error(ErrorKind::kIamNoSuchEntity,
                    fmt::format("Policy {} version {} does not exist.", p.arn(), id.substr(0, 32)));
}

Out delete_policy(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(with_customer_policy(
      store, ctx, in, "DeletePolicy", true, [&](IamTables& t, ManagedPolicy& p) -> Status {
    if (!t.attachments_of(ctx.scope.account, p.arn()).empty())
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete a policy attached to entities.");
    if (t.versions_of(ctx.scope.account, p.name).size() > 1)
      return make_error(ErrorKind::kIamDeleteConflict,
                        "This policy has more than one version. Before you delete a policy, you must delete the "
                        "policy's versions. The default version is deleted with the policy.");
    drop_tags(t, p.arn());
    t.delete_policy(ctx.scope.account, p.name);
    return {};
  }));
  return protocol::xml::Element("DeletePolicyResult");
}

void add_version(protocol::xml::Element& parent, const char* element, const PolicyVersion& v, bool is_default,
                 bool with_document) {
  auto& e = parent.add(element);
  if (with_document) e.add("Document", auth::uri_encode(v.document, false));
  e.add("VersionId", v.version_id);
  e.add("IsDefaultVersion", is_default);
  e.add("CreateDate", iso8601(v.created_at));
}

Out create_policy_version(IamStore& store, Ctx& ctx, json::object& in) {
  std::string document = get_string(in, "PolicyDocument").value_or("");
  GANTRY_RETURN_IF_ERROR(check_document(document, PolicyKind::kIdentity));
  auto* set = in.if_contains("SetAsDefault");
  bool as_default = set != nullptr && set->is_bool() && set->as_bool();
  PolicyVersion version;
  GANTRY_RETURN_IF_ERROR(with_customer_policy(
      store, ctx, in, "CreatePolicyVersion", true, [&](IamTables& t, ManagedPolicy& p) -> Status {
    if (t.versions_of(ctx.scope.account, p.name).size() >= kMaxVersions)
      return make_error(ErrorKind::kIamLimitExceeded,
                        "A managed policy can have up to 5 versions. Before you create a new version, you must "
                        "delete an existing version.");
    version = PolicyVersion{ctx.scope.account, p.name, fmt::format("v{}", p.next_version), document, ctx.now};
    t.put_version(version);
    p.next_version++;
    p.updated_at = ctx.now;
    if (as_default) p.default_version = version.version_id;
    t.put_policy(p);
    return {};
  }));
  protocol::xml::Element out("CreatePolicyVersionResult");
  add_version(out, "PolicyVersion", version, as_default, false);
  return out;
}

Out get_policy_version(IamStore& store, Ctx& ctx, json::object& in) {
  std::string arn = get_string(in, "PolicyArn").value_or("");
  std::string id = get_string(in, "VersionId").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto ref, policy_ref(ctx, arn));
  std::optional<PolicyVersion> version;
  bool is_default = false;
  if (ref.aws != nullptr) {
    if (id == "v1") version = aws_version(*ref.aws);
    is_default = true;
  } else {
    GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
      auto p = find_customer(t, ctx, ref);
      if (!p) return make_error(ErrorKind::kIamNoSuchEntity, fmt::format("Policy {} was not found.", arn));
      version = t.find_version(ctx.scope.account, p->name, id);
      is_default = p->default_version == id;
      return {};
    }));
  }
  if (!version)
    return make_error(ErrorKind::kIamNoSuchEntity,
                      fmt::format("Policy {} version {} does not exist or is not attachable.", arn, id.substr(0, 32)));
  protocol::xml::Element out("GetPolicyVersionResult");
  add_version(out, "PolicyVersion", *version, is_default, true);
  return out;
}

Out list_policy_versions(IamStore& store, Ctx& ctx, json::object& in) {
  std::string arn = get_string(in, "PolicyArn").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto ref, policy_ref(ctx, arn));
  std::vector<PolicyVersion> versions;
  std::string default_version = "v1";
  if (ref.aws != nullptr) {
    versions.push_back(aws_version(*ref.aws));
  } else {
    GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
      auto p = find_customer(t, ctx, ref);
      if (!p) return make_error(ErrorKind::kIamNoSuchEntity, fmt::format("Policy {} was not found.", arn));
      versions = t.versions_of(ctx.scope.account, p->name);
      default_version = p->default_version;
      return {};
    }));
  }
  protocol::xml::Element out("ListPolicyVersionsResult");
  auto& list = out.add("Versions");
  for (const auto& v : versions) add_version(list, "member", v, v.version_id == default_version, false);
  out.add("IsTruncated", false);
  return out;
}

Out delete_policy_version(IamStore& store, Ctx& ctx, json::object& in) {
  std::string id = get_string(in, "VersionId").value_or("");
  GANTRY_RETURN_IF_ERROR(with_customer_policy(
      store, ctx, in, "DeletePolicyVersion", true, [&](IamTables& t, ManagedPolicy& p) -> Status {
    GANTRY_RETURN_IF_ERROR(require_version(t, p, id));
    if (p.default_version == id)
      return make_error(ErrorKind::kIamDeleteConflict, "Cannot delete the default version of a policy.");
    t.delete_version(ctx.scope.account, p.name, id);
    return {};
  }));
  return protocol::xml::Element("DeletePolicyVersionResult");
}

Out set_default_policy_version(IamStore& store, Ctx& ctx, json::object& in) {
  std::string id = get_string(in, "VersionId").value_or("");
  GANTRY_RETURN_IF_ERROR(with_customer_policy(
      store, ctx, in, "SetDefaultPolicyVersion", true, [&](IamTables& t, ManagedPolicy& p) -> Status {
    GANTRY_RETURN_IF_ERROR(require_version(t, p, id));
    p.default_version = id;
    p.updated_at = ctx.now;
    t.put_policy(p);
    return {};
  }));
  return protocol::xml::Element("SetDefaultPolicyVersionResult");
}

Out attach(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind, bool attach) {
  std::string entity = get_string(in, entity_field(kind)).value_or("");
  std::string arn = get_string(in, "PolicyArn").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto ref, policy_ref(ctx, arn));
  GANTRY_RETURN_IF_ERROR(store.write([&](IamTables& t) -> Status {
    GANTRY_RETURN_IF_ERROR(require_entity(t, ctx.scope.account, kind, entity));
    if (ref.aws == nullptr && !find_customer(t, ctx, ref)) return no_such_policy(arn);
    auto attached = t.attached_to(ctx.scope.account, kind, entity);
    bool present = std::find(attached.begin(), attached.end(), arn) != attached.end();
    Attachment a{ctx.scope.account, kind, entity, arn};
    if (attach) {
      if (!present && attached.size() >= kMaxAttachedPolicies)
        return make_error(ErrorKind::kIamLimitExceeded,
                          fmt::format("Cannot exceed quota for PoliciesPer{}: {}", title(kind), kMaxAttachedPolicies));
      t.attach(a);
    } else {
      if (!present) return make_error(ErrorKind::kIamNoSuchEntity, fmt::format("Policy {} was not found.", arn));
      t.detach(a);
    }
    return {};
  }));
  return protocol::xml::Element((attach ? "Attach" : "Detach") + title(kind) + "PolicyResult");
}

Out list_attached(IamStore& store, Ctx& ctx, json::object& in, EntityKind kind) {
  std::string entity = get_string(in, entity_field(kind)).value_or("");
  std::string prefix = get_string(in, "PathPrefix").value_or("/");
  std::vector<std::string> arns;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    GANTRY_RETURN_IF_ERROR(require_entity(t, ctx.scope.account, kind, entity));
    arns = t.attached_to(ctx.scope.account, kind, entity);
    return {};
  }));
  protocol::xml::Element out("ListAttached" + title(kind) + "PoliciesResult");
  auto& list = out.add("AttachedPolicies");
  for (const auto& arn : arns) {
    auto parsed = Arn::parse(arn);
    if (!parsed) continue;
    std::string_view rest = std::string_view(parsed->resource).substr(6);
    auto slash = rest.rfind('/');
    if (!rest.substr(0, slash + 1).starts_with(prefix)) continue;
    auto& m = list.add("member");
    m.add("PolicyName", rest.substr(slash + 1));
    m.add("PolicyArn", arn);
  }
  out.add("IsTruncated", false);
  return out;
}

Out list_entities_for_policy(IamStore& store, Ctx& ctx, json::object& in) {
  std::string arn = get_string(in, "PolicyArn").value_or("");
  std::string filter = get_string(in, "EntityFilter").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto ref, policy_ref(ctx, arn));
  protocol::xml::Element out("ListEntitiesForPolicyResult");
  auto& groups = out.add("PolicyGroups");
  auto& users = out.add("PolicyUsers");
  auto& roles = out.add("PolicyRoles");
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    if (ref.aws == nullptr && !find_customer(t, ctx, ref))
      return make_error(ErrorKind::kIamNoSuchEntity, fmt::format("Policy {} was not found.", arn));
    for (const auto& a : t.attachments_of(ctx.scope.account, arn)) {
      if (a.kind == EntityKind::kUser && (filter.empty() || filter == "User")) {
        if (auto u = t.find_user(ctx.scope.account, a.entity)) {
          auto& m = users.add("member");
          m.add("UserName", u->name);
          m.add("UserId", u->id);
        }
      } else if (a.kind == EntityKind::kRole && (filter.empty() || filter == "Role")) {
        if (auto r = t.find_role(ctx.scope.account, a.entity)) {
          auto& m = roles.add("member");
          m.add("RoleName", r->name);
          m.add("RoleId", r->id);
        }
      } else if (a.kind == EntityKind::kGroup && (filter.empty() || filter == "Group")) {
        if (auto g = t.find_group(ctx.scope.account, a.entity)) {
          auto& m = groups.add("member");
          m.add("GroupName", g->name);
          m.add("GroupId", g->id);
        }
      }
    }
    return {};
  }));
  out.add("IsTruncated", false);
  return out;
}

Out tag_policy(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto tags, read_tags(in));
  GANTRY_RETURN_IF_ERROR(with_customer_policy(
      store, ctx, in, "TagPolicy", true, [&](IamTables& t, ManagedPolicy& p) -> Status {
    t.tag(p.arn(), tags);
    if (t.tags(p.arn()).size() > 50)
      return make_error(ErrorKind::kIamLimitExceeded, "The number of tags has reached the maximum limit of 50.");
    return {};
  }));
  return protocol::xml::Element("TagPolicyResult");
}

Out untag_policy(IamStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto keys, read_tag_keys(in));
  GANTRY_RETURN_IF_ERROR(with_customer_policy(
      store, ctx, in, "UntagPolicy", true, [&](IamTables& t, ManagedPolicy& p) -> Status {
    t.untag(p.arn(), keys);
    return {};
  }));
  return protocol::xml::Element("UntagPolicyResult");
}

Out list_policy_tags(IamStore& store, Ctx& ctx, json::object& in) {
  std::vector<store::ResourceTag> tags;
  GANTRY_RETURN_IF_ERROR(with_customer_policy(
      store, ctx, in, "ListPolicyTags", false, [&](IamTables& t, ManagedPolicy& p) -> Status {
    tags = t.tags(p.arn());
    return {};
  }));
  protocol::xml::Element out("ListPolicyTagsResult");
  add_tags(out, tags);
  out.add("IsTruncated", false);
  return out;
}

}  // namespace

void detail::add_policy_operations(api::QueryService& s, IamStore& store) {
  using Fn = std::function<Out(IamStore&, Ctx&, json::object&)>;
  auto add = [&](std::string name, Fn fn) {
    s.operations.emplace(std::move(name),
                         [&store, fn = std::move(fn)](Ctx& ctx, json::object& in) { return fn(store, ctx, in); });
  };
  for (EntityKind kind : {EntityKind::kUser, EntityKind::kRole, EntityKind::kGroup}) {
    std::string t = title(kind);
    add("Put" + t + "Policy", [kind](IamStore& st, Ctx& c, json::object& in) { return put_inline(st, c, in, kind); });
    add("Get" + t + "Policy", [kind](IamStore& st, Ctx& c, json::object& in) { return get_inline(st, c, in, kind); });
    add("List" + t + "Policies",
        [kind](IamStore& st, Ctx& c, json::object& in) { return list_inline(st, c, in, kind); });
    add("Delete" + t + "Policy",
        [kind](IamStore& st, Ctx& c, json::object& in) { return delete_inline(st, c, in, kind); });
    add("Attach" + t + "Policy",
        [kind](IamStore& st, Ctx& c, json::object& in) { return attach(st, c, in, kind, true); });
    add("Detach" + t + "Policy",
        [kind](IamStore& st, Ctx& c, json::object& in) { return attach(st, c, in, kind, false); });
    add("ListAttached" + t + "Policies",
        [kind](IamStore& st, Ctx& c, json::object& in) { return list_attached(st, c, in, kind); });
  }
  add("CreatePolicy", create_policy);
  add("GetPolicy", get_policy);
  add("ListPolicies", list_policies);
  add("DeletePolicy", delete_policy);
  add("CreatePolicyVersion", create_policy_version);
  add("GetPolicyVersion", get_policy_version);
  add("ListPolicyVersions", list_policy_versions);
  add("DeletePolicyVersion", delete_policy_version);
  add("SetDefaultPolicyVersion", set_default_policy_version);
  add("ListEntitiesForPolicy", list_entities_for_policy);
  add("TagPolicy", tag_policy);
  add("UntagPolicy", untag_policy);
  add("ListPolicyTags", list_policy_tags);
}

}  // namespace gantry::iam
