#include "services/logs/service.h"

#include "core/arn.h"
#include "services/logs/handlers.h"

namespace gantry::logs {

api::JsonService make_service(LogsStore& store) {
  api::JsonService s;
  s.name = "logs";
  s.validation_error_type = "InvalidParameterException";
  auto add = [&](std::string name, Out (*fn)(LogsStore&, Ctx&, json::object&)) {
    s.operations.emplace(std::move(name), [&store, fn](Ctx& ctx, json::object& in) { return fn(store, ctx, in); });
  };
  add("CreateLogGroup", create_log_group);
  add("DeleteLogGroup", delete_log_group);
  add("DescribeLogGroups", describe_log_groups);
  add("PutRetentionPolicy", put_retention_policy);
  add("DeleteRetentionPolicy", delete_retention_policy);
  add("CreateLogStream", create_log_stream);
  add("DeleteLogStream", delete_log_stream);
  add("DescribeLogStreams", describe_log_streams);
  add("PutLogEvents", put_log_events);
  add("GetLogEvents", get_log_events);
  add("FilterLogEvents", filter_log_events);
  add("TagResource", tag_resource);
  add("UntagResource", untag_resource);
  add("ListTagsForResource", list_tags_for_resource);
  add("TagLogGroup", tag_log_group);
  add("UntagLogGroup", untag_log_group);
  add("ListTagsLogGroup", list_tags_log_group);
  // As AWS's Service Authorization Reference: log group and stream operations on the group's or stream's
  // ARN, listings of groups on "*", the generic tagging operations on their resource ARN.
  s.auth_target = [](std::string_view op, const json::object& in, const Ctx& ctx) {
    api::AuthTarget t;
    auto get = [&](std::string_view key) -> std::string {
      auto* v = in.if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (op == "TagResource" || op == "UntagResource" || op == "ListTagsForResource") {
      t.resources = {get("resourceArn")};
      return t;
    }
    std::string group = get("logGroupName");
    if (group.empty()) group = get("logGroupIdentifier");
    if (group.starts_with("arn:")) {
      auto arn = Arn::parse(group);
      if (arn && arn->resource.starts_with("log-group:")) group = arn->resource.substr(10);
      if (group.ends_with(":*")) group.resize(group.size() - 2);
    }
    if (group.empty() || op == "DescribeLogGroups") return t;
    // AWS names a group as ...:log-group:<name>:log-stream: (an empty stream) and a stream in full, so
    // "log-group:<name>:*" covers both.
    t.resources = {ctx.scope.arn("logs", "log-group:" + group + ":log-stream:" + get("logStreamName"))};
    return t;
  };
  return s;
}

}  // namespace gantry::logs
