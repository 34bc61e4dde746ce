// The embedded store: one SQLite database (WAL, foreign keys on) in the data dir. Services do not
// write SQL in their business logic: each service has a repository interface in its own folder,
// implemented on top of this class, so another backend (PostgreSQL) can be added per repository.
//
// Thread safety: one connection guarded by a mutex. Every read or write runs inside read() or
// write(); write() is one IMMEDIATE transaction that commits when the callback succeeds and rolls
// back when it returns an error, so a request never leaves half its changes behind.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gantry::store {

// A prepared statement borrowed from the connection's cache; reset when destroyed.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);
  Statement& bind_null(int index);
  Statement& bind(int index, const std::optional<std::string>& text);
  Statement& bind(int index, std::optional<int64_t> value);

  // Advances to the next row: true while there is one. Errors are thrown as StoreFailure
  // and turned into InternalFailure by the transaction wrapper.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3_stmt* stmt_;
};

// Thrown only inside the store layer; Database::read/write convert it into an Error.
struct StoreFailure {
  std::string message;
};

class Tx {
 public:
  explicit Tx(class Database& db) : db_(db) {}
  Statement prepare(std::string_view sql);
  void exec(std::string_view sql);
  int64_t changes() const;

 private:
  Database& db_;
};

struct Migration {
  std::string module;  // e.g. "ecs"
  int version;         // 1, 2, ... applied in order per module
  std::string sql;
};

class Database {
 public:
  // Opens (creating if missing) `path` and applies pending migrations in order.
  static Result<std::unique_ptr<Database>> open(const std::string& path, const std::vector<Migration>& migrations);
  ~Database();

  // Deletes every row of every table but the migration record, in one transaction.
  Status wipe();

  template <class F>
  auto read(F&& fn) -> decltype(fn(std::declval<Tx&>())) {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    try {
      return fn(tx);
    } catch (const StoreFailure& f) {
      return make_error(ErrorKind::kInternal, "store read failed: " + f.message);
    }
  }

  template <class F>
  auto write(F&& fn) -> decltype(fn(std::declval<Tx&>())) {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    try {
      exec_locked("BEGIN IMMEDIATE");
      auto result = fn(tx);
      exec_locked(result.ok() ? "COMMIT" : "ROLLBACK");
      return result;
    } catch (const StoreFailure& f) {
      try {
        exec_locked("ROLLBACK");
      } catch (const StoreFailure&) {
      }
      return make_error(ErrorKind::kInternal, "store write failed: " + f.message);
    }
  }

 private:
  friend class Tx;
  explicit Database(sqlite3* db) : db_(db) {}
  void exec_locked(std::string_view sql);
  sqlite3_stmt* prepare_locked(std::string_view sql);
  Status migrate(const std::vector<Migration>& migrations);

  // Moves the WAL's pages into the database file from a connection and thread of its own, so no request
  // waits for a checkpoint inside a commit (SQLite's automatic checkpoints run in the committing call,
  // holding mu_ — milliseconds of fsync every few hundred writes).
  void start_checkpointer(const std::string& path);

  std::mutex mu_;
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;

  sqlite3* checkpoint_db_ = nullptr;
  std::thread checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stopping_ = false;
};

}  // namespace gantry::store
