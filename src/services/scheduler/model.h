// EventBridge Scheduler domain types and the transaction-scoped view of its state (SchedulerTables):
// schedule groups, the schedules in them, the groups' tags. A schedule keeps the document GetSchedule returns
// (its whole configuration, Target included, with CreationDate and LastModificationDate), next to the
// columns it is looked up by. The "default" group exists in every account and region without a row.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/arn.h"
#include "core/error.h"
#include "schedule/expression.h"
#include "schedule/timezone.h"
#include "store/database.h"
#include "store/service_store.h"

namespace gantry::scheduler {

inline constexpr std::string_view kDefaultGroup = "default";

struct Schedule {
  std::string account;
  std::string region;
  std::string group;
  std::string name;
  // GetSchedule's answer: Arn, Name, GroupName, Description, ScheduleExpression, ScheduleExpressionTimezone,
  // StartDate, EndDate, State, FlexibleTimeWindow, Target, ActionAfterCompletion, CreationDate,
  // LastModificationDate (timestamps as epoch seconds).
  boost::json::object doc;
  int64_t created_ms = 0;
};

struct Group {
  std::string account;
  std::string region;
  std::string name;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
};

// Which schedules ListSchedules wants, ordered by (group, name).
struct ScheduleQuery {
  std::optional<std::string> group;  // only this group; nullopt: every group
  std::string name_prefix;           // "": any name
  std::optional<std::string> state;  // "ENABLED" / "DISABLED"; nullopt: either
  // Only schedules after this (group, name), exclusive; empty: from the first.
  std::string after_group;
  std::string after_name;
  int limit = 100;
};

// One transaction's view. Everything is keyed by the scope (account, region).
class SchedulerTables {
 public:
  virtual ~SchedulerTables() = default;

  virtual std::optional<Schedule> find_schedule(const Scope& scope, std::string_view group, std::string_view name) = 0;
  // Inserts or replaces the schedule with this (group, name).
  virtual void put_schedule(const Schedule& s) = 0;
  virtual void delete_schedule(const Scope& scope, std::string_view group, std::string_view name) = 0;
  virtual std::vector<Schedule> list_schedules(const Scope& scope, const ScheduleQuery& query) = 0;
  // Every schedule of every account and region (the runner's start).
  virtual std::vector<Schedule> all_schedules() = 0;

  // Custom groups only; the default group exists without a row.
  virtual std::optional<Group> find_group(const Scope& scope, std::string_view name) = 0;
  virtual void put_group(const Group& g) = 0;
  // Removes the group's row with every schedule in it (not its tags: drop_tags).
  virtual void delete_group(const Scope& scope, std::string_view name) = 0;
  // Custom groups by name, with `prefix`, after `after` (exclusive), at most `limit`.
  virtual std::vector<Group> list_groups(const Scope& scope, std::string_view prefix, std::string_view after,
                                         int limit) = 0;

  // Tags of schedule groups, by ARN, in the order keys were first set.
  virtual std::vector<store::ResourceTag> tags(std::string_view arn) = 0;
  virtual void set_tags(std::string_view arn, const std::vector<store::ResourceTag>& tags) = 0;
  virtual void remove_tags(std::string_view arn, const std::vector<std::string>& keys) = 0;
  virtual void drop_tags(std::string_view arn) = 0;
};

using TxFn = std::function<Result<boost::json::object>(SchedulerTables&)>;

// Runs Scheduler work in transactions. write() commits only when fn succeeds.
class SchedulerStore {
 public:
  virtual ~SchedulerStore() = default;
  virtual Result<boost::json::object> read(const TxFn& fn) = 0;
  virtual Result<boost::json::object> write(const TxFn& fn) = 0;
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<SchedulerStore> make_sqlite_store(store::Database& db);

// A ScheduleExpression as Scheduler reads it (what the API accepted and stored, for whatever fires it):
// - at(yyyy-mm-ddThh:mm:ss): one wall-clock time in the schedule's ScheduleExpressionTimezone
//   (schedule::parse_at);
// - rate(value unit) and cron(fields) as schedule::parse_expression parses them, except that Scheduler takes
//   the unit in either number ("rate(2 minute)", "rate(1 hours)"), as AWS does.
// Errors: kValidation, "Invalid Schedule Expression <text>." (AWS's words).
struct ScheduleExpression {
  std::variant<schedule::At, schedule::Expression> what;
};
Result<ScheduleExpression> parse_schedule_expression(std::string_view text);

}  // namespace gantry::scheduler
