// SQLite storage of EventBridge Scheduler state: schedules as the JSON GetSchedule returns, beside their keys;
// schedule groups; the groups' tags.
#include "services/scheduler/model.h"

namespace gantry::scheduler {

namespace json = boost::json;

namespace {

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return !ec && v.is_object() ? std::move(v.as_object()) : json::object{};
}

constexpr std::string_view kScheduleColumns = "account, region, group_name, name, doc, created_ms";
constexpr std::string_view kGroupColumns = "account, region, name, created_ms, modified_ms";

Schedule read_schedule(store::Statement& q) {
  return Schedule{q.text(0), q.text(1), q.text(2), q.text(3), parse_object(q.text(4)), q.integer(5)};
}

Group read_group(store::Statement& q) { return Group{q.text(0), q.text(1), q.text(2), q.integer(3), q.integer(4)}; }

class SqliteTables final : public SchedulerTables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  std::optional<Schedule> find_schedule(const Scope& scope, std::string_view group, std::string_view name) override {
    auto q = tx_.prepare("SELECT " + std::string(kScheduleColumns) +
                         " FROM scheduler_schedules WHERE account = ?1 AND region = ?2 AND group_name = ?3 AND "
                         "name = ?4");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, group).bind(4, name);
    if (!q.step()) return std::nullopt;
    return read_schedule(q);
  }

  void put_schedule(const Schedule& s) override {
    tx_.prepare("INSERT OR REPLACE INTO scheduler_schedules (" + std::string(kScheduleColumns) +
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, s.account)
        .bind(2, s.region)
        .bind(3, s.group)
        .bind(4, s.name)
        .bind(5, json::serialize(s.doc))
        .bind(6, s.created_ms)
        .run();
  }

  void delete_schedule(const Scope& scope, std::string_view group, std::string_view name) override {
    tx_.prepare(
           "DELETE FROM scheduler_schedules WHERE account = ?1 AND region = ?2 AND group_name = ?3 AND name = ?4")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, group)
        .bind(4, name)
        .run();
  }

  std::vector<Schedule> list_schedules(const Scope& scope, const ScheduleQuery& query) override {
    auto q = tx_.prepare("SELECT " + std::string(kScheduleColumns) +
                         " FROM scheduler_schedules WHERE account = ?1 AND region = ?2 "
                         "AND (?3 IS NULL OR group_name = ?3) "
                         "AND substr(name, 1, length(?4)) = ?4 "
                         "AND (?5 IS NULL OR json_extract(doc, '$.State') = ?5) "
                         "AND (group_name, name) > (?6, ?7) "
                         "ORDER BY group_name, name LIMIT ?8");
    q.bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, query.group)
        .bind(4, query.name_prefix)
        .bind(5, query.state)
        .bind(6, query.after_group)
        .bind(7, query.after_name)
        .bind(8, int64_t{query.limit});
    std::vector<Schedule> out;
    while (q.step()) out.push_back(read_schedule(q));
    return out;
  }

  std::vector<Schedule> all_schedules() override {
    auto q = tx_.prepare("SELECT " + std::string(kScheduleColumns) +
                         " FROM scheduler_schedules ORDER BY account, region, group_name, name");
    std::vector<Schedule> out;
    while (q.step()) out.push_back(read_schedule(q));
    return out;
  }

  std::optional<Group> find_group(const Scope& scope, std::string_view name) override {
    auto q = tx_.prepare("SELECT " + std::string(kGroupColumns) +
                         " FROM scheduler_groups WHERE account = ?1 AND region = ?2 AND name = ?3");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, name);
    if (!q.step()) return std::nullopt;
    return read_group(q);
  }

  void put_group(const Group& g) override {
    tx_.prepare("INSERT OR REPLACE INTO scheduler_groups (" + std::string(kGroupColumns) +
                ") VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, g.account)
        .bind(2, g.region)
        .bind(3, g.name)
        .bind(4, g.created_ms)
        .bind(5, g.modified_ms)
        .run();
  }

  void delete_group(const Scope& scope, std::string_view name) override {
    for (const char* sql : {"DELETE FROM scheduler_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
                            "DELETE FROM scheduler_schedules WHERE account = ?1 AND region = ?2 AND group_name = ?3"})
      tx_.prepare(sql).bind(1, scope.account).bind(2, scope.region).bind(3, name).run();
  }

  std::vector<Group> list_groups(const Scope& scope, std::string_view prefix, std::string_view after,
                                 int limit) override {
    auto q = tx_.prepare("SELECT " + std::string(kGroupColumns) +
                         " FROM scheduler_groups WHERE account = ?1 AND region = ?2 AND name > ?3 "
                         "AND substr(name, 1, length(?4)) = ?4 ORDER BY name LIMIT ?5");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, after).bind(4, prefix).bind(5, int64_t{limit});
    std::vector<Group> out;
    while (q.step()) out.push_back(read_group(q));
    return out;
  }

  std::vector<store::ResourceTag> tags(std::string_view arn) override {
    return store::read_resource_tags(tx_, "scheduler_tags", arn);
  }
  void set_tags(std::string_view arn, const std::vector<store::ResourceTag>& tags) override {
    store::upsert_resource_tags(tx_, "scheduler_tags", arn, tags);
  }
  void remove_tags(std::string_view arn, const std::vector<std::string>& keys) override {
    store::delete_resource_tags(tx_, "scheduler_tags", arn, keys);
  }
  void drop_tags(std::string_view arn) override {
    tx_.prepare("DELETE FROM scheduler_tags WHERE arn = ?1").bind(1, arn).run();
  }

 private:
  store::Tx& tx_;
};

}  // namespace

std::vector<store::Migration> sqlite_migrations() {
  return {{"scheduler", 1, R"sql(
CREATE TABLE scheduler_groups (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  modified_ms INTEGER NOT NULL,
  PRIMARY KEY (account, region, name)
);
CREATE TABLE scheduler_schedules (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  group_name TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, region, group_name, name)
);
CREATE TABLE scheduler_tags (
  arn TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (arn, key)
);
)sql"}};
}

std::unique_ptr<SchedulerStore> make_sqlite_store(store::Database& db) {
  return std::make_unique<store::TransactionalStore<SchedulerStore, SqliteTables, TxFn, Result<json::object>>>(db);
}

}  // namespace gantry::scheduler
