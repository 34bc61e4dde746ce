// Invoke: RequestResponse (the answer waits for the function without holding an I/O thread), Event
// (queued, 202) and DryRun (204).
#include <fmt/format.h>

#include "core/pagination.h"
#include "protocol/wire.h"
#include "iam/policy.h"
#include "services/lambda/handlers.h"
#include "services/lambda/service.h"

namespace gantry::lambda::detail {

namespace {

constexpr size_t kMaxSyncPayload = 6291456;   // 6 MB
constexpr size_t kMaxAsyncPayload = kMaxAsyncPayloadBytes;
constexpr size_t kMaxTail = 4096;

// The event must be JSON, as Lambda requires; an empty payload is the empty object.
Status check_payload(const std::string& payload) {
  if (payload.empty()) return {};
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 256;
  (void)json::parse(payload, ec, json::storage_ptr(), opts);
  if (ec)
    return make_error(ErrorKind::kLambdaInvalidRequestContent,
                      fmt::format("Could not parse request body into json: Could not parse payload into json: {}",
                                  ec.message()));
  return {};
}

api::RestResponse invocation_response(const InvocationResult& r, const std::string& version, bool tail) {
  api::RestResponse out;
  out.status = 200;
  out.raw = r.payload;
  out.content_type = "application/json";
  out.headers.emplace_back("X-Amz-Executed-Version", version);
  if (r.function_error) out.headers.emplace_back("X-Amz-Function-Error", *r.function_error);
  if (tail) {
    std::string_view log = r.log_tail;
    if (log.size() > kMaxTail) log = log.substr(log.size() - kMaxTail);
    out.headers.emplace_back("X-Amz-Log-Result", base64_encode(log));
  }
  return out;
}

Result<api::RestResponse> invoke(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""),
                                                       get_string(in, "Qualifier"), true));
  std::string type = get_string(in, "InvocationType").value_or("RequestResponse");
  std::string payload = get_string(in, "Payload").value_or("");
  if (payload.size() > (type == "Event" ? kMaxAsyncPayload : kMaxSyncPayload))
    return make_error(ErrorKind::kLambdaRequestTooLarge,
                      fmt::format("Request must be smaller than {} bytes for the Invoke operation",
                                  type == "Event" ? kMaxAsyncPayload : kMaxSyncPayload));
  GANTRY_RETURN_IF_ERROR(check_payload(payload));
  // The client context goes to the function as a header of the Runtime API: JSON, re-serialized so nothing
  // in it can break that header; synchronous invocations only, as on Lambda.
  std::string client_context;
  if (auto cc = get_string(in, "ClientContext"); cc && type == "RequestResponse") {
    auto decoded = base64_decode(*cc);
    boost::system::error_code ec;
    json::value parsed;
    if (decoded && decoded->size() <= 3583) parsed = json::parse(*decoded, ec);
    if (!decoded || decoded->size() > 3583 || ec || !parsed.is_object())
      return invalid("Client context must be a valid Base64-encoded JSON object of at most 3583 bytes.");
    client_context = json::serialize(parsed);
  }
  // The store's transactions return JSON; the resolved version is kept aside.
  Resolved resolved{Function{}, Version{}, std::nullopt};
  GANTRY_RETURN_IF_ERROR(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    GANTRY_ASSIGN_OR_RETURN(resolved, resolve(t, ctx.scope, ref));
    return json::object{};
  }));
  const auto state = get_string(resolved.version.config, "State").value_or("Active");
  if (state != "Active")
    return make_error(ErrorKind::kLambdaResourceConflict,
                      fmt::format("The operation cannot be performed at this time. The function is currently in the "
                                  "following state: {}",
                                  state));
  if (type == "DryRun") {
    api::RestResponse out;
    out.status = 204;
    return out;
  }
  if (auto reason = deps.invoker.unavailable_reason(); !reason.empty())
    return make_error(ErrorKind::kLambdaService, "Gantry cannot run functions on this host: " + reason);
  Invocation inv;
  inv.function = function_spec(deps, ctx.scope, resolved.function, resolved.version);
  inv.request_id = ctx.request_id;
  inv.invoked_arn = ref.qualifier ? qualified_arn(ctx.scope, ref.name, *ref.qualifier)
                                  : function_arn(ctx.scope, ref.name);
  inv.payload = payload.empty() ? "{}" : payload;
  inv.client_context = client_context;
  inv.tail_log = get_string(in, "LogType") == "Tail";
  if (type == "Event") {
    deps.invoker.enqueue(std::move(inv));
    api::RestResponse out;
    out.status = 202;
    return out;
  }
  api::RestResponse out;
  std::string version = resolved.version.version;
  bool tail = inv.tail_log;
  Invoker* invoker = &deps.invoker;
  out.later = [invoker, inv = std::move(inv), version, tail](
                  std::function<void(Result<api::RestResponse>)> done) mutable {
    invoker->invoke(std::move(inv), [done = std::move(done), version, tail](Result<InvocationResult> r) {
      if (!r) return done(r.error());
      done(invocation_response(*r, version, tail));
    });
  };
  return out;
}

}  // namespace

void add_invoke_operations(api::RestService& s, const DepsPtr& deps) {
  s.operations["Invoke"] = [deps](api::RequestContext& ctx, json::object& in) { return invoke(*deps, ctx, in); };
}

}  // namespace gantry::lambda::detail

namespace gantry::lambda {

namespace json = boost::json;

Status invoke_for_service(LambdaStore& store, Invoker& invoker, const std::filesystem::path& code_root,
                          const ServiceInvocation& call) {
  api::RequestContext ctx;
  ctx.scope = call.scope;
  GANTRY_ASSIGN_OR_RETURN(auto ref, detail::parse_function_ref(ctx, call.function, std::nullopt, true));
  detail::Resolved resolved{Function{}, Version{}, std::nullopt};
  GANTRY_RETURN_IF_ERROR(store.read([&](LambdaTables& t) -> Result<json::object> {
    GANTRY_ASSIGN_OR_RETURN(resolved, detail::resolve(t, call.scope, ref));
    return json::object{};
  }));
  const std::string invoked = ref.qualifier ? detail::qualified_arn(call.scope, ref.name, *ref.qualifier)
                                            : detail::function_arn(call.scope, ref.name);
  // The function's resource policy must let the service principal invoke it for this source.
  auto document = detail::policy_document(resolved.function);
  bool allowed = false;
  if (!document.empty()) {
    auto policy = iam::parse_policy(document, iam::PolicyKind::kResource);
    if (policy) {
      iam::RequestContext req;
      req.action = "lambda:InvokeFunction";
      req.resource = invoked;
      req.principal_arn = call.service_principal;
      req.keys["aws:sourcearn"] = {call.source_arn};
      req.keys["aws:sourceaccount"] = {call.scope.account};
      req.keys["aws:principalservicename"] = {call.service_principal};
      req.resource_account = call.scope.account;
      allowed = iam::evaluate({}, {&*policy}, req).decision == iam::Decision::kAllow;
    }
  }
  if (!allowed)
    return make_error(ErrorKind::kAccessDenied,
                      fmt::format("{} is not authorized to perform: lambda:InvokeFunction on resource: {} for source "
                                  "{}: the function's resource policy does not allow it (add it with "
                                  "AddPermission --principal {} --source-arn {})",
                                  call.service_principal, invoked, call.source_arn, call.service_principal,
                                  call.source_arn));
  const auto state = detail::get_string(resolved.version.config, "State").value_or("Active");
  if (state != "Active")
    return make_error(ErrorKind::kLambdaResourceConflict,
                      fmt::format("The function {} is {}, not Active", invoked, state));
  if (auto reason = invoker.unavailable_reason(); !reason.empty())
    return make_error(ErrorKind::kLambdaService, "Gantry cannot run functions on this host: " + reason);
  if (call.payload.size() > detail::kMaxAsyncPayloadBytes)
    return make_error(ErrorKind::kLambdaRequestTooLarge, "The event is larger than an Event invocation may be (1 MB)");
  detail::Deps deps{store, invoker, code_root, nullptr};
  Invocation inv;
  inv.function = detail::function_spec(deps, call.scope, resolved.function, resolved.version);
  inv.request_id = call.request_id;
  inv.invoked_arn = invoked;
  inv.payload = call.payload.empty() ? "{}" : call.payload;
  invoker.enqueue(std::move(inv));
  return {};
}

}  // namespace gantry::lambda
