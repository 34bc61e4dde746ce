// What the Lambda API needs from whatever runs functions (src/lambda/sandbox_pool implements it): run one
// invocation of one version of a function and report how it went. The API never sees sandboxes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/arn.h"
#include "core/error.h"

namespace gantry::lambda {

// One version of a function as a sandbox runs it. Sandboxes are reused only for invocations whose
// `sandbox_key` is equal (same version, code and configuration).
struct FunctionSpec {
  Scope scope;
  std::string name;
  std::string function_arn;  // unqualified
  std::string version;       // "$LATEST" or "3"
  std::string runtime;       // "python3.11"
  std::string handler;       // "module.function"
  std::string role_arn;
  int64_t memory_mb = 128;
  int64_t timeout_seconds = 3;
  int64_t ephemeral_mb = 512;
  std::vector<std::pair<std::string, std::string>> environment;
  std::filesystem::path code_dir;  // Zip: the unpacked deployment package, mounted read-only at /var/task
  // Image: the image in Gantry's registry, pinned by digest ("<registry>/<repository>@sha256:..."), and the
  // function's ImageConfig overrides of the image's ENTRYPOINT, CMD and WORKDIR.
  std::string image;
  std::optional<std::vector<std::string>> entry_point;
  std::optional<std::vector<std::string>> command;
  std::string working_directory;
  std::string log_group;           // "/aws/lambda/<name>"
  std::optional<int64_t> reserved_concurrency;
  std::string sandbox_key;         // version + RevisionId: a new configuration or code gets new sandboxes
};

struct Invocation {
  FunctionSpec function;
  std::string request_id;
  std::string invoked_arn;     // as the caller named it (qualified or not)
  std::string payload;         // the event, JSON text
  std::string client_context;  // decoded ClientContext JSON text, or empty
  bool tail_log = false;       // LogType Tail: return the last 4 KB of this invocation's log
};

struct InvocationResult {
  std::string payload;                        // the function's answer, or the error JSON
  std::optional<std::string> function_error;  // "Unhandled" when the function failed
  std::string log_tail;                       // with tail_log: the last 4 KB of the log lines
};

class Invoker {
 public:
  virtual ~Invoker() = default;
  // Why functions cannot run on this host (no root, no runc, no Python for the runtime); empty when they can.
  virtual std::string unavailable_reason() const = 0;
  // The runtimes this host provides ("python3.11").
  virtual std::vector<std::string> runtimes() const = 0;
  // The image `image_uri` names in Gantry's registry: its manifest digest ("sha256:...") and its repository's
  // ARN (for IAM); an error saying why when it is not there.
  struct ImageFound {
    std::string digest;
    std::string repository_arn;
  };
  virtual Result<ImageFound> resolve_image(const Scope& scope, const std::string& image_uri) = 0;
  // Whether a sandbox, or an Event invocation waiting for its retry, still uses `code_dir`.
  virtual bool uses_code(const std::filesystem::path& code_dir) const = 0;
  // Unpacks the image's layers (an Image function's preparation, while it is Pending) on a worker thread, then
  // calls `done` there with how it went.
  virtual void prepare_image(const Scope& scope, const std::string& image, std::function<void(Status)> done) = 0;
  // Runs `invocation` synchronously in a warm or new sandbox and calls `done` once, from a worker thread,
  // when it ended. Errors (kLambdaTooManyRequests when the function's concurrency is used up,
  // kLambdaService when no sandbox could start) are Gantry's; a function that failed is a result with
  // function_error set.
  virtual void invoke(Invocation invocation, std::function<void(Result<InvocationResult>)> done) = 0;
  // Queues an asynchronous (Event) invocation: retried twice on failure with backoff (1 min, then 2 min
  // after that, as Lambda does), dropped with a log line after the event's maximum age (6 hours).
  virtual void enqueue(Invocation invocation) = 0;
  // Retires the sandboxes of every version of a function (it changed or was deleted); idle ones stop now,
  // busy ones after their invocation.
  virtual void retire(const Scope& scope, const std::string& function_name) = 0;
};

}  // namespace gantry::lambda
