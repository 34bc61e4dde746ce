// CloudWatch Logs domain types and the transaction-scoped view of Logs state (LogsTables). Handlers and
// the Sink work on these; only sqlite_tables.cpp knows how they are stored.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/arn.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/database.h"
#include "store/service_store.h"

namespace gantry::logs {

using store::to_ms;  // milliseconds since the epoch, as Logs counts time

// A log line to store: its timestamp (ms since the epoch) and text.
struct Event {
  int64_t timestamp_ms = 0;
  std::string message;
};

struct LogGroup {
  std::string account;
  std::string region;
  std::string name;
  int64_t creation_ms = 0;
  std::optional<int64_t> retention_days;
  std::string log_group_class = "STANDARD";  // STANDARD | INFREQUENT_ACCESS
  int64_t stored_bytes = 0;                  // filled by reads: the sum over the group's streams
};

struct LogStream {
  std::string account;
  std::string region;
  std::string group;
  std::string name;
  int64_t creation_ms = 0;
  std::optional<int64_t> first_event_ms;
  std::optional<int64_t> last_event_ms;
  std::optional<int64_t> last_ingestion_ms;
  int64_t stored_bytes = 0;
  int64_t upload_sequence = 0;  // PutLogEvents calls so far; the sequence token is derived from it
};

// Where a reader stands between events: events are ordered by (timestamp, seq), seq being unique
// and increasing in the order events were stored.
struct EventKey {
  int64_t timestamp = 0;
  int64_t seq = 0;
  auto operator<=>(const EventKey&) const = default;
};

struct StoredEvent {
  std::string stream;
  int64_t timestamp = 0;
  int64_t seq = 0;
  int64_t ingestion_ms = 0;
  std::string message;
  EventKey key() const { return {timestamp, seq}; }
};

struct GroupFilter {
  std::string prefix;   // name prefix (case-sensitive)
  std::string pattern;  // substring of the name, case-insensitive
  std::optional<std::string> log_group_class;
  std::optional<std::string> after;  // resume after this name (exclusive)
  int limit = 50;
};

struct StreamFilter {
  std::string prefix;
  bool order_by_last_event = false;  // else by name
  bool descending = false;
  // Resume after this sort key (exclusive): (last event timestamp or 0, name) or (0, name).
  std::optional<std::pair<int64_t, std::string>> after;
  int limit = 50;
};

struct EventQuery {
  std::vector<std::string> streams;  // only these streams; empty: every stream
  std::string stream_prefix;         // only streams with this prefix (with `streams` empty)
  std::optional<int64_t> start_ms;   // timestamp >= start
  std::optional<int64_t> end_ms;     // timestamp < end
  std::optional<EventKey> after;     // key > after
  std::optional<EventKey> before;    // key < before
  bool descending = false;           // order of the rows returned (key DESC when true)
  int limit = 10000;
};

// One transaction's view of Logs state. Valid only inside LogsStore::read/write. Everything is keyed
// by the caller's scope (account, region).
class LogsTables {
 public:
  virtual ~LogsTables() = default;

  virtual std::optional<LogGroup> find_group(const Scope& scope, std::string_view name) = 0;
  // Inserts or replaces the group (stored_bytes is ignored).
  virtual void put_group(const LogGroup& group) = 0;
  // Removes the group with its streams, events and tags.
  virtual void delete_group(const Scope& scope, std::string_view name) = 0;
  // Groups ordered by name.
  virtual std::vector<LogGroup> list_groups(const Scope& scope, const GroupFilter& filter) = 0;

  virtual std::optional<LogStream> find_stream(const Scope& scope, std::string_view group, std::string_view name) = 0;
  virtual void put_stream(const LogStream& stream) = 0;
  // Removes the stream with its events.
  virtual void delete_stream(const Scope& scope, std::string_view group, std::string_view name) = 0;
  virtual std::vector<LogStream> list_streams(const Scope& scope, std::string_view group, const StreamFilter& f) = 0;

  // Stores one event; returns its seq.
  virtual int64_t insert_event(const Scope& scope, std::string_view group, std::string_view stream, int64_t timestamp,
                               int64_t ingestion_ms, std::string_view message) = 0;
  virtual std::vector<StoredEvent> events(const Scope& scope, std::string_view group, const EventQuery& q) = 0;

  // Tags of a log group; set_tags overwrites values of existing keys.
  virtual std::map<std::string, std::string> tags(const Scope& scope, std::string_view group) = 0;
  virtual void set_tags(const Scope& scope, std::string_view group, const std::map<std::string, std::string>& tags) = 0;
  virtual void remove_tags(const Scope& scope, std::string_view group, const std::vector<std::string>& keys) = 0;
};

using TxFn = std::function<Result<boost::json::object>(LogsTables&)>;

// Runs Logs work in transactions. write() commits only when fn succeeds.
class LogsStore {
 public:
  virtual ~LogsStore() = default;
  virtual Result<boost::json::object> read(const TxFn& fn) = 0;
  virtual Result<boost::json::object> write(const TxFn& fn) = 0;
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<LogsStore> make_sqlite_store(store::Database& db);

}  // namespace gantry::logs
