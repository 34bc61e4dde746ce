// TagResource, UntagResource, ListTagsForResource.
#include <fmt/format.h>

#include <set>

#include "services/ecr/handlers.h"

namespace gantry::ecr {

namespace {

constexpr size_t kMaxTags = 50;

Error invalid_tag(std::string message) { return make_error(ErrorKind::kEcrInvalidTagParameter, std::move(message)); }

// The repository an ECR ARN names, checked to exist in the caller's scope; returns its ARN.
Result<std::string> check_resource(EcrTables& t, const Ctx& ctx, const std::string& arn_text) {
  auto arn = Arn::parse(arn_text);
  if (!arn || arn->service != "ecr" || !arn->resource.starts_with("repository/"))
    return make_error(ErrorKind::kEcrInvalidParameter,
                      fmt::format("Invalid parameter at 'resourceArn': '{}' is not an ECR repository ARN",
                                  arn_text.substr(0, 256)));
  std::string name = arn->resource.substr(11);
  if (arn->account != ctx.scope.account || arn->region != ctx.scope.region)
    return make_error(ErrorKind::kEcrRepositoryNotFound,
                      fmt::format("The repository with name '{}' does not exist in the registry with id '{}'",
                                  name.substr(0, 256), arn->account.substr(0, 64)));
  GANTRY_ASSIGN_OR_RETURN(auto repo, require_repository(t, ctx.scope, name));
  return repo.arn();
}

}  // namespace

Result<std::vector<Tag>> parse_tags(const json::array* tags) {
  std::vector<Tag> out;
  if (tags == nullptr) return out;
  std::set<std::string> keys;
  for (const auto& v : *tags) {
    const auto& o = v.as_object();
    Tag tag{get_string(o, "Key").value_or(""), get_string(o, "Value").value_or("")};
    if (tag.key.empty() || tag.key.size() > 128)
      return invalid_tag(fmt::format("Tag keys must be 1 to 128 characters long (got '{}')", tag.key.substr(0, 128)));
    if (tag.value.size() > 256) return invalid_tag(fmt::format("The value of tag '{}' is longer than 256 characters", tag.key));
    if (tag.key.starts_with("aws:"))
      return invalid_tag(fmt::format("Tag key '{}' is reserved: keys starting with 'aws:' are for AWS use", tag.key));
    if (!keys.insert(tag.key).second) return invalid_tag(fmt::format("Tag key '{}' is given more than once", tag.key));
    out.push_back(std::move(tag));
  }
  if (out.size() > kMaxTags)
    return make_error(ErrorKind::kEcrTooManyTags, fmt::format("A resource can have at most {} tags", kMaxTags));
  return out;
}

Out tag_resource(Env& env, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(get_array(in, "tags")));
  std::string arn_text = get_string(in, "resourceArn").value_or("");
  GANTRY_RETURN_IF_ERROR(env.store.write([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto arn, check_resource(t, ctx, arn_text));
    std::set<std::string> keys;
    for (const auto& tag : t.resource_tags(arn)) keys.insert(tag.key);
    for (const auto& tag : tags) keys.insert(tag.key);
    if (keys.size() > kMaxTags)
      return make_error(ErrorKind::kEcrTooManyTags, fmt::format("A resource can have at most {} tags", kMaxTags));
    t.set_resource_tags(arn, tags);
    return {};
  }));
  return json::object{};
}

Out untag_resource(Env& env, Ctx& ctx, json::object& in) {
  std::vector<std::string> keys;
  if (auto* k = get_array(in, "tagKeys"))
    for (const auto& v : *k) keys.emplace_back(v.as_string());
  std::string arn_text = get_string(in, "resourceArn").value_or("");
  GANTRY_RETURN_IF_ERROR(env.store.write([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto arn, check_resource(t, ctx, arn_text));
    t.remove_resource_tags(arn, keys);
    return {};
  }));
  return json::object{};
}

Out list_tags_for_resource(Env& env, Ctx& ctx, json::object& in) {
  std::string arn_text = get_string(in, "resourceArn").value_or("");
  json::array tags;
  GANTRY_RETURN_IF_ERROR(env.store.read([&](EcrTables& t) -> Status {
    GANTRY_ASSIGN_OR_RETURN(auto arn, check_resource(t, ctx, arn_text));
    for (const auto& tag : t.resource_tags(arn)) tags.push_back(json::object{{"Key", tag.key}, {"Value", tag.value}});
    return {};
  }));
  return json::object{{"tags", std::move(tags)}};
}

}  // namespace gantry::ecr
