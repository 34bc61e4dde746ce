#include "services/lambda/service.h"

#include "services/lambda/handlers.h"

namespace gantry::lambda {

namespace json = boost::json;

namespace {

// Lambda's actions are authorized on the function's ARN (qualified when the request names a version or
// alias), with the function's own resource policy weighed in.
api::AuthTarget auth_target(LambdaStore& store, std::string_view op, const json::object& in,
                            const api::RequestContext& ctx) {
  auto name = detail::get_string(in, op == "TagResource" || op == "UntagResource" || op == "ListTags" ? "Resource"
                                                                                                      : "FunctionName");
  api::AuthTarget unnamed;
  if (op == "Invoke") unnamed.action = "lambda:InvokeFunction";
  if (!name) return unnamed;
  auto ref = detail::parse_function_ref(ctx, *name, detail::get_string(in, "Qualifier"), true);
  if (!ref) return unnamed;
  api::AuthTarget target;
  if (op == "Invoke") target.action = "lambda:InvokeFunction";
  target.resources = {ref->qualifier ? detail::qualified_arn(ctx.scope, ref->name, *ref->qualifier)
                                     : detail::function_arn(ctx.scope, ref->name)};
  (void)store.read([&](LambdaTables& t) -> Result<json::object> {
    if (auto f = t.find_function(ctx.scope, ref->name)) {
      auto doc = detail::policy_document(*f);
      if (!doc.empty()) target.resource_policies.push_back(std::move(doc));
    }
    return json::object{};
  });
  return target;
}

// Deployment packages no version uses any more: left behind while a sandbox still ran them, or by a crash.
void sweep_code(LambdaStore& store, const std::filesystem::path& code_root) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(code_root, ec)) {
    std::string id = entry.path().filename().string();
    if (id.ends_with(".zip")) id.resize(id.size() - 4);
    auto used = store.read([&](LambdaTables& t) -> Result<json::object> {
      return json::object{{"used", t.code_in_use(id)}};
    });
    if (used.ok() && !used->at("used").as_bool()) std::filesystem::remove_all(entry.path(), ec);
  }
}

}  // namespace

api::RestService make_service(LambdaStore& store, Invoker& invoker, std::filesystem::path code_root,
                              std::function<std::string()> endpoint) {
  sweep_code(store, code_root);
  auto deps = std::make_shared<const detail::Deps>(detail::Deps{store, invoker, std::move(code_root), std::move(endpoint)});
  api::RestService s;
  s.name = "lambda";
  s.validation_error_type = "ValidationException";
  detail::add_function_operations(s, deps);
  detail::add_invoke_operations(s, deps);
  detail::add_version_operations(s, deps);
  detail::add_permission_operations(s, deps);
  s.auth_target = [&store](std::string_view op, const json::object& in, const api::RequestContext& ctx) {
    return auth_target(store, op, in, ctx);
  };
  return s;
}

}  // namespace gantry::lambda
