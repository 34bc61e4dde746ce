// Name and ARN resolution, documents and readers shared by the Lambda operations.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

#include "services/lambda/handlers.h"

namespace gantry::lambda::detail {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool valid_qualifier(std::string_view q) {
  if (q.empty() || q.size() > 128) return false;
  if (q == kLatest) return true;
  return std::all_of(q.begin(), q.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

bool is_number(std::string_view s) {
  return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Error invalid(std::string message) { return make_error(ErrorKind::kLambdaInvalidParameterValue, std::move(message)); }

Error revision_mismatch() {
  return make_error(ErrorKind::kLambdaPreconditionFailed,
                    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
                    "API to retrieve the latest Revision Id");
}

Error not_found_function(const Scope& scope, std::string_view name, std::optional<std::string_view> qualifier) {
  return make_error(ErrorKind::kLambdaResourceNotFound,
                    fmt::format("Function not found: {}", qualifier ? qualified_arn(scope, name, *qualifier)
                                                                    : function_arn(scope, name)));
}

Result<FunctionRef> parse_function_ref(const api::RequestContext& ctx, std::string_view text,
                                       const std::optional<std::string>& qualifier_member, bool allow_qualifier) {
  auto parts = split(text, ':');
  FunctionRef ref;
  std::optional<std::string_view> qualifier;
  auto bad = [&] {
    return invalid(fmt::format("1 validation error detected: Value '{}' at 'functionName' failed to satisfy "
                               "constraint: Member must satisfy regular expression pattern: "
                               "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?"
                               "(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                               text.substr(0, 170)));
  };
  std::string_view account, region;
  if (parts.size() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function") {
    if (parts.size() > 8) return bad();
    region = parts[3];
    account = parts[4];
    ref.name = std::string(parts[6]);
    if (parts.size() == 8) qualifier = parts[7];
  } else if (parts.size() >= 3 && parts[1] == "function") {
    if (parts.size() > 4) return bad();
    account = parts[0];
    ref.name = std::string(parts[2]);
    if (parts.size() == 4) qualifier = parts[3];
  } else if (parts.size() <= 2) {
    ref.name = std::string(parts[0]);
    if (parts.size() == 2) qualifier = parts[1];
  } else {
    return bad();
  }
  if (!valid_name(ref.name) || (qualifier && !valid_qualifier(*qualifier))) return bad();
  if ((!account.empty() && account != ctx.scope.account) || (!region.empty() && region != ctx.scope.region))
    return make_error(ErrorKind::kLambdaResourceNotFound,
                      fmt::format("Functions from '{}' are not reachable in this region ('{}') or account",
                                  region.empty() ? account : region, ctx.scope.region));
  if (qualifier && !allow_qualifier)
    return invalid(fmt::format("Unqualified function name expected, got '{}'", text.substr(0, 170)));
  if (qualifier && qualifier_member && *qualifier != *qualifier_member)
    return invalid("The derived qualifier from the function name does not match the specified qualifier.");
  if (qualifier) ref.qualifier = std::string(*qualifier);
  else if (qualifier_member) ref.qualifier = *qualifier_member;
  return ref;
}

std::string function_arn(const Scope& scope, std::string_view name) { return scope.arn("lambda", fmt::format("function:{}", name)); }

std::string qualified_arn(const Scope& scope, std::string_view name, std::string_view qualifier) {
  return scope.arn("lambda", fmt::format("function:{}:{}", name, qualifier));
}

std::string last_modified(TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}+0000", tm, static_cast<int>(ms % 1000));
}

std::optional<std::string> get_string(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<int64_t> get_int(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return std::nullopt;
}

std::optional<bool> get_bool(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->as_bool();
}

Result<api::RestResponse> reply(Result<json::object> r, int status) {
  if (!r) return r.error();
  api::RestResponse out;
  out.status = status;
  out.json = std::move(*r);
  return out;
}

Result<json::object> edit_function(LambdaStore& store, const Scope& scope, const std::string& name,
                                   const std::function<Result<json::object>(LambdaTables&, Function&)>& edit) {
  return store.write([&](LambdaTables& t) -> Result<json::object> {
    auto f = t.find_function(scope, name);
    if (!f) return not_found_function(scope, name);
    GANTRY_ASSIGN_OR_RETURN(auto out, edit(t, *f));
    t.put_function(*f);
    return out;
  });
}

Result<Resolved> resolve(LambdaTables& t, const Scope& scope, const FunctionRef& ref) {
  auto f = t.find_function(scope, ref.name);
  if (!f) return not_found_function(scope, ref.name);
  std::string version(kLatest);
  std::optional<std::string> alias_name;
  if (ref.qualifier && *ref.qualifier != kLatest) {
    if (is_number(*ref.qualifier)) {
      version = *ref.qualifier;
    } else {
      auto a = t.find_alias(scope, ref.name, *ref.qualifier);
      if (!a) return not_found_function(scope, ref.name, *ref.qualifier);
      version = get_string(a->config, "FunctionVersion").value_or(std::string(kLatest));
      alias_name = *ref.qualifier;
    }
  }
  auto v = t.find_version(scope, ref.name, version);
  if (!v) return not_found_function(scope, ref.name, ref.qualifier ? std::optional<std::string_view>(*ref.qualifier)
                                                                   : std::nullopt);
  return Resolved{std::move(*f), std::move(*v), std::move(alias_name)};
}

FunctionSpec function_spec(const Deps& deps, const Scope& scope, const Function& f, const Version& v) {
  const auto& c = v.config;
  FunctionSpec s;
  s.scope = scope;
  s.name = f.name;
  s.function_arn = function_arn(scope, f.name);
  s.version = v.version;
  s.runtime = get_string(c, "Runtime").value_or("");
  s.handler = get_string(c, "Handler").value_or("");
  s.role_arn = get_string(c, "Role").value_or("");
  s.memory_mb = get_int(c, "MemorySize").value_or(128);
  s.timeout_seconds = get_int(c, "Timeout").value_or(3);
  if (auto* e = c.if_contains("EphemeralStorage"); e && e->is_object())
    s.ephemeral_mb = get_int(e->as_object(), "Size").value_or(512);
  if (auto* e = c.if_contains("Environment"); e && e->is_object()) {
    if (auto* vars = e->as_object().if_contains("Variables"); vars && vars->is_object())
      for (const auto& [k, val] : vars->as_object())
        if (val.is_string()) s.environment.emplace_back(std::string(k), std::string(val.as_string()));
  }
  if (v.image.empty()) s.code_dir = deps.code_root / v.code_id;
  s.image = v.image;
  if (auto* r = c.if_contains("ImageConfigResponse"); r && r->is_object()) {
    if (auto* ic = r->as_object().if_contains("ImageConfig"); ic && ic->is_object()) {
      auto strings = [&](std::string_view key) -> std::optional<std::vector<std::string>> {
        auto* a = ic->as_object().if_contains(key);
        if (a == nullptr || !a->is_array()) return std::nullopt;
        std::vector<std::string> out;
        for (const auto& x : a->as_array())
          if (x.is_string()) out.emplace_back(x.as_string());
        return out;
      };
      s.entry_point = strings("EntryPoint");
      s.command = strings("Command");
      s.working_directory = get_string(ic->as_object(), "WorkingDirectory").value_or("");
    }
  }
  s.log_group = fmt::format("/aws/lambda/{}", f.name);
  if (auto* l = c.if_contains("LoggingConfig"); l && l->is_object())
    s.log_group = get_string(l->as_object(), "LogGroup").value_or(s.log_group);
  s.reserved_concurrency = f.reserved_concurrency;
  s.sandbox_key = fmt::format("{}:{}:{}", f.name, v.version, get_string(c, "RevisionId").value_or(""));
  return s;
}

}  // namespace gantry::lambda::detail
