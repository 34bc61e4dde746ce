// Routing and authentication of /v2/ requests; the errors every route shares.
#include "registry/registry.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "registry/internal.h"
#include "registry/parse.h"
#include "services/ecr/auth.h"
#include "services/ecr/handlers.h"
#include "services/ecr/images.h"

namespace gantry::registry {

namespace json = boost::json;

namespace {

constexpr std::string_view kApiVersion = "registry/2.0";

// The OCI code an error is answered with.
WireError oci_wire(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kEcrRepositoryNotFound: return wire_error(ErrorKind::kRegistryNameUnknown, "");
    case ErrorKind::kEcrImageNotFound: return wire_error(ErrorKind::kRegistryManifestUnknown, "");
    case ErrorKind::kEcrInvalidParameter: return wire_error(ErrorKind::kRegistryManifestInvalid, "");
    case ErrorKind::kEcrImageDigestDoesNotMatch: return wire_error(ErrorKind::kImageDigestInvalid, "");
    case ErrorKind::kEcrLayersNotFound:
    case ErrorKind::kEcrReferencedImagesNotFound: return wire_error(ErrorKind::kRegistryManifestBlobUnknown, "");
    case ErrorKind::kEcrImageTagAlreadyExists: return wire_error(ErrorKind::kRegistryTagInvalid, "");
    case ErrorKind::kImageBlobUnknown:
    case ErrorKind::kImageDigestInvalid:
    case ErrorKind::kImageUploadUnknown:
    case ErrorKind::kImageUploadOffset:
    case ErrorKind::kImageUploadInvalid:
    case ErrorKind::kImageRangeInvalid:
    case ErrorKind::kImageSizeInvalid:
    case ErrorKind::kRegistryUnauthorized:
    case ErrorKind::kRegistryDenied:
    case ErrorKind::kRegistryNameInvalid:
    case ErrorKind::kRegistryNameUnknown:
    case ErrorKind::kRegistryManifestInvalid:
    case ErrorKind::kRegistryManifestUnknown:
    case ErrorKind::kRegistryManifestBlobUnknown:
    case ErrorKind::kRegistryTagInvalid:
    case ErrorKind::kRegistryUnsupported:
    case ErrorKind::kRegistryPaginationInvalid: return wire_error(kind, "");
    default: return {"UNKNOWN", 500, false};
  }
}

}  // namespace

http::Response reply(int status) {
  http::Response r;
  r.status = status;
  r.set_header("Docker-Distribution-API-Version", std::string(kApiVersion));
  return r;
}

http::Response oci_error(const Error& error) {
  WireError w = oci_wire(error.kind);
  if (w.http_status >= 500) spdlog::error("registry: {}", error.message);
  http::Response r = reply(w.http_status);
  r.set_header("Content-Type", "application/json");
  if (error.kind == ErrorKind::kRegistryUnauthorized) r.set_header("WWW-Authenticate", R"(Basic realm="Gantry")");
  std::string message = w.http_status >= 500 ? "The registry encountered an internal error" : error.message;
  json::object e{{"code", w.type}, {"message", message}, {"detail", nullptr}};
  r.body = json::serialize(json::object{{"errors", json::array{std::move(e)}}});
  return r;
}

Result<ecr::Repository> find_repository(Call& call) {
  std::optional<ecr::Repository> repo;
  GANTRY_RETURN_IF_ERROR(call.env.store.read([&](ecr::EcrTables& t) -> Status {
    repo = t.find_repository(call.scope, call.route.name);
    return {};
  }));
  if (!repo)
    return make_error(ErrorKind::kRegistryNameUnknown,
                      fmt::format("The repository with name '{}' does not exist in the registry with id '{}'; create "
                                  "it with ecr create-repository first",
                                  call.route.name.substr(0, 256), call.scope.account));
  return *repo;
}

Route parse_route(std::string_view path) {
  Route r;
  if (path == "/v2" || path == "/v2/") {
    r.kind = RouteKind::kBase;
    return r;
  }
  if (path == "/v2/_catalog") {
    r.kind = RouteKind::kCatalog;
    return r;
  }
  if (!path.starts_with("/v2/")) return r;
  std::string_view rest = path.substr(4);
  auto take = [&](std::string_view suffix_marker, RouteKind kind, bool with_ref) {
    if (with_ref) {
      auto slash = rest.rfind('/');
      if (slash == std::string_view::npos) return false;
      std::string_view head = rest.substr(0, slash);
      if (!head.ends_with(suffix_marker)) return false;
      r.name = std::string(head.substr(0, head.size() - suffix_marker.size()));
      r.ref = std::string(rest.substr(slash + 1));
      if (r.ref.empty()) return false;
    } else {
      if (!rest.ends_with(suffix_marker)) return false;
      r.name = std::string(rest.substr(0, rest.size() - suffix_marker.size()));
    }
    r.kind = kind;
    return !r.name.empty();
  };
  if (take("/tags/list", RouteKind::kTags, false)) return r;
  if (take("/blobs/uploads/", RouteKind::kUploadStart, false)) return r;
  if (take("/blobs/uploads", RouteKind::kUploadStart, false)) return r;
  if (take("/blobs/uploads", RouteKind::kUpload, true)) return r;
  if (take("/blobs", RouteKind::kBlob, true)) return r;
  if (take("/manifests", RouteKind::kManifest, true)) return r;
  return Route{};
}

struct Registry::Impl {
  RegistryOptions options;
  Env env;

  Scope scope_of(const http::Request& req) const {
    if (auto host = parse_registry_host(req.header("host"))) return Scope{host->account, host->region};
    return Scope{options.account_id, options.region};
  }

  // The token's owner, when the request carries a live token of the account.
  Result<ecr::TokenOwner> authenticate(const http::Request& req, const Scope& scope) {
    auto creds = parse_basic_auth(req.header("authorization"));
    auto unauthorized = [](std::string why) {
      return make_error(ErrorKind::kRegistryUnauthorized,
                        "authentication required: " + why +
                            " (log in with user AWS and the password from ecr get-login-password)");
    };
    if (!creds) return unauthorized("no Basic credentials");
    if (creds->user != "AWS") return unauthorized("the user name must be AWS");
    GANTRY_ASSIGN_OR_RETURN(auto owner,
                            ecr::verify_password(env.store, creds->password, scope.account, env.clock.now()));
    if (!owner) return unauthorized("the password is not a live token of account " + scope.account);
    // Tokens issued before tokens named their owner cannot be authorized: log in again.
    if (options.authorizer != nullptr && (owner->principal_arn.empty() || owner->access_key_id.empty()))
      return unauthorized("the token predates IAM enforcement; get a new one");
    return *owner;
  }

  // The ECR action a registry call amounts to, as ECR's IAM actions name them.
  static std::string_view action_of(const Route& route, std::string_view method) {
    const bool read = method == "GET" || method == "HEAD";
    switch (route.kind) {
      case RouteKind::kCatalog: return "ecr:DescribeRepositories";
      case RouteKind::kTags: return "ecr:ListImages";
      case RouteKind::kManifest:
        if (read) return "ecr:BatchGetImage";
        return method == "DELETE" ? "ecr:BatchDeleteImage" : "ecr:PutImage";
      case RouteKind::kBlob:
        return method == "HEAD" ? "ecr:BatchCheckLayerAvailability" : "ecr:GetDownloadUrlForLayer";
      case RouteKind::kUploadStart: return "ecr:InitiateLayerUpload";
      case RouteKind::kUpload: return method == "PUT" ? "ecr:CompleteLayerUpload" : "ecr:UploadLayerPart";
      case RouteKind::kBase:
      case RouteKind::kUnknown: return "";
    }
    return "";
  }

  // IAM: may the token's owner do `action` on `repo` (with its repository policy)?
  Status authorize_action(const Scope& scope, const ecr::TokenOwner& owner, std::string_view action,
                          const std::string& repo) {
    if (options.authorizer == nullptr || action.empty()) return {};
    api::RequestContext ctx;
    ctx.scope = scope;
    ctx.access_key_id = owner.access_key_id;
    ctx.principal_arn = owner.principal_arn;
    ctx.principal_id = owner.principal_id;
    ctx.now = env.clock.now();
    ctx.authorizer = options.authorizer;
    std::string resource = repo.empty() ? "*" : scope.arn("ecr", "repository/" + repo);
    std::vector<std::string> policies;
    if (!repo.empty())
      if (auto policy = ecr::repository_policy_text(env.store, scope, repo); !policy.empty())
        policies.push_back(std::move(policy));
    if (auto no = options.authorizer->deny(ctx, action, resource, {}, policies))
      return make_error(ErrorKind::kRegistryDenied, *no);
    return {};
  }

  // The route and its authorization; an answer when either fails.
  std::variant<Call, http::Response> prepare(const http::Request& req) {
    Scope scope = scope_of(req);
    auto owner = authenticate(req, scope);
    if (!owner) return oci_error(owner.error());
    Route route = parse_route(req.path());
    if (route.kind == RouteKind::kUnknown)
      return oci_error(make_error(ErrorKind::kRegistryUnsupported,
                                  fmt::format("no registry route for {} {}", req.method,
                                              std::string(req.path()).substr(0, 256))));
    if (!route.name.empty() && !ecr::valid_repository_name(route.name))
      return oci_error(make_error(ErrorKind::kRegistryNameInvalid,
                                  fmt::format("invalid repository name '{}'", route.name.substr(0, 256))));
    if (auto st = authorize_action(scope, *owner, action_of(route, req.method), route.name); !st)
      return oci_error(st.error());
    Call call{env, scope, std::move(route), req, {}};
    if (options.authorizer != nullptr)
      call.authorize = [this, scope, owner = *owner](std::string_view action, const std::string& repo) {
        return authorize_action(scope, owner, action, repo);
      };
    return call;
  }

  http::HeadDecision head(http::Request& req) {
    auto prepared = prepare(req);
    if (auto* answer = std::get_if<http::Response>(&prepared)) return std::move(*answer);
    Call& call = std::get<Call>(prepared);
    const std::string& m = req.method;
    const bool read = m == "GET" || m == "HEAD";
    switch (call.route.kind) {
      case RouteKind::kBase:
        if (read) {
          http::Response r = reply(200);
          r.set_header("Content-Type", "application/json");
          r.body = "{}";
          return r;
        }
        break;
      case RouteKind::kCatalog:
        if (read) return catalog(call);
        break;
      case RouteKind::kTags:
        if (read) return list_tags(call);
        break;
      case RouteKind::kManifest:
        if (read) return get_manifest(call);
        if (m == "PUT") return std::monostate{};  // the manifest is read whole, then handle()
        if (m == "DELETE") return delete_manifest(call);
        break;
      case RouteKind::kBlob:
        if (read) return get_blob(call);
        if (m == "DELETE") return delete_blob(call);
        break;
      case RouteKind::kUploadStart:
        if (m == "POST") return start_upload(call);
        break;
      case RouteKind::kUpload:
        if (m == "PATCH") return patch_upload(call);
        if (m == "PUT") return finish_upload(call);
        if (read) return upload_status(call);
        if (m == "DELETE") return cancel_upload(call);
        break;
      case RouteKind::kUnknown: break;
    }
    return oci_error(make_error(ErrorKind::kRegistryUnsupported,
                                fmt::format("the registry does not support {} on {}", m.substr(0, 16),
                                            std::string(req.path()).substr(0, 256))));
  }

  http::Response handle(http::Request& req) {
    auto prepared = prepare(req);
    if (auto* answer = std::get_if<http::Response>(&prepared)) return std::move(*answer);
    Call& call = std::get<Call>(prepared);
    if (call.route.kind == RouteKind::kManifest && req.method == "PUT") return put_manifest(call, req.body);
    return oci_error(make_error(ErrorKind::kRegistryUnsupported,
                                fmt::format("the registry does not support {} on {}", req.method.substr(0, 16),
                                            std::string(req.path()).substr(0, 256))));
  }
};

Registry::Registry(RegistryOptions options, ecr::EcrStore& store, image::BlobStore& blobs, const Clock& clock)
    : impl_(std::make_unique<Impl>(Impl{std::move(options), Env{store, blobs, clock}})) {}

Registry::~Registry() = default;

bool Registry::owns(std::string_view path) { return path == "/v2" || path.starts_with("/v2/"); }

http::HeadDecision Registry::head(http::Request& request) { return impl_->head(request); }

http::Response Registry::handle(http::Request& request) { return impl_->handle(request); }

}  // namespace gantry::registry
