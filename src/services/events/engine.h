// What makes rules act: the engine keeps every rule with its compiled pattern, schedule and targets in
// memory (refreshed by the API after each change it commits), fires scheduled rules on the TimerQueue,
// matches published events against the rules of their bus, and hands each (event, target) to a Deliverer
// on its own worker thread, retrying failures as the target's RetryPolicy allows.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/arn.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "schedule/timer_queue.h"
#include "services/events/model.h"

namespace gantry::events {

// One event going to one target of one rule (or of one EventBridge Scheduler schedule).
struct Delivery {
  Scope scope;
  std::string rule_arn;   // the rule's (or schedule's) ARN
  std::string rule_name;
  std::string event_id;
  // Who delivers: a rule (Lambda through the function's resource policy, ECS as the target's role) or a
  // Scheduler schedule (every target called as the schedule's role, assumed by scheduler.amazonaws.com).
  enum class Via { kRule, kSchedule } via = Via::kRule;
  boost::json::object target;  // the Target document (Arn, RoleArn, EcsParameters, ...)
  std::string input;           // what the target receives, after Input/InputPath/InputTransformer
};

// How long a delivery is retried: a target's RetryPolicy (EventBridge's and Scheduler's have the same members),
// AWS's defaults (185 attempts, 24 hours) for what it omits.
struct RetryLimits {
  int max_retries = 185;
  int max_age_seconds = 86400;
};
RetryLimits retry_limits(const boost::json::object& target);

struct DeliveryOutcome {
  bool ok = true;
  bool retryable = false;  // throttling, capacity, a service error: worth another try
  std::string message;     // why it failed
};

// Sends deliveries where their target's ARN points (Lambda, ECS). Called from the engine's worker thread.
class Deliverer {
 public:
  virtual ~Deliverer() = default;
  virtual DeliveryOutcome deliver(const Delivery& d) = 0;
};

struct EngineStats {
  uint64_t rules = 0;            // cached rules
  uint64_t scheduled = 0;        // enabled scheduled rules waiting for their next slot
  uint64_t matched = 0;          // (event, rule) matches and scheduled firings so far
  uint64_t delivered = 0;        // successful deliveries (TriggeredRules/Invocations)
  uint64_t failed = 0;           // failed attempts (FailedInvocations), retried or not
  uint64_t dropped = 0;          // deliveries given up after their retries or age
  uint64_t retries_pending = 0;  // deliveries waiting for a retry
  uint64_t queued = 0;           // deliveries waiting for the worker
  // How late scheduled rules fired (the clock when the firing began minus the slot's time), over the last
  // 16,384 firings, in microseconds.
  uint64_t firings = 0;
  int64_t late_p50_us = 0;
  int64_t late_p99_us = 0;
  int64_t late_max_us = 0;
};

class Engine {
 public:
  // `deliverer` may be set later (set_deliverer) but before load().
  static std::unique_ptr<Engine> create(EventsStore& store, schedule::TimerQueue& timers, const Clock& clock,
                                        Random& random);
  virtual ~Engine() = default;

  virtual void set_deliverer(Deliverer* deliverer) = 0;
  // Reads every rule from the store and schedules the enabled scheduled ones from now.
  virtual Status load() = 0;
  // After the API committed a change of a rule or of its targets: reads it again (gone: forgotten).
  virtual void refresh(const Scope& scope, const std::string& bus, const std::string& rule) = 0;
  // After DeleteEventBus: forgets the bus's rules.
  virtual void forget_bus(const Scope& scope, const std::string& bus) = 0;
  // After a reset of the store: forgets everything.
  virtual void clear() = 0;

  // An event (a JSON object) as EventBridge sees it (version, id, detail-type, source, account, time, region, resources,
  // detail) put on `bus`: every enabled rule of the bus whose pattern matches gets it delivered to each of
  // its targets (asynchronously). Returns the number of rules matched.
  virtual size_t publish(const Scope& scope, const std::string& bus, const boost::json::value& event) = 0;
  // A new event id (a UUID).
  virtual std::string new_event_id() = 0;
  // Hands one delivery to the worker, retried within `retry` (Scheduler's schedules deliver through this too).
  virtual void enqueue(Delivery delivery, RetryLimits retry) = 0;

  virtual EngineStats stats() const = 0;
  // Waits until no delivery is queued or running (tests and the manual clock's callers); false after `timeout`.
  virtual bool drain(std::chrono::milliseconds timeout) = 0;
  // Stops the worker; deliveries still queued are dropped.
  virtual void stop() = 0;
};

// "2026-11-28T08:05:00Z": how events write their time.
std::string event_time(TimePoint t);

}  // namespace gantry::events
