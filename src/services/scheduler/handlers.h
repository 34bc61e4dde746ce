// What the Scheduler operation files share: dependencies, names and ARNs of schedules and groups, member
// readers, errors in Scheduler's words, listing tokens.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/router.h"
#include "core/json_members.h"
#include "services/scheduler/model.h"
#include "services/scheduler/runner.h"

namespace gantry::scheduler::detail {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<json::object>;

// AWS's quota: 500 schedule groups per account and region, the default group among them.
inline constexpr size_t kMaxGroups = 500;
inline constexpr int kDefaultPageSize = 100;

struct Deps {
  SchedulerStore& store;
  Runner& runner;
};
using DepsPtr = std::shared_ptr<const Deps>;

using json_members::get_int;
using json_members::get_number;
using json_members::get_object;
using json_members::get_string;

Error validation(std::string message);
Error not_found(std::string message);
Error conflict(std::string message);
Error unsupported(std::string message);
// "1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: Member must satisfy
// regular expression pattern: <pattern>", as AWS words a value outside a member's pattern.
Error pattern_error(std::string_view value, std::string_view member, std::string_view pattern);
// Names of schedules and groups (and their prefixes): 1-64 of [0-9a-zA-Z-_.]. `member` as AWS names it in
// messages ("name", "groupName", "namePrefix").
Status check_name(std::string_view value, std::string_view member);

// ClientToken, when given: ^[a-zA-Z0-9-_]+$ (AWS's pattern). Gantry keeps no idempotency record: a repeated
// create answers ConflictException, a repeated delete ResourceNotFoundException.
Status check_client_token(const json::object& in);

std::string schedule_arn(const Scope& scope, std::string_view group, std::string_view name);
std::string group_arn(const Scope& scope, std::string_view group);
// The group a request names in `member` ("default" when absent), checked to be a valid name.
Result<std::string> group_of(const json::object& in, std::string_view member = "GroupName");
// The group, which must exist (the default group always does): ResourceNotFoundException otherwise.
Status require_group(SchedulerTables& t, const Scope& scope, std::string_view group);
Error group_not_found(std::string_view group);
Error schedule_not_found(std::string_view name);

// Tags given as [{Key, Value}]: keys 1-128 (not "aws:"), values 1-256; a repeated key keeps its last value.
Result<std::vector<store::ResourceTag>> parse_tags(const json::value* tags);
json::array tags_json(const std::vector<store::ResourceTag>& tags);
// aws:RequestTag/<key> and aws:TagKeys for IAM, of tags a request sets.
api::ConditionKeys request_tag_keys(const std::vector<store::ResourceTag>& tags);

// Listings: MaxResults (default 100) and the token's last key, refused when it is not a token of `listing`.
int page_size(const json::object& in);
Result<std::string> page_after(const json::object& in, std::string_view listing);

// The operation's answer (HTTP 200 with the JSON), or its error.
Result<api::RestResponse> reply(Out r);

// Operation groups.
void add_schedule_operations(api::RestService& s, const DepsPtr& d);
void add_group_operations(api::RestService& s, const DepsPtr& d);

}  // namespace gantry::scheduler::detail
