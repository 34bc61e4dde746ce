#include "services/scheduler/service.h"
#include "core/json_members.h"

#include "services/scheduler/handlers.h"

namespace gantry::scheduler {

namespace json = boost::json;

namespace {


// As AWS's Service Authorization Reference: schedule operations on the schedule's ARN (in the group the request
// names, "default" when none), group operations and tagging on the group's ARN with the group's tags as
// aws:ResourceTag and the tags a request sets as aws:RequestTag and aws:TagKeys; listings on "*".
api::AuthTarget auth_target(SchedulerStore& store, std::string_view op, const json::object& in,
                            const api::RequestContext& ctx) {
  api::AuthTarget t;
  std::string group;  // the group whose tags the call is weighed with
  if (op == "CreateSchedule" || op == "GetSchedule" || op == "UpdateSchedule" || op == "DeleteSchedule") {
    auto g = json_members::string_or_empty(in, "GroupName");
    t.resources = {
        detail::schedule_arn(ctx.scope, g.empty() ? kDefaultGroup : g, json_members::string_or_empty(in, "Name"))};
  } else if (op == "CreateScheduleGroup" || op == "GetScheduleGroup" || op == "DeleteScheduleGroup") {
    group = json_members::string_or_empty(in, "Name");
    t.resources = {detail::group_arn(ctx.scope, group)};
  } else if (op == "TagResource" || op == "UntagResource" || op == "ListTagsForResource") {
    auto arn = json_members::string_or_empty(in, "ResourceArn");
    t.resources = {arn};
    if (auto parsed = Arn::parse(arn); parsed && parsed->account == ctx.scope.account &&
                                       parsed->region == ctx.scope.region &&
                                       parsed->resource.starts_with("schedule-group/"))
      group = parsed->resource.substr(15);
  }
  if (op == "CreateScheduleGroup" || op == "TagResource") {
    if (auto tags = detail::parse_tags(in.if_contains("Tags")); tags.ok())
      for (auto& k : detail::request_tag_keys(*tags)) t.keys.push_back(std::move(k));
  } else if (op == "UntagResource") {
    if (auto* keys = in.if_contains("TagKeys"); keys && keys->is_array())
      for (const auto& k : keys->as_array())
        if (k.is_string()) t.keys.emplace_back("aws:tagkeys", std::string(k.as_string()));
  }
  if (!group.empty() && op != "CreateScheduleGroup") {
    (void)store.read([&](SchedulerTables& tables) -> Result<json::object> {
      for (const auto& tag : tables.tags(detail::group_arn(ctx.scope, group)))
        t.keys.emplace_back(api::resource_tag_key(tag.key), tag.value);
      return json::object{};
    });
  }
  return t;
}

}  // namespace

api::RestService make_service(SchedulerStore& store, Runner& runner) {
  api::RestService s;
  s.name = "scheduler";
  s.validation_error_type = "ValidationException";
  auto deps = std::make_shared<const detail::Deps>(detail::Deps{store, runner});
  detail::add_schedule_operations(s, deps);
  detail::add_group_operations(s, deps);
  s.auth_target = [&store](std::string_view op, const json::object& in, const api::RequestContext& ctx) {
    return auth_target(store, op, in, ctx);
  };
  return s;
}

}  // namespace gantry::scheduler
