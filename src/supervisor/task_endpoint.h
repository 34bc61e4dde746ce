// The HTTP endpoints ECS gives a task at 169.254.170.2 inside its own network namespace: the task
// role's credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) and the task metadata endpoint v4
// (ECS_CONTAINER_METADATA_URI_V4). Each task has its own listening socket, made inside its namespace
// (Os::listen_in_namespace), so a task can only ever reach its own answers; one I/O thread serves all.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::supervisor {

class TaskEndpoint {
 public:
  struct Reply {
    int status = 200;
    std::string body;  // JSON
  };
  // Answers one GET for a path ("/v2/credentials/<id>", "/v4/<container>/task", ...). Runs on the
  // endpoint's thread; it may block briefly (store reads, issuing credentials).
  using Responder = std::function<Reply(std::string_view path)>;

  TaskEndpoint();
  ~TaskEndpoint();
  TaskEndpoint(const TaskEndpoint&) = delete;
  TaskEndpoint& operator=(const TaskEndpoint&) = delete;

  // Serves `listen_fd` (a listening TCP socket, which this takes over) for task `task_id`.
  Status add(const std::string& task_id, int listen_fd, Responder responder);
  // Stops accepting for the task and closes its listener; connections in flight finish or time out.
  void remove(const std::string& task_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::supervisor
