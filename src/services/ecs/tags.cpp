// TagResource, UntagResource, ListTagsForResource; request helpers shared by the ECS handlers.
#include <fmt/format.h>

#include <charconv>
#include <set>

#include "services/ecs/handlers.h"

namespace gantry::ecs {

namespace {

constexpr size_t kMaxTags = 50;

// The resource an ECS ARN names, checked to exist in the caller's scope.
Status check_resource(EcsTables& t, const Ctx& ctx, const std::string& arn_text) {
  auto arn = Arn::parse(arn_text);
  if (!arn || arn->service != "ecs")
    return make_error(ErrorKind::kEcsInvalidParameter, fmt::format("Invalid resource ARN: {}", arn_text.substr(0, 256)));
  if (arn->account != ctx.scope.account || arn->region != ctx.scope.region)
    return make_error(ErrorKind::kEcsResourceNotFound, "The specified resource could not be found.");
  std::string_view res = arn->resource;
  if (res.starts_with("cluster/")) {
    auto c = t.find_cluster(ctx.scope, res.substr(8));
    if (!c || c->status != "ACTIVE") return make_error(ErrorKind::kEcsClusterNotFound, "Cluster not found.");
    return {};
  }
  if (res.starts_with("task-definition/")) {
    auto fr = res.substr(16);
    auto colon = fr.rfind(':');
    int64_t revision = 0;
    if (colon != std::string_view::npos) {
      auto rev = fr.substr(colon + 1);
      auto [p, ec] = std::from_chars(rev.data(), rev.data() + rev.size(), revision);
      if (ec != std::errc() || p != rev.data() + rev.size()) revision = 0;
    }
    if (colon == std::string_view::npos || revision <= 0 || !t.find_task_definition(ctx.scope, fr.substr(0, colon), revision))
      return make_error(ErrorKind::kEcsResourceNotFound, "The specified resource could not be found.");
    return {};
  }
  if (res.starts_with("task/")) {
    auto task = t.find_task(arn_text);
    if (!task) return make_error(ErrorKind::kEcsResourceNotFound, "The specified resource could not be found.");
    return {};
  }
  return make_error(ErrorKind::kEcsInvalidParameter,
                    fmt::format("Gantry supports tags on clusters, task definitions and tasks only; '{}' is none of them.",
                                arn_text.substr(0, 256)));
}

}  // namespace

std::optional<std::string> get_string(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::string_view string_member(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

std::optional<int64_t> get_int(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (v == nullptr || !(v->is_int64() || v->is_uint64())) return std::nullopt;
  return v->to_number<int64_t>();
}

const json::array* get_array(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

Result<int> page_size(const json::object& in) {
  auto n = get_int(in, "maxResults");
  if (!n) return 100;
  if (*n < 1 || *n > 100)
    return make_error(ErrorKind::kEcsInvalidParameter, "maxResults must be between 1 and 100.");
  return static_cast<int>(*n);
}

Result<std::optional<std::string>> page_start(const json::object& in, std::string_view listing) {
  auto token = get_string(in, "nextToken");
  if (!token) return std::optional<std::string>();
  auto after = decode_page_token(listing, *token);
  if (!after)
    return make_error(ErrorKind::kEcsInvalidParameter,
                      fmt::format("Invalid nextToken: it was not returned by {}.", listing.substr(listing.find('.') + 1)));
  return after;
}

bool valid_ecs_name(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

Result<std::vector<Tag>> parse_tags(const json::array* tags) {
  std::vector<Tag> out;
  if (tags == nullptr) return out;
  if (tags->size() > kMaxTags)
    return make_error(ErrorKind::kEcsInvalidParameter, fmt::format("A resource can have at most {} tags.", kMaxTags));
  std::set<std::string> seen;
  for (const auto& t : *tags) {
    const auto& o = t.as_object();
    std::string key = get_string(o, "key").value_or("");
    std::string value = get_string(o, "value").value_or("");
    if (key.empty() || key.size() > 128)
      return make_error(ErrorKind::kEcsInvalidParameter, "Tag keys must be between 1 and 128 characters.");
    if (value.size() > 256)
      return make_error(ErrorKind::kEcsInvalidParameter,
                        fmt::format("The value of tag '{}' is longer than 256 characters.", key));
    if (key.size() >= 4 && (key.substr(0, 4) == "aws:" || key.substr(0, 4) == "AWS:" || key.substr(0, 4) == "Aws:"))
      return make_error(ErrorKind::kEcsInvalidParameter,
                        fmt::format("Tag key '{}' uses the reserved prefix 'aws:'.", key));
    if (!seen.insert(key).second)
      return make_error(ErrorKind::kEcsInvalidParameter, fmt::format("Tag key '{}' is given more than once.", key));
    out.push_back(Tag{std::move(key), std::move(value)});
  }
  return out;
}

json::array encode_tags(const std::vector<Tag>& tags) {
  json::array out;
  for (const auto& t : tags) out.push_back(json::object{{"key", t.key}, {"value", t.value}});
  return out;
}

Out tag_resource(EcsStore& store, Ctx& ctx, json::object& in) {
  std::string arn = get_string(in, "resourceArn").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(get_array(in, "tags")));
  return store.write([&](EcsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(check_resource(t, ctx, arn));
    std::set<std::string> keys;
    for (const auto& tag : t.tags(arn)) keys.insert(tag.key);
    for (const auto& tag : tags) keys.insert(tag.key);
    if (keys.size() > kMaxTags)
      return make_error(ErrorKind::kEcsInvalidParameter,
                        fmt::format("A resource can have at most {} tags; this would make {}.", kMaxTags, keys.size()));
    t.set_tags(arn, tags);
    return json::object{};
  });
}

Out untag_resource(EcsStore& store, Ctx& ctx, json::object& in) {
  std::string arn = get_string(in, "resourceArn").value_or("");
  std::vector<std::string> keys;
  if (auto* ks = get_array(in, "tagKeys"))
    for (const auto& k : *ks) keys.emplace_back(k.as_string());
  return store.write([&](EcsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(check_resource(t, ctx, arn));
    t.remove_tags(arn, keys);
    return json::object{};
  });
}

Out list_tags_for_resource(EcsStore& store, Ctx& ctx, json::object& in) {
  std::string arn = get_string(in, "resourceArn").value_or("");
  return store.read([&](EcsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(check_resource(t, ctx, arn));
    return json::object{{"tags", encode_tags(t.tags(arn))}};
  });
}

}  // namespace gantry::ecs
