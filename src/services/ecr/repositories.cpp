// CreateRepository, DescribeRepositories, DeleteRepository, PutImageTagMutability; request helpers
// shared by the ECR handlers.
#include <fmt/format.h>

#include "core/pagination.h"
#include "iam/policy.h"
#include "services/ecr/handlers.h"

namespace gantry::ecr {

namespace {

Error invalid(std::string message) { return make_error(ErrorKind::kEcrInvalidParameter, std::move(message)); }

Result<TagMutability> parse_mutability(const json::object& in) {
  auto m = get_string(in, "imageTagMutability").value_or("MUTABLE");
  if (m == "MUTABLE") return TagMutability::kMutable;
  if (m == "IMMUTABLE") return TagMutability::kImmutable;
  return invalid(fmt::format("Gantry does not support imageTagMutability {} (tag mutability exclusion filters); use "
                             "MUTABLE or IMMUTABLE",
                             m));
}

Status reject_exclusion_filters(const json::object& in) {
  if (auto* f = get_array(in, "imageTagMutabilityExclusionFilters"); f && !f->empty())
    return invalid("Gantry does not support imageTagMutabilityExclusionFilters");
  return {};
}

}  // namespace

std::optional<std::string> get_string(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

const json::array* get_array(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

Status check_registry_id(const Ctx& ctx, const json::object& in) {
  auto id = get_string(in, "registryId");
  if (id && *id != ctx.scope.account)
    return invalid(fmt::format("Invalid parameter at 'registryId': Gantry serves one registry per account; '{}' is "
                               "not the caller's account {}",
                               id->substr(0, 64), ctx.scope.account));
  return {};
}

Result<std::string> repository_name(const json::object& in) {
  auto name = get_string(in, "repositoryName").value_or("");
  if (!valid_repository_name(name))
    return invalid(fmt::format("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy "
                               "regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"
                               " (got '{}')",
                               name.substr(0, 256)));
  return name;
}

std::string registry_host(const Scope& scope, uint16_t port) {
  return fmt::format("{}.dkr.ecr.{}.localhost:{}", scope.account, scope.region, port);
}

json::object encode_repository(const Repository& r, uint16_t port) {
  json::object enc{{"encryptionType", r.encryption_type}};
  if (!r.kms_key.empty()) enc["kmsKey"] = r.kms_key;
  return json::object{
      {"repositoryArn", r.arn()},
      {"registryId", r.account},
      {"repositoryName", r.name},
      {"repositoryUri", registry_host(r.scope(), port) + "/" + r.name},
      {"createdAt", epoch_seconds(r.created_at)},
      {"imageTagMutability", to_string(r.mutability)},
      {"imageScanningConfiguration", json::object{{"scanOnPush", r.scan_on_push}}},
      {"encryptionConfiguration", std::move(enc)},
  };
}

Result<int> page_size(const json::object& in, int fallback) {
  auto* v = in.if_contains("maxResults");
  if (v == nullptr) return fallback;
  auto n = v->is_int64() ? v->as_int64() : -1;
  if (n < 1 || n > 1000) return invalid("Invalid parameter at 'maxResults': must be between 1 and 1000");
  return static_cast<int>(n);
}

Result<std::string> page_start(const json::object& in, std::string_view listing) {
  auto token = get_string(in, "nextToken");
  if (!token) return std::string();
  auto key = decode_page_token(listing, *token);
  if (!key) return invalid("Invalid parameter at 'nextToken': not a token this listing handed out");
  return *key;
}

Out create_repository(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  GANTRY_ASSIGN_OR_RETURN(auto mutability, parse_mutability(in));
  GANTRY_RETURN_IF_ERROR(reject_exclusion_filters(in));
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(get_array(in, "tags")));
  Repository repo;
  repo.account = ctx.scope.account;
  repo.region = ctx.scope.region;
  repo.name = name;
  repo.mutability = mutability;
  repo.created_at = ctx.now;
  if (auto* scan = in.if_contains("imageScanningConfiguration"); scan && scan->is_object())
    if (auto* s = scan->as_object().if_contains("scanOnPush"); s && s->is_bool()) repo.scan_on_push = s->as_bool();
  if (auto* enc = in.if_contains("encryptionConfiguration"); enc && enc->is_object()) {
    repo.encryption_type = get_string(enc->as_object(), "encryptionType").value_or("AES256");
    repo.kms_key = get_string(enc->as_object(), "kmsKey").value_or("");
    if (repo.encryption_type == "AES256" && !repo.kms_key.empty())
      return invalid("Invalid parameter at 'encryptionConfiguration': kmsKey can be given only with encryptionType KMS");
    if (repo.encryption_type != "AES256" && repo.kms_key.empty())
      repo.kms_key = ctx.scope.arn("kms", "alias/aws/ecr");
  }
  GANTRY_RETURN_IF_ERROR(env.store.write([&](EcrTables& t) -> Status {
    if (t.find_repository(ctx.scope, name))
      return make_error(ErrorKind::kEcrRepositoryAlreadyExists,
                        fmt::format("The repository with name '{}' already exists in the registry with id '{}'", name,
                                    ctx.scope.account));
    t.put_repository(repo);
    t.set_resource_tags(repo.arn(), tags);
    return {};
  }));
  return json::object{{"repository", encode_repository(repo, env.port())}};
}

Out describe_repositories(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  json::object out;
  if (auto* names = get_array(in, "repositoryNames")) {
    if (in.contains("maxResults") || in.contains("nextToken"))
      return invalid("maxResults and nextToken cannot be used together with repositoryNames");
    json::array repos;
    GANTRY_RETURN_IF_ERROR(env.store.read([&](EcrTables& t) -> Status {
      for (const auto& n : *names) {
        GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, std::string_view(n.as_string())));
        repos.push_back(encode_repository(repo, env.port()));
      }
      return {};
    }));
    return json::object{{"repositories", std::move(repos)}};
  }
  GANTRY_ASSIGN_OR_RETURN(int limit, page_size(in, 100));
  GANTRY_ASSIGN_OR_RETURN(auto after, page_start(in, "ecr.DescribeRepositories"));
  GANTRY_RETURN_IF_ERROR(env.store.read([&](EcrTables& t) -> Status {
    auto rows = t.list_repositories(ctx.scope, after, limit + 1);
    json::array repos;
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(limit); ++i)
      repos.push_back(encode_repository(rows[i], env.port()));
    if (rows.size() > static_cast<size_t>(limit))
      out["nextToken"] = encode_page_token("ecr.DescribeRepositories", rows[static_cast<size_t>(limit) - 1].name);
    out["repositories"] = std::move(repos);
    return {};
  }));
  return out;
}

Out delete_repository(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  bool force = false;
  if (auto* f = in.if_contains("force"); f && f->is_bool()) force = f->as_bool();
  json::object out;
  GANTRY_RETURN_IF_ERROR(env.store.write([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    if (!force && t.count_images(ctx.scope, name) > 0)
      return make_error(ErrorKind::kEcrRepositoryNotEmpty,
                        fmt::format("The repository with name '{}' in registry with id '{}' cannot be deleted because "
                                    "it still contains images",
                                    name, ctx.scope.account));
    t.delete_repository(ctx.scope, name);
    out["repository"] = encode_repository(repo, env.port());
    return {};
  }));
  return out;
}

Out put_image_tag_mutability(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  GANTRY_ASSIGN_OR_RETURN(auto mutability, parse_mutability(in));
  GANTRY_RETURN_IF_ERROR(reject_exclusion_filters(in));
  GANTRY_RETURN_IF_ERROR(env.store.write([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    repo.mutability = mutability;
    t.put_repository(repo);
    return {};
  }));
  return json::object{{"registryId", ctx.scope.account},
                      {"repositoryName", name},
                      {"imageTagMutability", to_string(mutability)}};
}

Error no_repository_policy(const Ctx& ctx, std::string_view name) {
  return make_error(ErrorKind::kEcrRepositoryPolicyNotFound,
                    fmt::format("Repository policy does not exist for the repository with name '{}' in the registry "
                                "with id '{}'",
                                name, ctx.scope.account));
}

Out set_repository_policy(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  std::string text = get_string(in, "policyText").value_or("");
  auto parsed = iam::parse_policy(text, iam::PolicyKind::kResource);
  if (!parsed.ok())
    return make_error(ErrorKind::kEcrInvalidParameter,
                      "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy "
                      "provided': " +
                          parsed.error().message);
  GANTRY_RETURN_IF_ERROR(env.store.write([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    repo.policy = text;
    t.put_repository(repo);
    return {};
  }));
  return json::object{{"registryId", ctx.scope.account}, {"repositoryName", name}, {"policyText", text}};
}

// GetRepositoryPolicy, or DeleteRepositoryPolicy when `remove`.
Out repository_policy(Env& env, Ctx& ctx, json::object& in, bool remove) {
  GANTRY_RETURN_IF_ERROR(check_registry_id(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto name, repository_name(in));
  std::string text;
  auto body = [&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
    if (repo.policy.empty()) return no_repository_policy(ctx, name);
    text = repo.policy;
    if (remove) {
      repo.policy.clear();
      t.put_repository(repo);
    }
    return {};
  };
  GANTRY_RETURN_IF_ERROR(remove ? env.store.write(body) : env.store.read(body));
  return json::object{{"registryId", ctx.scope.account}, {"repositoryName", name}, {"policyText", text}};
}

std::string repository_policy_text(EcrStore& store, const Scope& scope, std::string_view name) {
  std::string text;
  (void)store.read([&](EcrTables& t) -> Status {
    if (auto repo = t.find_repository(scope, name)) text = repo->policy;
    return {};
  });
  return text;
}

Out get_repository_policy(Env& env, Ctx& ctx, json::object& in) { return repository_policy(env, ctx, in, false); }
Out delete_repository_policy(Env& env, Ctx& ctx, json::object& in) { return repository_policy(env, ctx, in, true); }

}  // namespace gantry::ecr
