#include "services/events/service.h"

#include "services/events/handlers.h"

namespace gantry::events {

namespace {

std::string member(const boost::json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The bus a request names (by name or ARN), for authorization; "default" when absent.
std::string bus_of(const boost::json::value* v) {
  if (v == nullptr || !v->is_string()) return std::string(kDefaultBus);
  std::string s(v->as_string());
  if (s.starts_with("arn:")) {
    auto slash = s.find(":event-bus/");
    return slash == std::string::npos ? s : s.substr(slash + 11);
  }
  return s;
}

}  // namespace

api::JsonService make_service(EventsStore& store, Engine& engine) {
  api::JsonService s;
  s.name = "events";
  s.validation_error_type = "ValidationException";
  auto deps = std::make_shared<const detail::Deps>(detail::Deps{store, engine});
  detail::add_rule_operations(s, deps);
  detail::add_target_operations(s, deps);
  detail::add_bus_operations(s, deps);
  detail::add_event_operations(s, deps);
  // As AWS's Service Authorization Reference: rule operations on the rule's ARN, bus operations and
  // PutEvents on the bus's ARN (every bus its entries name), tagging on the resource, listings on "*".
  s.auth_target = [](std::string_view op, const boost::json::object& in, const api::RequestContext& ctx) {
    api::AuthTarget t;
    if (op == "PutRule" || op == "DescribeRule" || op == "DeleteRule" || op == "EnableRule" || op == "DisableRule") {
      t.resources = {detail::rule_arn(ctx.scope, bus_of(in.if_contains("EventBusName")), member(in, "Name"))};
    } else if (op == "PutTargets" || op == "RemoveTargets" || op == "ListTargetsByRule") {
      t.resources = {detail::rule_arn(ctx.scope, bus_of(in.if_contains("EventBusName")), member(in, "Rule"))};
    } else if (op == "CreateEventBus" || op == "DeleteEventBus" || op == "DescribeEventBus") {
      t.resources = {detail::bus_arn(ctx.scope, bus_of(in.if_contains("Name")))};
    } else if (op == "TagResource" || op == "UntagResource" || op == "ListTagsForResource") {
      t.resources = {member(in, "ResourceARN")};
    } else if (op == "PutEvents") {
      t.resources.clear();
      if (auto* entries = in.if_contains("Entries"); entries && entries->is_array())
        for (const auto& e : entries->as_array()) {
          auto arn = detail::bus_arn(ctx.scope, bus_of(e.is_object() ? e.as_object().if_contains("EventBusName")
                                                                      : nullptr));
          if (std::find(t.resources.begin(), t.resources.end(), arn) == t.resources.end()) t.resources.push_back(arn);
        }
      if (t.resources.empty()) t.resources = {detail::bus_arn(ctx.scope, kDefaultBus)};
    }
    return t;
  };
  return s;
}

}  // namespace gantry::events
