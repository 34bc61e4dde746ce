// CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions, UpdateFunctionCode,
// UpdateFunctionConfiguration, DeleteFunction, GetAccountSettings and the tag operations.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <system_error>

#include "core/pagination.h"
#include "image/zip_package.h"
#include "services/lambda/handlers.h"
#include "store/service_store.h"

namespace gantry::lambda::detail {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxZipBytes = 52428800;            // 50 MB: a package uploaded in the request
constexpr uint64_t kMaxUnzippedBytes = 262144000;     // 250 MB unzipped
constexpr int64_t kAccountConcurrency = 1000;         // Lambda's default account limit
constexpr int64_t kUnreservedMinimum = 100;           // AWS keeps at least this much unreserved
constexpr size_t kMaxEnvironmentBytes = 4096;

// Environment variables Lambda sets itself, which a function may not set.
bool reserved_variable(std::string_view k) {
  static const std::set<std::string_view> kReserved = {
      "_HANDLER",          "_X_AMZN_TRACE_ID",      "AWS_DEFAULT_REGION", "AWS_REGION",
      "AWS_EXECUTION_ENV", "AWS_ACCESS_KEY_ID",     "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "LAMBDA_TASK_ROOT",  "LAMBDA_RUNTIME_DIR",    "AWS_LAMBDA_RUNTIME_API"};
  return kReserved.contains(k) || k.starts_with("AWS_LAMBDA_");
}

Status check_environment(const json::object& in) {
  auto* env = in.if_contains("Environment");
  if (env == nullptr || !env->is_object()) return {};
  auto* vars = env->as_object().if_contains("Variables");
  if (vars == nullptr || !vars->is_object()) return {};
  std::vector<std::string> reserved;
  for (const auto& [k, v] : vars->as_object()) {
    bool valid_name = k.size() >= 2 && std::isalpha(static_cast<unsigned char>(k[0])) &&
                      std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (!valid_name)
      return make_error(ErrorKind::kValidation,
                        fmt::format("1 validation error detected: Value at 'environment.variables' failed to satisfy "
                                    "constraint: Map keys must satisfy constraint: [Member must satisfy regular "
                                    "expression pattern: [a-zA-Z]([a-zA-Z0-9_])+] ('{}')",
                                    std::string(k).substr(0, 64)));
    if (reserved_variable(k)) reserved.emplace_back(k);
  }
  if (!reserved.empty())
    return invalid(fmt::format("Lambda was unable to configure your environment variables because the environment "
                               "variables you have provided contains reserved keys that are currently not supported "
                               "for modification. Reserved keys used in this request: {}",
                               fmt::join(reserved, ", ")));
  std::string text = json::serialize(vars->as_object());
  if (text.size() > kMaxEnvironmentBytes)
    return invalid(fmt::format("Lambda was unable to configure your environment variables because the environment "
                               "variables you have provided exceeded the 4KB limit. String measured: {}",
                               text.substr(0, 64) + "..."));
  return {};
}

Status check_role(const api::RequestContext& ctx, const std::string& role) {
  auto arn = Arn::parse(role);
  if (!arn || arn->service != "iam" || !arn->resource.starts_with("role/") || arn->account.size() != 12)
    return make_error(ErrorKind::kValidation,
                      fmt::format("1 validation error detected: Value '{}' at 'role' failed to satisfy constraint: "
                                  "Member must satisfy regular expression pattern: "
                                  "arn:(aws[a-zA-Z-]*)?:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                                  role.substr(0, 256)));
  // Handing a role to Lambda is iam:PassRole on it, and Lambda must be able to assume it.
  if (auto no = ctx.denied("iam:PassRole", role, {{"iam:passedtoservice", "lambda.amazonaws.com"}}))
    return make_error(ErrorKind::kAccessDenied403, *no);
  if (ctx.authorizer != nullptr) {
    if (auto why = ctx.authorizer->service_cannot_assume(ctx, role, "lambda.amazonaws.com"))
      return invalid("The role defined for the function cannot be assumed by Lambda. " + *why);
  }
  return {};
}

Status check_runtime(const Deps& deps, const std::string& runtime) {
  auto provided = deps.invoker.runtimes();
  if (std::find(provided.begin(), provided.end(), runtime) != provided.end()) return {};
  std::string offer = provided.empty() ? "none (" + deps.invoker.unavailable_reason() + ")"
                                       : fmt::format("{}", fmt::join(provided, ", "));
  if (!runtime.starts_with("python"))
    return invalid(fmt::format("The runtime parameter of {} is not supported by Gantry, which runs Python functions "
                               "only. Runtimes this host provides: {}",
                               runtime, offer));
  return invalid(fmt::format("The runtime parameter of {} is not available on this Gantry host, which runs functions "
                             "on the machine's own Python. Runtimes this host provides: {}",
                             runtime, offer));
}

// What Gantry does not do, said plainly instead of accepted and ignored.
Status check_unsupported(const json::object& in) {
  auto non_empty = [&](std::string_view key) {
    auto* v = in.if_contains(key);
    if (v == nullptr || v->is_null()) return false;
    if (v->is_array()) return !v->as_array().empty();
    if (v->is_string()) return !v->as_string().empty();
    if (v->is_object()) {
      for (const auto& [k, m] : v->as_object())
        if (!(m.is_array() && m.as_array().empty()) && !(m.is_string() && m.as_string().empty()) && !m.is_null())
          return true;
      return false;
    }
    return true;
  };
  for (std::string_view key : {"Layers", "VpcConfig", "FileSystemConfigs", "DeadLetterConfig", "KMSKeyArn",
                               "CodeSigningConfigArn", "TenancyConfig", "DurableConfig", "CapacityProviderConfig",
                               "PublishTo"}) {
    if (non_empty(key))
      return invalid(fmt::format("Gantry does not support {} for functions yet (see docs/lambda.md)", key));
  }
  if (auto* snap = in.if_contains("SnapStart"); snap && snap->is_object())
    if (auto on = get_string(snap->as_object(), "ApplyOn"); on && *on != "None")
      return invalid("Gantry does not support SnapStart: ApplyOn must be None");
  if (auto* l = in.if_contains("LoggingConfig"); l && l->is_object()) {
    const auto& lc = l->as_object();
    if (auto format = get_string(lc, "LogFormat"); format && *format != "Text")
      return invalid("Gantry writes function logs as Text only: LoggingConfig LogFormat must be Text");
    if (lc.contains("ApplicationLogLevel") || lc.contains("SystemLogLevel"))
      return invalid("Log levels apply to JSON logs, which Gantry does not write: leave ApplicationLogLevel and "
                     "SystemLogLevel out");
  }
  if (auto* t = in.if_contains("TracingConfig"); t && t->is_object())
    if (auto mode = get_string(t->as_object(), "Mode"); mode && *mode != "PassThrough")
      return invalid("Gantry has no X-Ray: TracingConfig Mode must be PassThrough");
  if (auto* a = in.if_contains("Architectures"); a && a->is_array())
    for (const auto& arch : a->as_array())
      if (!arch.is_string() || arch.as_string() != "x86_64")
        return invalid("Gantry runs functions on this host's x86_64 only: Architectures must be [\"x86_64\"]");
  return {};
}

// Unpacks a ZipFile (base64 in the request) into a new code directory; the zip itself is kept beside it
// for GetFunction's Code.Location.
// An Image function's code is its image in Gantry's registry, pinned by digest.
struct StoredCode {
  std::string id;
  int64_t size = 0;
  std::string sha256;
  std::string image;  // Image: <registry>/<repository>@sha256:...
};

Result<StoredCode> store_image(const Deps& deps, const api::RequestContext& ctx, const json::object& code) {
  auto uri = get_string(code, "ImageUri");
  if (!uri || get_string(code, "ZipFile"))
    return invalid("Please provide ImageUri when updating a function with packageType Image.");
  auto found = deps.invoker.resolve_image(ctx.scope, *uri);
  if (!found)
    return invalid(fmt::format("Source image {} does not exist. Provide a valid source image. ({})", *uri,
                               found.error().message));
  // The caller must be allowed to pull it, as Lambda requires of whoever creates the function.
  for (const char* action : {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"})
    if (auto no = ctx.denied(action, found->repository_arn)) return make_error(ErrorKind::kAccessDenied403, *no);
  // Pinned as ResolvedImageUri shows it: the repository, without tag or digest, at the digest.
  std::string base = uri->substr(0, uri->find('@'));
  if (auto colon = base.rfind(':'); colon != std::string::npos && colon > base.rfind('/')) base.resize(colon);
  return StoredCode{"", 0, found->digest.substr(found->digest.find(':') + 1), base + "@" + found->digest};
}

Result<StoredCode> store_code(const Deps& deps, const api::RequestContext& ctx, const json::object& code,
                              bool image_package) {
  if (get_string(code, "S3Bucket") || get_string(code, "S3Key"))
    return invalid("Gantry has no S3: upload the deployment package in the request (Code.ZipFile, aws lambda "
                   "--zip-file fileb://package.zip)");
  if (image_package) return store_image(deps, ctx, code);
  if (get_string(code, "ImageUri"))
    return invalid("ImageUri is for functions of PackageType Image; this one takes a ZipFile");
  auto b64 = get_string(code, "ZipFile");
  if (!b64) return invalid("Code must contain ZipFile (Gantry has no S3 to fetch a package from)");
  auto zip = base64_decode(*b64);
  if (!zip) return invalid("Code.ZipFile is not valid base64");
  if (static_cast<int64_t>(zip->size()) > kMaxZipBytes)
    return make_error(ErrorKind::kLambdaRequestTooLarge,
                      fmt::format("Zipped size must be smaller than {} bytes", kMaxZipBytes));
  StoredCode out{ctx.random->hex(16), static_cast<int64_t>(zip->size()), image::code_sha256(*zip), ""};
  std::error_code ec;
  fs::create_directories(deps.code_root, ec);
  GANTRY_RETURN_IF_ERROR(image::unpack_zip(*zip, deps.code_root / out.id, image::ZipLimits{kMaxUnzippedBytes}));
  {
    std::FILE* f = std::fopen((deps.code_root / (out.id + ".zip")).c_str(), "wbx");
    bool ok = f != nullptr && std::fwrite(zip->data(), 1, zip->size(), f) == zip->size();
    if (f != nullptr) ok = std::fclose(f) == 0 && ok;
    if (!ok) {
      fs::remove_all(deps.code_root / out.id, ec);
      return make_error(ErrorKind::kLambdaService, "could not store the deployment package: " + std::string(std::strerror(errno)));
    }
  }
  return out;
}

void drop_code(const Deps& deps, const std::string& id) {
  if (id.empty()) return;  // an Image function's
  std::error_code ec;
  fs::remove_all(deps.code_root / id, ec);
  fs::remove(deps.code_root / (id + ".zip"), ec);
}

// Removes code directories no version uses any more.
void collect_code(const Deps& deps, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    auto used = deps.store.read([&](LambdaTables& t) -> Result<json::object> {
      return json::object{{"used", t.code_in_use(id)}};
    });
    // Code a sandbox or a queued retry still runs stays until the server's next start (sweep_code).
    if (used.ok() && !used->at("used").as_bool() && !deps.invoker.uses_code(deps.code_root / id)) drop_code(deps, id);
  }
}

json::object environment_of(const json::object& in) {
  json::object vars;
  if (auto* e = in.if_contains("Environment"); e && e->is_object())
    if (auto* v = e->as_object().if_contains("Variables"); v && v->is_object()) vars = v->as_object();
  return json::object{{"Variables", std::move(vars)}};
}

// Copies the configuration members a request may set into `c`.
void apply_configuration(json::object& c, const json::object& in) {
  for (std::string_view key : {"Runtime", "Role", "Handler", "Description"})
    if (auto v = get_string(in, key)) c[key] = *v;
  for (std::string_view key : {"Timeout", "MemorySize"})
    if (auto v = get_int(in, key)) c[key] = *v;
  if (in.contains("Environment")) {
    auto env = environment_of(in);
    if (env.at("Variables").as_object().empty()) c.erase("Environment");
    else c["Environment"] = std::move(env);
  }
  if (auto* e = in.if_contains("EphemeralStorage"); e && e->is_object())
    if (auto size = get_int(e->as_object(), "Size")) c["EphemeralStorage"] = json::object{{"Size", *size}};
  if (auto* l = in.if_contains("LoggingConfig"); l && l->is_object()) {
    auto& lc = c["LoggingConfig"].as_object();
    if (auto g = get_string(l->as_object(), "LogGroup")) lc["LogGroup"] = *g;
  }
  if (auto* i = in.if_contains("ImageConfig"); i && i->is_object())
    c["ImageConfigResponse"] = json::object{{"ImageConfig", i->as_object()}};
}

Status check_limits(const json::object& c) {
  if (auto m = get_int(c, "MemorySize"); m && (*m < 128 || *m > 10240))
    return make_error(ErrorKind::kValidation,
                      fmt::format("1 validation error detected: Value '{}' at 'memorySize' failed to satisfy "
                                  "constraint: Member must have value less than or equal to 10240",
                                  *m));
  if (auto t = get_int(c, "Timeout"); t && (*t < 1 || *t > 900))
    return make_error(ErrorKind::kValidation,
                      fmt::format("1 validation error detected: Value '{}' at 'timeout' failed to satisfy constraint: "
                                  "Member must have value less than or equal to 900",
                                  *t));
  if (auto* e = c.if_contains("EphemeralStorage"); e && e->is_object()) {
    auto size = get_int(e->as_object(), "Size").value_or(512);
    if (size < 512 || size > 10240)
      return invalid(fmt::format("EphemeralStorage Size must be between 512 and 10240 MB, got {}", size));
  }
  return {};
}

json::object get_function_document(const Deps& deps, const Function& f, const Version& v) {
  json::object code;
  if (!v.image.empty()) {
    code = json::object{{"RepositoryType", "ECR"}, {"ImageUri", v.image}, {"ResolvedImageUri", v.image}};
  } else {
    code = json::object{{"RepositoryType", "S3"},
                        {"Location", fmt::format("{}/_gantry/lambda/code/{}.zip", deps.endpoint(), v.code_id)}};
  }
  json::object out{{"Configuration", v.config}, {"Code", std::move(code)}};
  if (!f.tags.empty()) out["Tags"] = f.tags;
  if (f.reserved_concurrency) out["Concurrency"] = json::object{{"ReservedConcurrentExecutions", *f.reserved_concurrency}};
  return out;
}

// An Image function stays Pending (and an update of its image InProgress) until Gantry has unpacked the
// image's layers, as Lambda prepares an image before the function runs; then Active (Successful), or Failed
// saying why.
void prepare_image(const Deps& deps, const Scope& scope, const std::string& name, const std::string& image) {
  deps.invoker.prepare_image(scope, image, [&deps, scope, name, image](Status st) {
    auto done = deps.store.write([&](LambdaTables& t) -> Result<json::object> {
      for (auto& v : t.list_versions(scope, name)) {
        if (v.image != image) continue;
        auto& c = v.config;
        const bool pending = get_string(c, "State") == "Pending";
        const bool updating = get_string(c, "LastUpdateStatus") == "InProgress";
        if (!pending && !updating) continue;
        for (std::string_view k : {"StateReason", "StateReasonCode", "LastUpdateStatusReason",
                                   "LastUpdateStatusReasonCode"})
          c.erase(k);
        if (pending) c["State"] = st.ok() ? "Active" : "Failed";
        c["LastUpdateStatus"] = st.ok() ? "Successful" : "Failed";
        if (!st.ok()) {
          std::string why = "Gantry could not prepare the image: " + st.error().message;
          if (pending) {
            c["StateReason"] = why;
            c["StateReasonCode"] = "InvalidImage";
          }
          c["LastUpdateStatusReason"] = why;
          c["LastUpdateStatusReasonCode"] = "InvalidImage";
        }
        t.put_version(scope, name, v);
      }
      return json::object{};
    });
    if (!done) spdlog::warn("lambda: recording the preparation of {}: {}", name, done.error().message);
  });
}

Result<api::RestResponse> create_function(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  const bool image_package = get_string(in, "PackageType").value_or("Zip") == "Image";
  auto runtime = get_string(in, "Runtime");
  auto handler = get_string(in, "Handler");
  if (image_package) {
    if (runtime || handler)
      return invalid("Runtime and Handler are not supported for functions of PackageType Image: the image's "
                     "ENTRYPOINT and CMD (or ImageConfig) say what runs");
  } else {
    if (!runtime) return invalid("Runtime is required for .zip deployment packages.");
    if (!handler) return invalid("Handler is required for .zip deployment packages.");
    GANTRY_RETURN_IF_ERROR(check_runtime(deps, *runtime));
    if (in.contains("ImageConfig")) return invalid("ImageConfig is for functions of PackageType Image");
  }
  GANTRY_RETURN_IF_ERROR(check_unsupported(in));
  GANTRY_RETURN_IF_ERROR(check_environment(in));
  std::string role = get_string(in, "Role").value_or("");
  GANTRY_RETURN_IF_ERROR(check_role(ctx, role));
  json::object config{{"FunctionName", ref.name},
                      {"FunctionArn", function_arn(ctx.scope, ref.name)},
                      {"Role", role},
                      {"Description", ""},
                      {"Timeout", 3},
                      {"MemorySize", 128},
                      {"Version", kLatest},
                      {"TracingConfig", json::object{{"Mode", "PassThrough"}}},
                      {"State", "Active"},
                      {"LastUpdateStatus", "Successful"},
                      {"PackageType", image_package ? "Image" : "Zip"},
                      {"Architectures", json::array{"x86_64"}},
                      {"EphemeralStorage", json::object{{"Size", 512}}},
                      {"SnapStart", json::object{{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}}},
                      {"LoggingConfig", json::object{{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + ref.name}}}};
  if (runtime) config["Runtime"] = *runtime;
  if (handler) config["Handler"] = *handler;
  if (image_package) {
    config["State"] = "Pending";
    config["StateReason"] = "The function is being created.";
    config["StateReasonCode"] = "Creating";
    config["LastUpdateStatus"] = "InProgress";
  }
  apply_configuration(config, in);
  GANTRY_RETURN_IF_ERROR(check_limits(config));
  json::object code;
  if (auto* c = in.if_contains("Code"); c && c->is_object()) code = c->as_object();
  // The package is unpacked (or the image found) before the function exists, so a bad one changes nothing.
  GANTRY_ASSIGN_OR_RETURN(auto stored, store_code(deps, ctx, code, image_package));
  config["CodeSize"] = stored.size;
  config["CodeSha256"] = stored.sha256;
  config["LastModified"] = last_modified(ctx.now);
  config["RevisionId"] = ctx.random->uuid4();
  bool publish = get_bool(in, "Publish").value_or(false);
  json::object tags;
  if (auto* t = in.if_contains("Tags"); t && t->is_object()) tags = t->as_object();
  auto r = deps.store.write([&](LambdaTables& t) -> Result<json::object> {
    if (t.find_function(ctx.scope, ref.name))
      return make_error(ErrorKind::kLambdaResourceConflict,
                        fmt::format("Function already exist: {}", ref.name));
    Function f{ctx.scope.account, ctx.scope.region, ref.name, tags, {}, std::nullopt, 0, store::to_ms(ctx.now)};
    t.put_version(ctx.scope, ref.name, Version{std::string(kLatest), config, stored.id, stored.image});
    json::object out = config;
    if (publish) {
      f.last_version = 1;
      json::object v1 = config;
      v1["Version"] = "1";
      v1["FunctionArn"] = qualified_arn(ctx.scope, ref.name, "1");
      v1["RevisionId"] = ctx.random->uuid4();
      t.put_version(ctx.scope, ref.name, Version{"1", v1, stored.id, stored.image});
      out = v1;
    }
    t.put_function(f);
    return out;
  });
  if (!r) drop_code(deps, stored.id);
  if (r && image_package) prepare_image(deps, ctx.scope, ref.name, stored.image);
  return reply(std::move(r));
}

Result<api::RestResponse> get_function(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""),
                                                       get_string(in, "Qualifier"), true));
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    GANTRY_ASSIGN_OR_RETURN(auto r, resolve(t, ctx.scope, ref));
    return get_function_document(deps, r.function, r.version);
  }));
}

Result<api::RestResponse> get_configuration(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""),
                                                       get_string(in, "Qualifier"), true));
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    GANTRY_ASSIGN_OR_RETURN(auto r, resolve(t, ctx.scope, ref));
    return r.version.config;
  }));
}

Result<api::RestResponse> list_functions(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  int limit = static_cast<int>(std::min<int64_t>(get_int(in, "MaxItems").value_or(50), 50));
  const bool all_versions = get_string(in, "FunctionVersion") == "ALL";
  std::string after;
  if (auto marker = get_string(in, "Marker")) {
    auto decoded = base64_decode(*marker);
    if (!decoded || decoded->empty()) return invalid("Invalid Marker: pass the NextMarker of a previous answer");
    after = *decoded;
  }
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    auto fns = t.list_functions(ctx.scope, after, limit + 1);
    json::array list;
    for (size_t i = 0; i < fns.size() && i < static_cast<size_t>(limit); ++i) {
      if (all_versions) {
        for (const auto& v : t.list_versions(ctx.scope, fns[i].name)) list.push_back(v.config);
      } else if (auto v = t.find_version(ctx.scope, fns[i].name, kLatest)) {
        list.push_back(v->config);
      }
    }
    json::object out{{"Functions", std::move(list)}};
    if (fns.size() > static_cast<size_t>(limit)) out["NextMarker"] = base64_encode(fns[limit - 1].name);
    return out;
  }));
}

Result<api::RestResponse> update_code(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  if (get_bool(in, "DryRun").value_or(false))
    return invalid("Gantry does not support DryRun for UpdateFunctionCode");
  if (auto* a = in.if_contains("Architectures"); a && a->is_array()) {
    json::object probe{{"Architectures", *a}};
    GANTRY_RETURN_IF_ERROR(check_unsupported(probe));
  }
  auto current = deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    auto v = t.find_version(ctx.scope, ref.name, kLatest);
    if (!v) return not_found_function(ctx.scope, ref.name);
    return v->config;
  });
  if (!current) return current.error();
  const bool image_package = get_string(*current, "PackageType") == "Image";
  GANTRY_ASSIGN_OR_RETURN(auto stored, store_code(deps, ctx, in, image_package));
  std::string old_code;
  auto r = deps.store.write([&](LambdaTables& t) -> Result<json::object> {
    if (!t.find_function(ctx.scope, ref.name)) return not_found_function(ctx.scope, ref.name);
    auto v = t.find_version(ctx.scope, ref.name, kLatest);
    if (!v) return not_found_function(ctx.scope, ref.name);
    if (auto rev = get_string(in, "RevisionId"); rev && *rev != get_string(v->config, "RevisionId"))
      return revision_mismatch();
    old_code = v->code_id;
    v->code_id = stored.id;
    v->image = stored.image;
    v->config["CodeSize"] = stored.size;
    v->config["CodeSha256"] = stored.sha256;
    v->config["LastModified"] = last_modified(ctx.now);
    v->config["RevisionId"] = ctx.random->uuid4();
    if (image_package) {
      v->config["LastUpdateStatus"] = "InProgress";
      v->config["LastUpdateStatusReason"] = "The function is being created.";
      v->config["LastUpdateStatusReasonCode"] = "Creating";
    }
    t.put_version(ctx.scope, ref.name, *v);
    json::object out = v->config;
    if (get_bool(in, "Publish").value_or(false)) {
      auto f = *t.find_function(ctx.scope, ref.name);
      f.last_version += 1;
      std::string n = std::to_string(f.last_version);
      json::object pub = v->config;
      pub["Version"] = n;
      pub["FunctionArn"] = qualified_arn(ctx.scope, ref.name, n);
      pub["RevisionId"] = ctx.random->uuid4();
      t.put_version(ctx.scope, ref.name, Version{n, pub, stored.id, stored.image});
      t.put_function(f);
      out = pub;
    }
    return out;
  });
  if (!r) {
    drop_code(deps, stored.id);
    return r.error();
  }
  deps.invoker.retire(ctx.scope, ref.name);
  collect_code(deps, {old_code});
  if (image_package) prepare_image(deps, ctx.scope, ref.name, stored.image);
  return reply(std::move(r));
}

Result<api::RestResponse> update_configuration(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  if (auto runtime = get_string(in, "Runtime")) GANTRY_RETURN_IF_ERROR(check_runtime(deps, *runtime));
  GANTRY_RETURN_IF_ERROR(check_unsupported(in));
  GANTRY_RETURN_IF_ERROR(check_environment(in));
  if (auto role = get_string(in, "Role")) GANTRY_RETURN_IF_ERROR(check_role(ctx, *role));
  auto r = deps.store.write([&](LambdaTables& t) -> Result<json::object> {
    auto v = t.find_version(ctx.scope, ref.name, kLatest);
    if (!v) return not_found_function(ctx.scope, ref.name);
    if (auto rev = get_string(in, "RevisionId"); rev && *rev != get_string(v->config, "RevisionId"))
      return revision_mismatch();
    const bool image_package = get_string(v->config, "PackageType") == "Image";
    if (!image_package && in.contains("ImageConfig")) return invalid("ImageConfig is for functions of PackageType Image");
    if (image_package && (in.contains("Runtime") || in.contains("Handler")))
      return invalid("Runtime and Handler are not supported for functions of PackageType Image");
    apply_configuration(v->config, in);
    GANTRY_RETURN_IF_ERROR(check_limits(v->config));
    v->config["LastModified"] = last_modified(ctx.now);
    v->config["RevisionId"] = ctx.random->uuid4();
    t.put_version(ctx.scope, ref.name, *v);
    return v->config;
  });
  if (r) deps.invoker.retire(ctx.scope, ref.name);
  return reply(std::move(r));
}

Result<api::RestResponse> delete_function(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""),
                                                       get_string(in, "Qualifier"), true));
  std::vector<std::string> codes;
  auto r = deps.store.write([&](LambdaTables& t) -> Result<json::object> {
    if (!t.find_function(ctx.scope, ref.name)) return not_found_function(ctx.scope, ref.name);
    if (!ref.qualifier) {
      for (const auto& v : t.list_versions(ctx.scope, ref.name)) codes.push_back(v.code_id);
      t.delete_function(ctx.scope, ref.name);
      return json::object{};
    }
    if (*ref.qualifier == kLatest)
      return invalid("$LATEST version cannot be deleted without deleting the function.");
    auto v = t.find_version(ctx.scope, ref.name, *ref.qualifier);
    if (!v) return not_found_function(ctx.scope, ref.name, *ref.qualifier);
    for (const auto& a : t.list_aliases(ctx.scope, ref.name))
      if (get_string(a.config, "FunctionVersion") == *ref.qualifier)
        return make_error(ErrorKind::kLambdaResourceConflict,
                          fmt::format("Unable to delete version because the following aliases reference it: [{}]",
                                      a.name));
    codes.push_back(v->code_id);
    t.delete_version(ctx.scope, ref.name, *ref.qualifier);
    return json::object{};
  });
  if (!r) return r.error();
  deps.invoker.retire(ctx.scope, ref.name);
  collect_code(deps, codes);
  return reply(json::object{}, 204);
}

Result<api::RestResponse> account_settings(const Deps& deps, api::RequestContext& ctx, json::object&) {
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    int64_t reserved = 0, code_size = 0, count = 0;
    std::string after;
    for (;;) {
      auto page = t.list_functions(ctx.scope, after, 500);
      for (const auto& f : page) {
        ++count;
        reserved += f.reserved_concurrency.value_or(0);
        for (const auto& v : t.list_versions(ctx.scope, f.name)) code_size += get_int(v.config, "CodeSize").value_or(0);
      }
      if (page.size() < 500) break;
      after = page.back().name;
    }
    return json::object{
        {"AccountLimit", json::object{{"TotalCodeSize", int64_t{80530636800}},
                                      {"CodeSizeUnzipped", static_cast<int64_t>(kMaxUnzippedBytes)},
                                      {"CodeSizeZipped", kMaxZipBytes},
                                      {"ConcurrentExecutions", kAccountConcurrency},
                                      {"UnreservedConcurrentExecutions", kAccountConcurrency - reserved}}},
        {"AccountUsage", json::object{{"TotalCodeSize", code_size}, {"FunctionCount", count}}}};
  }));
}

Result<api::RestResponse> put_concurrency(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  int64_t n = get_int(in, "ReservedConcurrentExecutions").value_or(0);
  return reply(edit_function(deps.store, ctx.scope, ref.name, [&](LambdaTables& t, Function& f) -> Result<json::object> {
    int64_t others = 0;
    std::string after;
    for (;;) {
      auto page = t.list_functions(ctx.scope, after, 500);
      for (const auto& g : page)
        if (g.name != ref.name) others += g.reserved_concurrency.value_or(0);
      if (page.size() < 500) break;
      after = page.back().name;
    }
    if (kAccountConcurrency - others - n < kUnreservedMinimum)
      return invalid(fmt::format("Specified ReservedConcurrentExecutions for function decreases account's "
                                 "UnreservedConcurrentExecution below its minimum value of [{}].",
                                 kUnreservedMinimum));
    f.reserved_concurrency = n;
    return json::object{{"ReservedConcurrentExecutions", n}};
  }));
}

Result<api::RestResponse> get_concurrency(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    auto f = t.find_function(ctx.scope, ref.name);
    if (!f) return not_found_function(ctx.scope, ref.name);
    json::object out;
    if (f->reserved_concurrency) out["ReservedConcurrentExecutions"] = *f->reserved_concurrency;
    return out;
  }));
}

Result<api::RestResponse> delete_concurrency(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, get_string(in, "FunctionName").value_or(""), std::nullopt,
                                                       false));
  return reply(edit_function(deps.store, ctx.scope, ref.name, [](LambdaTables&, Function& f) -> Result<json::object> {
    f.reserved_concurrency.reset();
    return json::object{};
  }), 204);
}

// Tags live on the function, whose ARN the tag operations name (unqualified).
Result<std::string> tagged_function(const api::RequestContext& ctx, const json::object& in) {
  auto arn = get_string(in, "Resource").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_function_ref(ctx, arn, std::nullopt, false));
  return ref.name;
}

Result<api::RestResponse> tag_resource(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, tagged_function(ctx, in));
  return reply(edit_function(deps.store, ctx.scope, name, [&](LambdaTables&, Function& f) -> Result<json::object> {
    if (auto* tags = in.if_contains("Tags"); tags && tags->is_object())
      for (const auto& [k, v] : tags->as_object()) f.tags[k] = v;
    if (f.tags.size() > 50) return invalid("A function can have at most 50 tags");
    return json::object{};
  }), 204);
}

Result<api::RestResponse> untag_resource(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, tagged_function(ctx, in));
  return reply(edit_function(deps.store, ctx.scope, name, [&](LambdaTables&, Function& f) -> Result<json::object> {
    if (auto* keys = in.if_contains("TagKeys"); keys && keys->is_array())
      for (const auto& k : keys->as_array())
        if (k.is_string()) f.tags.erase(k.as_string());
    return json::object{};
  }), 204);
}

Result<api::RestResponse> list_tags(const Deps& deps, api::RequestContext& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, tagged_function(ctx, in));
  return reply(deps.store.read([&](LambdaTables& t) -> Result<json::object> {
    auto f = t.find_function(ctx.scope, name);
    if (!f) return not_found_function(ctx.scope, name);
    return json::object{{"Tags", f->tags}};
  }));
}

}  // namespace

void add_function_operations(api::RestService& s, const DepsPtr& deps) {
  auto bind = [&](const char* op, auto fn) {
    s.operations[op] = [deps, fn](api::RequestContext& ctx, json::object& in) { return fn(*deps, ctx, in); };
  };
  bind("CreateFunction", create_function);
  bind("GetFunction", get_function);
  bind("GetFunctionConfiguration", get_configuration);
  bind("ListFunctions", list_functions);
  bind("UpdateFunctionCode", update_code);
  bind("UpdateFunctionConfiguration", update_configuration);
  bind("DeleteFunction", delete_function);
  bind("GetAccountSettings", account_settings);
  bind("PutFunctionConcurrency", put_concurrency);
  bind("GetFunctionConcurrency", get_concurrency);
  bind("DeleteFunctionConcurrency", delete_concurrency);
  bind("TagResource", tag_resource);
  bind("UntagResource", untag_resource);
  bind("ListTags", list_tags);
}

}  // namespace gantry::lambda::detail
