// SQLite storage of CloudWatch Logs state.
#include <fmt/format.h>

#include "services/logs/model.h"
#include "store/service_store.h"

namespace gantry::logs {

namespace json = boost::json;


namespace {

std::optional<int64_t> opt_int(store::Statement& q, int col) {
  if (q.is_null(col)) return std::nullopt;
  return q.integer(col);
}

constexpr std::string_view kGroupColumns =
    "g.account, g.region, g.name, g.creation_ms, g.retention_days, g.class, "
    "(SELECT coalesce(sum(s.stored_bytes), 0) FROM logs_streams s WHERE s.account = g.account AND "
    "s.region = g.region AND s.grp = g.name)";

LogGroup read_group(store::Statement& q) {
  LogGroup g;
  g.account = q.text(0);
  g.region = q.text(1);
  g.name = q.text(2);
  g.creation_ms = q.integer(3);
  g.retention_days = opt_int(q, 4);
  g.log_group_class = q.text(5);
  g.stored_bytes = q.integer(6);
  return g;
}

constexpr std::string_view kStreamColumns =
    "account, region, grp, name, creation_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes, "
    "upload_sequence";

LogStream read_stream(store::Statement& q) {
  LogStream s;
  s.account = q.text(0);
  s.region = q.text(1);
  s.group = q.text(2);
  s.name = q.text(3);
  s.creation_ms = q.integer(4);
  s.first_event_ms = opt_int(q, 5);
  s.last_event_ms = opt_int(q, 6);
  s.last_ingestion_ms = opt_int(q, 7);
  s.stored_bytes = q.integer(8);
  s.upload_sequence = q.integer(9);
  return s;
}

class SqliteTables final : public LogsTables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  std::optional<LogGroup> find_group(const Scope& scope, std::string_view name) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM logs_groups g WHERE g.account = ?1 AND g.region = ?2 AND g.name = ?3", kGroupColumns));
    q.bind(1, scope.account).bind(2, scope.region).bind(3, name);
    if (!q.step()) return std::nullopt;
    return read_group(q);
  }

  void put_group(const LogGroup& g) override {
    tx_.prepare(
           "INSERT OR REPLACE INTO logs_groups (account, region, name, creation_ms, retention_days, class) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, g.account)
        .bind(2, g.region)
        .bind(3, g.name)
        .bind(4, g.creation_ms)
        .bind(5, g.retention_days)
        .bind(6, g.log_group_class)
        .run();
  }

  void delete_group(const Scope& scope, std::string_view name) override {
    for (const char* table : {"logs_events", "logs_streams", "logs_tags"}) {
      tx_.prepare(fmt::format("DELETE FROM {} WHERE account = ?1 AND region = ?2 AND grp = ?3", table))
          .bind(1, scope.account)
          .bind(2, scope.region)
          .bind(3, name)
          .run();
    }
    tx_.prepare("DELETE FROM logs_groups WHERE account = ?1 AND region = ?2 AND name = ?3")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, name)
        .run();
  }

  std::vector<LogGroup> list_groups(const Scope& scope, const GroupFilter& f) override {
    std::string sql = fmt::format(
        "SELECT {} FROM logs_groups g WHERE g.account = ?1 AND g.region = ?2 AND substr(g.name, 1, ?3) = ?4 "
        "AND instr(lower(g.name), lower(?5)) > 0 AND g.name > ?6",
        kGroupColumns);
    if (f.log_group_class) sql += " AND g.class = ?7";
    sql += " ORDER BY g.name LIMIT ?8";
    auto q = tx_.prepare(sql);
    q.bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, static_cast<int64_t>(f.prefix.size()))
        .bind(4, f.prefix)
        .bind(5, f.pattern)
        .bind(6, f.after.value_or(""))
        .bind(8, static_cast<int64_t>(f.limit));
    if (f.log_group_class) q.bind(7, *f.log_group_class);
    std::vector<LogGroup> out;
    while (q.step()) out.push_back(read_group(q));
    return out;
  }

  std::optional<LogStream> find_stream(const Scope& scope, std::string_view group, std::string_view name) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM logs_streams WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4", kStreamColumns));
    q.bind(1, scope.account).bind(2, scope.region).bind(3, group).bind(4, name);
    if (!q.step()) return std::nullopt;
    return read_stream(q);
  }

  void put_stream(const LogStream& s) override {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO logs_streams ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                            kStreamColumns))
        .bind(1, s.account)
        .bind(2, s.region)
        .bind(3, s.group)
        .bind(4, s.name)
        .bind(5, s.creation_ms)
        .bind(6, s.first_event_ms)
        .bind(7, s.last_event_ms)
        .bind(8, s.last_ingestion_ms)
        .bind(9, s.stored_bytes)
        .bind(10, s.upload_sequence)
        .run();
  }

  void delete_stream(const Scope& scope, std::string_view group, std::string_view name) override {
    for (const char* table : {"logs_events", "logs_streams"}) {
      const char* column = std::string_view(table) == "logs_events" ? "stream" : "name";
      tx_.prepare(
             fmt::format("DELETE FROM {} WHERE account = ?1 AND region = ?2 AND grp = ?3 AND {} = ?4", table, column))
          .bind(1, scope.account)
          .bind(2, scope.region)
          .bind(3, group)
          .bind(4, name)
          .run();
    }
  }

  std::vector<LogStream> list_streams(const Scope& scope, std::string_view group, const StreamFilter& f) override {
    std::string sql = fmt::format(
        "SELECT {} FROM logs_streams WHERE account = ?1 AND region = ?2 AND grp = ?3 AND substr(name, 1, ?4) = ?5",
        kStreamColumns);
    const char* cmp = f.descending ? "<" : ">";
    const char* dir = f.descending ? "DESC" : "ASC";
    if (f.order_by_last_event) {
      if (f.after) sql += fmt::format(" AND (coalesce(last_event_ms, 0), name) {} (?6, ?7)", cmp);
      sql += fmt::format(" ORDER BY coalesce(last_event_ms, 0) {}, name {}", dir, dir);
    } else {
      if (f.after) sql += fmt::format(" AND name {} ?7", cmp);
      sql += fmt::format(" ORDER BY name {}", dir);
    }
    sql += " LIMIT ?8";
    auto q = tx_.prepare(sql);
    q.bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, group)
        .bind(4, static_cast<int64_t>(f.prefix.size()))
        .bind(5, f.prefix)
        .bind(8, static_cast<int64_t>(f.limit));
    if (f.after && f.order_by_last_event) q.bind(6, f.after->first);
    if (f.after) q.bind(7, f.after->second);
    std::vector<LogStream> out;
    while (q.step()) out.push_back(read_stream(q));
    return out;
  }

  int64_t insert_event(const Scope& scope, std::string_view group, std::string_view stream, int64_t timestamp,
                       int64_t ingestion_ms, std::string_view message) override {
    tx_.prepare(
           "INSERT INTO logs_events (account, region, grp, stream, timestamp, ingestion_ms, message) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, group)
        .bind(4, stream)
        .bind(5, timestamp)
        .bind(6, ingestion_ms)
        .bind(7, message)
        .run();
    auto q = tx_.prepare("SELECT last_insert_rowid()");
    q.step();
    return q.integer(0);
  }

  std::vector<StoredEvent> events(const Scope& scope, std::string_view group, const EventQuery& e) override {
    std::string sql =
        "SELECT stream, timestamp, seq, ingestion_ms, message FROM logs_events WHERE account = ?1 AND region = ?2 "
        "AND grp = ?3";
    if (!e.streams.empty()) {
      sql += " AND stream IN (";
      for (size_t i = 0; i < e.streams.size(); ++i) sql += fmt::format("{}?{}", i ? ", " : "", 20 + i);
      sql += ")";
    } else if (!e.stream_prefix.empty()) {
      sql += " AND substr(stream, 1, ?4) = ?5";
    }
    if (e.start_ms) sql += " AND timestamp >= ?6";
    if (e.end_ms) sql += " AND timestamp < ?7";
    if (e.after) sql += " AND (timestamp, seq) > (?8, ?9)";
    if (e.before) sql += " AND (timestamp, seq) < (?10, ?11)";
    sql += e.descending ? " ORDER BY timestamp DESC, seq DESC" : " ORDER BY timestamp ASC, seq ASC";
    sql += " LIMIT ?12";
    auto q = tx_.prepare(sql);
    q.bind(1, scope.account).bind(2, scope.region).bind(3, group).bind(12, static_cast<int64_t>(e.limit));
    for (size_t i = 0; i < e.streams.size(); ++i) q.bind(static_cast<int>(20 + i), e.streams[i]);
    if (e.streams.empty() && !e.stream_prefix.empty())
      q.bind(4, static_cast<int64_t>(e.stream_prefix.size())).bind(5, e.stream_prefix);
    if (e.start_ms) q.bind(6, *e.start_ms);
    if (e.end_ms) q.bind(7, *e.end_ms);
    if (e.after) q.bind(8, e.after->timestamp).bind(9, e.after->seq);
    if (e.before) q.bind(10, e.before->timestamp).bind(11, e.before->seq);
    std::vector<StoredEvent> out;
    while (q.step()) out.push_back(StoredEvent{q.text(0), q.integer(1), q.integer(2), q.integer(3), q.text(4)});
    return out;
  }

  std::map<std::string, std::string> tags(const Scope& scope, std::string_view group) override {
    auto q = tx_.prepare("SELECT key, value FROM logs_tags WHERE account = ?1 AND region = ?2 AND grp = ?3");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, group);
    std::map<std::string, std::string> out;
    while (q.step()) out[q.text(0)] = q.text(1);
    return out;
  }

  void set_tags(const Scope& scope, std::string_view group, const std::map<std::string, std::string>& tags) override {
    for (const auto& [k, v] : tags) {
      tx_.prepare(
             "INSERT INTO logs_tags (account, region, grp, key, value) VALUES (?1, ?2, ?3, ?4, ?5) "
             "ON CONFLICT (account, region, grp, key) DO UPDATE SET value = excluded.value")
          .bind(1, scope.account)
          .bind(2, scope.region)
          .bind(3, group)
          .bind(4, k)
          .bind(5, v)
          .run();
    }
  }

  void remove_tags(const Scope& scope, std::string_view group, const std::vector<std::string>& keys) override {
    for (const auto& k : keys) {
      tx_.prepare("DELETE FROM logs_tags WHERE account = ?1 AND region = ?2 AND grp = ?3 AND key = ?4")
          .bind(1, scope.account)
          .bind(2, scope.region)
          .bind(3, group)
          .bind(4, k)
          .run();
    }
  }

 private:
  store::Tx& tx_;
};


}  // namespace

std::vector<store::Migration> sqlite_migrations() {
  return {{"logs", 1, R"sql(
CREATE TABLE logs_groups (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  creation_ms INTEGER NOT NULL,
  retention_days INTEGER,
  class TEXT NOT NULL,
  PRIMARY KEY (account, region, name)
);
CREATE TABLE logs_streams (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  grp TEXT NOT NULL,
  name TEXT NOT NULL,
  creation_ms INTEGER NOT NULL,
  first_event_ms INTEGER,
  last_event_ms INTEGER,
  last_ingestion_ms INTEGER,
  stored_bytes INTEGER NOT NULL,
  upload_sequence INTEGER NOT NULL,
  PRIMARY KEY (account, region, grp, name)
);
CREATE INDEX logs_streams_last_event ON logs_streams (account, region, grp, coalesce(last_event_ms, 0), name);
CREATE TABLE logs_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  grp TEXT NOT NULL,
  stream TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  ingestion_ms INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX logs_events_stream ON logs_events (account, region, grp, stream, timestamp, seq);
CREATE INDEX logs_events_group ON logs_events (account, region, grp, timestamp, seq);
CREATE TABLE logs_tags (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  grp TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (account, region, grp, key)
);
)sql"}};
}

std::unique_ptr<LogsStore> make_sqlite_store(store::Database& db) { return std::make_unique<store::TransactionalStore<LogsStore, SqliteTables, TxFn, Result<json::object>>>(db); }

}  // namespace gantry::logs
