#include "services/events/service.h"

#include "core/json_members.h"
#include "services/events/handlers.h"

namespace gantry::events {

namespace {

// The bus a request member names (by name or ARN, as the handlers read it; "default" when absent), for
// authorization; a malformed name is asked about as given (the handler then refuses it).
std::string bus_of(const api::RequestContext& ctx, const boost::json::object& o, std::string_view member) {
  auto given = json_members::get_string(o, member);
  auto bus = detail::bus_name(ctx, given);
  return bus ? *bus : given.value_or(std::string(kDefaultBus));
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
      t.resources = {
          detail::rule_arn(ctx.scope, bus_of(ctx, in, "EventBusName"), json_members::string_or_empty(in, "Name"))};
    } else if (op == "PutTargets" || op == "RemoveTargets" || op == "ListTargetsByRule") {
      t.resources = {
          detail::rule_arn(ctx.scope, bus_of(ctx, in, "EventBusName"), json_members::string_or_empty(in, "Rule"))};
    } else if (op == "CreateEventBus" || op == "DeleteEventBus" || op == "DescribeEventBus") {
      t.resources = {detail::bus_arn(ctx.scope, bus_of(ctx, in, "Name"))};
    } else if (op == "TagResource" || op == "UntagResource" || op == "ListTagsForResource") {
      t.resources = {json_members::string_or_empty(in, "ResourceARN")};
    } else if (op == "PutEvents") {
      t.resources.clear();
      if (auto* entries = in.if_contains("Entries"); entries && entries->is_array())
        for (const auto& e : entries->as_array()) {
          if (!e.is_object()) continue;
          auto arn = detail::bus_arn(ctx.scope, bus_of(ctx, e.as_object(), "EventBusName"));
          if (std::find(t.resources.begin(), t.resources.end(), arn) == t.resources.end()) t.resources.push_back(arn);
        }
      if (t.resources.empty()) t.resources = {detail::bus_arn(ctx.scope, kDefaultBus)};
    }
    return t;
  };
  return s;
}

}  // namespace gantry::events
