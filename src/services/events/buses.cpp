// CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus; TagResource, UntagResource,
// ListTagsForResource on rules and buses.
#include <fmt/format.h>

#include "core/pagination.h"
#include "services/events/handlers.h"

namespace gantry::events::detail {

namespace {

constexpr size_t kMaxBuses = 100;

json::object bus_json(const Scope& scope, const Bus& b) {
  json::object o{{"Name", b.name}, {"Arn", bus_arn(scope, b.name)}};
  if (!b.description.empty()) o["Description"] = b.description;
  if (b.created_ms > 0) {
    o["CreationTime"] = static_cast<double>(b.created_ms) / 1000.0;
    o["LastModifiedTime"] = static_cast<double>(b.modified_ms) / 1000.0;
  }
  return o;
}

Bus default_bus(const Scope& scope) { return Bus{scope.account, scope.region, std::string(kDefaultBus), "", 0, 0}; }

Out create_event_bus(const Deps& d, Ctx& ctx, json::object& in) {
  auto name = get_string(in, "Name").value_or("");
  if (in.contains("EventSourceName") || name.starts_with("aws."))
    return make_error(ErrorKind::kUnsupportedOperation, "Partner event buses are not supported by Gantry");
  for (const char* member : {"KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"})
    if (in.contains(member))
      return make_error(ErrorKind::kUnsupportedOperation, fmt::format("{} is not supported by Gantry", member));
  GANTRY_RETURN_IF_ERROR(check_name(name, "name", 256));
  auto description = get_string(in, "Description").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(in.if_contains("Tags")));
  return d.store.write([&](EventsTables& t) -> Out {
    if (name == kDefaultBus || t.find_bus(ctx.scope, name))
      return make_error(ErrorKind::kEventsResourceAlreadyExists, fmt::format("Event bus {} already exists.", name));
    if (t.list_buses(ctx.scope).size() + 1 >= kMaxBuses)
      return make_error(ErrorKind::kEventsLimitExceeded,
                        fmt::format("The requested resource exceeds the maximum number allowed: at most {} event "
                                    "buses per account and region.",
                                    kMaxBuses));
    auto now = store::to_ms(ctx.now);
    t.put_bus(Bus{ctx.scope.account, ctx.scope.region, name, description, now, now});
    const auto arn = bus_arn(ctx.scope, name);
    if (!tags.empty()) t.set_tags(arn, tags);
    json::object out{{"EventBusArn", arn}};
    if (!description.empty()) out["Description"] = description;
    return out;
  });
}

Out describe_event_bus(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, bus_name(ctx, get_string(in, "Name")));
  return d.store.read([&](EventsTables& t) -> Out {
    if (name == kDefaultBus) return bus_json(ctx.scope, default_bus(ctx.scope));
    auto b = t.find_bus(ctx.scope, name);
    if (!b) return not_found(fmt::format("Event bus {} does not exist.", name));
    return bus_json(ctx.scope, *b);
  });
}

Out list_event_buses(const Deps& d, Ctx& ctx, json::object& in) {
  auto prefix = get_string(in, "NamePrefix").value_or("");
  GANTRY_ASSIGN_OR_RETURN(size_t start, page_start(in, "events:ListEventBuses:" + prefix));
  size_t limit = static_cast<size_t>(get_int(in, "Limit").value_or(100));
  return d.store.read([&](EventsTables& t) -> Out {
    std::vector<Bus> all{default_bus(ctx.scope)};
    for (auto& b : t.list_buses(ctx.scope)) all.push_back(std::move(b));
    std::erase_if(all, [&](const Bus& b) { return !b.name.starts_with(prefix); });
    json::array list;
    for (size_t i = start; i < all.size() && i < start + limit; ++i) list.push_back(bus_json(ctx.scope, all[i]));
    json::object out{{"EventBuses", std::move(list)}};
    if (start + limit < all.size()) out["NextToken"] = page_token("events:ListEventBuses:" + prefix, start + limit);
    return out;
  });
}

Out delete_event_bus(const Deps& d, Ctx& ctx, json::object& in) {
  auto name = get_string(in, "Name").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name(name, "name", 256));
  if (name == kDefaultBus) return validation("Cannot delete event bus default.");
  auto out = d.store.write([&](EventsTables& t) -> Out {
    if (!t.find_bus(ctx.scope, name)) return json::object{};
    if (!t.list_rules(ctx.scope, name, "", "", 1).empty())
      return validation(fmt::format("Cannot delete event bus {}: delete its rules first.", name));
    t.delete_bus(ctx.scope, name);
    t.drop_tags(bus_arn(ctx.scope, name));
    return json::object{};
  });
  if (out) d.engine.forget_bus(ctx.scope, name);
  return out;
}

// The rule or bus an ARN names, checked to exist.
Status require_resource(EventsTables& t, const Ctx& ctx, const std::string& arn_text) {
  auto arn = Arn::parse(arn_text);
  if (!arn || arn->service != "events")
    return validation(fmt::format("Parameter ResourceARN is not valid. Reason: {} is not an EventBridge ARN.", arn_text));
  auto gone = [&] { return not_found(fmt::format("Resource {} does not exist.", arn_text)); };
  if (arn->account != ctx.scope.account || arn->region != ctx.scope.region) return gone();
  if (arn->resource.starts_with("event-bus/")) {
    auto bus = arn->resource.substr(10);
    if (bus == kDefaultBus || t.find_bus(ctx.scope, bus)) return {};
    return gone();
  }
  if (arn->resource.starts_with("rule/")) {
    auto rest = arn->resource.substr(5);
    auto slash = rest.rfind('/');
    std::string bus = slash == std::string::npos ? std::string(kDefaultBus) : rest.substr(0, slash);
    std::string rule = slash == std::string::npos ? rest : rest.substr(slash + 1);
    if (t.find_rule(ctx.scope, bus, rule)) return {};
    return gone();
  }
  return gone();
}

Out tag_resource(const Deps& d, Ctx& ctx, json::object& in) {
  auto arn = get_string(in, "ResourceARN").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(in.if_contains("Tags")));
  return d.store.write([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_resource(t, ctx, arn));
    auto have = t.tags(arn);
    size_t added = 0;
    for (const auto& tag : tags)
      if (std::none_of(have.begin(), have.end(), [&](const auto& h) { return h.key == tag.key; })) ++added;
    if (have.size() + added > 50)
      return make_error(ErrorKind::kEventsLimitExceeded, "A resource can have at most 50 tags.");
    t.set_tags(arn, tags);
    return json::object{};
  });
}

Out untag_resource(const Deps& d, Ctx& ctx, json::object& in) {
  auto arn = get_string(in, "ResourceARN").value_or("");
  std::vector<std::string> keys;
  if (auto* list = in.if_contains("TagKeys"); list && list->is_array())
    for (const auto& v : list->as_array())
      if (v.is_string()) keys.emplace_back(v.as_string());
  return d.store.write([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_resource(t, ctx, arn));
    t.remove_tags(arn, keys);
    return json::object{};
  });
}

Out list_tags_for_resource(const Deps& d, Ctx& ctx, json::object& in) {
  auto arn = get_string(in, "ResourceARN").value_or("");
  return d.store.read([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_resource(t, ctx, arn));
    return json::object{{"Tags", tags_json(t.tags(arn))}};
  });
}

}  // namespace

void add_bus_operations(api::JsonService& s, const DepsPtr& d) {
  s.operations["CreateEventBus"] = [d](Ctx& ctx, json::object& in) { return create_event_bus(*d, ctx, in); };
  s.operations["DescribeEventBus"] = [d](Ctx& ctx, json::object& in) { return describe_event_bus(*d, ctx, in); };
  s.operations["ListEventBuses"] = [d](Ctx& ctx, json::object& in) { return list_event_buses(*d, ctx, in); };
  s.operations["DeleteEventBus"] = [d](Ctx& ctx, json::object& in) { return delete_event_bus(*d, ctx, in); };
  s.operations["TagResource"] = [d](Ctx& ctx, json::object& in) { return tag_resource(*d, ctx, in); };
  s.operations["UntagResource"] = [d](Ctx& ctx, json::object& in) { return untag_resource(*d, ctx, in); };
  s.operations["ListTagsForResource"] = [d](Ctx& ctx, json::object& in) {
    return list_tags_for_resource(*d, ctx, in);
  };
}

}  // namespace gantry::events::detail
