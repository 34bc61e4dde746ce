// The task supervisor: runs the ECS tasks RunTask stores, under an OCI runtime, and writes their life
// back to the ECS store as ECS reports it (src/services/ecs/task_state.h).
//
// One task, start to finish (a thread per running task; two more per running container, which read its
// stdout and stderr and wait for it):
//   queue (PROVISIONING, first come first served by cpu units and memory MiB against the node's
//   capacity) → PENDING: each container's image resolved in Gantry's registry (image_ref.h) and its
//   layers unpacked into the layer cache → the awslogs groups checked or created → the task cgroup
//   (cpu quota and memory limit of the task) → network/IPC/UTS namespaces its containers all join, with
//   the task's endpoints at 169.254.170.2 inside (task_endpoint.h: role credentials, metadata v4) → per
//   container an overlay rootfs, an OCI bundle, `runc run --detach` in
//   dependsOn order → RUNNING → an essential container exits, or StopTask → SIGTERM to every container,
//   SIGKILL after its stopTimeout → STOPPED, everything removed again.
//
// On disk, below the data dir: layers/<diffID> (the layer cache), tasks/<task id>/<container>/ (bundle,
// rootfs mount, upper dir), tasks/<task id>/ns/ (namespace files), runc/ (the OCI runtime's state).
// Cgroups: gantry/<task id>[/<container>] below the server's own cgroup in each hierarchy.
//
// Restart: the containers of a server that died are not its children any more, so their exit codes
// are lost. At startup recover() deletes whatever the OCI runtime still knows, unmounts and removes
// the tasks' files and cgroups, marks every task that had started STOPPED with a stoppedReason that
// says so, and queues again the tasks that were still waiting for capacity.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/random.h"
#include "image/blob_store.h"
#include "runtime/os.h"
#include "services/ecr/model.h"
#include "services/ecs/model.h"
#include "services/ecs/task_runner.h"
#include "services/logs/sink.h"

namespace gantry::supervisor {

struct SupervisorOptions {
  std::filesystem::path data_dir;
  std::string oci_runtime = "runc";  // a path, or a name looked up in PATH
  uint32_t capacity_cpu_units = 0;   // 0: 1024 per online CPU
  uint64_t capacity_memory_mib = 0;  // 0: the host's physical memory
  std::string cgroup_parent = "gantry";
};

// Temporary credentials of a role, as a task's credentials endpoint hands them out.
struct RoleCredentials {
  std::string access_key_id;
  std::string secret;
  std::string token;
  TimePoint expiration;
};
// Assumes `role_arn` (of the account in `scope`) on behalf of ECS tasks (ecs-tasks.amazonaws.com) for a
// session named `session_name`; an error when the role's trust policy does not allow it.
using RoleCredentialsFn = std::function<Result<RoleCredentials>(const Scope& scope, const std::string& role_arn,
                                                                const std::string& session_name)>;

// Whether a session `session_name` of the execution role `role_arn` may do `action` on `resource` (as ECS
// asks before it pulls an image or writes logs for a task): nullopt when it may, else AWS's sentence.
using ExecutionRoleCheckFn =
    std::function<std::optional<std::string>(const Scope& scope, const std::string& role_arn,
                                             const std::string& session_name, std::string_view action,
                                             const std::string& resource)>;

// Told of every change of a task's lastStatus or desiredStatus (and of a task submitted), after it is stored:
// the task as DescribeTasks shows it. Called from the supervisor's threads; must not block.
using TaskChangedFn = std::function<void(const boost::json::object& task)>;

struct SupervisorDeps {
  runtime::Os& os;
  ecs::EcsStore& ecs;
  ecr::EcrStore& ecr;
  image::BlobStore& blobs;
  logs::Sink& logs;
  const Clock& clock;
  Random& random;
  RoleCredentialsFn role_credentials;  // unset: tasks with a taskRoleArn fail to start, saying so
  ExecutionRoleCheckFn execution_role;  // unset (IAM not enforced): images are pulled, logs written unchecked
  TaskChangedFn task_changed = nullptr;  // unset: nobody listens
};

struct Capacity {
  uint32_t cpu_units = 0;
  uint64_t memory_mib = 0;
  uint32_t used_cpu_units = 0;
  uint64_t used_memory_mib = 0;
  size_t running = 0;
  size_t queued = 0;
};

class Supervisor final : public ecs::TaskRunner {
 public:
  // Never fails: a host that cannot run tasks gives a Supervisor whose unavailable_reason() says why.
  static std::unique_ptr<Supervisor> create(SupervisorDeps deps, SupervisorOptions options);
  ~Supervisor() override;

  std::string unavailable_reason() const override;
  void submit(const std::string& task_arn, uint32_t cpu_units, uint64_t memory_mib) override;
  void stop(const std::string& task_arn) override;

  // Once, before the API serves requests: cleans up after a previous server and requeues waiting tasks.
  void recover();
  // Stops every task (SIGTERM, SIGKILL after `grace`) with stoppedReason "Gantry server shut down" and
  // waits for their threads. Called by the destructor too.
  void shutdown(std::chrono::seconds grace = std::chrono::seconds(5));

  // POST /_gantry/reset: drops the queue, kills every running task at once and waits for them.
  void stop_all_for_reset();

  Capacity capacity() const;

  class Impl;

 private:
  explicit Supervisor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::supervisor
