// SQLite storage of ECS state.
#include <fmt/format.h>

#include "services/ecs/model.h"
#include "store/service_store.h"

namespace gantry::ecs {

namespace json = boost::json;

namespace {

using store::from_ms;
using store::to_ms;

json::value parse_or(const std::string& text, json::value fallback) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? fallback : v;
}

constexpr std::string_view kClusterColumns =
    "arn, account, region, name, status, settings, configuration, capacity_providers, default_strategy, created_ms";

Cluster read_cluster(store::Statement& q) {
  Cluster c;
  c.arn = q.text(0);
  c.account = q.text(1);
  c.region = q.text(2);
  c.name = q.text(3);
  c.status = q.text(4);
  c.settings = parse_or(q.text(5), json::array()).as_array();
  c.configuration = parse_or(q.text(6), json::object()).as_object();
  c.capacity_providers = parse_or(q.text(7), json::array()).as_array();
  c.default_strategy = parse_or(q.text(8), json::array()).as_array();
  c.created_at = from_ms(q.integer(9));
  return c;
}

constexpr std::string_view kTdColumns =
    "arn, account, region, family, revision, status, registered_ms, deregistered_ms, delete_requested_ms, "
    "registered_by, body";

TaskDefinition read_td(store::Statement& q) {
  TaskDefinition t;
  t.arn = q.text(0);
  t.account = q.text(1);
  t.region = q.text(2);
  t.family = q.text(3);
  t.revision = q.integer(4);
  t.status = parse_task_definition_status(q.text(5)).value_or(TaskDefinitionStatus::kActive);
  t.registered_at = from_ms(q.integer(6));
  if (!q.is_null(7)) t.deregistered_at = from_ms(q.integer(7));
  if (!q.is_null(8)) t.delete_requested_at = from_ms(q.integer(8));
  t.registered_by = q.text(9);
  t.body = parse_or(q.text(10), json::object()).as_object();
  return t;
}

constexpr std::string_view kTaskColumns = "arn, account, region, cluster, id, client_token, body, spec";

Task read_task(store::Statement& q) {
  Task t;
  t.arn = q.text(0);
  t.account = q.text(1);
  t.region = q.text(2);
  t.cluster = q.text(3);
  t.id = q.text(4);
  t.client_token = q.text(5);
  t.body = parse_or(q.text(6), json::object()).as_object();
  t.spec = parse_or(q.text(7), json::object()).as_object();
  return t;
}

std::string body_string(const json::object& body, std::string_view key) {
  auto* v = body.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

class SqliteTables final : public EcsTables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  std::optional<Cluster> find_cluster(const Scope& scope, std::string_view name) override {
    auto q = tx_.prepare(fmt::format("SELECT {} FROM ecs_clusters WHERE account = ?1 AND region = ?2 AND name = ?3",
                                     kClusterColumns));
    q.bind(1, scope.account).bind(2, scope.region).bind(3, name);
    if (!q.step()) return std::nullopt;
    return read_cluster(q);
  }

  void put_cluster(const Cluster& c) override {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO ecs_clusters ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                            kClusterColumns))
        .bind(1, c.arn)
        .bind(2, c.account)
        .bind(3, c.region)
        .bind(4, c.name)
        .bind(5, c.status)
        .bind(6, json::serialize(c.settings))
        .bind(7, json::serialize(c.configuration))
        .bind(8, json::serialize(c.capacity_providers))
        .bind(9, json::serialize(c.default_strategy))
        .bind(10, to_ms(c.created_at))
        .run();
  }

  std::vector<std::string> list_cluster_arns(const Scope& scope, std::optional<std::string> after_arn,
                                             int limit) override {
    auto q = tx_.prepare(
        "SELECT arn FROM ecs_clusters WHERE account = ?1 AND region = ?2 AND status = 'ACTIVE' AND arn > ?3 "
        "ORDER BY arn LIMIT ?4");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, after_arn.value_or("")).bind(4, static_cast<int64_t>(limit));
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }

  std::optional<TaskDefinition> find_task_definition(const Scope& scope, std::string_view family,
                                                      int64_t revision) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ecs_task_definitions WHERE account = ?1 AND region = ?2 AND family = ?3 AND revision = ?4",
        kTdColumns));
    q.bind(1, scope.account).bind(2, scope.region).bind(3, family).bind(4, revision);
    if (!q.step()) return std::nullopt;
    return read_td(q);
  }

  std::optional<TaskDefinition> latest_active_task_definition(const Scope& scope, std::string_view family) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ecs_task_definitions WHERE account = ?1 AND region = ?2 AND family = ?3 AND status = 'ACTIVE' "
        "ORDER BY revision DESC LIMIT 1",
        kTdColumns));
    q.bind(1, scope.account).bind(2, scope.region).bind(3, family);
    if (!q.step()) return std::nullopt;
    return read_td(q);
  }

  int64_t max_revision(const Scope& scope, std::string_view family) override {
    // Revisions never repeat, even after DeleteTaskDefinitions: ecs_families keeps the high mark.
    auto q = tx_.prepare("SELECT last_revision FROM ecs_families WHERE account = ?1 AND region = ?2 AND family = ?3");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, family);
    return q.step() ? q.integer(0) : 0;
  }

  void put_task_definition(const TaskDefinition& t) override {
    tx_.prepare(fmt::format("INSERT OR REPLACE INTO ecs_task_definitions ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                            "?9, ?10, ?11)",
                            kTdColumns))
        .bind(1, t.arn)
        .bind(2, t.account)
        .bind(3, t.region)
        .bind(4, t.family)
        .bind(5, t.revision)
        .bind(6, to_string(t.status))
        .bind(7, to_ms(t.registered_at))
        .bind(8, t.deregistered_at ? std::optional<int64_t>(to_ms(*t.deregistered_at)) : std::nullopt)
        .bind(9, t.delete_requested_at ? std::optional<int64_t>(to_ms(*t.delete_requested_at)) : std::nullopt)
        .bind(10, t.registered_by)
        .bind(11, json::serialize(t.body))
        .run();
    tx_.prepare(
           "INSERT INTO ecs_families (account, region, family, last_revision) VALUES (?1, ?2, ?3, ?4) "
           "ON CONFLICT (account, region, family) DO UPDATE SET last_revision = max(last_revision, excluded.last_revision)")
        .bind(1, t.account)
        .bind(2, t.region)
        .bind(3, t.family)
        .bind(4, t.revision)
        .run();
  }

  std::vector<TaskDefinition> list_task_definitions(const Scope& scope, const TaskDefinitionFilter& f) override {
    std::string sql = fmt::format("SELECT {} FROM ecs_task_definitions WHERE account = ?1 AND region = ?2", kTdColumns);
    if (f.family) sql += " AND family = ?3";
    if (f.status) sql += " AND status = ?4";
    if (f.after) sql += f.descending ? " AND (family, revision) < (?5, ?6)" : " AND (family, revision) > (?5, ?6)";
    sql += f.descending ? " ORDER BY family DESC, revision DESC" : " ORDER BY family ASC, revision ASC";
    sql += " LIMIT ?7";
    auto q = tx_.prepare(sql);
    q.bind(1, scope.account).bind(2, scope.region);
    if (f.family) q.bind(3, *f.family);
    if (f.status) q.bind(4, to_string(*f.status));
    if (f.after) q.bind(5, f.after->first).bind(6, f.after->second);
    q.bind(7, static_cast<int64_t>(f.limit));
    std::vector<TaskDefinition> out;
    while (q.step()) out.push_back(read_td(q));
    return out;
  }

  std::vector<std::string> list_families(const Scope& scope, std::string_view prefix, FamilyStatus status,
                                         std::optional<std::string> after, int limit) override {
    std::string having;
    if (status == FamilyStatus::kActive) having = " HAVING sum(status = 'ACTIVE') > 0";
    if (status == FamilyStatus::kInactive) having = " HAVING sum(status = 'ACTIVE') = 0";
    auto q = tx_.prepare(
        "SELECT family FROM ecs_task_definitions WHERE account = ?1 AND region = ?2 AND substr(family, 1, ?3) = ?4 "
        "AND family > ?5 GROUP BY family" +
        having + " ORDER BY family LIMIT ?6");
    q.bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, static_cast<int64_t>(prefix.size()))
        .bind(4, prefix)
        .bind(5, after.value_or(""))
        .bind(6, static_cast<int64_t>(limit));
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }

  std::optional<Task> find_task(std::string_view arn) override {
    auto q = tx_.prepare(fmt::format("SELECT {} FROM ecs_tasks WHERE arn = ?1", kTaskColumns));
    q.bind(1, arn);
    if (!q.step()) return std::nullopt;
    return read_task(q);
  }

  void put_task(const Task& t) override {
    std::string family = body_string(t.body, "group");
    if (family.starts_with("family:")) family = family.substr(7);
    auto q = tx_.prepare(fmt::format(
        "INSERT INTO ecs_tasks ({}, family, started_by, desired_status, last_status, launch_type) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (arn) DO UPDATE SET "
        "body = excluded.body, spec = excluded.spec, desired_status = excluded.desired_status, "
        "last_status = excluded.last_status",
        kTaskColumns));
    q.bind(1, t.arn)
        .bind(2, t.account)
        .bind(3, t.region)
        .bind(4, t.cluster)
        .bind(5, t.id)
        .bind(6, t.client_token)
        .bind(7, json::serialize(t.body))
        .bind(8, json::serialize(t.spec))
        .bind(9, family)
        .bind(10, body_string(t.body, "startedBy"))
        .bind(11, body_string(t.body, "desiredStatus"))
        .bind(12, body_string(t.body, "lastStatus"))
        .bind(13, body_string(t.body, "launchType"));
    q.step();
  }

  std::vector<Task> list_tasks(const Scope& scope, const TaskFilter& f) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ecs_tasks WHERE account = ?1 AND region = ?2 AND cluster = ?3 AND arn > ?4 "
        "AND (?5 IS NULL OR family = ?5) AND (?6 IS NULL OR started_by = ?6) "
        "AND (?7 IS NULL OR desired_status = ?7) AND (?8 IS NULL OR launch_type = ?8) ORDER BY arn LIMIT ?9",
        kTaskColumns));
    q.bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, f.cluster)
        .bind(4, f.after_arn.value_or(""))
        .bind(5, f.family)
        .bind(6, f.started_by)
        .bind(7, f.desired_status)
        .bind(8, f.launch_type)
        .bind(9, static_cast<int64_t>(f.limit));
    std::vector<Task> out;
    while (q.step()) out.push_back(read_task(q));
    return out;
  }

  std::vector<Task> tasks_by_client_token(const Scope& scope, std::string_view cluster,
                                          std::string_view token) override {
    auto q = tx_.prepare(fmt::format(
        "SELECT {} FROM ecs_tasks WHERE account = ?1 AND region = ?2 AND cluster = ?3 AND client_token = ?4 "
        "ORDER BY seq",
        kTaskColumns));
    q.bind(1, scope.account).bind(2, scope.region).bind(3, cluster).bind(4, token);
    std::vector<Task> out;
    while (q.step()) out.push_back(read_task(q));
    return out;
  }

  std::vector<std::pair<std::string, int64_t>> task_status_counts(const Scope& scope,
                                                                  std::string_view cluster) override {
    auto q = tx_.prepare(
        "SELECT last_status, count(*) FROM ecs_tasks WHERE account = ?1 AND region = ?2 AND cluster = ?3 "
        "AND last_status != 'STOPPED' GROUP BY last_status");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, cluster);
    std::vector<std::pair<std::string, int64_t>> out;
    while (q.step()) out.emplace_back(q.text(0), q.integer(1));
    return out;
  }

  std::vector<Task> unfinished_tasks() override {
    auto q = tx_.prepare(
        fmt::format("SELECT {} FROM ecs_tasks WHERE last_status != 'STOPPED' ORDER BY seq", kTaskColumns));
    std::vector<Task> out;
    while (q.step()) out.push_back(read_task(q));
    return out;
  }

  std::vector<Tag> tags(std::string_view arn) override { return store::read_resource_tags(tx_, "ecs_tags", arn); }

  void set_tags(std::string_view arn, const std::vector<Tag>& tags) override {
    store::upsert_resource_tags(tx_, "ecs_tags", arn, tags);
  }

  void remove_tags(std::string_view arn, const std::vector<std::string>& keys) override {
    store::delete_resource_tags(tx_, "ecs_tags", arn, keys);
  }

 private:
  store::Tx& tx_;
};


}  // namespace

std::vector<store::Migration> sqlite_migrations() {
  return {{"ecs", 1, R"sql(
CREATE TABLE ecs_clusters (
  arn TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  settings TEXT NOT NULL,
  configuration TEXT NOT NULL,
  capacity_providers TEXT NOT NULL,
  default_strategy TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (account, region, name)
);
CREATE TABLE ecs_task_definitions (
  arn TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  family TEXT NOT NULL,
  revision INTEGER NOT NULL,
  status TEXT NOT NULL,
  registered_ms INTEGER NOT NULL,
  deregistered_ms INTEGER,
  delete_requested_ms INTEGER,
  registered_by TEXT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (account, region, family, revision)
);
CREATE INDEX ecs_clusters_listing ON ecs_clusters (account, region, status, arn);
CREATE INDEX ecs_task_definitions_status ON ecs_task_definitions (account, region, status, family, revision);
CREATE TABLE ecs_families (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  family TEXT NOT NULL,
  last_revision INTEGER NOT NULL,
  PRIMARY KEY (account, region, family)
);
CREATE TABLE ecs_tags (
  arn TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (arn, key)
);
)sql"},
          {"ecs", 2, R"sql(
CREATE TABLE ecs_tasks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  arn TEXT NOT NULL UNIQUE,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  cluster TEXT NOT NULL,
  id TEXT NOT NULL,
  client_token TEXT NOT NULL,
  family TEXT NOT NULL,
  started_by TEXT NOT NULL,
  desired_status TEXT NOT NULL,
  last_status TEXT NOT NULL,
  launch_type TEXT NOT NULL,
  body TEXT NOT NULL,
  spec TEXT NOT NULL
);
CREATE INDEX ecs_tasks_listing ON ecs_tasks (account, region, cluster, arn);
CREATE INDEX ecs_tasks_unfinished ON ecs_tasks (last_status);
)sql"}};
}

std::unique_ptr<EcsStore> make_sqlite_store(store::Database& db) { return std::make_unique<store::TransactionalStore<EcsStore, SqliteTables, ReadFn, Result<json::object>>>(db); }

}  // namespace gantry::ecs
