// PutRule, DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule.
#include <fmt/format.h>

#include "events/pattern.h"
#include "schedule/expression.h"
#include "core/pagination.h"
#include "services/events/handlers.h"

namespace gantry::events::detail {

namespace {

// The rule a request names, with the bus it is on.
struct RuleRef {
  std::string bus;
  std::string name;
};

Result<RuleRef> rule_ref(const Ctx& ctx, const json::object& in, std::string_view name_member = "Name") {
  GANTRY_ASSIGN_OR_RETURN(auto bus, bus_name(ctx, get_string(in, "EventBusName")));
  auto name = get_string(in, name_member).value_or("");
  GANTRY_RETURN_IF_ERROR(check_name(name, name_member == "Name" ? "name" : "rule", 64));
  return RuleRef{bus, name};
}

json::object describe(const Rule& r) {
  json::object out = r.doc;
  out["EventBusName"] = r.bus;
  return out;
}

Out put_rule(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, rule_ref(ctx, in));
  auto schedule = get_string(in, "ScheduleExpression").value_or("");
  auto pattern = get_string(in, "EventPattern").value_or("");
  if (schedule.empty() && pattern.empty())
    return validation("Parameter(s) EventPattern or ScheduleExpression must be specified.");
  if (!schedule.empty()) {
    if (ref.bus != kDefaultBus) return validation("ScheduleExpression is supported only on the default event bus.");
    GANTRY_RETURN_IF_ERROR(schedule::parse_expression(schedule));
  }
  if (!pattern.empty()) GANTRY_RETURN_IF_ERROR(EventPattern::parse(pattern));
  auto state = get_string(in, "State").value_or("ENABLED");
  if (state == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    return make_error(ErrorKind::kUnsupportedOperation,
                      "State ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS is not supported by Gantry: there is no "
                      "CloudTrail to deliver management events");
  auto role = get_string(in, "RoleArn");
  if (role) {
    if (auto arn = Arn::parse(*role); !arn || arn->service != "iam" || !arn->resource.starts_with("role/"))
      return validation(fmt::format("Provided role '{}' is not a valid IAM role ARN.", *role));
    if (auto denied = ctx.denied("iam:PassRole", *role, {{"iam:passedtoservice", "events.amazonaws.com"}}))
      return make_error(ErrorKind::kAccessDenied, *denied);
  }
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(in.if_contains("Tags")));
  const auto arn = rule_arn(ctx.scope, ref.bus, ref.name);
  auto out = d.store.write([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(t, ctx.scope, ref.bus));
    auto old = t.find_rule(ctx.scope, ref.bus, ref.name);
    Rule r;
    r.account = ctx.scope.account;
    r.region = ctx.scope.region;
    r.bus = ref.bus;
    r.name = ref.name;
    r.created_ms = old ? old->created_ms : store::to_ms(ctx.now);
    // rate() counts from when the schedule was set; an unchanged one keeps its slots.
    bool same_schedule = old && get_string(old->doc, "ScheduleExpression").value_or("") == schedule;
    r.anchor_ms = same_schedule ? old->anchor_ms : store::to_ms(ctx.now);
    r.doc = json::object{{"Name", ref.name}, {"Arn", arn}};
    if (!pattern.empty()) r.doc["EventPattern"] = pattern;
    if (!schedule.empty()) r.doc["ScheduleExpression"] = schedule;
    r.doc["State"] = state;
    if (auto desc = get_string(in, "Description")) r.doc["Description"] = *desc;
    if (role) r.doc["RoleArn"] = *role;
    r.doc["CreatedBy"] = ctx.scope.account;
    t.put_rule(r);
    if (!tags.empty()) t.set_tags(arn, tags);
    return json::object{{"RuleArn", arn}};
  });
  if (out) d.engine.refresh(ctx.scope, ref.bus, ref.name);
  return out;
}

Out describe_rule(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, rule_ref(ctx, in));
  return d.store.read([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(t, ctx.scope, ref.bus));
    auto r = t.find_rule(ctx.scope, ref.bus, ref.name);
    if (!r) return rule_not_found(ref.name, ref.bus);
    return describe(*r);
  });
}

Out list_rules(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto bus, bus_name(ctx, get_string(in, "EventBusName")));
  auto prefix = get_string(in, "NamePrefix").value_or("");
  int limit = static_cast<int>(get_int(in, "Limit").value_or(100));
  std::string after;
  if (auto token = get_string(in, "NextToken")) {
    auto last = decode_page_token("events:ListRules:" + bus, *token);
    if (!last) return validation("The NextToken provided is invalid.");
    after = *last;
  }
  return d.store.read([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(t, ctx.scope, bus));
    auto rules = t.list_rules(ctx.scope, bus, prefix, after, limit + 1);
    json::object out;
    json::array list;
    for (size_t i = 0; i < rules.size() && i < static_cast<size_t>(limit); ++i) {
      auto doc = describe(rules[i]);
      doc.erase("CreatedBy");
      list.push_back(std::move(doc));
    }
    if (rules.size() > static_cast<size_t>(limit))
      out["NextToken"] = encode_page_token("events:ListRules:" + bus, rules[limit - 1].name);
    out["Rules"] = std::move(list);
    return out;
  });
}

Out set_state(const Deps& d, Ctx& ctx, json::object& in, std::string_view state) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, rule_ref(ctx, in));
  auto out = d.store.write([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(t, ctx.scope, ref.bus));
    auto r = t.find_rule(ctx.scope, ref.bus, ref.name);
    if (!r) return rule_not_found(ref.name, ref.bus);
    r->doc["State"] = state;
    t.put_rule(*r);
    return json::object{};
  });
  if (out) d.engine.refresh(ctx.scope, ref.bus, ref.name);
  return out;
}

Out delete_rule(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, rule_ref(ctx, in));
  // Force only matters for rules AWS services manage; Gantry has none, so a rule with targets is always refused.
  auto out = d.store.write([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(t, ctx.scope, ref.bus));
    if (!t.find_rule(ctx.scope, ref.bus, ref.name)) return json::object{};  // deleting what is gone succeeds
    if (!t.targets(ctx.scope, ref.bus, ref.name).empty())
      return validation("Rule can't be deleted since it has targets.");
    t.delete_rule(ctx.scope, ref.bus, ref.name);
    t.drop_tags(rule_arn(ctx.scope, ref.bus, ref.name));
    return json::object{};
  });
  if (out) d.engine.refresh(ctx.scope, ref.bus, ref.name);
  return out;
}

}  // namespace

void add_rule_operations(api::JsonService& s, const DepsPtr& d) {
  s.operations["PutRule"] = [d](Ctx& ctx, json::object& in) { return put_rule(*d, ctx, in); };
  s.operations["DescribeRule"] = [d](Ctx& ctx, json::object& in) { return describe_rule(*d, ctx, in); };
  s.operations["ListRules"] = [d](Ctx& ctx, json::object& in) { return list_rules(*d, ctx, in); };
  s.operations["EnableRule"] = [d](Ctx& ctx, json::object& in) { return set_state(*d, ctx, in, "ENABLED"); };
  s.operations["DisableRule"] = [d](Ctx& ctx, json::object& in) { return set_state(*d, ctx, in, "DISABLED"); };
  s.operations["DeleteRule"] = [d](Ctx& ctx, json::object& in) { return delete_rule(*d, ctx, in); };
}

}  // namespace gantry::events::detail
