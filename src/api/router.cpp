#include "api/router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>

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

// rest-json: where an operation sits in the URL space, from its model's "http" binding.
struct RestRoute {
  enum class Part { kLiteral, kLabel, kGreedyLabel };
  std::string operation;
  std::string method;
  std::vector<std::pair<Part, std::string>> path;          // one entry per segment of the requestUri's path
  std::vector<std::pair<std::string, std::string>> query;  // its fixed query part ("?List=ALL")
  size_t literal_chars = 0;  // among routes matching one request, the one with the most wins
  int response_code = 200;
};

// A route's URI labels in one request: label name and percent-decoded value.
using Labels = std::vector<std::pair<std::string, std::string>>;
// A request's query parameters, decoded, in request order.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct RouteMatch {
  const RestRoute* route = nullptr;
  Labels labels;
};

// The routes of a rest-json service and the shapes of its inputs. Built for every rest-json service in
// the index, registered or not, so a request names its operation (or none) either way.
struct RestModel {
  protocol::ShapeModel model;
  std::vector<RestRoute> routes;
};

RestRoute parse_route(std::string operation, const json::object& http) {
  RestRoute r;
  r.operation = std::move(operation);
  r.method = std::string(http.at("method").as_string());
  if (auto* code = http.if_contains("responseCode")) r.response_code = code->to_number<int>();
  std::string_view uri = http.at("requestUri").as_string();
  auto q = uri.find('?');
  if (q != std::string_view::npos) {
    r.query = protocol::parse_form(uri.substr(q + 1));
    r.literal_chars += uri.size() - q - 1;
    uri = uri.substr(0, q);
  }
  if (!uri.empty() && uri.front() == '/') uri.remove_prefix(1);
  while (true) {
    auto slash = uri.find('/');
    std::string_view seg = uri.substr(0, slash);
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      bool greedy = seg[seg.size() - 2] == '+';
      r.path.emplace_back(greedy ? RestRoute::Part::kGreedyLabel : RestRoute::Part::kLabel,
                          std::string(seg.substr(1, seg.size() - (greedy ? 3 : 2))));
    } else {
      r.path.emplace_back(RestRoute::Part::kLiteral, std::string(seg));
      r.literal_chars += seg.size();
    }
    if (slash == std::string_view::npos) break;
    uri.remove_prefix(slash + 1);
  }
  return r;
}

Result<RestModel> load_rest_model(std::string_view service) {
  std::string_view text = embedded_model(service);
  if (text.empty()) return make_error(ErrorKind::kInternal, fmt::format("no embedded model for service {}", service));
  GANTRY_ASSIGN_OR_RETURN(auto shapes, protocol::ShapeModel::parse(text));
  RestModel m{std::move(shapes), {}};
  // ShapeModel keeps no HTTP bindings: read them from the model's text.
  auto doc = json::parse(text).as_object();
  for (const auto& [op, entry] : doc.at("operations").as_object())
    if (auto* http = entry.as_object().if_contains("http"); http && http->as_object().contains("requestUri"))
      m.routes.push_back(parse_route(std::string(op), http->as_object()));
  return m;
}

// The labels of `route` in `path`; nullopt when the path does not have the route's form. A label
// matches one non-empty segment, a greedy label the rest of the path, slashes included.
std::optional<Labels> match_path(const RestRoute& route, std::string_view path) {
  Labels labels;
  size_t pos = 0;
  for (const auto& [part, text] : route.path) {
    if (pos >= path.size() || path[pos] != '/') return std::nullopt;
    ++pos;
    size_t end = part == RestRoute::Part::kGreedyLabel ? path.size() : std::min(path.find('/', pos), path.size());
    std::string_view seg = path.substr(pos, end - pos);
    if (part == RestRoute::Part::kLiteral ? seg != text : seg.empty()) return std::nullopt;
    if (part != RestRoute::Part::kLiteral) labels.emplace_back(text, protocol::url_decode(seg, false));
    pos = end;
  }
  if (pos != path.size()) return std::nullopt;
  return labels;
}

// Whether `query` (decoded) carries the route's fixed query part; a fixed key without a value only
// needs to be present.
bool has_fixed_query(const RestRoute& route, const QueryParams& query) {
  for (const auto& [key, value] : route.query) {
    bool found = std::any_of(query.begin(), query.end(),
                             [&](const auto& kv) { return kv.first == key && (value.empty() || kv.second == value); });
    if (!found) return false;
  }
  return true;
}

RouteMatch find_route(const RestModel& model, const http::Request& req, const QueryParams& query) {
  auto best = [&](std::string_view path) {
    RouteMatch match;
    for (const auto& route : model.routes) {
      if (route.method != req.method || (match.route && match.route->literal_chars >= route.literal_chars)) continue;
      if (!has_fixed_query(route, query)) continue;
      if (auto labels = match_path(route, path)) match = RouteMatch{&route, std::move(*labels)};
    }
    return match;
  };
  std::string_view path = req.path();
  RouteMatch match = best(path);
  // SDKs differ on a trailing slash ("/2015-03-31/functions/" for ListFunctions); AWS takes both.
  if (match.route == nullptr && path.size() > 1 && path.back() == '/') match = best(path.substr(0, path.size() - 1));
  return match;
}

Error bad_value(std::string_view member, std::string_view text, std::string_view expected) {
  return make_error(ErrorKind::kValidation, fmt::format("Value ({}) for parameter {} is invalid. Expected {}.",
                                                        text.substr(0, 64), member, expected));
}

// A URI label, query parameter or header as a value of the member's shape (a list takes every value).
// Timestamps and anything else stay strings.
Result<json::value> typed_value(const protocol::ShapeModel& model, std::string_view shape_name,
                                const std::vector<std::string>& texts, std::string_view member) {
  const json::object* shape = model.shape(shape_name);
  std::string_view type = shape == nullptr ? "string" : std::string_view(shape->at("type").as_string());
  if (type == "list") {
    std::string_view item_shape = shape->at("member").as_object().at("shape").as_string();
    json::array items;
    for (const auto& text : texts) {
      GANTRY_ASSIGN_OR_RETURN(auto item, typed_value(model, item_shape, {text}, member));
      items.push_back(std::move(item));
    }
    return json::value(std::move(items));
  }
  const std::string& text = texts.front();
  if (type == "integer" || type == "long") {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size() || text.empty())
      return bad_value(member, text, "an integer");
    if (type == "integer" && (n > INT32_MAX || n < INT32_MIN)) return bad_value(member, text, "a 32-bit integer");
    return json::value(n);
  }
  if (type == "boolean") {
    if (text == "true") return json::value(true);
    if (text == "false") return json::value(false);
    return bad_value(member, text, "true or false");
  }
  return json::value(text);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Where a member with a location found its values in the request; empty when it is absent.
std::vector<std::string> located_values(std::string_view location, std::string_view name, const http::Request& req,
                                        const Labels& labels, const QueryParams& query) {
  std::vector<std::string> values;
  if (location == "uri") {
    for (const auto& [label, value] : labels)
      if (label == name) values.push_back(value);
  } else if (location == "querystring") {
    for (const auto& [key, value] : query)
      if (key == name) values.push_back(value);
  } else if (location == "header") {
    std::string header = lower(name);
    if (req.has_header(header)) values.emplace_back(req.header(header));
  }
  return values;
}

// The request body into the input: the payload member (raw bytes, or a JSON structure) when the shape
// names one, else the members without a location from a JSON object.
Status decode_rest_body(const protocol::ShapeModel& model, const json::object& shape, const http::Request& req,
                        json::object& input) {
  const auto& members = shape.at("members").as_object();
  if (auto* payload = shape.if_contains("payload")) {
    if (req.body.empty()) return {};
    std::string_view member = payload->as_string();
    const json::object* target = model.shape(members.at(member).as_object().at("shape").as_string());
    std::string_view type = target == nullptr ? "" : std::string_view(target->at("type").as_string());
    if (type == "blob" || type == "string") {
      input[member] = req.body;
      return {};
    }
    GANTRY_ASSIGN_OR_RETURN(auto body, protocol::parse_json_body(req.body));
    input[member] = std::move(body);
    return {};
  }
  GANTRY_ASSIGN_OR_RETURN(auto body, protocol::parse_json_body(req.body));
  for (auto& [key, value] : body) {
    auto* member = members.if_contains(key);
    if (member != nullptr && member->as_object().contains("location")) continue;  // not the body's to set
    input[key] = std::move(value);  // unknown keys are dropped by validation
  }
  return {};
}

// The input of `route`'s operation from every part of the request, typed as the model says.
Result<json::object> decode_rest_input(const protocol::ShapeModel& model, const RouteMatch& match,
                                       const http::Request& req, const QueryParams& query) {
  json::object input;
  const json::object* shape = model.shape(model.input_shape(match.route->operation));
  if (shape == nullptr) return input;
  for (const auto& [name, member_value] : shape->at("members").as_object()) {
    const auto& member = member_value.as_object();
    auto* location = member.if_contains("location");
    if (location == nullptr) continue;
    auto* location_name = member.if_contains("locationName");
    std::string_view wire_name = location_name ? std::string_view(location_name->as_string()) : std::string_view(name);
    auto values = located_values(location->as_string(), wire_name, req, match.labels, query);
    if (values.empty()) continue;
    GANTRY_ASSIGN_OR_RETURN(auto value, typed_value(model, member.at("shape").as_string(), values, name));
    input[name] = std::move(value);
  }
  GANTRY_RETURN_IF_ERROR(decode_rest_body(model, *shape, req, input));
  return input;
}

// What encoding a rest-json answer needs, owned: a deferred answer is encoded after the request is gone.
struct RestEncoding {
  std::string service;
  std::string operation;
  std::string request_id;
  std::string validation_type;
  int model_status = 200;
};

http::Response encode_rest(Result<RestResponse> out, const RestEncoding& enc) {
  if (!out) {
    if (out.error().kind == ErrorKind::kInternal)
      spdlog::error("{} {} failed: {} (request {})", enc.service, enc.operation, out.error().message, enc.request_id);
    protocol::ErrorContext ctx;
    ctx.protocol = Protocol::kRestJson;
    ctx.validation_type = enc.validation_type;
    ctx.request_id = enc.request_id;
    return protocol::encode_error(out.error(), ctx);
  }
  http::Response r;
  r.status = out->status != 0 ? out->status : enc.model_status;
  r.headers = std::move(out->headers);
  r.set_header("x-amzn-RequestId", enc.request_id);
  r.set_header("Content-Type", out->raw ? out->content_type : "application/json");
  // HTTP forbids a body with 204 and 304 (and the server could not send one).
  if (r.status == 204 || r.status == 304) return r;
  r.body = out->raw ? std::move(*out->raw) : json::serialize(out->json);
  return r;
}

// An http::Response that hands the operation's deferred answer, once it comes, to the server.
http::Response deferred(decltype(RestResponse::later) later, RestEncoding enc) {
  http::Response r;
  r.later = [later = std::move(later), enc = std::move(enc)](std::function<void(http::Response)> respond) {
    later([respond = std::move(respond), enc](Result<RestResponse> out) { respond(encode_rest(std::move(out), enc)); });
  };
  return r;
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
  std::map<std::string, RestModel, std::less<>> rest_models;
  std::map<std::string, RestService, std::less<>> rest_services;  // models in rest_models

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
      if (s.protocol != Protocol::kRestJson) continue;
      auto model = load_rest_model(s.name);
      if (model) rest_models.emplace(s.name, std::move(*model));
      else spdlog::error("rest-json service {} cannot be routed: {}", s.name, model.error().message);
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
      auto r = rest_services.find(s->name);
      if (r != rest_services.end()) ctx.validation_type = r->second.validation_error_type;
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
      auto verified = auth::verify(req, cred, *options.keys,
                                   options.wall_clock != nullptr ? options.wall_clock->now() : ctx.now, ctx.now);
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
    if (service->protocol == Protocol::kRestJson) return handle_rest(*service, req, ctx);
    // A json service reached without X-Amz-Target: there is no operation to name.
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
    std::string action = target.action.empty() ? fmt::format("{}:{}", s.signing_name, op) : target.action;
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

  http::Response handle_rest(const ServiceInfo& s, http::Request& req, RequestContext& ctx) {
    auto model = rest_models.find(s.name);
    auto query = protocol::parse_form(req.query());
    RouteMatch match = model == rest_models.end() ? RouteMatch{} : find_route(model->second, req, query);
    if (match.route == nullptr)
      return fail(make_error(ErrorKind::kUnknownOperation404,
                             fmt::format("The {} API has no operation at {} {}", s.name, req.method.substr(0, 16),
                                         req.path().substr(0, 128))),
                  &s, Protocol::kRestJson, ctx.request_id);
    const std::string& op = match.route->operation;
    auto svc = rest_services.find(s.name);
    if (svc == rest_services.end()) return unsupported(s, op, ctx.request_id);
    auto handler = svc->second.operations.find(op);
    if (handler == svc->second.operations.end()) return unsupported(s, op, ctx.request_id);
    const protocol::ShapeModel& shapes = model->second.model;
    auto input = decode_rest_input(shapes, match, req, query);
    if (!input) return fail(input.error(), &s, Protocol::kRestJson, ctx.request_id);
    auto valid = shapes.validate_input(op, *input);
    if (!valid) return fail(valid.error(), &s, Protocol::kRestJson, ctx.request_id);
    if (auto no = denied(s, svc->second.auth_target, op, *input, ctx))
      return fail(*no, &s, Protocol::kRestJson, ctx.request_id);
    RestEncoding enc{s.name, op, ctx.request_id, svc->second.validation_error_type,
                     match.route->response_code};
    Result<RestResponse> out = handler->second(ctx, *input);
    if (out && out->later) return deferred(std::move(out->later), std::move(enc));
    return encode_rest(std::move(out), enc);
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

Status Router::add_rest_service(RestService service) {
  auto model = impl_->rest_models.find(service.name);
  if (model == impl_->rest_models.end())
    return make_error(ErrorKind::kInternal, service.name + " has no embedded rest-json model");
  for (const auto& [op, fn] : service.operations)
    if (!model->second.model.has_operation(op))
      return make_error(ErrorKind::kInternal, fmt::format("{} registers {}, which its model lacks", service.name, op));
  std::string name = service.name;
  impl_->rest_services.insert_or_assign(name, std::move(service));
  return {};
}

http::Response Router::handle(http::Request& request) { return impl_->handle(request); }

}  // namespace gantry::api
