// What the ECS API asks of whatever runs tasks (the supervisor, src/supervisor/): run a task that the
// API has stored in PROVISIONING, stop one. The API owns the Task rows' creation and the user's stop
// request; the runner owns everything that follows (lastStatus, timestamps, containers, exit codes).
#pragma once

#include <cstdint>
#include <string>

namespace gantry::ecs {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // Why this host cannot run tasks (not root, no OCI runtime, no usable cgroups); empty when it can.
  virtual std::string unavailable_reason() const = 0;
  // A task just committed in PROVISIONING: queue it (first come, first served, by capacity).
  virtual void submit(const std::string& task_arn, uint32_t cpu_units, uint64_t memory_mib) = 0;
  // StopTask: desiredStatus is already STOPPED in the store; stop what runs, or drop it from the queue.
  virtual void stop(const std::string& task_arn) = 0;
};

}  // namespace gantry::ecs
