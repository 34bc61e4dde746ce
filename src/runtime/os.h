// The runtime's only door to the operating system: files, directories, mounts, pipes and processes.
// Planners (oci_spec, cgroup, rootfs) produce plain data; the thin apply functions and the runc driver
// act through an Os, so unit tests run them against FakeOs (fake_os.h) without root, and the e2e tier
// runs them against PosixOs.
//
// Contract for every implementation:
// - Thread-safe: methods may be called from several threads at once.
// - Errors are kRuntimeSystem with the operation, the path (or command) and the errno text, e.g.
//   "mkdir /sys/fs/cgroup/memory/gantry: Permission denied".
// - File descriptors handed out (make_pipe) belong to the caller, who closes them with close_fd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gantry::runtime {

struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
};

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the program: an absolute path, or looked up in PATH
  // The child's stdin/stdout/stderr: a descriptor of the caller (dup2'd into place), or -1 for
  // /dev/null. Every other descriptor is closed in the child (all are opened O_CLOEXEC).
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// What a short command printed and how it ended (a `runc state`, `runc kill`, ...).
struct CommandResult {
  int wait_status = 0;  // as waitpid(2) reports it
  std::string out;
  std::string err;
};

// How a process ended, the way Docker and ECS report it: exit code, or 128 + signal when killed.
struct ExitStatus {
  int exit_code = 0;
  std::optional<int> signal;  // set when the process was killed by a signal
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};
ExitStatus exit_status_from_wait(int wait_status);

// Files on which a task's shared namespaces are bind-mounted (see Os::create_namespaces).
struct NamespaceFiles {
  std::filesystem::path net;
  std::filesystem::path ipc;
  std::filesystem::path uts;
};

class Os {
 public:
  virtual ~Os() = default;

  // --- files and directories ---
  virtual Result<std::string> read_file(const std::filesystem::path& path) = 0;
  // Creates or truncates `path` (mode 0644) and writes `data` whole.
  virtual Status write_file(const std::filesystem::path& path, std::string_view data) = 0;
  // Writes `data` in one write(2) to a file that must exist, without O_CREAT or O_TRUNC: how cgroup
  // control files are set (the kernel's own error, e.g. EINVAL for a bad value, is reported).
  virtual Status write_control(const std::filesystem::path& path, std::string_view data) = 0;
  virtual Result<bool> exists(const std::filesystem::path& path) = 0;
  // mkdir -p (mode 0777 less the umask); existing directories are fine.
  virtual Status make_dirs(const std::filesystem::path& path) = 0;
  // rmdir(2); a missing directory is fine. Used for cgroups, which must be removed with rmdir.
  virtual Status remove_dir(const std::filesystem::path& path) = 0;
  // rm -rf; a missing path is fine. The caller unmounts whatever is mounted below `path` first.
  virtual Status remove_all(const std::filesystem::path& path) = 0;

  // --- mounts ---
  virtual Status mount(const std::string& source, const std::filesystem::path& target, const std::string& fstype,
                       unsigned long flags, const std::string& data) = 0;
  // umount2(2); a target that is not mounted (EINVAL) or missing (ENOENT) is fine.
  virtual Status unmount(const std::filesystem::path& target, int flags) = 0;

  // New network, IPC and UTS namespaces that outlive any process (what `unshare --net=FILE` makes): each
  // is bind-mounted on its file (created empty), the network one with loopback up, the UTS one with
  // `hostname` set. Containers join them by path; unmount the three files to release them.
  virtual Status create_namespaces(const NamespaceFiles& files, const std::string& hostname) = 0;
  // A TCP socket listening on `ipv4`:`port` inside the network namespace bind-mounted at `netns`, the
  // address added to its loopback device first (as a /32 alias, unless it is in 127.0.0.0/8): how Gantry serves a task's endpoints
  // (169.254.170.2) without any bridge or veth. Returns the listening descriptor (non-blocking,
  // close-on-exec), owned by the caller; the server's own threads stay in their namespace.
  virtual Result<int> listen_in_namespace(const std::filesystem::path& netns, const std::string& ipv4,
                                          uint16_t port) = 0;

  // --- pipes and processes ---
  virtual Result<Pipe> make_pipe() = 0;
  // read(2) once, retrying EINTR: bytes read, 0 at end of stream.
  virtual Result<size_t> read_fd(int fd, std::span<char> out) = 0;
  virtual void close_fd(int fd) = 0;
  virtual Result<pid_t> spawn(const SpawnOptions& options) = 0;
  // Blocks until the child `pid` ends; returns its waitpid(2) status. The pid must be a child of this
  // process (or, after a subreaper adopted it, an orphan handed to it).
  virtual Result<int> wait(pid_t pid) = 0;
  // Runs argv to completion, capturing stdout and stderr whole (stdin is /dev/null).
  virtual Result<CommandResult> run(const std::vector<std::string>& argv) = 0;
  virtual Status kill(pid_t pid, int signal) = 0;
  // prctl(PR_SET_CHILD_SUBREAPER): orphans of our descendants become our children, so a container's
  // init process, once `runc create` exits, can be waited for here. Process-wide and irreversible.
  virtual Status become_subreaper() = 0;
};

// The real thing. Stateless; one instance can serve the whole process.
class PosixOs final : public Os {
 public:
  Result<std::string> read_file(const std::filesystem::path& path) override;
  Status write_file(const std::filesystem::path& path, std::string_view data) override;
  Status write_control(const std::filesystem::path& path, std::string_view data) override;
  Result<bool> exists(const std::filesystem::path& path) override;
  Status make_dirs(const std::filesystem::path& path) override;
  Status remove_dir(const std::filesystem::path& path) override;
  Status remove_all(const std::filesystem::path& path) override;
  Status mount(const std::string& source, const std::filesystem::path& target, const std::string& fstype,
               unsigned long flags, const std::string& data) override;
  Status unmount(const std::filesystem::path& target, int flags) override;
  Status create_namespaces(const NamespaceFiles& files, const std::string& hostname) override;
  Result<int> listen_in_namespace(const std::filesystem::path& netns, const std::string& ipv4,
                                  uint16_t port) override;
  Result<Pipe> make_pipe() override;
  Result<size_t> read_fd(int fd, std::span<char> out) override;
  void close_fd(int fd) override;
  Result<pid_t> spawn(const SpawnOptions& options) override;
  Result<int> wait(pid_t pid) override;
  Result<CommandResult> run(const std::vector<std::string>& argv) override;
  Status kill(pid_t pid, int signal) override;
  Status become_subreaper() override;
};

// The path of an executable: `name` itself when it contains a '/' (and is executable), else the first match
// in PATH; empty when there is none.
std::string find_executable(const std::string& name);

// "a b 'c d'" for messages: argv joined with spaces, arguments with spaces or quotes single-quoted.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace gantry::runtime
