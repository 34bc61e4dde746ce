// PutEvents and TestEventPattern: events as EventBridge builds them from an entry, matched by the same
// pattern engine the rules use.
#include <fmt/format.h>

#include <map>

#include "events/pattern.h"
#include "services/events/handlers.h"

namespace gantry::events::detail {

namespace {

constexpr size_t kMaxEntriesBytes = 256 * 1024;

json::object entry_error(std::string_view code, std::string message) {
  return json::object{{"ErrorCode", code}, {"ErrorMessage", std::move(message)}};
}

// AWS counts an entry's size as its Time (14 bytes when set), Source, DetailType, Detail and Resources in UTF-8.
size_t entry_size(const json::object& e) {
  size_t n = e.contains("Time") ? 14 : 0;
  for (const char* k : {"Source", "DetailType", "Detail"})
    if (auto v = get_string(e, k)) n += v->size();
  if (auto* r = e.if_contains("Resources"); r && r->is_array())
    for (const auto& v : r->as_array())
      if (v.is_string()) n += v.as_string().size();
  return n;
}

Out put_events(const Deps& d, Ctx& ctx, json::object& in) {
  auto* entries = in.if_contains("Entries");
  if (entries == nullptr || !entries->is_array()) return validation("Entries must be specified.");
  size_t total = 0;
  for (const auto& v : entries->as_array())
    if (v.is_object()) total += entry_size(v.as_object());
  if (total > kMaxEntriesBytes) return validation("Total size of the entries in the request is over the limit.");
  // The buses the entries name that do not exist (with why), read in one transaction for the whole request.
  std::map<std::string, std::string, std::less<>> missing_buses;
  GANTRY_RETURN_IF_ERROR(d.store.read([&](EventsTables& t) -> Out {
    for (const auto& v : entries->as_array()) {
      if (!v.is_object()) continue;
      auto bus = bus_name(ctx, get_string(v.as_object(), "EventBusName"));
      if (!bus || missing_buses.contains(*bus)) continue;
      if (auto st = require_bus(t, ctx.scope, *bus); !st) missing_buses.emplace(*bus, st.error().message);
    }
    return json::object{};
  }));
  json::array results;
  int64_t failed = 0;
  for (const auto& v : entries->as_array()) {
    if (!v.is_object()) continue;
    const auto& e = v.as_object();
    auto fail = [&](std::string_view code, std::string message) {
      results.push_back(entry_error(code, std::move(message)));
      ++failed;
    };
    auto source = get_string(e, "Source");
    auto detail_type = get_string(e, "DetailType");
    auto detail_text = get_string(e, "Detail");
    if (!source || source->empty()) {
      fail("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.");
      continue;
    }
    if (!detail_type || detail_type->empty()) {
      fail("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
      continue;
    }
    if (!detail_text) {
      fail("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.");
      continue;
    }
    boost::system::error_code ec;
    auto detail = json::parse(*detail_text, ec);
    if (ec || !detail.is_object()) {
      fail("MalformedDetail", "Detail is malformed.");
      continue;
    }
    if (source->starts_with("aws.")) {
      fail("NotAuthorizedForSourceException", "Not authorized for the source.");
      continue;
    }
    auto bus = bus_name(ctx, get_string(e, "EventBusName"));
    if (!bus) {
      fail("InvalidArgument", bus.error().message);
      continue;
    }
    if (auto missing = missing_buses.find(*bus); missing != missing_buses.end()) {
      fail("ResourceNotFoundException", missing->second);
      continue;
    }
    json::array resources;
    if (auto* r = e.if_contains("Resources"); r && r->is_array())
      for (const auto& x : r->as_array())
        if (x.is_string()) resources.push_back(x);
    TimePoint when = ctx.now;
    if (auto* t = e.if_contains("Time"); t && (t->is_double() || t->is_int64()))
      when = from_epoch_seconds(t->is_double() ? t->as_double() : static_cast<double>(t->as_int64()));
    auto id = d.engine.new_event_id();
    json::object event{{"version", "0"},          {"id", id},
                       {"detail-type", *detail_type}, {"source", *source},
                       {"account", ctx.scope.account}, {"time", event_time(when)},
                       {"region", ctx.scope.region},  {"resources", std::move(resources)},
                       {"detail", std::move(detail)}};
    d.engine.publish(ctx.scope, *bus, json::value(std::move(event)));
    results.push_back(json::object{{"EventId", id}});
  }
  return json::object{{"FailedEntryCount", failed}, {"Entries", std::move(results)}};
}

Out test_event_pattern(const Deps&, Ctx&, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto pattern, EventPattern::parse(get_string(in, "EventPattern").value_or("")));
  boost::system::error_code ec;
  auto event = json::parse(get_string(in, "Event").value_or(""), ec);
  if (ec || !event.is_object())
    return validation("Parameter Event is not valid. Reason: the event is not a JSON object.");
  for (const char* field : {"id", "account", "source", "time", "region", "detail-type"}) {
    auto* v = event.as_object().if_contains(field);
    if (v == nullptr || !v->is_string())
      return validation(fmt::format("Parameter Event is not valid. Reason: Provided Event is missing the required "
                                    "field '{}' (a string).",
                                    field));
  }
  if (auto* r = event.as_object().if_contains("resources"); r == nullptr || !r->is_array())
    return validation("Parameter Event is not valid. Reason: Provided Event is missing the required field "
                      "'resources' (an array).");
  return json::object{{"Result", pattern.matches(event)}};
}

}  // namespace

void add_event_operations(api::JsonService& s, const DepsPtr& d) {
  s.operations["PutEvents"] = [d](Ctx& ctx, json::object& in) { return put_events(*d, ctx, in); };
  s.operations["TestEventPattern"] = [d](Ctx& ctx, json::object& in) { return test_event_pattern(*d, ctx, in); };
}

}  // namespace gantry::events::detail
