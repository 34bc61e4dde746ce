#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "core/pagination.h"
#include "services/events/handlers.h"

namespace gantry::events::detail {

Error validation(std::string message) { return make_error(ErrorKind::kValidation, std::move(message)); }
Error not_found(std::string message) { return make_error(ErrorKind::kEventsResourceNotFound, std::move(message)); }

Status check_name(std::string_view value, std::string_view member, size_t max, bool slash) {
  bool ok = !value.empty() && value.size() <= max;
  for (char c : value)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || (slash && c == '/')))
      ok = false;
  if (ok) return {};
  return validation(fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member "
                                "must satisfy regular expression pattern: [{}\\.\\-_A-Za-z0-9]+",
                                value, member, slash ? "/" : ""));
}

std::string bus_arn(const Scope& scope, std::string_view bus) {
  return fmt::format("arn:aws:events:{}:{}:event-bus/{}", scope.region, scope.account, bus);
}

std::string rule_arn(const Scope& scope, std::string_view bus, std::string_view rule) {
  if (bus == kDefaultBus) return fmt::format("arn:aws:events:{}:{}:rule/{}", scope.region, scope.account, rule);
  return fmt::format("arn:aws:events:{}:{}:rule/{}/{}", scope.region, scope.account, bus, rule);
}

Result<std::string> bus_name(const Ctx& ctx, const std::optional<std::string>& name_or_arn) {
  if (!name_or_arn) return std::string(kDefaultBus);
  const std::string& v = *name_or_arn;
  if (v.starts_with("arn:")) {
    auto arn = Arn::parse(v);
    if (!arn || arn->service != "events" || !arn->resource.starts_with("event-bus/"))
      return validation(fmt::format("Parameter {} is not valid. Reason: Provided Arn is not in correct format.", v));
    if (arn->account != ctx.scope.account || arn->region != ctx.scope.region)
      return not_found(fmt::format("Event bus {} does not exist.", v));
    return arn->resource.substr(10);
  }
  GANTRY_RETURN_IF_ERROR(check_name(v, "eventBusName", 256, true));
  return v;
}

Status require_bus(EventsTables& t, const Scope& scope, std::string_view bus) {
  if (bus == kDefaultBus || t.find_bus(scope, bus)) return {};
  return not_found(fmt::format("Event bus {} does not exist.", bus));
}

Error rule_not_found(std::string_view rule, std::string_view bus) {
  return not_found(fmt::format("Rule {} does not exist on EventBus {}.", rule, bus));
}

Result<std::vector<store::ResourceTag>> parse_tags(const json::value* tags) {
  std::vector<store::ResourceTag> out;
  if (tags == nullptr || !tags->is_array()) return out;
  for (const auto& v : tags->as_array()) {
    if (!v.is_object()) continue;
    auto key = get_string(v.as_object(), "Key").value_or("");
    auto value = get_string(v.as_object(), "Value").value_or("");
    if (key.empty() || key.size() > 128 || value.size() > 256)
      return validation("Tag keys must be 1-128 characters and values at most 256.");
    if (key.starts_with("aws:")) return validation("Invalid tag key: the aws: prefix is reserved for AWS use.");
    bool replaced = false;
    for (auto& t : out)
      if (t.key == key) {
        t.value = value;
        replaced = true;
      }
    if (!replaced) out.push_back(store::ResourceTag{key, value});
  }
  if (out.size() > 50) return make_error(ErrorKind::kEventsLimitExceeded, "A resource can have at most 50 tags.");
  return out;
}

json::array tags_json(const std::vector<store::ResourceTag>& tags) {
  json::array out;
  for (const auto& t : tags) out.push_back(json::object{{"Key", t.key}, {"Value", t.value}});
  return out;
}

Result<size_t> page_start(const json::object& in, std::string_view listing) {
  auto token = get_string(in, "NextToken");
  if (!token) return size_t{0};
  auto last = decode_page_token(listing, *token);
  size_t n = 0;
  if (last) {
    auto [p, ec] = std::from_chars(last->data(), last->data() + last->size(), n);
    if (ec == std::errc() && p == last->data() + last->size()) return n;
  }
  return validation("The NextToken provided is invalid.");
}

std::string page_token(std::string_view listing, size_t next) { return encode_page_token(listing, std::to_string(next)); }

}  // namespace gantry::events::detail
