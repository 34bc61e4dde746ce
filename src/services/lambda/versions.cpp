// PublishVersion, ListVersionsByFunction and aliases.
#include <fmt/format.h>

#include "core/pagination.h"
#include "services/lambda/handlers.h"

namespace gantry::lambda::detail {

namespace {


// Two configurations publish as the same version when they differ only in what publishing changes.
bool same_content(json::object a, json::object b) {
  for (auto* o : {&a, &b})
    for (std::string_view k : {"Version", "FunctionArn", "RevisionId", "LastModified"}) o->erase(k);
  return a == b;
}

Result<api::RestResponse> publish_version(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  return reply(deps.store.write([&](LambdaTables& t) -> Result<json::object> {
    auto f = t.find_function(ctx.scope, ref.name);
    if (!f) return not_found_function(ctx.scope, ref.name);
    auto latest = t.find_version(ctx.scope, ref.name, kLatest);
    if (!latest) return not_found_function(ctx.scope, ref.name);
    if (auto sha = get_string(in, "CodeSha256"); sha && *sha != get_string(latest->config, "CodeSha256"))
      return invalid(fmt::format("CodeSHA256 ({}) is different from current CodeSHA256 in $LATEST ({}). Please try "
                                 "again with the CodeSHA256 in $LATEST.",
                                 *sha, get_string(latest->config, "CodeSha256").value_or("")));
    if (auto rev = get_string(in, "RevisionId"); rev && *rev != get_string(latest->config, "RevisionId"))
      return revision_mismatch();
    // Nothing changed since the last published version: Lambda hands that one back.
    if (f->last_version > 0) {
      auto last = t.find_version(ctx.scope, ref.name, std::to_string(f->last_version));
      if (last && same_content(last->config, latest->config)) return last->config;
    }
    f->last_version += 1;
    std::string n = std::to_string(f->last_version);
    json::object config = latest->config;
    config["Version"] = n;
    config["FunctionArn"] = qualified_arn(ctx.scope, ref.name, n);
    config["RevisionId"] = ctx.random->uuid4();
    if (auto d = get_string(in, "Description")) config["Description"] = *d;
    t.put_version(ctx.scope, ref.name, Version{n, config, latest->code_id, latest->image});
    t.put_function(*f);
    return config;
  }), 201);
}

Result<api::RestResponse> list_versions(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  size_t limit = static_cast<size_t>(get_int(in, "MaxItems").value_or(50));
  size_t start = 0;
  if (auto marker = get_string(in, "Marker")) {
    auto decoded = base64_decode(*marker);
    if (!decoded || decoded->empty() || decoded->size() > 9 ||
        decoded->find_first_not_of("0123456789") != std::string::npos)
      return invalid("Invalid Marker: pass the NextMarker of a previous answer");
    start = std::stoul(*decoded);
  }
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    if (!t.find_function(ctx.scope, ref.name)) return not_found_function(ctx.scope, ref.name);
    auto versions = t.list_versions(ctx.scope, ref.name);
    json::array list;
    for (size_t i = start; i < versions.size() && i < start + limit; ++i) list.push_back(versions[i].config);
    json::object out{{"Versions", std::move(list)}};
    if (start + limit < versions.size()) out["NextMarker"] = base64_encode(std::to_string(start + limit));
    return out;
  }));
}

json::object alias_document(const Scope& scope, const std::string& function, const std::string& name,
                            const std::string& version, const std::string& description, const std::string& revision) {
  return json::object{{"AliasArn", qualified_arn(scope, function, name)},
                      {"Name", name},
                      {"FunctionVersion", version},
                      {"Description", description},
                      {"RevisionId", revision}};
}

Status check_alias_name(const std::string& name) {
  bool digits_only = !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
  if (digits_only || name == kLatest)
    return make_error(ErrorKind::kValidation,
                      fmt::format("1 validation error detected: Value '{}' at 'name' failed to satisfy constraint: "
                                  "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
                                  name));
  return {};
}

Status check_routing(const json::object& in) {
  if (auto* r = in.if_contains("RoutingConfig"); r && r->is_object()) {
    if (auto* w = r->as_object().if_contains("AdditionalVersionWeights"); w && w->is_object() && !w->as_object().empty())
      return invalid("Gantry does not support weighted aliases (RoutingConfig) yet");
  }
  return {};
}

Result<api::RestResponse> create_alias(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  std::string name = get_string(in, "Name").value_or("");
  std::string version = get_string(in, "FunctionVersion").value_or("");
  GANTRY_RETURN_IF_ERROR(check_alias_name(name));
  GANTRY_RETURN_IF_ERROR(check_routing(in));
  return reply(deps.store.write([&](LambdaTables& t) -> Result<json::object> {
    if (!t.find_function(ctx.scope, ref.name)) return not_found_function(ctx.scope, ref.name);
    if (!t.find_version(ctx.scope, ref.name, version)) return not_found_function(ctx.scope, ref.name, version);
    if (t.find_alias(ctx.scope, ref.name, name))
      return make_error(ErrorKind::kLambdaResourceConflict,
                        fmt::format("Alias already exists: {}", qualified_arn(ctx.scope, ref.name, name)));
    auto doc = alias_document(ctx.scope, ref.name, name, version, get_string(in, "Description").value_or(""),
                              ctx.random->uuid4());
    t.put_alias(ctx.scope, ref.name, Alias{name, doc});
    return doc;
  }), 201);
}

Error alias_not_found(const Scope& scope, const std::string& function, const std::string& name) {
  return make_error(ErrorKind::kLambdaResourceNotFound,
                    fmt::format("Alias not found: {}", qualified_arn(scope, function, name)));
}

Result<api::RestResponse> get_alias(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  std::string name = get_string(in, "Name").value_or("");
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    if (!t.find_function(ctx.scope, ref.name)) return not_found_function(ctx.scope, ref.name);
    auto a = t.find_alias(ctx.scope, ref.name, name);
    if (!a) return alias_not_found(ctx.scope, ref.name, name);
    return a->config;
  }));
}

Result<api::RestResponse> update_alias(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  std::string name = get_string(in, "Name").value_or("");
  GANTRY_RETURN_IF_ERROR(check_routing(in));
  auto r = deps.store.write([&](LambdaTables& t) -> Result<json::object> {
    if (!t.find_function(ctx.scope, ref.name)) return not_found_function(ctx.scope, ref.name);
    auto a = t.find_alias(ctx.scope, ref.name, name);
    if (!a) return alias_not_found(ctx.scope, ref.name, name);
    if (auto rev = get_string(in, "RevisionId"); rev && *rev != get_string(a->config, "RevisionId"))
      return revision_mismatch();
    if (auto v = get_string(in, "FunctionVersion")) {
      if (!t.find_version(ctx.scope, ref.name, *v)) return not_found_function(ctx.scope, ref.name, *v);
      a->config["FunctionVersion"] = *v;
    }
    if (auto d = get_string(in, "Description")) a->config["Description"] = *d;
    a->config["RevisionId"] = ctx.random->uuid4();
    t.put_alias(ctx.scope, ref.name, *a);
    return a->config;
  });
  return reply(std::move(r));
}

Result<api::RestResponse> delete_alias(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  std::string name = get_string(in, "Name").value_or("");
  return reply(deps.store.write([&](LambdaTables& t) -> Result<json::object> {
    if (!t.find_function(ctx.scope, ref.name)) return not_found_function(ctx.scope, ref.name);
    t.delete_alias(ctx.scope, ref.name, name);  // deleting a missing alias succeeds, as on AWS
    return json::object{};
  }), 204);
}

Result<api::RestResponse> list_aliases(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  auto version = get_string(in, "FunctionVersion");
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    if (!t.find_function(ctx.scope, ref.name)) return not_found_function(ctx.scope, ref.name);
    json::array list;
    for (const auto& a : t.list_aliases(ctx.scope, ref.name))
      if (!version || get_string(a.config, "FunctionVersion") == *version) list.push_back(a.config);
    return json::object{{"Aliases", std::move(list)}};
  }));
}

}  // namespace

void add_version_operations(api::RestService& s, const DepsPtr& deps) {
  auto bind = [&](const char* op, auto fn) {
    s.operations[op] = [deps, fn](api::RequestContext& ctx, json::object& in) { return fn(*deps, ctx, in); };
  };
  bind("PublishVersion", publish_version);
  bind("ListVersionsByFunction", list_versions);
  bind("CreateAlias", create_alias);
  bind("GetAlias", get_alias);
  bind("UpdateAlias", update_alias);
  bind("DeleteAlias", delete_alias);
  bind("ListAliases", list_aliases);
}

}  // namespace gantry::lambda::detail
