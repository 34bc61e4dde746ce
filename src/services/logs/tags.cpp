// TagResource, UntagResource, ListTagsForResource (by log group ARN) and the older TagLogGroup,
// UntagLogGroup, ListTagsLogGroup (by log group name).
#include <fmt/format.h>

#include <set>

#include "services/logs/handlers.h"

namespace gantry::logs {

namespace {

constexpr size_t kMaxTags = 50;

// The log group an ARN names, in the caller's scope ("...:log-group:NAME", ":*" tolerated).
Result<std::string> group_from_arn(const Ctx& ctx, const std::string& text) {
  auto arn = Arn::parse(text);
  if (!arn || arn->service != "logs" || !arn->resource.starts_with("log-group:"))
    return make_error(ErrorKind::kLogsInvalidParameter,
                      fmt::format("Invalid resourceArn: '{}'. Gantry supports tags on log groups only "
                                  "(arn:aws:logs:REGION:ACCOUNT:log-group:NAME).",
                                  text.substr(0, 256)));
  if (arn->account != ctx.scope.account || arn->region != ctx.scope.region) return group_not_found();
  std::string name = arn->resource.substr(10);
  if (name.ends_with(":*")) name.resize(name.size() - 2);
  return name;
}

Status add_tags(LogsTables& t, const Ctx& ctx, const std::string& group, const std::map<std::string, std::string>& tags,
                ErrorKind too_many) {
  if (!t.find_group(ctx.scope, group)) return group_not_found();
  std::set<std::string> keys;
  for (const auto& [k, v] : t.tags(ctx.scope, group)) keys.insert(k);
  for (const auto& [k, v] : tags) keys.insert(k);
  if (keys.size() > kMaxTags)
    return make_error(too_many,
                      fmt::format("A log group can have at most {} tags; this would make {}.", kMaxTags, keys.size()));
  t.set_tags(ctx.scope, group, tags);
  return {};
}

json::object encode_tags(const std::map<std::string, std::string>& tags) {
  json::object o;
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

std::vector<std::string> strings_of(const json::value* list) {
  std::vector<std::string> out;
  if (list != nullptr && list->is_array())
    for (const auto& k : list->as_array()) out.emplace_back(k.as_string());
  return out;
}

}  // namespace

Out tag_resource(LogsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, group_from_arn(ctx, get_string(in, "resourceArn").value_or("")));
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(in.if_contains("tags")));
  return store.write([&](LogsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(add_tags(t, ctx, group, tags, ErrorKind::kLogsTooManyTags));
    return json::object{};
  });
}

Out untag_resource(LogsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, group_from_arn(ctx, get_string(in, "resourceArn").value_or("")));
  auto keys = strings_of(in.if_contains("tagKeys"));
  return store.write([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    t.remove_tags(ctx.scope, group, keys);
    return json::object{};
  });
}

Out list_tags_for_resource(LogsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, group_from_arn(ctx, get_string(in, "resourceArn").value_or("")));
  return store.read([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    return json::object{{"tags", encode_tags(t.tags(ctx.scope, group))}};
  });
}

Out tag_log_group(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string group = get_string(in, "logGroupName").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(in.if_contains("tags")));
  return store.write([&](LogsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(add_tags(t, ctx, group, tags, ErrorKind::kLogsInvalidParameter));
    return json::object{};
  });
}

Out untag_log_group(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string group = get_string(in, "logGroupName").value_or("");
  auto keys = strings_of(in.if_contains("tags"));
  return store.write([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    t.remove_tags(ctx.scope, group, keys);
    return json::object{};
  });
}

Out list_tags_log_group(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string group = get_string(in, "logGroupName").value_or("");
  return store.read([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    return json::object{{"tags", encode_tags(t.tags(ctx.scope, group))}};
  });
}

}  // namespace gantry::logs
