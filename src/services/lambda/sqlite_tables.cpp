// SQLite storage of Lambda state. Configurations are kept as the JSON the API returns.
#include "services/lambda/model.h"
#include "store/service_store.h"

namespace gantry::lambda {

namespace json = boost::json;

namespace {

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return !ec && v.is_object() ? std::move(v.as_object()) : json::object{};
}

json::array parse_array(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return !ec && v.is_array() ? std::move(v.as_array()) : json::array{};
}

constexpr std::string_view kFunctionColumns =
    "account, region, name, tags, policy, reserved_concurrency, last_version, created_ms";

Function read_function(store::Statement& q) {
  Function f;
  f.account = q.text(0);
  f.region = q.text(1);
  f.name = q.text(2);
  f.tags = parse_object(q.text(3));
  f.policy = parse_array(q.text(4));
  if (!q.is_null(5)) f.reserved_concurrency = q.integer(5);
  f.last_version = q.integer(6);
  f.created_ms = q.integer(7);
  return f;
}

class SqliteTables final : public LambdaTables {
 public:
  explicit SqliteTables(store::Tx& tx) : tx_(tx) {}

  std::optional<Function> find_function(const Scope& scope, std::string_view name) override {
    auto q = tx_.prepare(std::string("SELECT ") + std::string(kFunctionColumns) +
                         " FROM lambda_functions WHERE account = ?1 AND region = ?2 AND name = ?3");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, name);
    if (!q.step()) return std::nullopt;
    return read_function(q);
  }

  void put_function(const Function& f) override {
    tx_.prepare("INSERT OR REPLACE INTO lambda_functions (" + std::string(kFunctionColumns) +
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .bind(1, f.account)
        .bind(2, f.region)
        .bind(3, f.name)
        .bind(4, json::serialize(f.tags))
        .bind(5, json::serialize(f.policy))
        .bind(6, f.reserved_concurrency)
        .bind(7, f.last_version)
        .bind(8, f.created_ms)
        .run();
  }

  void delete_function(const Scope& scope, std::string_view name) override {
    for (const char* table : {"lambda_functions", "lambda_versions", "lambda_aliases"}) {
      tx_.prepare(std::string("DELETE FROM ") + table + " WHERE account = ?1 AND region = ?2 AND " +
                  (std::string_view(table) == "lambda_functions" ? "name" : "function") + " = ?3")
          .bind(1, scope.account)
          .bind(2, scope.region)
          .bind(3, name)
          .run();
    }
  }

  std::vector<Function> list_functions(const Scope& scope, std::string_view after, int limit) override {
    auto q = tx_.prepare(std::string("SELECT ") + std::string(kFunctionColumns) +
                         " FROM lambda_functions WHERE account = ?1 AND region = ?2 AND name > ?3 ORDER BY name "
                         "LIMIT ?4");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, after).bind(4, static_cast<int64_t>(limit));
    std::vector<Function> out;
    while (q.step()) out.push_back(read_function(q));
    return out;
  }

  std::optional<Version> find_version(const Scope& scope, std::string_view name, std::string_view version) override {
    auto found = select_versions(scope, name, std::string(version));
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  }

  void put_version(const Scope& scope, std::string_view name, const Version& v) override {
    tx_.prepare(
           "INSERT OR REPLACE INTO lambda_versions (account, region, function, version, sort_key, config, code_id, "
           "image) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, name)
        .bind(4, v.version)
        .bind(5, static_cast<int64_t>(v.version == kLatest ? 0 : std::stoll(v.version)))
        .bind(6, json::serialize(v.config))
        .bind(7, v.code_id)
        .bind(8, v.image)
        .run();
  }

  void delete_version(const Scope& scope, std::string_view name, std::string_view version) override {
    tx_.prepare("DELETE FROM lambda_versions WHERE account = ?1 AND region = ?2 AND function = ?3 AND version = ?4")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, name)
        .bind(4, version)
        .run();
  }

  std::vector<Version> list_versions(const Scope& scope, std::string_view name) override {
    return select_versions(scope, name, std::nullopt);
  }

  bool code_in_use(std::string_view code_id) override {
    auto q = tx_.prepare("SELECT 1 FROM lambda_versions WHERE code_id = ?1 AND code_id != '' LIMIT 1");
    q.bind(1, code_id);
    return q.step();
  }

  std::optional<Alias> find_alias(const Scope& scope, std::string_view function, std::string_view alias) override {
    auto q = tx_.prepare(
        "SELECT name, config FROM lambda_aliases WHERE account = ?1 AND region = ?2 AND function = ?3 AND name = ?4");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, function).bind(4, alias);
    if (!q.step()) return std::nullopt;
    return Alias{q.text(0), parse_object(q.text(1))};
  }

  void put_alias(const Scope& scope, std::string_view function, const Alias& a) override {
    tx_.prepare("INSERT OR REPLACE INTO lambda_aliases (account, region, function, name, config) "
                "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, function)
        .bind(4, a.name)
        .bind(5, json::serialize(a.config))
        .run();
  }

  void delete_alias(const Scope& scope, std::string_view function, std::string_view alias) override {
    tx_.prepare("DELETE FROM lambda_aliases WHERE account = ?1 AND region = ?2 AND function = ?3 AND name = ?4")
        .bind(1, scope.account)
        .bind(2, scope.region)
        .bind(3, function)
        .bind(4, alias)
        .run();
  }

  std::vector<Alias> list_aliases(const Scope& scope, std::string_view function) override {
    auto q = tx_.prepare(
        "SELECT name, config FROM lambda_aliases WHERE account = ?1 AND region = ?2 AND function = ?3 ORDER BY name");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, function);
    std::vector<Alias> out;
    while (q.step()) out.push_back(Alias{q.text(0), parse_object(q.text(1))});
    return out;
  }

 private:
  // The function's versions ("$LATEST" first, then by number), or only `version`.
  std::vector<Version> select_versions(const Scope& scope, std::string_view name,
                                       const std::optional<std::string>& version) {
    auto q = tx_.prepare(
        "SELECT version, config, code_id, image FROM lambda_versions WHERE account = ?1 AND region = ?2 AND "
        "function = ?3 AND (?4 IS NULL OR version = ?4) ORDER BY sort_key");
    q.bind(1, scope.account).bind(2, scope.region).bind(3, name).bind(4, version);
    std::vector<Version> out;
    while (q.step()) out.push_back(Version{q.text(0), parse_object(q.text(1)), q.text(2), q.text(3)});
    return out;
  }

  store::Tx& tx_;
};

}  // namespace

std::vector<store::Migration> sqlite_migrations() {
  return {{"lambda", 1, R"sql(
CREATE TABLE lambda_functions (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  tags TEXT NOT NULL,
  policy TEXT NOT NULL,
  reserved_concurrency INTEGER,
  last_version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (account, region, name)
);
CREATE TABLE lambda_versions (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  function TEXT NOT NULL,
  version TEXT NOT NULL,
  sort_key INTEGER NOT NULL,
  config TEXT NOT NULL,
  code_id TEXT NOT NULL,
  image TEXT NOT NULL,
  PRIMARY KEY (account, region, function, version)
);
CREATE INDEX lambda_versions_code ON lambda_versions (code_id);
CREATE TABLE lambda_aliases (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  function TEXT NOT NULL,
  name TEXT NOT NULL,
  config TEXT NOT NULL,
  PRIMARY KEY (account, region, function, name)
);
)sql"}};
}

std::unique_ptr<LambdaStore> make_sqlite_store(store::Database& db) {
  return std::make_unique<store::TransactionalStore<LambdaStore, SqliteTables, TxFn, Result<json::object>>>(db);
}

}  // namespace gantry::lambda
