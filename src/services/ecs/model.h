// ECS domain types and the transaction-scoped view of ECS state (EcsTables). Handlers work on these;
// only sqlite_tables.cpp knows how they are stored.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/arn.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/database.h"
#include "store/service_store.h"

namespace gantry::ecs {

using Tag = store::ResourceTag;

struct Cluster {
  std::string arn;
  std::string account;
  std::string region;
  std::string name;
  std::string status = "ACTIVE";  // ACTIVE | INACTIVE
  // Stored as the model shapes AWS returns them; validated before they get here.
  boost::json::array settings;                    // [{name, value}]
  boost::json::object configuration;              // ClusterConfiguration
  boost::json::array capacity_providers;          // ["FARGATE", ...]
  boost::json::array default_strategy;            // [{capacityProvider, weight, base}]
  TimePoint created_at;
};

enum class TaskDefinitionStatus { kActive, kInactive, kDeleteInProgress };
std::string_view to_string(TaskDefinitionStatus s);
std::optional<TaskDefinitionStatus> parse_task_definition_status(std::string_view s);

struct TaskDefinition {
  std::string arn;
  std::string account;
  std::string region;
  std::string family;
  int64_t revision = 0;
  TaskDefinitionStatus status = TaskDefinitionStatus::kActive;
  TimePoint registered_at;
  std::optional<TimePoint> deregistered_at;
  std::optional<TimePoint> delete_requested_at;
  std::string registered_by;
  // The definition as AWS describes it, without the fields above (which are added when encoding).
  boost::json::object body;
};

struct TaskDefinitionFilter {
  std::optional<std::string> family;  // exact family (ListTaskDefinitions' "familyPrefix" is exact in AWS)
  std::optional<TaskDefinitionStatus> status;
  bool descending = false;
  // Resume after this (family, revision) in sort order.
  std::optional<std::pair<std::string, int64_t>> after;
  int limit = 100;
};

enum class FamilyStatus { kActive, kInactive, kAll };

// A task: the Task object AWS returns (body, without tags), plus what Gantry needs to run it (spec).
// The columns ECS queries on (cluster, family, statuses, startedBy, ...) are read from the body.
struct Task {
  std::string arn;
  std::string account;
  std::string region;
  std::string cluster;  // cluster name
  std::string id;       // last ARN component
  std::string client_token;
  boost::json::object body;
  // The containers as they run: the task definition's container definitions with the overrides
  // applied, the task's cpu units and memory MiB, and the runtime's notes (container ids, paths).
  boost::json::object spec;

  std::string_view last_status() const;
  std::string_view desired_status() const;
};

struct TaskFilter {
  std::string cluster;
  std::optional<std::string> family;
  std::optional<std::string> started_by;
  std::optional<std::string> desired_status;
  std::optional<std::string> launch_type;
  std::optional<std::string> after_arn;
  int limit = 100;
};

// One transaction's view of ECS state. Valid only inside EcsStore::read/write.
class EcsTables {
 public:
  virtual ~EcsTables() = default;

  virtual std::optional<Cluster> find_cluster(const Scope& scope, std::string_view name) = 0;
  virtual void put_cluster(const Cluster& cluster) = 0;
  // ARNs of ACTIVE clusters in ARN order, after `after_arn` (exclusive) when given.
  virtual std::vector<std::string> list_cluster_arns(const Scope& scope, std::optional<std::string> after_arn,
                                                     int limit) = 0;

  virtual std::optional<TaskDefinition> find_task_definition(const Scope& scope, std::string_view family,
                                                              int64_t revision) = 0;
  virtual std::optional<TaskDefinition> latest_active_task_definition(const Scope& scope, std::string_view family) = 0;
  virtual int64_t max_revision(const Scope& scope, std::string_view family) = 0;
  virtual void put_task_definition(const TaskDefinition& td) = 0;
  virtual std::vector<TaskDefinition> list_task_definitions(const Scope& scope, const TaskDefinitionFilter& filter) = 0;
  // Family names ordered ascending, after `after` (exclusive).
  virtual std::vector<std::string> list_families(const Scope& scope, std::string_view prefix, FamilyStatus status,
                                                 std::optional<std::string> after, int limit) = 0;

  virtual std::optional<Task> find_task(std::string_view arn) = 0;
  virtual void put_task(const Task& task) = 0;
  // Tasks of one cluster, in ARN order.
  virtual std::vector<Task> list_tasks(const Scope& scope, const TaskFilter& filter) = 0;
  // Tasks started with this clientToken in the cluster (RunTask idempotency).
  virtual std::vector<Task> tasks_by_client_token(const Scope& scope, std::string_view cluster,
                                                  std::string_view token) = 0;
  // Counts of the cluster's tasks by lastStatus.
  virtual std::vector<std::pair<std::string, int64_t>> task_status_counts(const Scope& scope,
                                                                          std::string_view cluster) = 0;
  // Every task not yet STOPPED, in every scope, oldest first (the supervisor's recovery at startup).
  virtual std::vector<Task> unfinished_tasks() = 0;

  // Tags by resource ARN; set_tags overwrites values of existing keys.
  virtual std::vector<Tag> tags(std::string_view arn) = 0;
  virtual void set_tags(std::string_view arn, const std::vector<Tag>& tags) = 0;
  virtual void remove_tags(std::string_view arn, const std::vector<std::string>& keys) = 0;
};

using ReadFn = std::function<Result<boost::json::object>(EcsTables&)>;

// Runs ECS work in transactions. write() commits only when fn succeeds.
class EcsStore {
 public:
  virtual ~EcsStore() = default;
  virtual Result<boost::json::object> read(const ReadFn& fn) = 0;
  virtual Result<boost::json::object> write(const ReadFn& fn) = 0;
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<EcsStore> make_sqlite_store(store::Database& db);

}  // namespace gantry::ecs
