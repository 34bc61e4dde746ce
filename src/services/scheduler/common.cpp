// Names, ARNs, member readers, errors, tags and listing tokens shared by the Scheduler operations; the
// ScheduleExpression parser Scheduler's API and whatever fires schedules read expressions with.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/pagination.h"
#include "services/scheduler/handlers.h"

namespace gantry::scheduler {

namespace {

Error invalid_expression(std::string_view text) {
  return make_error(ErrorKind::kValidation, fmt::format("Invalid Schedule Expression {}.", text.substr(0, 256)));
}

}  // namespace

Result<ScheduleExpression> parse_schedule_expression(std::string_view text) {
  if (text.starts_with("at(")) {
    auto at = schedule::parse_at(text);
    if (!at) return invalid_expression(text);
    return ScheduleExpression{schedule::At{*at}};
  }
  std::string canonical(text);
  // Scheduler takes "rate(2 minute)" and "rate(1 hours)" (EventBridge rules do not): the unit in the number
  // schedule::parse_expression expects.
  if (text.starts_with("rate(") && text.ends_with(")")) {
    std::string_view inner = text.substr(5, text.size() - 6);
    auto space = inner.find(' ');
    if (space != std::string_view::npos) {
      std::string_view value = inner.substr(0, space);
      std::string unit(inner.substr(space + 1));
      if (unit.ends_with('s')) unit.pop_back();
      if (unit == "minute" || unit == "hour" || unit == "day") {
        int64_t n = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        bool one = ec == std::errc() && p == value.data() + value.size() && n == 1;
        canonical = fmt::format("rate({} {}{})", value, unit, one ? "" : "s");
      }
    }
  }
  auto e = schedule::parse_expression(canonical);
  if (!e) return invalid_expression(text);
  return ScheduleExpression{std::move(*e)};
}

namespace detail {

Error validation(std::string message) { return make_error(ErrorKind::kValidation, std::move(message)); }
Error not_found(std::string message) { return make_error(ErrorKind::kSchedulerResourceNotFound, std::move(message)); }
Error conflict(std::string message) { return make_error(ErrorKind::kSchedulerConflict, std::move(message)); }
Error unsupported(std::string message) { return make_error(ErrorKind::kUnsupportedOperation, std::move(message)); }

Error pattern_error(std::string_view value, std::string_view member, std::string_view pattern) {
  return validation(fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member "
                                "must satisfy regular expression pattern: {}",
                                value.substr(0, 256), member, pattern));
}

Status check_name(std::string_view value, std::string_view member) {
  bool ok = !value.empty() && value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
           c == '.';
  });
  if (ok) return {};
  if (value.size() > 64)
    return validation(fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: "
                                  "Member must have length less than or equal to 64",
                                  value.substr(0, 256), member));
  return pattern_error(value, member, "^[0-9a-zA-Z-_.]+$");
}

Status check_client_token(const json::object& in) {
  auto token = get_string(in, "ClientToken");
  if (!token) return {};
  if (!token->empty() && std::all_of(token->begin(), token->end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
      }))
    return {};
  return pattern_error(*token, "clientToken", "^[a-zA-Z0-9-_]+$");
}

std::string schedule_arn(const Scope& scope, std::string_view group, std::string_view name) {
  return scope.arn("scheduler", fmt::format("schedule/{}/{}", group, name));
}

std::string group_arn(const Scope& scope, std::string_view group) {
  return scope.arn("scheduler", fmt::format("schedule-group/{}", group));
}

Result<std::string> group_of(const json::object& in, std::string_view member) {
  auto group = get_string(in, member);
  if (!group) return std::string(kDefaultGroup);
  GANTRY_RETURN_IF_ERROR(check_name(*group, "groupName"));
  return *group;
}

Error group_not_found(std::string_view group) {
  return not_found(fmt::format("Schedule group {} does not exist.", group));
}

Error schedule_not_found(std::string_view name) { return not_found(fmt::format("Schedule {} does not exist.", name)); }

Status require_group(SchedulerTables& t, const Scope& scope, std::string_view group) {
  if (group == kDefaultGroup || t.find_group(scope, group)) return {};
  return group_not_found(group);
}

Result<std::vector<store::ResourceTag>> parse_tags(const json::value* tags) {
  std::vector<store::ResourceTag> out;
  if (tags == nullptr || !tags->is_array()) return out;
  for (const auto& v : tags->as_array()) {
    if (!v.is_object()) continue;
    auto key = get_string(v.as_object(), "Key").value_or("");
    auto value = get_string(v.as_object(), "Value").value_or("");
    if (key.empty() || key.size() > 128 || value.empty() || value.size() > 256)
      return validation("Tag keys must be 1-128 characters and tag values 1-256 characters.");
    if (key.starts_with("aws:")) return validation("Invalid tag key: the aws: prefix is reserved for AWS use.");
    auto same = std::find_if(out.begin(), out.end(), [&](const auto& t) { return t.key == key; });
    if (same != out.end()) {
      same->value = value;
    } else {
      out.push_back(store::ResourceTag{key, value});
    }
  }
  return out;
}

json::array tags_json(const std::vector<store::ResourceTag>& tags) {
  json::array out;
  for (const auto& t : tags) out.push_back(json::object{{"Key", t.key}, {"Value", t.value}});
  return out;
}

api::ConditionKeys request_tag_keys(const std::vector<store::ResourceTag>& tags) {
  api::ConditionKeys keys;
  for (const auto& t : tags) {
    keys.emplace_back(api::tag_condition_key("aws:requesttag/", t.key), t.value);
    keys.emplace_back("aws:tagkeys", t.key);
  }
  return keys;
}

int page_size(const json::object& in) {
  auto n = get_int(in, "MaxResults").value_or(kDefaultPageSize);
  return static_cast<int>(std::clamp<int64_t>(n, 1, kDefaultPageSize));
}

Result<std::string> page_after(const json::object& in, std::string_view listing) {
  auto token = get_string(in, "NextToken");
  if (!token) return std::string();
  auto last = decode_page_token(listing, *token);
  if (!last) return validation("The NextToken provided is invalid.");
  return *last;
}

Result<api::RestResponse> reply(Out r) {
  if (!r) return r.error();
  api::RestResponse out;
  out.json = std::move(*r);
  return out;
}

}  // namespace detail

}  // namespace gantry::scheduler
