// The CloudWatch Logs operations Gantry implements (one function per operation) and the helpers they
// share. Inputs arrive validated against the Logs model (types, required members, enums, lengths).
#pragma once

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/context.h"
#include "core/error.h"
#include "services/logs/model.h"

namespace gantry::logs {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<json::object>;

// groups.cpp
Out create_log_group(LogsStore& store, Ctx& ctx, json::object& in);
Out delete_log_group(LogsStore& store, Ctx& ctx, json::object& in);
Out describe_log_groups(LogsStore& store, Ctx& ctx, json::object& in);
Out put_retention_policy(LogsStore& store, Ctx& ctx, json::object& in);
Out delete_retention_policy(LogsStore& store, Ctx& ctx, json::object& in);

// streams.cpp
Out create_log_stream(LogsStore& store, Ctx& ctx, json::object& in);
Out delete_log_stream(LogsStore& store, Ctx& ctx, json::object& in);
Out describe_log_streams(LogsStore& store, Ctx& ctx, json::object& in);

// events.cpp
Out put_log_events(LogsStore& store, Ctx& ctx, json::object& in);
Out get_log_events(LogsStore& store, Ctx& ctx, json::object& in);
Out filter_log_events(LogsStore& store, Ctx& ctx, json::object& in);

// tags.cpp
Out tag_resource(LogsStore& store, Ctx& ctx, json::object& in);
Out untag_resource(LogsStore& store, Ctx& ctx, json::object& in);
Out list_tags_for_resource(LogsStore& store, Ctx& ctx, json::object& in);
Out tag_log_group(LogsStore& store, Ctx& ctx, json::object& in);
Out untag_log_group(LogsStore& store, Ctx& ctx, json::object& in);
Out list_tags_log_group(LogsStore& store, Ctx& ctx, json::object& in);

// Shared helpers.
std::optional<std::string> get_string(const json::object& in, std::string_view key);
std::optional<int64_t> get_int(const json::object& in, std::string_view key);
bool get_bool(const json::object& in, std::string_view key);

// Log group names: 1-512 of [.-_/#A-Za-z0-9], not starting with "aws/" (reserved for AWS).
Status check_group_name(std::string_view name);
// Log stream names: 1-512 characters without ':' or '*'.
Status check_stream_name(std::string_view name);

Error group_not_found();
Error stream_not_found();

LogGroup new_group(const Scope& scope, std::string name, int64_t now_ms);
LogStream new_stream(const Scope& scope, std::string group, std::string name, int64_t now_ms);

// Tags as given in a request's map: key 1-128 (not "aws:..."), value 0-256, at most 50.
Result<std::map<std::string, std::string>> parse_tags(const json::value* tags);

// Stores `events` (in the order given) in `stream` and updates its first/last event times, ingestion
// time, stored bytes and upload sequence; returns the stream as stored.
LogStream append_to_stream(LogsTables& t, LogStream stream, const std::vector<Event>& events, int64_t now_ms);

// "arn:aws:logs:REGION:ACCOUNT:log-group:NAME" (no ":*").
std::string group_arn(const Scope& scope, std::string_view name);

// The group a request names by logGroupName or logGroupIdentifier (a name or a log group ARN, with or
// without ":*"); exactly one of them must be given.
Result<std::string> log_group_of(const Ctx& ctx, const json::object& in);

}  // namespace gantry::logs
