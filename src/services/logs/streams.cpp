// CreateLogStream, DeleteLogStream, DescribeLogStreams.
#include <fmt/format.h>

#include "core/pagination.h"
#include "services/logs/handlers.h"
#include "services/logs/tokens.h"

namespace gantry::logs {

namespace {

constexpr std::string_view kByName = "logs.DescribeLogStreams.name";
constexpr std::string_view kByTime = "logs.DescribeLogStreams.time";

Error invalid(std::string message) { return make_error(ErrorKind::kLogsInvalidParameter, std::move(message)); }

json::object encode_stream(const Scope& scope, const LogStream& s) {
  json::object o;
  o["logStreamName"] = s.name;
  o["creationTime"] = s.creation_ms;
  if (s.first_event_ms) o["firstEventTimestamp"] = *s.first_event_ms;
  if (s.last_event_ms) o["lastEventTimestamp"] = *s.last_event_ms;
  if (s.last_ingestion_ms) o["lastIngestionTime"] = *s.last_ingestion_ms;
  o["uploadSequenceToken"] = sequence_token(s.upload_sequence + 1);
  o["arn"] = scope.arn("logs", fmt::format("log-group:{}:log-stream:{}", s.group, s.name));
  o["storedBytes"] = s.stored_bytes;
  return o;
}

}  // namespace

Result<std::string> log_group_of(const Ctx& ctx, const json::object& in) {
  auto name = get_string(in, "logGroupName");
  auto ident = get_string(in, "logGroupIdentifier");
  if (name && ident) return invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  if (!name && !ident) return invalid("Either logGroupName or logGroupIdentifier must be given.");
  if (name) return *name;
  std::string id = *ident;
  if (!id.starts_with("arn:")) return id;
  auto arn = Arn::parse(id);
  if (!arn || arn->service != "logs" || !arn->resource.starts_with("log-group:"))
    return invalid(fmt::format("Invalid logGroupIdentifier: {}", id.substr(0, 256)));
  if (arn->account != ctx.scope.account || arn->region != ctx.scope.region) return group_not_found();
  std::string rest = arn->resource.substr(10);
  if (rest.ends_with(":*")) rest.resize(rest.size() - 2);
  return rest;
}

LogStream new_stream(const Scope& scope, std::string group, std::string name, int64_t now_ms) {
  LogStream s;
  s.account = scope.account;
  s.region = scope.region;
  s.group = std::move(group);
  s.name = std::move(name);
  s.creation_ms = now_ms;
  return s;
}

Out create_log_stream(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string group = get_string(in, "logGroupName").value_or("");
  std::string name = get_string(in, "logStreamName").value_or("");
  GANTRY_RETURN_IF_ERROR(check_stream_name(name));
  return store.write([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    if (t.find_stream(ctx.scope, group, name))
      return make_error(ErrorKind::kLogsResourceAlreadyExists, "The specified log stream already exists");
    t.put_stream(new_stream(ctx.scope, group, name, to_ms(ctx.now)));
    return json::object{};
  });
}

Out delete_log_stream(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string group = get_string(in, "logGroupName").value_or("");
  std::string name = get_string(in, "logStreamName").value_or("");
  return store.write([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    if (!t.find_stream(ctx.scope, group, name)) return stream_not_found();
    t.delete_stream(ctx.scope, group, name);
    return json::object{};
  });
}

Out describe_log_streams(LogsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, log_group_of(ctx, in));
  StreamFilter f;
  f.prefix = get_string(in, "logStreamNamePrefix").value_or("");
  f.order_by_last_event = get_string(in, "orderBy").value_or("LogStreamName") == "LastEventTime";
  f.descending = get_bool(in, "descending");
  if (f.order_by_last_event && in.contains("logStreamNamePrefix"))
    return invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
  int limit = static_cast<int>(get_int(in, "limit").value_or(50));
  std::string_view listing = f.order_by_last_event ? kByTime : kByName;
  if (auto token = get_string(in, "nextToken")) {
    auto after = decode_page_token(listing, *token);
    if (!after) return invalid("The specified nextToken is invalid.");
    auto slash = after->find('/');
    int64_t ts = 0;
    try {
      ts = std::stoll(after->substr(0, slash));
    } catch (const std::exception&) {
      return invalid("The specified nextToken is invalid.");
    }
    if (slash == std::string::npos) return invalid("The specified nextToken is invalid.");
    f.after = std::make_pair(ts, after->substr(slash + 1));
  }
  f.limit = limit + 1;
  return store.read([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    auto rows = t.list_streams(ctx.scope, group, f);
    json::array streams;
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(limit); ++i)
      streams.push_back(encode_stream(ctx.scope, rows[i]));
    json::object out{{"logStreams", std::move(streams)}};
    if (rows.size() > static_cast<size_t>(limit)) {
      const auto& last = rows[static_cast<size_t>(limit) - 1];
      int64_t key = f.order_by_last_event ? last.last_event_ms.value_or(0) : 0;
      out["nextToken"] = encode_page_token(listing, fmt::format("{}/{}", key, last.name));
    }
    return out;
  });
}

}  // namespace gantry::logs
