// The task lifecycle as ECS reports it, as pure edits of a Task object (the JSON DescribeTasks returns).
//
// lastStatus only moves forward:
//   PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
// (a task that fails before RUNNING jumps ahead; an edit that would move it back is ignored). Each edit
// that changes the object increments `version`, as ECS does, and stamps the timestamps ECS stamps:
// pullStartedAt/pullStoppedAt around the image pull, startedAt and connectivityAt at RUNNING, stoppingAt
// when the stop begins, executionStoppedAt when the last container exited, stoppedAt at STOPPED.
// The first stop request decides stopCode and stoppedReason; later ones (a user's StopTask while the
// essential container is already exiting) change nothing.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace gantry::ecs::task_state {

// The `detail` of the "ECS Task State Change" event ECS sends for `task` (EventBridge's shape): the task's
// members with its timestamps as ISO-8601 strings, and updatedAt.
boost::json::object change_event_detail(const boost::json::object& task, TimePoint now);

// Position of a lastStatus value in the order above; -1 for anything else.
int rank(std::string_view status);

// PROVISIONING → PENDING: the pull starts (pullStartedAt); containers are PENDING.
void pull_started(boost::json::object& task, TimePoint now);
// The pull is over (pullStoppedAt); `image_digest` per container name when known.
void pull_stopped(boost::json::object& task, TimePoint now);
void set_image_digest(boost::json::object& task, std::string_view container, std::string_view digest);
// A container was started under the OCI runtime with this id.
void container_running(boost::json::object& task, std::string_view container, std::string_view runtime_id);
// A container's health check result (HEALTHY | UNHEALTHY | UNKNOWN) and the task's health that follows.
void set_health(boost::json::object& task, std::string_view container, std::string_view status,
                std::string_view task_status);
// The task is RUNNING: startedAt, connectivity CONNECTED, the ENI attachment ATTACHED.
void running(boost::json::object& task, TimePoint now);
// desiredStatus STOPPED; stopCode and stoppedReason when none was set yet. Returns true when this was
// the first stop request.
bool stop_requested(boost::json::object& task, std::string_view stop_code, std::string_view reason, TimePoint now);
// The containers are being stopped: lastStatus DEACTIVATING (stoppingAt).
void stopping(boost::json::object& task, TimePoint now);
// One container ended: exitCode (absent when it never ran), reason (omitted when empty).
void container_stopped(boost::json::object& task, std::string_view container, std::optional<int> exit_code,
                       std::string_view reason);
// Every container has exited: executionStoppedAt; lastStatus DEPROVISIONING.
void execution_stopped(boost::json::object& task, TimePoint now);
// STOPPED: stoppedAt; containers not yet STOPPED become STOPPED; the ENI attachment DELETED.
void stopped(boost::json::object& task, TimePoint now);

}  // namespace gantry::ecs::task_state
