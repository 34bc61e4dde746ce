// CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy, DeleteRetentionPolicy; the
// request helpers shared by the Logs handlers.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "core/pagination.h"
#include "services/logs/handlers.h"

namespace gantry::logs {

namespace {

constexpr std::string_view kGroupListing = "logs.DescribeLogGroups";
constexpr std::array<int64_t, 22> kRetentionDays = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                                                    365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};

Error invalid(std::string message) { return make_error(ErrorKind::kLogsInvalidParameter, std::move(message)); }

json::object encode_group(const Scope& scope, const LogGroup& g) {
  json::object o;
  o["logGroupName"] = g.name;
  o["creationTime"] = g.creation_ms;
  if (g.retention_days) o["retentionInDays"] = *g.retention_days;
  o["metricFilterCount"] = 0;
  o["arn"] = group_arn(scope, g.name) + ":*";
  o["storedBytes"] = g.stored_bytes;
  o["logGroupClass"] = g.log_group_class;
  o["logGroupArn"] = group_arn(scope, g.name);
  return o;
}

Result<std::string> group_name_of(const json::object& in) {
  std::string name = get_string(in, "logGroupName").value_or("");
  GANTRY_RETURN_IF_ERROR(check_group_name(name));
  return name;
}

}  // namespace

std::optional<std::string> get_string(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<int64_t> get_int(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  if (v == nullptr || !(v->is_int64() || v->is_uint64())) return std::nullopt;
  return v->to_number<int64_t>();
}

bool get_bool(const json::object& in, std::string_view key) {
  auto* v = in.if_contains(key);
  return v != nullptr && v->is_bool() && v->as_bool();
}

Status check_group_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 512;
  for (char c : name)
    ok =
        ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '/' || c == '#');
  if (!ok)
    return invalid(fmt::format(
        "1 validation error detected: Value '{}' at 'logGroupName' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: [\\.\\-_/#A-Za-z0-9]+ and have a length between 1 and 512",
        name.substr(0, 512)));
  if (name.starts_with("aws/"))
    return invalid(
        fmt::format("Log group name '{}' is invalid: names starting with 'aws/' are reserved for AWS.", name));
  return {};
}

Status check_stream_name(std::string_view name) {
  if (name.empty() || name.size() > 512 || name.find_first_of(":*") != std::string_view::npos)
    return invalid(fmt::format(
        "1 validation error detected: Value '{}' at 'logStreamName' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: [^:*]* and have a length between 1 and 512",
        name.substr(0, 512)));
  return {};
}

Error group_not_found() {
  return make_error(ErrorKind::kLogsResourceNotFound, "The specified log group does not exist.");
}

Error stream_not_found() {
  return make_error(ErrorKind::kLogsResourceNotFound, "The specified log stream does not exist.");
}

std::string group_arn(const Scope& scope, std::string_view name) {
  return scope.arn("logs", fmt::format("log-group:{}", name));
}

LogGroup new_group(const Scope& scope, std::string name, int64_t now_ms) {
  LogGroup g;
  g.account = scope.account;
  g.region = scope.region;
  g.name = std::move(name);
  g.creation_ms = now_ms;
  return g;
}

Result<std::map<std::string, std::string>> parse_tags(const json::value* tags) {
  std::map<std::string, std::string> out;
  if (tags == nullptr || !tags->is_object()) return out;
  if (tags->as_object().size() > 50) return invalid("A log group can have at most 50 tags.");
  for (const auto& [k, v] : tags->as_object()) {
    std::string key(k);
    std::string value(v.is_string() ? std::string_view(v.as_string()) : std::string_view());
    if (key.empty() || key.size() > 128) return invalid("Tag keys must be between 1 and 128 characters.");
    if (value.size() > 256) return invalid(fmt::format("The value of tag '{}' is longer than 256 characters.", key));
    std::string lower = key.substr(0, 4);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "aws:") return invalid(fmt::format("Tag key '{}' uses the reserved prefix 'aws:'.", key));
    out[key] = value;
  }
  return out;
}

Out create_log_group(LogsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, group_name_of(in));
  std::string cls = get_string(in, "logGroupClass").value_or("STANDARD");
  if (cls != "STANDARD" && cls != "INFREQUENT_ACCESS")
    return invalid(
        fmt::format("Log group class '{}' is not supported by Gantry: use STANDARD or INFREQUENT_ACCESS.", cls));
  if (in.contains("kmsKeyId"))
    return invalid("Gantry does not encrypt log groups with KMS: kmsKeyId is not supported.");
  if (get_bool(in, "deletionProtectionEnabled"))
    return invalid("Gantry does not support deletion protection of log groups.");
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(in.if_contains("tags")));
  return store.write([&](LogsTables& t) -> Out {
    if (t.find_group(ctx.scope, name))
      return make_error(ErrorKind::kLogsResourceAlreadyExists, "The specified log group already exists");
    auto g = new_group(ctx.scope, name, to_ms(ctx.now));
    g.log_group_class = cls;
    t.put_group(g);
    t.set_tags(ctx.scope, name, tags);
    return json::object{};
  });
}

Out delete_log_group(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "logGroupName").value_or("");
  return store.write([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, name)) return group_not_found();
    t.delete_group(ctx.scope, name);
    return json::object{};
  });
}

Out describe_log_groups(LogsStore& store, Ctx& ctx, json::object& in) {
  GroupFilter f;
  f.prefix = get_string(in, "logGroupNamePrefix").value_or("");
  f.pattern = get_string(in, "logGroupNamePattern").value_or("");
  if (in.contains("logGroupNamePrefix") && in.contains("logGroupNamePattern"))
    return invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
  if (in.contains("logGroupIdentifiers") || in.contains("accountIdentifiers") || get_bool(in, "includeLinkedAccounts"))
    return invalid(
        "Gantry has no cross-account observability: logGroupIdentifiers, accountIdentifiers and "
        "includeLinkedAccounts are not supported.");
  f.log_group_class = get_string(in, "logGroupClass");
  f.limit = static_cast<int>(get_int(in, "limit").value_or(50));
  if (auto token = get_string(in, "nextToken")) {
    auto after = decode_page_token(kGroupListing, *token);
    if (!after) return invalid("The specified nextToken is invalid.");
    f.after = *after;
  }
  int limit = f.limit;
  f.limit = limit + 1;
  return store.read([&](LogsTables& t) -> Out {
    auto rows = t.list_groups(ctx.scope, f);
    json::array groups;
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(limit); ++i)
      groups.push_back(encode_group(ctx.scope, rows[i]));
    json::object out{{"logGroups", std::move(groups)}};
    if (rows.size() > static_cast<size_t>(limit))
      out["nextToken"] = encode_page_token(kGroupListing, rows[static_cast<size_t>(limit) - 1].name);
    return out;
  });
}

Out put_retention_policy(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "logGroupName").value_or("");
  int64_t days = get_int(in, "retentionInDays").value_or(0);
  if (std::find(kRetentionDays.begin(), kRetentionDays.end(), days) == kRetentionDays.end()) {
    std::string allowed;
    for (auto d : kRetentionDays) allowed += fmt::format("{}{}", allowed.empty() ? "" : ", ", d);
    return invalid(fmt::format(
        "1 validation error detected: Value '{}' at 'retentionInDays' failed to satisfy constraint: Member must "
        "satisfy enum value set: [{}]",
        days, allowed));
  }
  return store.write([&](LogsTables& t) -> Out {
    auto g = t.find_group(ctx.scope, name);
    if (!g) return group_not_found();
    g->retention_days = days;
    t.put_group(*g);
    return json::object{};
  });
}

Out delete_retention_policy(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "logGroupName").value_or("");
  return store.write([&](LogsTables& t) -> Out {
    auto g = t.find_group(ctx.scope, name);
    if (!g) return group_not_found();
    g->retention_days.reset();
    t.put_group(*g);
    return json::object{};
  });
}

}  // namespace gantry::logs
