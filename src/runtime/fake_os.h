// An Os for unit tests: an in-memory file tree, recorded mounts and commands, scripted processes and
// errors on cue. Pipes are real (pipe2), so code that streams a container's output is tested as it runs.
//
// Semantics kept from the kernel where tests depend on them: a file can only be written in an existing
// directory (ENOENT otherwise); rmdir fails with ENOTEMPTY while subdirectories exist and drops the
// files directly inside (as cgroupfs does with control files); write_control needs the directory only.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/os.h"

namespace gantry::runtime {

class FakeOs final : public Os {
 public:
  struct MountCall {
    std::string source;
    std::string target;
    std::string fstype;
    unsigned long flags = 0;
    std::string data;
  };
  // What a spawned or run command does: how it ends and what it prints. The script may call back
  // into this FakeOs (e.g. to write a pid file) — no lock is held while it runs.
  struct Process {
    int wait_status = 0;  // waitpid(2) form: exit code << 8, or a signal number
    std::string out;
    std::string err;
  };
  using Script = std::function<Process(const std::vector<std::string>& argv)>;

  FakeOs();

  // --- set up and inspect (thread-safe) ---
  void add_file(const std::string& path, std::string content);  // parents are created
  void add_dir(const std::string& path);
  std::optional<std::string> file(const std::string& path) const;
  bool has_dir(const std::string& path) const;
  std::vector<MountCall> mounts() const;                   // currently mounted, in mount order
  std::vector<std::string> journal() const;                // every mutating call, e.g. "mkdir /a", "write /a/b 1"
  std::vector<std::vector<std::string>> commands() const;  // argv of every spawn and run, in order
  void set_script(Script script);
  // The waitpid status a later wait(pid) returns for a pid this fake never spawned (a container init).
  void set_wait_status(pid_t pid, int wait_status);
  // Fault injection: the next call of `op` ("read", "write", "write_control", "mkdir", "rmdir",
  // "remove_all", "mount", "unmount", "spawn", "run") whose path starts with `path_prefix` fails
  // with errno `err` (the message is the one PosixOs would give). One-shot.
  void fail_next(std::string op, std::string path_prefix, int err);
  bool is_subreaper() const;

  // --- Os ---
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
  Result<Pipe> make_pipe() override;
  Result<size_t> read_fd(int fd, std::span<char> out) override;
  void close_fd(int fd) override;
  Result<pid_t> spawn(const SpawnOptions& options) override;
  Result<int> wait(pid_t pid) override;
  Result<CommandResult> run(const std::vector<std::string>& argv) override;
  Status kill(pid_t pid, int signal) override;
  Status become_subreaper() override;
  Status create_namespaces(const NamespaceFiles& files, const std::string& hostname) override;
  // A real socket listening on 127.0.0.1 (any free port), whatever `ipv4` and `port` say: tests connect
  // to it with listening_port(). Fails when the namespace file was never made.
  Result<int> listen_in_namespace(const std::filesystem::path& netns, const std::string& ipv4,
                                  uint16_t port) override;
  // Hostnames of the namespace sets created, in order.
  std::vector<std::string> namespace_hostnames() const;

 private:
  struct Fault {
    std::string op;
    std::string prefix;
    int err;
  };
  // Returns the injected error for (op, path), consuming it; mu_ held.
  std::optional<Error> take_fault_locked(std::string_view op, const std::string& path);
  void add_dirs_locked(const std::string& path);
  Process exec(const std::vector<std::string>& argv);

  mutable std::mutex mu_;
  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_;
  std::vector<MountCall> mounts_;
  std::vector<std::string> journal_;
  std::vector<std::vector<std::string>> commands_;
  std::map<pid_t, int> wait_statuses_;
  std::vector<Fault> faults_;
  Script script_;
  pid_t next_pid_ = 1000;
  bool subreaper_ = false;
  std::vector<std::string> namespace_hostnames_;
};

}  // namespace gantry::runtime
