#include "server/event_delivery.h"
#include "core/json_members.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/sigv4_verify.h"
#include "services/lambda/service.h"

namespace gantry::server {

namespace json = boost::json;

namespace {


// Members of the input that RunTask takes as task overrides, as EventBridge passes them.
constexpr std::string_view kOverrideMembers[] = {"containerOverrides",  "cpu",          "memory",
                                                 "executionRoleArn",    "taskRoleArn",  "ephemeralStorage",
                                                 "inferenceAcceleratorOverrides"};

}  // namespace

void sign_request(http::Request& request, const SigningKey& key, std::string_view region, std::string_view service,
                  TimePoint now) {
  const auto date = auth::format_amz_date(now);
  request.headers.emplace_back("host", "gantry.internal");
  request.headers.emplace_back("x-amz-date", date);
  std::string signed_headers = "content-type;host;x-amz-date";
  if (!key.token.empty()) {
    request.headers.emplace_back("x-amz-security-token", key.token);
    signed_headers += ";x-amz-security-token";
  }
  if (request.has_header("x-amz-target")) signed_headers += ";x-amz-target";
  protocol::CredentialScope scope;
  scope.access_key_id = key.access_key_id;
  scope.date = date.substr(0, 8);
  scope.region = std::string(region);
  scope.service = std::string(service);
  scope.signed_headers = signed_headers;
  auto canonical = auth::canonical_request(request, scope, auth::sha256_hex(request.body));
  auto signature = auth::signature(key.secret, scope, auth::string_to_sign(date, scope, canonical));
  request.headers.emplace_back(
      "authorization", fmt::format("AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, "
                                   "Signature={}",
                                   key.access_key_id, scope.date, region, service, signed_headers, signature));
}

void TargetDeliverer::clear() {
  std::lock_guard lock(mu_);
  keys_.clear();
}

events::DeliveryOutcome TargetDeliverer::deliver(const events::Delivery& d) {
  auto arn = json_members::string_or_empty(d.target, "Arn");
  if (arn.starts_with("arn:aws:lambda:"))
    return d.via == events::Delivery::Via::kSchedule ? invoke_as_role(d) : deliver_lambda(d);
  if (arn.starts_with("arn:aws:ecs:")) return deliver_ecs(d);
  return events::DeliveryOutcome{false, false, "Gantry cannot deliver to " + arn};
}

events::DeliveryOutcome TargetDeliverer::deliver_lambda(const events::Delivery& d) {
  lambda::ServiceInvocation call{
      d.scope, json_members::string_or_empty(d.target, "Arn"), d.input, "events.amazonaws.com", d.rule_arn, d.event_id};
  auto st = lambda::invoke_for_service(d_.lambda_store, d_.invoker, d_.code_root, call);
  if (st) return {};
  bool retryable = st.error().kind == ErrorKind::kLambdaResourceConflict ||
                   st.error().kind == ErrorKind::kLambdaService || st.error().kind == ErrorKind::kLambdaTooManyRequests;
  return events::DeliveryOutcome{false, retryable, st.error().message};
}

json::object TargetDeliverer::run_task_request(const events::Delivery& d) {
  json::object p;
  if (auto* v = d.target.if_contains("EcsParameters"); v && v->is_object()) p = v->as_object();
  json::object req{{"cluster", json_members::string_or_empty(d.target, "Arn")},
                   {"taskDefinition", json_members::string_or_empty(p, "TaskDefinitionArn")}};
  req["count"] = p.contains("TaskCount") && p["TaskCount"].is_int64() ? p["TaskCount"].as_int64() : int64_t{1};
  req["launchType"] =
      p.contains("LaunchType") ? json_members::string_or_empty(p, "LaunchType") : std::string("FARGATE");
  if (d.via == events::Delivery::Via::kRule) req["startedBy"] = ("events-rule/" + d.rule_name).substr(0, 128);
  if (auto* nc = p.if_contains("NetworkConfiguration"); nc && nc->is_object()) {
    if (auto* vpc = nc->as_object().if_contains("awsvpcConfiguration"); vpc && vpc->is_object()) {
      const auto& c = vpc->as_object();
      json::object out;
      if (auto* s = c.if_contains("Subnets")) out["subnets"] = *s;
      if (auto* s = c.if_contains("SecurityGroups")) out["securityGroups"] = *s;
      if (auto* s = c.if_contains("AssignPublicIp")) out["assignPublicIp"] = *s;
      req["networkConfiguration"] = json::object{{"awsvpcConfiguration", std::move(out)}};
    }
  }
  for (auto [from, to] : {std::pair{"PlatformVersion", "platformVersion"}, std::pair{"Group", "group"},
                          std::pair{"PropagateTags", "propagateTags"}, std::pair{"ReferenceId", "referenceId"}})
    if (auto* v = p.if_contains(from)) req[to] = *v;
  for (auto [from, to] : {std::pair{"EnableECSManagedTags", "enableECSManagedTags"},
                          std::pair{"EnableExecuteCommand", "enableExecuteCommand"}})
    if (auto* v = p.if_contains(from)) req[to] = *v;
  // Tags: EventBridge's are [{"Key": k, "Value": v}], Scheduler's [{k: v}, ...] (a list of maps).
  if (auto* tags = p.if_contains("Tags"); tags && tags->is_array()) {
    json::array out;
    for (const auto& t : tags->as_array()) {
      if (!t.is_object()) continue;
      const auto& o = t.as_object();
      if (d.via == events::Delivery::Via::kSchedule) {
        for (const auto& [k, v] : o)
          out.push_back(
              json::object{{"key", std::string(k)}, {"value", v.is_string() ? std::string(v.as_string()) : ""}});
      } else {
        out.push_back(json::object{{"key", json_members::string_or_empty(o, "Key")},
                                   {"value", json_members::string_or_empty(o, "Value")}});
      }
    }
    req["tags"] = std::move(out);
  }
  // An input that is a JSON object with task override members overrides the task, as on EventBridge.
  boost::system::error_code ec;
  auto input = json::parse(d.input, ec);
  if (!ec && input.is_object()) {
    json::object overrides;
    for (auto m : kOverrideMembers)
      if (auto* v = input.as_object().if_contains(m)) overrides[m] = *v;
    if (!overrides.empty()) req["overrides"] = std::move(overrides);
  }
  return req;
}

Result<SigningKey> TargetDeliverer::key_for(const Scope& scope, const std::string& role_arn,
                                            const std::string& service) {
  const auto cache_key = scope.account + "|" + role_arn + "|" + service;
  {
    std::lock_guard lock(mu_);
    auto it = keys_.find(cache_key);
    // Reused for 5 minutes at most, so a changed trust policy or a deleted role takes effect soon.
    if (it != keys_.end() && d_.clock.now() - it->second.minted_at < std::chrono::minutes(5) &&
        it->second.key.expires_at - d_.clock.now() > std::chrono::minutes(5))
      return it->second.key;
  }
  GANTRY_ASSIGN_OR_RETURN(auto key, d_.role_key(scope, role_arn, service));
  std::lock_guard lock(mu_);
  keys_[cache_key] = CachedKey{key, d_.clock.now()};
  return key;
}

events::DeliveryOutcome TargetDeliverer::call_as_role(const events::Delivery& d, http::Request& req,
                                                      std::string_view signing_name, std::string_view what) {
  auto role = json_members::string_or_empty(d.target, "RoleArn");
  const std::string service =
      d.via == events::Delivery::Via::kSchedule ? "scheduler.amazonaws.com" : "events.amazonaws.com";
  auto key = key_for(d.scope, role, service);
  if (!key)
    return events::DeliveryOutcome{false, false,
                                   fmt::format("{} cannot use role {}: {}", service, role, key.error().message)};
  req.remote_address = "127.0.0.1";
  sign_request(req, *key, d.scope.region, signing_name, d_.wall_clock.now());
  auto res = d_.call(req);
  boost::system::error_code ec;
  auto body = json::parse(res.body, ec);
  const json::object empty;
  const auto& o = !ec && body.is_object() ? body.as_object() : empty;
  if (res.status >= 300) {
    auto type = json_members::string_or_empty(o, "__type");
    if (type.empty()) type = json_members::string_or_empty(o, "Type");
    for (const auto& [name, value] : res.headers)
      if (type.empty() && (name == "x-amzn-errortype" || name == "X-Amzn-ErrorType")) type = value;
    if (auto hash = type.find('#'); hash != std::string::npos) type = type.substr(hash + 1);
    if (auto colon = type.find(':'); colon != std::string::npos) type = type.substr(0, colon);
    bool retryable = res.status >= 500 || res.status == 429 || type == "ThrottlingException" ||
                     type == "ServerException" || type == "TooManyRequestsException";
    std::string message = json_members::string_or_empty(o, "message");
    if (message.empty()) message = json_members::string_or_empty(o, "Message");
    return events::DeliveryOutcome{false, retryable,
                                   fmt::format("{} as {} answered {} {}: {}", what, role, res.status, type, message)};
  }
  if (auto* failures = o.if_contains("failures"); failures && failures->is_array() && !failures->as_array().empty()) {
    const auto& f = failures->as_array().front();
    return events::DeliveryOutcome{false, true, fmt::format("{} failed: {}", what, json::serialize(f))};
  }
  return {};
}

events::DeliveryOutcome TargetDeliverer::deliver_ecs(const events::Delivery& d) {
  http::Request req;
  req.method = "POST";
  req.target = "/";
  req.headers.emplace_back("content-type", "application/x-amz-json-1.1");
  req.headers.emplace_back("x-amz-target", "AmazonEC2ContainerServiceV20141113.RunTask");
  req.body = json::serialize(run_task_request(d));
  return call_as_role(d, req, "ecs", "ecs:RunTask");
}

events::DeliveryOutcome TargetDeliverer::invoke_as_role(const events::Delivery& d) {
  http::Request req;
  req.method = "POST";
  req.target = "/2015-03-31/functions/" + auth::uri_encode(json_members::string_or_empty(d.target, "Arn"), false) +
               "/invocations";
  req.headers.emplace_back("content-type", "application/json");
  req.headers.emplace_back("x-amz-invocation-type", "Event");
  req.body = d.input;
  return call_as_role(d, req, "lambda", "lambda:InvokeFunction");
}

}  // namespace gantry::server
