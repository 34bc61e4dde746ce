// What fires EventBridge Scheduler's schedules (implements Runner): every schedule cached with its parsed
// expression and time zone, its next invocation on the TimerQueue (the slot plus the schedule's
// FlexibleTimeWindow offset), deliveries handed to EventBridge's delivery worker (events::Engine::enqueue) as
// the schedule's role, and schedules that are done (an at() that fired, a recurring one past its EndDate)
// deleted when their ActionAfterCompletion is DELETE.
//
// Timing, as AWS documents Scheduler (times in the schedule's ScheduleExpressionTimezone, UTC by default):
// - cron(): each matching local wall time (a time skipped by a spring-forward change does not run; a time that
//   happens twice runs once, at its first occurrence: src/schedule/timezone.h). rate(): every period from
//   the StartDate, or from when the schedule was created or last updated. at(): once, at that local time.
// - StartDate: no invocation before it; EndDate: none after it.
// - FlexibleTimeWindow FLEXIBLE with MaximumWindowInMinutes W: each invocation comes at its slot plus an offset
//   in [0, W minutes), fixed per schedule (a hash of its ARN), so runs spread but stay deterministic.
// - A slot more than a minute late (the server was down or busy) is skipped, not caught up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "schedule/timer_queue.h"
#include "services/events/engine.h"
#include "services/scheduler/model.h"
#include "services/scheduler/runner.h"

namespace gantry::scheduler {

struct EngineStats {
  uint64_t schedules = 0;  // cached
  uint64_t pending = 0;    // with a next invocation on the timer queue
  uint64_t invocations = 0;
  uint64_t completed = 0;  // schedules that ran their last invocation
  uint64_t deleted = 0;    // of those, deleted (ActionAfterCompletion DELETE)
};

class Engine : public Runner {
 public:
  static std::unique_ptr<Engine> create(SchedulerStore& store, schedule::TimerQueue& timers, const Clock& clock,
                                        Random& random, events::Engine& deliveries,
                                        std::string zoneinfo_dir = "/usr/share/zoneinfo");
  ~Engine() override = default;
  // Reads every schedule and puts the enabled ones on the timer queue.
  virtual Status load() = 0;
  // After a reset of the store.
  virtual void clear() = 0;
  virtual EngineStats stats() const = 0;
};

}  // namespace gantry::scheduler
