// What the EventBridge operation files share: dependencies, names and ARNs of buses and rules, member
// readers, errors in EventBridge's words.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/router.h"
#include "core/json_members.h"
#include "services/events/engine.h"
#include "services/events/model.h"

namespace gantry::events::detail {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<json::object>;

struct Deps {
  EventsStore& store;
  Engine& engine;
};
using DepsPtr = std::shared_ptr<const Deps>;

using json_members::get_int;
using json_members::get_string;

Error validation(std::string message);
Error not_found(std::string message);
// "1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: Member must satisfy regular
// expression pattern: [\.\-_A-Za-z0-9]+" unless `value` is 1..max of [.-_A-Za-z0-9] (and '/' when `slash`).
Status check_name(std::string_view value, std::string_view member, size_t max, bool slash = false);

std::string bus_arn(const Scope& scope, std::string_view bus);
std::string rule_arn(const Scope& scope, std::string_view bus, std::string_view rule);
// The bus a request names by name or ARN ("default" when absent), in the caller's account and region.
Result<std::string> bus_name(const Ctx& ctx, const std::optional<std::string>& name_or_arn);
// The bus, which must exist (the default bus always does): ResourceNotFoundException otherwise.
Status require_bus(EventsTables& t, const Scope& scope, std::string_view bus);
Error rule_not_found(std::string_view rule, std::string_view bus);

// Tags given as [{Key, Value}]: keys 1-128 (not "aws:"), values 0-256.
Result<std::vector<store::ResourceTag>> parse_tags(const json::value* tags);
json::array tags_json(const std::vector<store::ResourceTag>& tags);

// Listing pages: the offset of the next item, as an opaque token of `listing`.
Result<size_t> page_start(const json::object& in, std::string_view listing);
std::string page_token(std::string_view listing, size_t next);

// Operation groups.
void add_rule_operations(api::JsonService& s, const DepsPtr& d);
void add_target_operations(api::JsonService& s, const DepsPtr& d);
void add_bus_operations(api::JsonService& s, const DepsPtr& d);
void add_event_operations(api::JsonService& s, const DepsPtr& d);

}  // namespace gantry::events::detail
