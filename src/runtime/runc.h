// Driver for an OCI runtime CLI (runc by default; any CLI with runc's commands and flags, e.g. crun).
//
// How a container runs, and why: detached (`runc create` + `runc start`, or `runc run --detach`), with
// this process a child subreaper.
// - runc is given the container's stdout and stderr as fresh pipes (detached mode: the container
//   inherits them directly, no copying process in between), stdin /dev/null, and writes the init pid
//   to <bundle>/init.pid. When that runc process exits, the container's init — orphaned — is
//   re-parented to the nearest subreaper: this process. waitpid() on it then yields the exact exit
//   status (exit code, or the killing signal → 128 + n, e.g. 137 for an OOM kill), like
//   containerd-shim does. Nothing stays running per container but the container itself (no
//   foreground `runc run`, which holds ~10 MB per task just to relay the status and copy output).
// - Polling `runc state` would lose the exit code (runc only says "stopped"); a foreground `runc run`
//   reports it but mixes runc's own errors into the container's stderr and costs a process per task.
// - Consequence: the process must be a subreaper (RuncDriver::create sets PR_SET_CHILD_SUBREAPER,
//   process-wide), and it must not reap with waitpid(-1) elsewhere, or a container's status is lost.
//   Orphans of containers' helper processes that end up here are reaped only when waited for by pid.
//
// Errors: kRuntimeOciFailed with the full command line, the exit status and runc's stderr (for
// `create` and `run --detach`, also the error messages of runc's JSON log), e.g.
//   "runc --root /run/gantry create --bundle /d/b --pid-file /d/b/init.pid c1: exit status 1: ...".
// A runc that cannot be started at all is kRuntimeSystem.
//
// Thread-safe: calls on different containers may run concurrently.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "runtime/os.h"

namespace gantry::runtime {

struct RuncOptions {
  std::string binary = "runc";  // a path, or a name looked up in PATH
  std::string root;             // --root (runc's state dir); empty: runc's default (/run/runc)
};

// Splits one stream of a container's output into lines. Owns the descriptor. Not thread-safe (one
// reader per stream); read a container's stdout and stderr from two threads, or one may fill its pipe
// (64 KiB) and stall the container.
class LineReader {
 public:
  // Longer lines are cut into pieces of this size (CloudWatch Logs caps an event at 256 KiB).
  static constexpr size_t kMaxLine = 256 * 1024;

  LineReader(Os& os, int fd) : os_(os), fd_(fd) {}
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its '\n'; a last line without '\n' is returned too; nullopt at end of stream
  // (every writer — the container and everything it started — has closed it).
  Result<std::optional<std::string>> next_line();

 private:
  Os& os_;
  int fd_;
  std::string buffer_;
  size_t scanned_ = 0;
  bool eof_ = false;
};

struct ContainerState {
  std::string id;
  std::string status;  // "created", "running", "paused", "stopped"
  pid_t pid = 0;
  std::string bundle;
};
// Parses `runc state` output; kRuntimeOciFailed when it is not the JSON runc prints.
Result<ContainerState> parse_container_state(std::string_view json);

struct CreatedContainer {
  std::string id;
  pid_t pid = 0;  // the container's init on the host; ours to wait for
  std::unique_ptr<LineReader> stdout_lines;
  std::unique_ptr<LineReader> stderr_lines;
};

class RuncDriver {
 public:
  // Makes this process a child subreaper (see above); fails if it cannot.
  static Result<std::unique_ptr<RuncDriver>> create(Os& os, RuncOptions options);

  const RuncOptions& options() const { return options_; }

  // Creates `bundle` (parents included) and writes <bundle>/config.json. The rootfs is the caller's.
  Status write_bundle(const std::filesystem::path& bundle, std::string_view config_json);
  // `runc create`: the container exists, its init waits for `start` (for containers that must wait on
  // others: dependsOn).
  Result<CreatedContainer> create_container(const std::string& id, const std::filesystem::path& bundle);
  // `runc run --detach`: create and start in one runc process (one exec fewer than create + start).
  // Same stdio, pid file and subreaper handling as create_container.
  Result<CreatedContainer> run_detached(const std::string& id, const std::filesystem::path& bundle);
  Status start(const std::string& id);
  Result<ContainerState> state(const std::string& id);
  // `runc kill [--all] <id> <signal>`; signal by number.
  Status kill(const std::string& id, int signal, bool all = false);
  // `runc delete --force <id>`: kills what is left, removes runc's state and the container's cgroup.
  Status remove(const std::string& id);
  // `runc exec <id> argv...` (health checks): the process's exit status, its output discarded. After
  // `timeout` runc is killed (SIGKILL) and the result is a timeout error (kRuntimeOciFailed naming it).
  Result<ExitStatus> exec(const std::string& id, const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout);
  // Blocks until the container's init exits; its status as Docker reports it (128 + signal if killed).
  Result<ExitStatus> wait(const CreatedContainer& container);

 private:
  RuncDriver(Os& os, RuncOptions options) : os_(os), options_(std::move(options)) {}
  Result<CreatedContainer> launch(const std::string& id, const std::filesystem::path& bundle, bool start);
  std::vector<std::string> base_args() const;
  Result<CommandResult> run_checked(std::vector<std::string> args);

  Os& os_;
  RuncOptions options_;
};

// `run --detach`, stream every line to `on_line` (from two reader threads, so `on_line` must be
// thread-safe), wait, call `on_exit` (the container's cgroup still exists then: the moment to read its
// memory stats and OOM kills), delete. The container is deleted on every path once created.
struct RunOutcome {
  ExitStatus exit;
  pid_t pid = 0;
};
using LineSink = std::function<void(bool is_stderr, std::string line)>;
Result<RunOutcome> run_container(RuncDriver& driver, const std::string& id, const std::filesystem::path& bundle,
                                 const LineSink& on_line, const std::function<void(const ExitStatus&)>& on_exit = {});

}  // namespace gantry::runtime
