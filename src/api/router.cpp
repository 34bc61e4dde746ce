#include "api/router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/models.h"
#include "protocol/query_codec.h"
#include "protocol/sigv4.h"
#include "protocol/wire.h"

namespace gantry::api {

namespace json = boost::json;
using protocol::Protocol;

namespace {

struct ServiceInfo {
  std::string name;  // botocore name
  Protocol protocol = Protocol::kJson;
  std::string target_prefix;
  std::string json_version = "1.1";
  std::string signing_name;
  std::string xml_namespace;
  std::vector<std::string> operations;  // sorted
  bool knows(std::string_view op) const { return std::binary_search(operations.begin(), operations.end(), op); }
};

struct RegisteredJsonService {
  JsonService service;
  protocol::ShapeModel model;
};

struct RegisteredQueryService {
  QueryService service;
  protocol::ShapeModel model;
};

Protocol protocol_of(std::string_view name) {
  if (name == "rest-json") return Protocol::kRestJson;
  if (name == "query") return Protocol::kQuery;
  if (name == "ec2") return Protocol::kEc2;
  return Protocol::kJson;
}

bool is_form(const http::Request& r) {
  return r.header("content-type").find("application/x-www-form-urlencoded") != std::string_view::npos;
}

}  // namespace

struct Router::Impl {
  RouterOptions options;
  const Clock& clock;
  Random& random;
  std::vector<ServiceInfo> services;
  std::map<std::string, const ServiceInfo*, std::less<>> by_target_prefix;
  std::map<std::string, const ServiceInfo*, std::less<>> by_signing_name;
  std::map<std::string, RegisteredJsonService, std::less<>> json_services;
  std::map<std::string, RegisteredQueryService, std::less<>> query_services;

  Impl(RouterOptions o, const Clock& c, Random& r) : options(std::move(o)), clock(c), random(r) {
    auto index = json::parse(embedded_model_index()).as_object();
    services.reserve(index.size());
    for (auto& [name, entry] : index) {
      const auto& md = entry.at("metadata").as_object();
      ServiceInfo info;
      info.name = std::string(name);
      info.protocol = protocol_of(md.at("protocol").as_string());
      if (auto* p = md.if_contains("targetPrefix")) info.target_prefix = std::string(p->as_string());
      if (auto* v = md.if_contains("jsonVersion")) info.json_version = std::string(v->as_string());
      if (auto* s = md.if_contains("signingName")) info.signing_name = std::string(s->as_string());
      else info.signing_name = std::string(md.at("endpointPrefix").as_string());
      if (auto* a = md.if_contains("apiVersion");
          a && (info.protocol == Protocol::kQuery || info.protocol == Protocol::kEc2))
        info.xml_namespace = protocol::xml_namespace(info.protocol, info.signing_name, a->as_string());
      for (const auto& op : entry.at("operations").as_array()) info.operations.emplace_back(op.as_string());
      services.push_back(std::move(info));
    }
    for (const auto& s : services) {
      if (!s.target_prefix.empty()) by_target_prefix[s.target_prefix] = &s;
      by_signing_name[s.signing_name] = &s;
    }
  }

  protocol::ErrorContext error_context(const ServiceInfo* s, Protocol fallback, std::string_view request_id) const {
    protocol::ErrorContext ctx;
    ctx.request_id = request_id;
    ctx.protocol = s ? s->protocol : fallback;
    if (s) {
      ctx.json_version = s->json_version;
      ctx.xml_namespace = s->xml_namespace;
      auto it = json_services.find(s->name);
      if (it != json_services.end()) ctx.validation_type = it->second.service.validation_error_type;
      auto q = query_services.find(s->name);
      if (q != query_services.end()) ctx.validation_type = q->second.service.validation_error_type;
    }
    return ctx;
  }

  // AWS names a failed verification differently per protocol.
  static Error auth_error(const auth::AuthError& e, Protocol p) {
    using F = auth::Failure;
    ErrorKind kind = ErrorKind::kAuthInvalidSignature;
    if (e.failure == F::kTokenExpired) {
      switch (p) {
        case Protocol::kJson: kind = ErrorKind::kAuthExpiredToken; break;
        case Protocol::kRestJson: kind = ErrorKind::kAuthExpiredToken403; break;
        case Protocol::kQuery: kind = ErrorKind::kAuthExpiredTokenQuery; break;
        case Protocol::kEc2: kind = ErrorKind::kAuthRequestExpired; break;
      }
      return make_error(kind, e.message);
    }
    switch (p) {
      case Protocol::kJson:
        kind = e.failure == F::kUnknownKey ? ErrorKind::kAuthUnrecognizedClient : ErrorKind::kAuthInvalidSignature;
        break;
      case Protocol::kRestJson:
        kind = e.failure == F::kUnknownKey ? ErrorKind::kAuthUnrecognizedClient403 : ErrorKind::kAuthInvalidSignature403;
        break;
      case Protocol::kQuery:
        kind = e.failure == F::kUnknownKey ? ErrorKind::kAuthInvalidClientTokenId : ErrorKind::kAuthSignatureDoesNotMatch;
        break;
      case Protocol::kEc2:
        kind = e.failure == F::kExpired ? ErrorKind::kAuthRequestExpired : ErrorKind::kAuthFailure;
        break;
    }
    std::string message = e.message;
    if (p == Protocol::kEc2 && e.failure != F::kExpired)
      message = "AWS was not able to validate the provided access credentials";
    return make_error(kind, std::move(message));
  }

  http::Response fail(const Error& e, const ServiceInfo* s, Protocol fallback, std::string_view request_id) const {
    return protocol::encode_error(e, error_context(s, fallback, request_id));
  }

  http::Response handle(http::Request& req) {
    std::string request_id = random.uuid4();
    std::string_view target = req.header("x-amz-target");
    Protocol guess = !target.empty()                                                    ? Protocol::kJson
                     : (is_form(req) || req.query().find("Action=") != std::string_view::npos) ? Protocol::kQuery
                                                                                                : Protocol::kRestJson;
    // The service, where the request itself says which.
    const ServiceInfo* service = nullptr;
    std::string operation;
    if (!target.empty()) {
      auto dot = target.rfind('.');
      if (dot != std::string_view::npos) {
        auto it = by_target_prefix.find(target.substr(0, dot));
        if (it != by_target_prefix.end()) service = it->second;
        operation = std::string(target.substr(dot + 1));
      }
    }

    auto scope = protocol::read_credential_scope(req);
    if (!scope) return fail(scope.error(), service, guess, request_id);
    if (!scope->has_value())
      return fail(make_error(ErrorKind::kMissingAuthentication,
                             "Missing Authentication Token: sign the request with AWS Signature Version 4 "
                             "(any AWS SDK or the aws CLI does this when credentials are configured)"),
                  service, guess, request_id);
    const auto& cred = **scope;
    if (service == nullptr && target.empty()) {
      auto it = by_signing_name.find(cred.service);
      if (it != by_signing_name.end()) service = it->second;
    }

    RequestContext ctx;
    ctx.request_id = request_id;
    ctx.scope = Scope{options.account_id, cred.region.empty() ? options.default_region : cred.region};
    ctx.access_key_id = cred.access_key_id;
    ctx.principal_arn = fmt::format("arn:aws:iam::{}:root", options.account_id);
    ctx.now = clock.now();
    if (options.keys != nullptr) {
      Protocol p = service != nullptr ? service->protocol : guess;
      auto verified = auth::verify(req, cred, *options.keys, ctx.now);
      if (verified.malformed) return fail(*verified.malformed, service, guess, request_id);
      if (verified.auth_error) return fail(auth_error(*verified.auth_error, p), service, guess, request_id);
      ctx.scope.account = verified.ok->key.account;
      ctx.principal_arn = verified.ok->key.principal_arn;
      ctx.principal_id = verified.ok->key.principal_id;
      ctx.authorizer = options.authorizer;
    }
    ctx.random = &random;

    if (!target.empty()) {
      if (service == nullptr)
        return fail(make_error(ErrorKind::kUnknownOperation,
                               fmt::format("No AWS service has the X-Amz-Target prefix of '{}'", target.substr(0, 128))),
                    nullptr, Protocol::kJson, request_id);
      return handle_json(*service, operation, req, ctx);
    }
    if (service == nullptr)
      return fail(make_error(ErrorKind::kUnknownService,
                             fmt::format("Gantry cannot route this request: the SigV4 credential scope names service "
                                         "'{}', which Gantry does not know",
                                         cred.service.substr(0, 64))),
                  nullptr, guess, request_id);
    if (service->protocol == Protocol::kQuery || service->protocol == Protocol::kEc2)
      return handle_query(*service, req, ctx, guess);
    // rest-json services: none is implemented yet; say so for the whole service.
    return fail(make_error(ErrorKind::kUnsupportedOperation,
                           fmt::format("Gantry does not implement the {} API yet ({} {})", service->name, req.method,
                                       std::string(req.path()).substr(0, 128))),
                service, guess, request_id);
  }

  http::Response unsupported(const ServiceInfo& s, std::string_view op, std::string_view request_id) const {
    return fail(make_error(ErrorKind::kUnsupportedOperation,
                           fmt::format("Gantry does not support {}:{} yet; see docs/api-coverage.md for what it "
                                       "supports",
                                       s.signing_name, op)),
                &s, s.protocol, request_id);
  }

  http::Response handle_query(const ServiceInfo& s, http::Request& req, RequestContext& ctx, Protocol guess) {
    protocol::QueryRequest q = protocol::read_query_request(req);
    if (q.action.empty())
      return fail(make_error(ErrorKind::kInvalidAction, "The request has no Action parameter"), &s, guess,
                  ctx.request_id);
    if (!s.knows(q.action))
      return fail(make_error(ErrorKind::kInvalidAction,
                             fmt::format("The action {} is not valid for this web service", q.action.substr(0, 128))),
                  &s, guess, ctx.request_id);
    auto svc = query_services.find(s.name);
    if (svc == query_services.end()) return unsupported(s, q.action, ctx.request_id);
    auto handler = svc->second.service.operations.find(q.action);
    if (handler == svc->second.service.operations.end()) return unsupported(s, q.action, ctx.request_id);
    auto input = protocol::decode_query_input(svc->second.model, q.action, q.params, s.protocol);
    if (!input) return fail(input.error(), &s, s.protocol, ctx.request_id);
    auto valid = svc->second.model.validate_input(q.action, *input);
    if (!valid) return fail(valid.error(), &s, s.protocol, ctx.request_id);
    if (auto no = denied(s, svc->second.service.auth_target, q.action, *input, ctx))
      return fail(*no, &s, s.protocol, ctx.request_id);
    Result<protocol::xml::Element> out = handler->second(ctx, *input);
    if (!out) {
      if (out.error().kind == ErrorKind::kInternal)
        spdlog::error("{} {} failed: {} (request {})", s.name, q.action, out.error().message, ctx.request_id);
      return fail(out.error(), &s, s.protocol, ctx.request_id);
    }
    return protocol::xml_response(s.protocol, q.action, s.xml_namespace, ctx.request_id, *out,
                                  svc->second.model.has_result_wrapper(q.action));
  }

  // IAM: may this caller call this operation on the resource it names? Asked after the input is
  // decoded and validated (the resource comes from it), before the operation runs.
  std::optional<Error> denied(const ServiceInfo& s, const AuthTargetFn& target_fn, std::string_view op,
                              const json::object& input, const RequestContext& ctx) const {
    if (options.authorizer == nullptr || options.keys == nullptr) return std::nullopt;
    AuthTarget target = target_fn ? target_fn(op, input, ctx) : AuthTarget{};
    if (target.self_checked) return std::nullopt;
    if (target.resources.empty()) target.resources.push_back("*");  // never allow for want of a resource
    std::string action = fmt::format("{}:{}", s.signing_name, op);
    std::optional<std::string> reason;
    for (const auto& resource : target.resources) {
      reason = options.authorizer->deny(ctx, action, resource, target.keys, target.resource_policies);
      if (reason) break;
    }
    if (!reason) return std::nullopt;
    switch (s.protocol) {
      case Protocol::kJson: return make_error(ErrorKind::kAccessDenied, *reason);
      case Protocol::kRestJson: return make_error(ErrorKind::kAccessDenied403, *reason);
      case Protocol::kQuery: return make_error(ErrorKind::kAccessDeniedQuery, *reason);
      case Protocol::kEc2:
        return make_error(ErrorKind::kUnauthorizedOperation, "You are not authorized to perform this operation. " + *reason);
    }
    return std::nullopt;
  }

  http::Response handle_json(const ServiceInfo& s, const std::string& op, http::Request& req, RequestContext& ctx) {
    if (!s.knows(op))
      return fail(make_error(ErrorKind::kUnknownOperation,
                             fmt::format("The {} API has no operation '{}'", s.name, op.substr(0, 128))),
                  &s, Protocol::kJson, ctx.request_id);
    auto svc = json_services.find(s.name);
    if (svc == json_services.end()) return unsupported(s, op, ctx.request_id);
    auto handler = svc->second.service.operations.find(op);
    if (handler == svc->second.service.operations.end()) return unsupported(s, op, ctx.request_id);
    auto input = protocol::parse_json_body(req.body);
    if (!input) return fail(input.error(), &s, Protocol::kJson, ctx.request_id);
    auto valid = svc->second.model.validate_input(op, *input);
    if (!valid) return fail(valid.error(), &s, Protocol::kJson, ctx.request_id);
    if (auto no = denied(s, svc->second.service.auth_target, op, *input, ctx))
      return fail(*no, &s, Protocol::kJson, ctx.request_id);
    Result<json::object> out = handler->second(ctx, *input);
    if (!out) {
      if (out.error().kind == ErrorKind::kInternal)
        spdlog::error("{} {} failed: {} (request {})", s.name, op, out.error().message, ctx.request_id);
      return fail(out.error(), &s, Protocol::kJson, ctx.request_id);
    }
    return protocol::json_response(*out, s.json_version, ctx.request_id);
  }
};

Router::Router(RouterOptions options, const Clock& clock, Random& random)
    : impl_(std::make_unique<Impl>(std::move(options), clock, random)) {}

Router::~Router() = default;

Status Router::add_json_service(JsonService service) {
  auto text = embedded_model(service.name);
  if (text.empty()) return make_error(ErrorKind::kInternal, "no embedded model for service " + service.name);
  GANTRY_ASSIGN_OR_RETURN(auto model, protocol::ShapeModel::parse(text));
  for (const auto& [op, fn] : service.operations)
    if (!model.has_operation(op))
      return make_error(ErrorKind::kInternal, fmt::format("{} registers {}, which its model lacks", service.name, op));
  std::string name = service.name;
  impl_->json_services.insert_or_assign(name, RegisteredJsonService{std::move(service), std::move(model)});
  return {};
}

Status Router::add_query_service(QueryService service) {
  auto text = embedded_model(service.name);
  if (text.empty()) return make_error(ErrorKind::kInternal, "no embedded model for service " + service.name);
  GANTRY_ASSIGN_OR_RETURN(auto model, protocol::ShapeModel::parse(text));
  auto protocol = model.metadata().if_contains("protocol");
  if (protocol == nullptr || (protocol->as_string() != "query" && protocol->as_string() != "ec2"))
    return make_error(ErrorKind::kInternal, service.name + " is not a query or ec2 protocol service");
  for (const auto& [op, fn] : service.operations)
    if (!model.has_operation(op))
      return make_error(ErrorKind::kInternal, fmt::format("{} registers {}, which its model lacks", service.name, op));
  std::string name = service.name;
  impl_->query_services.insert_or_assign(name, RegisteredQueryService{std::move(service), std::move(model)});
  return {};
}

http::Response Router::handle(http::Request& request) { return impl_->handle(request); }

}  // namespace gantry::api
