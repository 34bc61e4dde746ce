// CreateScheduleGroup, GetScheduleGroup, DeleteScheduleGroup, ListScheduleGroups; TagResource, UntagResource,
// ListTagsForResource (schedule groups are Scheduler's only taggable resource: its API takes only group ARNs).
#include <fmt/format.h>

#include <algorithm>

#include "core/pagination.h"
#include "services/scheduler/handlers.h"

namespace gantry::scheduler::detail {

namespace {

constexpr std::string_view kGroupArnPattern =
    "^arn:aws(-[a-z]+)?:scheduler:[a-z0-9\\-]+:\\d{12}:schedule-group\\/[0-9a-zA-Z-_.]+$";

Group default_group(const Scope& scope) { return Group{scope.account, scope.region, std::string(kDefaultGroup), 0, 0}; }

// GetScheduleGroup's answer and a ScheduleGroupSummary. The default group, which no one created, has no dates.
json::object group_json(const Scope& scope, const Group& g) {
  json::object o{{"Arn", group_arn(scope, g.name)}, {"Name", g.name}, {"State", "ACTIVE"}};
  if (g.created_ms > 0) {
    o["CreationDate"] = static_cast<double>(g.created_ms) / 1000.0;
    o["LastModificationDate"] = static_cast<double>(g.modified_ms) / 1000.0;
  }
  return o;
}

Result<std::string> group_named(const json::object& in) {
  auto name = get_string(in, "Name").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name(name, "name"));
  return name;
}

Result<api::RestResponse> create_schedule_group(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, group_named(in));
  GANTRY_RETURN_IF_ERROR(check_client_token(in));
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(in.if_contains("Tags")));
  const auto arn = group_arn(ctx.scope, name);
  // Tagging on creation is scheduler:TagResource too, as AWS asks.
  if (!tags.empty())
    if (auto denied = ctx.denied("scheduler:TagResource", arn, request_tag_keys(tags)))
      return make_error(ErrorKind::kAccessDenied403, *denied);
  return reply(d.store.write([&](SchedulerTables& t) -> Out {
    if (name == kDefaultGroup || t.find_group(ctx.scope, name))
      return conflict(fmt::format("Schedule group {} already exists.", name));
    if (t.list_groups(ctx.scope, "", "", static_cast<int>(kMaxGroups)).size() + 1 >= kMaxGroups)
      return make_error(ErrorKind::kSchedulerServiceQuotaExceeded,
                        fmt::format("You have reached the quota of {} schedule groups (the default group among "
                                    "them) in this account and region.",
                                    kMaxGroups));
    const auto now = store::to_ms(ctx.now);
    t.put_group(Group{ctx.scope.account, ctx.scope.region, name, now, now});
    if (!tags.empty()) t.set_tags(arn, tags);
    return json::object{{"ScheduleGroupArn", arn}};
  }));
}

Result<api::RestResponse> get_schedule_group(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, group_named(in));
  return reply(d.store.read([&](SchedulerTables& t) -> Out {
    if (name == kDefaultGroup) return group_json(ctx.scope, default_group(ctx.scope));
    auto g = t.find_group(ctx.scope, name);
    if (!g) return group_not_found(name);
    return group_json(ctx.scope, *g);
  }));
}

// Deletes the group with every schedule in it, as AWS does (AWS in the background, through a DELETING state;
// Gantry at once). Deleting the schedules is scheduler:DeleteSchedule on each, which AWS asks for too.
Result<api::RestResponse> delete_schedule_group(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, group_named(in));
  GANTRY_RETURN_IF_ERROR(check_client_token(in));
  if (name == kDefaultGroup) return validation("You cannot delete the default schedule group.");
  auto schedules_in = [&](SchedulerTables& t) {
    ScheduleQuery q;
    q.group = name;
    q.limit = INT32_MAX;
    std::vector<std::string> names;
    for (const auto& s : t.list_schedules(ctx.scope, q)) names.push_back(s.name);
    return names;
  };
  std::vector<std::string> checked;
  if (ctx.authorizer != nullptr) {
    GANTRY_RETURN_IF_ERROR(d.store.read([&](SchedulerTables& t) -> Out {
      checked = schedules_in(t);
      return json::object{};
    }));
    for (const auto& schedule : checked)
      if (auto denied = ctx.denied("scheduler:DeleteSchedule", schedule_arn(ctx.scope, name, schedule)))
        return make_error(ErrorKind::kAccessDenied403, *denied);
  }
  auto out = d.store.write([&](SchedulerTables& t) -> Out {
    if (!t.find_group(ctx.scope, name)) return group_not_found(name);
    // The schedules asked about must be the ones deleted: one created meanwhile was not authorized.
    if (ctx.authorizer != nullptr && schedules_in(t) != checked)
      return make_error(ErrorKind::kSchedulerConflict,
                        fmt::format("The schedules of group {} changed while it was being deleted; try again.", name));
    t.delete_group(ctx.scope, name);
    t.drop_tags(group_arn(ctx.scope, name));
    return json::object{};
  });
  if (out) d.runner.forget_group(ctx.scope, name);
  return reply(std::move(out));
}

Result<api::RestResponse> list_schedule_groups(const Deps& d, Ctx& ctx, json::object& in) {
  std::string prefix;
  if (auto p = get_string(in, "NamePrefix")) {
    GANTRY_RETURN_IF_ERROR(check_name(*p, "namePrefix"));
    prefix = *p;
  }
  const int limit = page_size(in);
  const std::string listing = "scheduler:ListScheduleGroups:" + prefix;
  GANTRY_ASSIGN_OR_RETURN(auto after, page_after(in, listing));
  return reply(d.store.read([&](SchedulerTables& t) -> Out {
    auto groups = t.list_groups(ctx.scope, prefix, after, limit + 1);
    // The default group, which has no row, in its place by name.
    if (std::string_view(kDefaultGroup).starts_with(prefix) && kDefaultGroup > after) {
      groups.push_back(default_group(ctx.scope));
      std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.name < b.name; });
    }
    json::array list;
    for (size_t i = 0; i < groups.size() && i < static_cast<size_t>(limit); ++i)
      list.push_back(group_json(ctx.scope, groups[i]));
    json::object out{{"ScheduleGroups", std::move(list)}};
    if (groups.size() > static_cast<size_t>(limit))
      out["NextToken"] = encode_page_token(listing, groups[static_cast<size_t>(limit) - 1].name);
    return out;
  }));
}

// The group a tagging call's ResourceArn names: a schedule group ARN (schedules are not taggable: AWS's
// pattern takes group ARNs only).
Result<std::string> tagged_group(const Ctx& ctx, const json::object& in) {
  const auto text = get_string(in, "ResourceArn").value_or("");
  auto arn = Arn::parse(text);
  bool ok = arn && (arn->partition == "aws" || arn->partition.starts_with("aws-")) && arn->service == "scheduler" &&
            arn->account.size() == 12 &&
            std::all_of(arn->account.begin(), arn->account.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
            !arn->region.empty() &&
            std::all_of(arn->region.begin(), arn->region.end(),
                        [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }) &&
            arn->resource.starts_with("schedule-group/") && check_name(arn->resource.substr(15), "name").ok();
  if (!ok) return pattern_error(text, "resourceArn", kGroupArnPattern);
  if (arn->account != ctx.scope.account || arn->region != ctx.scope.region)
    return not_found(fmt::format("Resource {} does not exist.", text));
  return arn->resource.substr(15);
}

Result<api::RestResponse> tag_resource(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, tagged_group(ctx, in));
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(in.if_contains("Tags")));
  return reply(d.store.write([&](SchedulerTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_group(t, ctx.scope, group));
    t.set_tags(group_arn(ctx.scope, group), tags);
    return json::object{};
  }));
}

Result<api::RestResponse> untag_resource(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, tagged_group(ctx, in));
  std::vector<std::string> keys;
  if (auto* list = in.if_contains("TagKeys"); list && list->is_array())
    for (const auto& v : list->as_array())
      if (v.is_string()) keys.emplace_back(v.as_string());
  return reply(d.store.write([&](SchedulerTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_group(t, ctx.scope, group));
    t.remove_tags(group_arn(ctx.scope, group), keys);
    return json::object{};
  }));
}

Result<api::RestResponse> list_tags_for_resource(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, tagged_group(ctx, in));
  return reply(d.store.read([&](SchedulerTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_group(t, ctx.scope, group));
    return json::object{{"Tags", tags_json(t.tags(group_arn(ctx.scope, group)))}};
  }));
}

}  // namespace

void add_group_operations(api::RestService& s, const DepsPtr& d) {
  auto bind = [&](const char* op, auto fn) {
    s.operations[op] = [d, fn](Ctx& ctx, json::object& in) { return fn(*d, ctx, in); };
  };
  bind("CreateScheduleGroup", create_schedule_group);
  bind("GetScheduleGroup", get_schedule_group);
  bind("DeleteScheduleGroup", delete_schedule_group);
  bind("ListScheduleGroups", list_schedule_groups);
  bind("TagResource", tag_resource);
  bind("UntagResource", untag_resource);
  bind("ListTagsForResource", list_tags_for_resource);
}

}  // namespace gantry::scheduler::detail
