// EventBridge domain types and the transaction-scoped view of its state (EventsTables): event buses, rules
// on them, the rules' targets, tags. A rule and a target keep the document the API returns (DescribeRule's
// members, a Target as PutTargets took it), next to the columns they are looked up by.
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
#include "store/service_store.h"

namespace gantry::events {

inline constexpr std::string_view kDefaultBus = "default";

struct Bus {
  std::string account;
  std::string region;
  std::string name;
  std::string description;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
};

struct Rule {
  std::string account;
  std::string region;
  std::string bus;
  std::string name;
  // DescribeRule's answer: Name, Arn, EventPattern, ScheduleExpression, State, Description, RoleArn,
  // EventBusName, CreatedBy.
  boost::json::object doc;
  int64_t anchor_ms = 0;  // rate() slots count from here: when the schedule was last set
  int64_t created_ms = 0;
};

struct Target {
  std::string id;
  std::string arn;
  boost::json::object doc;  // the Target as ListTargetsByRule returns it
};

// One transaction's view. Everything is keyed by the scope (account, region).
class EventsTables {
 public:
  virtual ~EventsTables() = default;

  // Custom buses only; the default bus exists without a row.
  virtual std::optional<Bus> find_bus(const Scope& scope, std::string_view name) = 0;
  virtual void put_bus(const Bus& bus) = 0;
  virtual void delete_bus(const Scope& scope, std::string_view name) = 0;  // with its rules and targets
  virtual std::vector<Bus> list_buses(const Scope& scope) = 0;                // by name

  virtual std::optional<Rule> find_rule(const Scope& scope, std::string_view bus, std::string_view name) = 0;
  virtual void put_rule(const Rule& rule) = 0;
  virtual void delete_rule(const Scope& scope, std::string_view bus, std::string_view name) = 0;
  // Rules of a bus by name, with `prefix`, after `after` (exclusive), at most `limit`.
  virtual std::vector<Rule> list_rules(const Scope& scope, std::string_view bus, std::string_view prefix,
                                       std::string_view after, int limit) = 0;
  // Every rule of every account and region (the engine's start).
  virtual std::vector<Rule> all_rules() = 0;

  // A rule's targets in the order they were first put.
  virtual std::vector<Target> targets(const Scope& scope, std::string_view bus, std::string_view rule) = 0;
  // Inserts or replaces (keeping its place) the target with this id.
  virtual void put_target(const Scope& scope, std::string_view bus, std::string_view rule, const Target& t) = 0;
  virtual void delete_target(const Scope& scope, std::string_view bus, std::string_view rule, std::string_view id) = 0;
  // Names of the bus's rules with a target of this ARN, by name, after `after`, at most `limit`.
  virtual std::vector<std::string> rules_with_target(const Scope& scope, std::string_view bus, std::string_view arn,
                                                     std::string_view after, int limit) = 0;

  virtual std::vector<store::ResourceTag> tags(std::string_view arn) = 0;
  virtual void set_tags(std::string_view arn, const std::vector<store::ResourceTag>& tags) = 0;
  virtual void remove_tags(std::string_view arn, const std::vector<std::string>& keys) = 0;
  virtual void drop_tags(std::string_view arn) = 0;
};

using TxFn = std::function<Result<boost::json::object>(EventsTables&)>;

class EventsStore {
 public:
  virtual ~EventsStore() = default;
  virtual Result<boost::json::object> read(const TxFn& fn) = 0;
  virtual Result<boost::json::object> write(const TxFn& fn) = 0;
};

std::vector<store::Migration> sqlite_migrations();
std::unique_ptr<EventsStore> make_sqlite_store(store::Database& db);

}  // namespace gantry::events
