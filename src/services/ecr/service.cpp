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
  return s;
}

}  // namespace gantry::ecr
