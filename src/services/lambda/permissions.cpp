// AddPermission, RemovePermission, GetPolicy: the function's resource-based policy, which IAM weighs
// together with the caller's own policies when the function is invoked.
#include <fmt/format.h>

#include "services/lambda/handlers.h"

namespace gantry::lambda::detail {

namespace {

constexpr size_t kMaxPolicyBytes = 20480;  // Lambda's limit for a function's resource policy

json::object principal_of(const std::string& p) {
  if (p == "*") return json::object{{"AWS", "*"}};
  if (p.size() == 12 && p.find_first_not_of("0123456789") == std::string::npos)
    return json::object{{"AWS", fmt::format("arn:aws:iam::{}:root", p)}};
  if (p.starts_with("arn:")) return json::object{{"AWS", p}};
  return json::object{{"Service", p}};
}

Result<api::RestResponse> add_permission(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""),
                                                       get_string(in, "Qualifier"), true));
  std::string sid = get_string(in, "StatementId").value_or("");
  std::string action = get_string(in, "Action").value_or("");
  if (!action.starts_with("lambda:"))
    return invalid(fmt::format("1 validation error detected: Value '{}' at 'action' failed to satisfy constraint: "
                               "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
                               action));
  for (std::string_view unsupported : {"EventSourceToken", "PrincipalOrgID", "FunctionUrlAuthType"})
    if (get_string(in, unsupported))
      return invalid(fmt::format("Gantry does not support {} in function policies yet", unsupported));
  json::object statement{{"Sid", sid},
                         {"Effect", "Allow"},
                         {"Principal", principal_of(get_string(in, "Principal").value_or(""))},
                         {"Action", action},
                         {"Resource", ref.qualifier ? qualified_arn(ctx.scope, ref.name, *ref.qualifier)
                                                    : function_arn(ctx.scope, ref.name)}};
  json::object condition;
  if (auto arn = get_string(in, "SourceArn")) condition["ArnLike"] = json::object{{"AWS:SourceArn", *arn}};
  if (auto acct = get_string(in, "SourceAccount")) condition["StringEquals"] = json::object{{"AWS:SourceAccount", *acct}};
  if (!condition.empty()) statement["Condition"] = std::move(condition);
  return reply(edit_function(deps.store, ctx.scope, ref.name, [&](LambdaTables& t, Function& f) -> Result<json::object> {
    GANTRY_ASSIGN_OR_RETURN(auto resolved, resolve(t, ctx.scope, ref));
    if (auto rev = get_string(in, "RevisionId"); rev && *rev != get_string(resolved.version.config, "RevisionId"))
      return revision_mismatch();
    // Each version and alias has its own policy: statement ids are unique within it.
    const std::string resource = get_string(statement, "Resource").value_or("");
    for (const auto& s : f.policy)
      if (s.is_object() && get_string(s.as_object(), "Sid") == sid && get_string(s.as_object(), "Resource") == resource)
        return make_error(ErrorKind::kLambdaResourceConflict,
                          fmt::format("The statement id ({}) provided already exists. Please provide a new statement "
                                      "id, or remove the existing statement.",
                                      sid));
    f.policy.push_back(statement);
    if (json::serialize(f.policy).size() > kMaxPolicyBytes)
      return make_error(ErrorKind::kLambdaPolicyLengthExceeded, "The final policy size is bigger than the limit.");
    return json::object{{"Statement", json::serialize(statement)}};
  }), 201);
}

}  // namespace

// The policy document of a function as GetPolicy and IAM see it; empty when it has no statements.
std::string policy_document(const Function& f) {
  if (f.policy.empty()) return {};
  return json::serialize(json::object{{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", f.policy}});
}

namespace {

Result<api::RestResponse> get_policy(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""),
                                                       get_string(in, "Qualifier"), true));
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    GANTRY_ASSIGN_OR_RETURN(auto resolved, resolve(t, ctx.scope, ref));
    // Each version and alias has its own policy: the statements whose resource is the one asked about.
    const std::string arn = ref.qualifier ? qualified_arn(ctx.scope, ref.name, *ref.qualifier)
                                          : function_arn(ctx.scope, ref.name);
    json::array statements;
    for (const auto& st : resolved.function.policy)
      if (st.is_object() && get_string(st.as_object(), "Resource") == arn) statements.push_back(st);
    resolved.function.policy = std::move(statements);
    auto doc = policy_document(resolved.function);
    if (doc.empty())
      return make_error(ErrorKind::kLambdaResourceNotFound, "The resource you requested does not exist.");
    return json::object{{"Policy", doc},
                        {"RevisionId", get_string(resolved.version.config, "RevisionId").value_or("")}};
  }));
}

Result<api::RestResponse> remove_permission(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""),
                                                       get_string(in, "Qualifier"), true));
  std::string sid = get_string(in, "StatementId").value_or("");
  const std::string resource = ref.qualifier ? qualified_arn(ctx.scope, ref.name, *ref.qualifier)
                                             : function_arn(ctx.scope, ref.name);
  return reply(edit_function(deps.store, ctx.scope, ref.name, [&](LambdaTables& t, Function& f) -> Result<json::object> {
    GANTRY_ASSIGN_OR_RETURN(auto resolved, resolve(t, ctx.scope, ref));
    if (auto rev = get_string(in, "RevisionId"); rev && *rev != get_string(resolved.version.config, "RevisionId"))
      return revision_mismatch();
    json::array kept;
    for (auto& s : f.policy)
      if (!(s.is_object() && get_string(s.as_object(), "Sid") == sid &&
            get_string(s.as_object(), "Resource") == resource))
        kept.push_back(s);
    if (kept.size() == f.policy.size())
      return make_error(ErrorKind::kLambdaResourceNotFound,
                        fmt::format("Statement {} is not found in resource policy.", sid));
    f.policy = std::move(kept);
    return json::object{};
  }), 204);
}

}  // namespace

void add_permission_operations(api::RestService& s, const DepsPtr& deps) {
  s.operations["AddPermission"] = [deps](api::RequestContext& ctx, json::object& in) {
    return add_permission(*deps, ctx, in);
  };
  s.operations["GetPolicy"] = [deps](api::RequestContext& ctx, json::object& in) { return get_policy(*deps, ctx, in); };
  s.operations["RemovePermission"] = [deps](api::RequestContext& ctx, json::object& in) {
    return remove_permission(*deps, ctx, in);
  };
}

}  // namespace gantry::lambda::detail
