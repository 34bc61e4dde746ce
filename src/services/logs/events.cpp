// PutLogEvents, GetLogEvents, FilterLogEvents.
#include <fmt/format.h>

#include <algorithm>

#include "core/pagination.h"
#include "services/logs/filter_pattern.h"
#include "services/logs/handlers.h"
#include "services/logs/tokens.h"

namespace gantry::logs {

namespace {

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kMaxBatchBytes = 1048576;
constexpr int64_t kEventOverhead = 26;
constexpr int64_t kMaxResponseBytes = 1048576;
constexpr std::string_view kFilterListing = "logs.FilterLogEvents";

Error invalid(std::string message) { return make_error(ErrorKind::kLogsInvalidParameter, std::move(message)); }

int event_limit(const json::object& in) { return static_cast<int>(get_int(in, "limit").value_or(10000)); }

// Keeps events from the front of `events` (in their order) while their size fits in a response.
void cap_response_bytes(std::vector<StoredEvent>& events) {
  int64_t bytes = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    bytes += static_cast<int64_t>(events[i].message.size()) + kEventOverhead;
    if (bytes > kMaxResponseBytes && i > 0) {
      events.resize(i);
      return;
    }
  }
}

}  // namespace

LogStream append_to_stream(LogsTables& t, LogStream stream, const std::vector<Event>& events, int64_t now_ms) {
  for (const auto& e : events) {
    t.insert_event(Scope{stream.account, stream.region}, stream.group, stream.name, e.timestamp_ms, now_ms, e.message);
    stream.first_event_ms = std::min(stream.first_event_ms.value_or(e.timestamp_ms), e.timestamp_ms);
    stream.last_event_ms = std::max(stream.last_event_ms.value_or(e.timestamp_ms), e.timestamp_ms);
    stream.stored_bytes += static_cast<int64_t>(e.message.size());
  }
  if (!events.empty()) {
    stream.last_ingestion_ms = now_ms;
    ++stream.upload_sequence;
  }
  t.put_stream(stream);
  return stream;
}

Out put_log_events(LogsStore& store, Ctx& ctx, json::object& in) {
  std::string group = get_string(in, "logGroupName").value_or("");
  std::string name = get_string(in, "logStreamName").value_or("");
  std::vector<Event> events;
  int64_t bytes = 0;
  for (const auto& v : in.at("logEvents").as_array()) {
    const auto& o = v.as_object();
    Event e{get_int(o, "timestamp").value_or(0), get_string(o, "message").value_or("")};
    if (!events.empty() && e.timestamp_ms < events.back().timestamp_ms)
      return invalid("Log events in a single PutLogEvents request must be in chronological order.");
    bytes += static_cast<int64_t>(e.message.size()) + kEventOverhead;
    events.push_back(std::move(e));
  }
  if (events.back().timestamp_ms - events.front().timestamp_ms > kDayMs)
    return invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
  if (bytes > kMaxBatchBytes)
    return invalid(fmt::format("Upload too large: {} bytes exceeds limit of {}", bytes, kMaxBatchBytes));
  int64_t now = to_ms(ctx.now);
  return store.write([&](LogsTables& t) -> Out {
    auto g = t.find_group(ctx.scope, group);
    if (!g) return group_not_found();
    auto s = t.find_stream(ctx.scope, group, name);
    if (!s) return stream_not_found();
    // Events are sorted: the too old and expired ones are a prefix, the too new ones a suffix.
    auto count_before = [&](int64_t limit_ms) {
      return static_cast<size_t>(
          std::count_if(events.begin(), events.end(), [&](const Event& e) { return e.timestamp_ms < limit_ms; }));
    };
    size_t too_old_end = count_before(now - 14 * kDayMs);
    size_t expired_end = g->retention_days ? count_before(now - *g->retention_days * kDayMs) : 0;
    size_t too_new_start = count_before(now + 2 * kHourMs + 1);
    size_t begin = std::max(too_old_end, expired_end);
    size_t end = std::max(begin, too_new_start);
    std::vector<Event> accepted(events.begin() + static_cast<std::ptrdiff_t>(begin),
                                events.begin() + static_cast<std::ptrdiff_t>(end));
    auto stored = append_to_stream(t, *s, accepted, now);
    json::object out{{"nextSequenceToken", sequence_token(stored.upload_sequence + 1)}};
    json::object rejected;
    if (too_new_start < events.size()) rejected["tooNewLogEventStartIndex"] = too_new_start;
    if (too_old_end > 0) rejected["tooOldLogEventEndIndex"] = too_old_end;
    if (expired_end > 0) rejected["expiredLogEventEndIndex"] = expired_end;
    if (!rejected.empty()) out["rejectedLogEventsInfo"] = std::move(rejected);
    return out;
  });
}

Out get_log_events(LogsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, log_group_of(ctx, in));
  std::string name = get_string(in, "logStreamName").value_or("");
  std::optional<EventToken> token;
  if (auto text = get_string(in, "nextToken")) {
    token = decode_event_token(*text);
    if (!token) return invalid("The specified nextToken is invalid.");
  }
  EventQuery q;
  q.streams = {name};
  q.start_ms = get_int(in, "startTime");
  q.end_ms = get_int(in, "endTime");
  q.limit = event_limit(in);
  bool forward = token ? token->forward : get_bool(in, "startFromHead");
  if (token && token->forward) q.after = token->key;
  if (token && !token->forward) q.before = token->key;
  q.descending = !forward;
  return store.read([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    if (!t.find_stream(ctx.scope, group, name)) return stream_not_found();
    auto rows = t.events(ctx.scope, group, q);
    cap_response_bytes(rows);
    if (q.descending) std::reverse(rows.begin(), rows.end());
    json::array events;
    for (const auto& e : rows)
      events.push_back(
          json::object{{"timestamp", e.timestamp}, {"message", e.message}, {"ingestionTime", e.ingestion_ms}});
    EventToken next_forward{true, {}}, next_backward{false, {}};
    if (!rows.empty()) {
      next_forward.key = rows.back().key();
      next_backward.key = rows.front().key();
    } else if (token && token->forward) {
      // Nothing after the token: the same token comes back, and reading backwards from it returns
      // what precedes the position it stands for.
      next_forward.key = token->key;
      next_backward.key = EventKey{token->key.timestamp, token->key.seq + 1};
    } else if (token) {
      next_backward.key = token->key;
      next_forward.key = EventKey{token->key.timestamp, std::max<int64_t>(token->key.seq - 1, 0)};
    }
    return json::object{{"events", std::move(events)},
                        {"nextForwardToken", encode_event_token(next_forward)},
                        {"nextBackwardToken", encode_event_token(next_backward)}};
  });
}

Out filter_log_events(LogsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto group, log_group_of(ctx, in));
  EventQuery q;
  if (auto* names = in.if_contains("logStreamNames"))
    for (const auto& n : names->as_array()) q.streams.emplace_back(n.as_string());
  q.stream_prefix = get_string(in, "logStreamNamePrefix").value_or("");
  if (!q.streams.empty() && in.contains("logStreamNamePrefix"))
    return invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
  q.start_ms = get_int(in, "startTime");
  q.end_ms = get_int(in, "endTime");
  if (q.start_ms && q.end_ms && *q.start_ms > *q.end_ms) return invalid("startTime must not be after endTime.");
  GANTRY_ASSIGN_OR_RETURN(auto pattern, parse_filter_pattern(get_string(in, "filterPattern").value_or("")));
  int limit = event_limit(in);
  if (auto token = get_string(in, "nextToken")) {
    auto key = decode_page_token(kFilterListing, *token);
    auto slash = key ? key->find('/') : std::string::npos;
    if (slash == std::string::npos) return invalid("The specified nextToken is invalid.");
    try {
      q.after = EventKey{std::stoll(key->substr(0, slash)), std::stoll(key->substr(slash + 1))};
    } catch (const std::exception&) {
      return invalid("The specified nextToken is invalid.");
    }
  }
  return store.read([&](LogsTables& t) -> Out {
    if (!t.find_group(ctx.scope, group)) return group_not_found();
    std::vector<StoredEvent> found;
    int64_t bytes = 0;
    bool more = false;
    q.limit = 1000;
    while (!more) {
      auto rows = t.events(ctx.scope, group, q);
      for (auto& e : rows) {
        if (!pattern.matches(e.message)) continue;
        int64_t size = static_cast<int64_t>(e.message.size()) + kEventOverhead;
        if (static_cast<int>(found.size()) == limit || (bytes + size > kMaxResponseBytes && !found.empty())) {
          more = true;
          break;
        }
        bytes += size;
        found.push_back(std::move(e));
      }
      if (rows.size() < static_cast<size_t>(q.limit)) break;
      q.after = rows.back().key();
    }
    json::array events;
    for (const auto& e : found)
      events.push_back(json::object{{"logStreamName", e.stream},
                                    {"timestamp", e.timestamp},
                                    {"message", e.message},
                                    {"ingestionTime", e.ingestion_ms},
                                    {"eventId", event_id(e.seq)}});
    json::array searched;
    StreamFilter sf;
    sf.prefix = q.stream_prefix;
    sf.limit = 1 << 30;
    for (const auto& s : t.list_streams(ctx.scope, group, sf)) {
      if (!q.streams.empty() && std::find(q.streams.begin(), q.streams.end(), s.name) == q.streams.end()) continue;
      searched.push_back(json::object{{"logStreamName", s.name}, {"searchedCompletely", !more}});
    }
    json::object out{{"events", std::move(events)}, {"searchedLogStreams", std::move(searched)}};
    if (more)
      out["nextToken"] =
          encode_page_token(kFilterListing, fmt::format("{}/{}", found.back().timestamp, found.back().seq));
    return out;
  });
}

}  // namespace gantry::logs
