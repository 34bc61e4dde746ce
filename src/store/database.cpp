#include "store/database.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace gantry::store {

namespace {
[[noreturn]] void fail(sqlite3* db, std::string_view what) {
  throw StoreFailure{std::string(what) + ": " + sqlite3_errmsg(db)};
}
}  // namespace

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    fail(sqlite3_db_handle(stmt_), "bind");
  return *this;
}
Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(sqlite3_db_handle(stmt_), "bind");
  return *this;
}
Statement& Statement::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) fail(sqlite3_db_handle(stmt_), "bind");
  return *this;
}
Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(sqlite3_db_handle(stmt_), "bind");
  return *this;
}
Statement& Statement::bind(int index, std::optional<int64_t> value) {
  return value ? bind(index, *value) : bind_null(index);
}
Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(sqlite3_db_handle(stmt_), std::string("step '") + sqlite3_sql(stmt_) + "'");
}

void Statement::run() {
  while (step()) {
  }
}

std::string Statement::text(int column) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}
std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}
int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Statement Tx::prepare(std::string_view sql) { return Statement(db_.prepare_locked(sql)); }
void Tx::exec(std::string_view sql) { db_.exec_locked(sql); }
int64_t Tx::changes() const { return sqlite3_changes64(db_.db_); }

Result<std::unique_ptr<Database>> Database::open(const std::string& path, const std::vector<Migration>& migrations) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return make_error(ErrorKind::kInternal, "cannot open store '" + path + "': " + msg);
  }
  std::unique_ptr<Database> db(new Database(raw));
  sqlite3_busy_timeout(raw, 5000);
  try {
    // synchronous=NORMAL in WAL mode is durable across a process crash (kill -9); only an OS crash
    // or power loss can lose the last transactions.
    db->exec_locked("PRAGMA journal_mode=WAL");
    db->exec_locked("PRAGMA synchronous=NORMAL");
    db->exec_locked("PRAGMA foreign_keys=ON");
  } catch (const StoreFailure& f) {
    return make_error(ErrorKind::kInternal, "cannot configure store '" + path + "': " + f.message);
  }
  auto st = db->migrate(migrations);
  if (!st) return st.error();
  if (path != ":memory:" && !path.empty()) db->start_checkpointer(path);
  return db;
}

void Database::start_checkpointer(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &checkpoint_db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(checkpoint_db_);
    checkpoint_db_ = nullptr;
    return;  // SQLite's automatic checkpoints stay on
  }
  sqlite3_busy_timeout(checkpoint_db_, 1000);
  {
    std::lock_guard lock(mu_);
    exec_locked("PRAGMA wal_autocheckpoint=0");
  }
  checkpointer_ = std::thread([this] {
    std::unique_lock lock(checkpoint_mu_);
    while (!stopping_) {
      checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(250));
      if (stopping_) break;
      lock.unlock();
      // PASSIVE: copies what no reader still needs, never waits for the writer; SQLite restarts the WAL
      // from its start once everything was copied.
      int log_frames = 0, copied = 0;
      (void)sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
      lock.lock();
    }
  });
}

Database::~Database() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard lock(checkpoint_mu_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpointer_.join();
  }
  sqlite3_close(checkpoint_db_);
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void Database::exec_locked(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StoreFailure{"'" + s.substr(0, 60) + "': " + msg};
  }
}

sqlite3_stmt* Database::prepare_locked(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
      SQLITE_OK)
    fail(db_, "prepare '" + std::string(sql) + "'");
  cache_.emplace(std::string(sql), stmt);
  return stmt;
}

Status Database::wipe() {
  return write([&](Tx& tx) -> Status {
    std::vector<std::string> tables;
    {
      auto q = tx.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                          "AND name != 'schema_migrations'");
      while (q.step()) tables.push_back(q.text(0));
    }
    tx.exec("PRAGMA defer_foreign_keys = ON");
    for (const auto& t : tables) tx.exec("DELETE FROM \"" + t + "\"");
    return {};
  });
}

Status Database::migrate(const std::vector<Migration>& migrations) {
  return write([&](Tx& tx) -> Status {
    tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT NOT NULL, version INTEGER NOT NULL, "
            "PRIMARY KEY (module, version))");
    auto sorted = migrations;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Migration& a, const Migration& b) { return a.version < b.version; });
    for (const auto& m : sorted) {
      auto q = tx.prepare("SELECT 1 FROM schema_migrations WHERE module = ?1 AND version = ?2");
      q.bind(1, m.module).bind(2, static_cast<int64_t>(m.version));
      if (q.step()) continue;
      tx.exec(m.sql);
      tx.prepare("INSERT INTO schema_migrations (module, version) VALUES (?1, ?2)")
          .bind(1, m.module)
          .bind(2, static_cast<int64_t>(m.version))
          .run();
      spdlog::info("store: applied migration {} v{}", m.module, m.version);
    }
    return {};
  });
}

}  // namespace gantry::store
