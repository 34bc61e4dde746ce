// SQLite storage of EventBridge state: rules and targets as the JSON the API returns, beside their keys.
#include "services/events/model.h"

namespace gantry::events {

namespace json = boost::json;

namespace {

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return !ec && v.is_object() ? std::move(v.as_object()) : json::object{};
}

constexpr std::string_view kRuleColumns = "account, region, bus, name, doc, anchor_ms, created_ms";

Rule read_rule(store::Statement& q) {
  return Rule{q.text(0), q.text(1), q.text(2), q.text(3), parse_object(q.text(4)), q.integer(5), q.integer(6)};
}

class SqliteTables final : public EventsTables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  std::optional<Bus> find_bus(const Scope& scope, std::string_view name) override {
    auto q = tx_.prepare(
        "SELECT account, region, name, description, created_ms, modified_ms FROM events_buses "
        "WHERE account = ?1 AND region = ?2 AND name = ?3");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, name);
    if (!q.step()) return std::nullopt;
    return Bus{q.text(0), q.text(1), q.text(2), q.text(3), q.integer(4), q.integer(5)};
  }

  void put_bus(const Bus& b) override {
    tx_.prepare(
           "INSERT OR REPLACE INTO events_buses (account, region, name, description, created_ms, modified_ms) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, b.account)
        .bind(2, b.region)
        .bind(3, b.name)
        .bind(4, b.description)
        .bind(5, b.created_ms)
        .bind(6, b.modified_ms)
        .run();
  }

  void delete_bus(const Scope& scope, std::string_view name) override {
    for (const char* sql : {"DELETE FROM events_buses WHERE account = ?1 AND region = ?2 AND name = ?3",
                            "DELETE FROM events_rules WHERE account = ?1 AND region = ?2 AND bus = ?3",
                            "DELETE FROM events_targets WHERE account = ?1 AND region = ?2 AND bus = ?3"})
      tx_.prepare(sql).bind(1, scope.account).bind(2, scope.region).bind(3, name).run();
  }

  std::vector<Bus> list_buses(const Scope& scope) override {
    auto q = tx_.prepare(
        "SELECT account, region, name, description, created_ms, modified_ms FROM events_buses "
        "WHERE account = ?1 AND region = ?2 ORDER BY name");
    q.bind(1, scope.account).bind(2, scope.region);
    std::vector<Bus> out;
    while (q.step()) out.push_back(Bus{q.text(0), q.text(1), q.text(2), q.text(3), q.integer(4), q.integer(5)});
    return out;
  }

  std::optional<Rule> find_rule(const Scope& scope, std::string_view bus, std::string_view name) override {
    auto q = tx_.prepare("SELECT " + std::string(kRuleColumns) +
                         " FROM events_rules WHERE account = ?1 AND region = ?2 AND bus = ?3 AND name = ?4");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, bus).bind(4, name);
    if (!q.step()) return std::nullopt;
    return read_rule(q);
  }

  void put_rule(const Rule& r) override {
    tx_.prepare("INSERT OR REPLACE INTO events_rules (" + std::string(kRuleColumns) +
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, r.account)
        .bind(2, r.region)
        .bind(3, r.bus)
        .bind(4, r.name)
        .bind(5, json::serialize(r.doc))
        .bind(6, r.anchor_ms)
        .bind(7, r.created_ms)
        .run();
  }

  void delete_rule(const Scope& scope, std::string_view bus, std::string_view name) override {
    for (const char* sql : {"DELETE FROM events_rules WHERE account = ?1 AND region = ?2 AND bus = ?3 AND name = ?4",
                            "DELETE FROM events_targets WHERE account = ?1 AND region = ?2 AND bus = ?3 AND rule = ?4"})
      tx_.prepare(sql).bind(1, scope.account).bind(2, scope.region).bind(3, bus).bind(4, name).run();
  }

  std::vector<Rule> list_rules(const Scope& scope, std::string_view bus, std::string_view prefix,
                               std::string_view after, int limit) override {
    auto q = tx_.prepare("SELECT " + std::string(kRuleColumns) +
                         " FROM events_rules WHERE account = ?1 AND region = ?2 AND bus = ?3 AND name > ?4 "
                         "AND substr(name, 1, length(?5)) = ?5 ORDER BY name LIMIT ?6");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, bus).bind(4, after).bind(5, prefix).bind(6,
                                                                                                   int64_t{limit});
    std::vector<Rule> out;
    while (q.step()) out.push_back(read_rule(q));
    return out;
  }

  std::vector<Rule> all_rules() override {
    auto q = tx_.prepare("SELECT " + std::string(kRuleColumns) + " FROM events_rules");
    std::vector<Rule> out;
    while (q.step()) out.push_back(read_rule(q));
    return out;
  }

  std::vector<Target> targets(const Scope& scope, std::string_view bus, std::string_view rule) override {
    auto q = tx_.prepare(
        "SELECT id, arn, doc FROM events_targets WHERE account = ?1 AND region = ?2 AND bus = ?3 AND rule = ?4 "
        "ORDER BY position");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, bus).bind(4, rule);
    std::vector<Target> out;
    while (q.step()) out.push_back(Target{q.text(0), q.text(1), parse_object(q.text(2))});
    return out;
  }

  void put_target(const Scope& scope, std::string_view bus, std::string_view rule, const Target& t) override {
    tx_.prepare(
           "INSERT INTO events_targets (account, region, bus, rule, id, arn, doc, position) VALUES (?1, ?2, ?3, ?4, "
           "?5, ?6, ?7, (SELECT coalesce(max(position), 0) + 1 FROM events_targets WHERE account = ?1 AND "
           "region = ?2 AND bus = ?3 AND rule = ?4)) ON CONFLICT (account, region, bus, rule, id) DO UPDATE SET "
           "arn = excluded.arn, doc = excluded.doc")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, bus)
        .bind(4, rule)
        .bind(5, t.id)
        .bind(6, t.arn)
        .bind(7, json::serialize(t.doc))
        .run();
  }

  void delete_target(const Scope& scope, std::string_view bus, std::string_view rule, std::string_view id) override {
    tx_.prepare(
           "DELETE FROM events_targets WHERE account = ?1 AND region = ?2 AND bus = ?3 AND rule = ?4 AND id = ?5")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, bus)
        .bind(4, rule)
        .bind(5, id)
        .run();
  }

  std::vector<std::string> rules_with_target(const Scope& scope, std::string_view bus, std::string_view arn,
                                             std::string_view after, int limit) override {
    auto q = tx_.prepare(
        "SELECT DISTINCT rule FROM events_targets WHERE account = ?1 AND region = ?2 AND bus = ?3 AND arn = ?4 "
        "AND rule > ?5 ORDER BY rule LIMIT ?6");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, bus).bind(4, arn).bind(5, after).bind(6, int64_t{limit});
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }

  std::vector<store::ResourceTag> tags(std::string_view arn) override {
    return store::read_resource_tags(tx_, "events_tags", arn);
  }
  void set_tags(std::string_view arn, const std::vector<store::ResourceTag>& tags) override {
    store::upsert_resource_tags(tx_, "events_tags", arn, tags);
  }
  void remove_tags(std::string_view arn, const std::vector<std::string>& keys) override {
    store::delete_resource_tags(tx_, "events_tags", arn, keys);
  }
  void drop_tags(std::string_view arn) override {
    tx_.prepare("DELETE FROM events_tags WHERE arn = ?1").bind(1, arn).run();
  }

 private:
  store::Tx& tx_;
};

}  // namespace

std::vector<store::Migration> sqlite_migrations() {
  return {{"events", 1, R"sql(
CREATE TABLE events_buses (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  modified_ms INTEGER NOT NULL,
  PRIMARY KEY (account, region, name)
);
CREATE TABLE events_rules (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  bus TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL,
  anchor_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, region, bus, name)
);
CREATE TABLE events_targets (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  bus TEXT NOT NULL,
  rule TEXT NOT NULL,
  id TEXT NOT NULL,
  arn TEXT NOT NULL,
  doc TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (account, region, bus, rule, id)
);
CREATE INDEX events_targets_by_arn ON events_targets (account, region, bus, arn, rule);
CREATE TABLE events_tags (
  arn TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (arn, key)
);
)sql"}};
}

std::unique_ptr<EventsStore> make_sqlite_store(store::Database& db) {
  return std::make_unique<store::TransactionalStore<EventsStore, SqliteTables, TxFn, Result<json::object>>>(db);
}

}  // namespace gantry::events
