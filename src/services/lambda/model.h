// Lambda domain types and the transaction-scoped view of Lambda state (LambdaTables). A function is a
// row (tags, resource policy, reserved concurrency, last published version) with versions: "$LATEST"
// and the published ones "1", "2", ... Each version keeps its FunctionConfiguration exactly as the API
// returns it (a JSON object in AWS's shape) and the id of its code on disk; aliases point at versions.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/arn.h"
#include "core/error.h"
#include "store/database.h"

namespace gantry::lambda {

inline constexpr std::string_view kLatest = "$LATEST";

struct Function {
  std::string account;
  std::string region;
  std::string name;
  boost::json::object tags;             // key → value
  boost::json::array policy;            // resource policy statements (AddPermission)
  std::optional<int64_t> reserved_concurrency;
  int64_t last_version = 0;             // the highest version published so far (0: none)
  int64_t created_ms = 0;
};

struct Version {
  std::string version;                  // "$LATEST", "1", ...
  boost::json::object config;           // FunctionConfiguration as GetFunctionConfiguration returns it
  std::string code_id;                  // Zip: the unpacked code, <data dir>/lambda/code/<code_id>/
  std::string image;                    // Image: the image pinned by digest, <registry>/<repository>@sha256:...
};

struct Alias {
  std::string name;
  boost::json::object config;           // AliasConfiguration
};

// One transaction's view of Lambda state, keyed by the caller's scope.
class LambdaTables {
 public:
  virtual ~LambdaTables() = default;

  virtual std::optional<Function> find_function(const Scope& scope, std::string_view name) = 0;
  virtual void put_function(const Function& f) = 0;
  // Removes the function with its versions and aliases.
  virtual void delete_function(const Scope& scope, std::string_view name) = 0;
  // Functions ordered by name, after `after` (exclusive), at most `limit`.
  virtual std::vector<Function> list_functions(const Scope& scope, std::string_view after, int limit) = 0;

  virtual std::optional<Version> find_version(const Scope& scope, std::string_view name, std::string_view version) = 0;
  virtual void put_version(const Scope& scope, std::string_view name, const Version& v) = 0;
  virtual void delete_version(const Scope& scope, std::string_view name, std::string_view version) = 0;
  // "$LATEST" first, then published versions in numeric order.
  virtual std::vector<Version> list_versions(const Scope& scope, std::string_view name) = 0;
  // Every code id any version of any function still uses (to tell which code directories may go).
  virtual bool code_in_use(std::string_view code_id) = 0;

  virtual std::optional<Alias> find_alias(const Scope& scope, std::string_view function, std::string_view alias) = 0;
  virtual void put_alias(const Scope& scope, std::string_view function, const Alias& a) = 0;
  virtual void delete_alias(const Scope& scope, std::string_view function, std::string_view alias) = 0;
  virtual std::vector<Alias> list_aliases(const Scope& scope, std::string_view function) = 0;
};

using TxFn = std::function<Result<boost::json::object>(LambdaTables&)>;

// Runs Lambda work in transactions. write() commits only when fn succeeds.
class LambdaStore {
 public:
  virtual ~LambdaStore() = default;
  virtual Result<boost::json::object> read(const TxFn& fn) = 0;
  virtual Result<boost::json::object> write(const TxFn& fn) = 0;
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<LambdaStore> make_sqlite_store(store::Database& db);

}  // namespace gantry::lambda
