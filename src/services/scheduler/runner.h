// What the Scheduler API tells whatever fires schedules (the scheduler engine): a schedule changed, a group
// went. The API owns the rows; the runner reads them again and keeps its timers in step.
#pragma once

#include <string>

#include "core/arn.h"

namespace gantry::scheduler {

class Runner {
 public:
  virtual ~Runner() = default;
  // After the API committed a change of a schedule (created, updated or deleted): read it again from the store.
  virtual void refresh(const Scope& scope, const std::string& group, const std::string& name) = 0;
  // After DeleteScheduleGroup committed (its schedules went with it).
  virtual void forget_group(const Scope& scope, const std::string& group) = 0;
};

}  // namespace gantry::scheduler
