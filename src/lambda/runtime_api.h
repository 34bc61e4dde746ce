// The Lambda Runtime API (2018-06-01) as each sandbox sees it at 127.0.0.1:9001 inside its own network
// namespace: the runtime asks for the next event (a long poll, answered when an invocation arrives) and
// posts the answer, the error, or an init error. One I/O thread serves every sandbox; each sandbox has
// its own listening socket, so a sandbox can only ever reach its own invocations.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"

namespace gantry::sandbox {

struct NextEvent {
  std::string request_id;
  int64_t deadline_ms = 0;  // epoch milliseconds
  std::string invoked_arn;
  std::string trace_id;
  std::string client_context;  // JSON text or empty
  std::string payload;
};

class RuntimeApi {
 public:
  struct Handlers {
    // GET /runtime/invocation/next: hand `deliver` the next event when there is one (from any thread,
    // once). If the sandbox goes away first, `deliver` is simply never called.
    std::function<void(std::function<void(NextEvent)> deliver)> next;
    // POST /runtime/invocation/<id>/response and /error; false: no such invocation in flight.
    std::function<bool(const std::string& request_id, std::string body)> response;
    std::function<bool(const std::string& request_id, const std::string& error_type, std::string body)> error;
    // POST /runtime/init/error.
    std::function<void(const std::string& error_type, std::string body)> init_error;
  };

  RuntimeApi();
  ~RuntimeApi();
  RuntimeApi(const RuntimeApi&) = delete;
  RuntimeApi& operator=(const RuntimeApi&) = delete;

  // Serves `listen_fd` (a listening TCP socket, which this takes over) for sandbox `id`.
  Status add(const std::string& id, int listen_fd, Handlers handlers);
  // Stops accepting for the sandbox and closes its listener and connections.
  void remove(const std::string& id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::sandbox
