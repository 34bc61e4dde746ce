#include "services/logs/service.h"

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
  return s;
}

}  // namespace gantry::logs
