#include "services/ecr/service.h"

#include <memory>

#include "services/ecr/handlers.h"

namespace gantry::ecr {

api::JsonService make_service(EcrStore& store, std::function<uint16_t()> port) {
  api::JsonService s;
  s.name = "ecr";
  s.validation_error_type = "InvalidParameterException";
  auto env = std::make_shared<Env>(Env{store, std::move(port)});
  auto add = [&](std::string name, Out (*fn)(Env&, Ctx&, json::object&)) {
    s.operations.emplace(std::move(name), [env, fn](Ctx& ctx, json::object& in) { return fn(*env, ctx, in); });
  };
  add("CreateRepository", create_repository);
  add("DescribeRepositories", describe_repositories);
  add("DeleteRepository", delete_repository);
  add("PutImageTagMutability", put_image_tag_mutability);
  add("ListImages", list_images);
  add("DescribeImages", describe_images);
  add("BatchGetImage", batch_get_image);
  add("PutImage", put_image);
  add("BatchDeleteImage", batch_delete_image);
  add("GetAuthorizationToken", get_authorization_token);
  add("TagResource", tag_resource);
  add("UntagResource", untag_resource);
  add("ListTagsForResource", list_tags_for_resource);
  add("SetRepositoryPolicy", set_repository_policy);
  add("GetRepositoryPolicy", get_repository_policy);
  add("DeleteRepositoryPolicy", delete_repository_policy);
  // As AWS's Service Authorization Reference: repository operations on the repository's ARN,
  // GetAuthorizationToken and listings without names on "*", tagging on the resource ARN; a repository's
  // policy is weighed with the caller's identity policies.
  s.auth_target = [env](std::string_view op, const json::object& in, const Ctx& ctx) {
    api::AuthTarget t;
    auto name = [&](std::string_view key) -> std::string {
      auto* v = in.if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (op == "TagResource" || op == "UntagResource" || op == "ListTagsForResource") {
      t.resources = {name("resourceArn")};
    } else if (op == "DescribeRepositories") {
      t.resources.clear();
      if (auto* names = in.if_contains("repositoryNames"); names && names->is_array())
        for (const auto& n : names->as_array())
          if (n.is_string()) t.resources.push_back(ctx.scope.arn("ecr", "repository/" + std::string(n.as_string())));
      if (t.resources.empty()) t.resources.push_back("*");
    } else if (auto repo = name("repositoryName"); !repo.empty()) {
      t.resources = {ctx.scope.arn("ecr", "repository/" + repo)};
      if (auto policy = repository_policy_text(env->store, ctx.scope, repo); !policy.empty())
        t.resource_policies.push_back(std::move(policy));
    }
    // aws:ResourceTag/<key>: the tags of the one repository the call names.
    if (t.resources.size() == 1 && t.resources[0] != "*") {
      (void)env->store.read([&](EcrTables& tables) -> Status {
        for (const auto& tag : tables.resource_tags(t.resources[0]))
          t.keys.emplace_back(api::resource_tag_key(tag.key), tag.value);
        return {};
      });
    }
    return t;
  };
  return s;
}

}  // namespace gantry::ecr
