#include "runtime/fake_os.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace gantry::runtime {
namespace {

std::string normal(const std::filesystem::path& path) {
  std::string s = path.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string parent_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "/" : parent;
}

bool is_below(const std::string& path, const std::string& dir) {
  if (dir == "/") return path.size() > 1 && path[0] == '/';
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

Error errno_error(std::string_view op, const std::string& path, int err) {
  return make_error(ErrorKind::kRuntimeSystem,
                    fmt::format("{} {}: {}", op, path, std::error_code(err, std::generic_category()).message()));
}

}  // namespace

FakeOs::FakeOs() { dirs_.insert("/"); }

void FakeOs::add_file(const std::string& path, std::string content) {
  std::lock_guard lock(mu_);
  std::string p = normal(path);
  add_dirs_locked(parent_of(p));
  files_[p] = std::move(content);
}

void FakeOs::add_dir(const std::string& path) {
  std::lock_guard lock(mu_);
  add_dirs_locked(normal(path));
}

std::optional<std::string> FakeOs::file(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(normal(path));
  if (it == files_.end()) return std::nullopt;
  return it->second;
}

bool FakeOs::has_dir(const std::string& path) const {
  std::lock_guard lock(mu_);
  return dirs_.count(normal(path)) > 0;
}

std::vector<FakeOs::MountCall> FakeOs::mounts() const {
  std::lock_guard lock(mu_);
  return mounts_;
}

std::vector<std::string> FakeOs::journal() const {
  std::lock_guard lock(mu_);
  return journal_;
}

std::vector<std::vector<std::string>> FakeOs::commands() const {
  std::lock_guard lock(mu_);
  return commands_;
}

void FakeOs::set_script(Script script) {
  std::lock_guard lock(mu_);
  script_ = std::move(script);
}

void FakeOs::set_wait_status(pid_t pid, int wait_status) {
  std::lock_guard lock(mu_);
  wait_statuses_[pid] = wait_status;
}

void FakeOs::fail_next(std::string op, std::string path_prefix, int err) {
  std::lock_guard lock(mu_);
  faults_.push_back(Fault{std::move(op), std::move(path_prefix), err});
}

bool FakeOs::is_subreaper() const {
  std::lock_guard lock(mu_);
  return subreaper_;
}

std::optional<Error> FakeOs::take_fault_locked(std::string_view op, const std::string& path) {
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->op == op && path.compare(0, it->prefix.size(), it->prefix) == 0) {
      int err = it->err;
      faults_.erase(it);
      return errno_error(op, path, err);
    }
  }
  return std::nullopt;
}

void FakeOs::add_dirs_locked(const std::string& path) {
  std::filesystem::path p(path);
  std::filesystem::path acc;
  for (const auto& part : p) {
    acc /= part;
    dirs_.insert(normal(acc));
  }
}

Result<std::string> FakeOs::read_file(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  std::string p = normal(path);
  if (auto fault = take_fault_locked("read", p)) return *fault;
  auto it = files_.find(p);
  if (it == files_.end()) return errno_error("open", p, ENOENT);
  return it->second;
}

Status FakeOs::write_file(const std::filesystem::path& path, std::string_view data) {
  std::lock_guard lock(mu_);
  std::string p = normal(path);
  if (auto fault = take_fault_locked("write", p)) return *fault;
  if (!dirs_.count(parent_of(p))) return errno_error("open", p, ENOENT);
  files_[p] = std::string(data);
  journal_.push_back(fmt::format("write {}", p));
  return {};
}

Status FakeOs::write_control(const std::filesystem::path& path, std::string_view data) {
  std::lock_guard lock(mu_);
  std::string p = normal(path);
  if (auto fault = take_fault_locked("write_control", p)) return *fault;
  if (!dirs_.count(parent_of(p))) return errno_error("open", p, ENOENT);
  files_[p] = std::string(data);
  journal_.push_back(fmt::format("write {} {}", p, data));
  return {};
}

Result<bool> FakeOs::exists(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  std::string p = normal(path);
  return files_.count(p) > 0 || dirs_.count(p) > 0;
}

Status FakeOs::make_dirs(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  std::string p = normal(path);
  if (auto fault = take_fault_locked("mkdir", p)) return *fault;
  if (!dirs_.count(p)) journal_.push_back(fmt::format("mkdir {}", p));
  add_dirs_locked(p);
  return {};
}

Status FakeOs::remove_dir(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  std::string p = normal(path);
  if (auto fault = take_fault_locked("rmdir", p)) return *fault;
  if (!dirs_.count(p)) return {};
  for (const auto& d : dirs_) {
    if (is_below(d, p)) return errno_error("rmdir", p, ENOTEMPTY);
  }
  for (auto it = files_.begin(); it != files_.end();) {
    if (parent_of(it->first) == p)
      it = files_.erase(it);
    else
      ++it;
  }
  dirs_.erase(p);
  journal_.push_back(fmt::format("rmdir {}", p));
  return {};
}

Status FakeOs::remove_all(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  std::string p = normal(path);
  if (auto fault = take_fault_locked("remove_all", p)) return *fault;
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first == p || is_below(it->first, p))
      it = files_.erase(it);
    else
      ++it;
  }
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    if (*it == p || is_below(*it, p))
      it = dirs_.erase(it);
    else
      ++it;
  }
  journal_.push_back(fmt::format("rm -rf {}", p));
  return {};
}

Status FakeOs::mount(const std::string& source, const std::filesystem::path& target, const std::string& fstype,
                     unsigned long flags, const std::string& data) {
  std::lock_guard lock(mu_);
  std::string p = normal(target);
  if (auto fault = take_fault_locked("mount", p)) return *fault;
  if (!dirs_.count(p)) return errno_error("mount", p, ENOENT);
  mounts_.push_back(MountCall{source, p, fstype, flags, data});
  journal_.push_back(fmt::format("mount {} {}", fstype, p));
  return {};
}

Status FakeOs::unmount(const std::filesystem::path& target, int /*flags*/) {
  std::lock_guard lock(mu_);
  std::string p = normal(target);
  if (auto fault = take_fault_locked("unmount", p)) return *fault;
  for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
    if (it->target == p) {
      mounts_.erase(std::next(it).base());
      journal_.push_back(fmt::format("umount {}", p));
      return {};
    }
  }
  return {};
}

Result<Pipe> FakeOs::make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error("pipe2", "", errno);
  return Pipe{fds[0], fds[1]};
}

Result<size_t> FakeOs::read_fd(int fd, std::span<char> out) {
  for (;;) {
    ssize_t n = ::read(fd, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return errno_error("read", fmt::format("fd {}", fd), errno);
  }
}

void FakeOs::close_fd(int fd) {
  if (fd >= 0) ::close(fd);
}

FakeOs::Process FakeOs::exec(const std::vector<std::string>& argv) {
  Script script;
  {
    std::lock_guard lock(mu_);
    commands_.push_back(argv);
    script = script_;
  }
  if (!script) return Process{127 << 8, "", fmt::format("{}: no script in FakeOs\n", argv.empty() ? "" : argv[0])};
  return script(argv);
}

Result<pid_t> FakeOs::spawn(const SpawnOptions& options) {
  {
    std::lock_guard lock(mu_);
    if (auto fault = take_fault_locked("spawn", options.argv.empty() ? "" : options.argv[0])) return *fault;
  }
  Process process = exec(options.argv);
  // Pipe buffers (64 KiB) hold what a script prints; a fake process never blocks.
  if (options.stdout_fd >= 0 && !process.out.empty()) {
    [[maybe_unused]] auto n = ::write(options.stdout_fd, process.out.data(), process.out.size());
  }
  if (options.stderr_fd >= 0 && !process.err.empty()) {
    [[maybe_unused]] auto n = ::write(options.stderr_fd, process.err.data(), process.err.size());
  }
  std::lock_guard lock(mu_);
  pid_t pid = next_pid_++;
  wait_statuses_[pid] = process.wait_status;
  return pid;
}

Result<int> FakeOs::wait(pid_t pid) {
  std::lock_guard lock(mu_);
  auto it = wait_statuses_.find(pid);
  if (it == wait_statuses_.end()) return errno_error("waitpid", fmt::format("pid {}", pid), ECHILD);
  int status = it->second;
  wait_statuses_.erase(it);
  return status;
}

Result<CommandResult> FakeOs::run(const std::vector<std::string>& argv) {
  {
    std::lock_guard lock(mu_);
    if (auto fault = take_fault_locked("run", argv.empty() ? "" : argv[0])) return *fault;
  }
  Process process = exec(argv);
  return CommandResult{process.wait_status, std::move(process.out), std::move(process.err)};
}

Status FakeOs::kill(pid_t pid, int signal) {
  std::lock_guard lock(mu_);
  journal_.push_back(fmt::format("kill -{} {}", signal, pid));
  return {};
}

Status FakeOs::become_subreaper() {
  std::lock_guard lock(mu_);
  subreaper_ = true;
  return {};
}

Result<int> FakeOs::listen_in_namespace(const std::filesystem::path& netns, const std::string& ipv4, uint16_t port) {
  {
    std::lock_guard lock(mu_);
    std::string p = normal(netns);
    if (auto fault = take_fault_locked("listen", p)) return *fault;
    if (!files_.count(p)) return errno_error("open", p, ENOENT);
    journal_.push_back(fmt::format("listen {} {}:{}", p, ipv4, port));
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    return errno_error("listen", "127.0.0.1", err);
  }
  return fd;
}

Status FakeOs::create_namespaces(const NamespaceFiles& files, const std::string& hostname) {
  std::lock_guard lock(mu_);
  for (const auto& f : {files.net, files.ipc, files.uts}) {
    std::string p = normal(f);
    if (auto fault = take_fault_locked("namespaces", p)) return *fault;
    if (!dirs_.count(parent_of(p))) return errno_error("open", p, ENOENT);
    files_[p] = "";
    mounts_.push_back(MountCall{"nsfs", p, "nsfs", 0, ""});
  }
  journal_.push_back(fmt::format("namespaces {} {}", normal(files.net), hostname));
  namespace_hostnames_.push_back(hostname);
  return {};
}

std::vector<std::string> FakeOs::namespace_hostnames() const {
  std::lock_guard lock(mu_);
  return namespace_hostnames_;
}

}  // namespace gantry::runtime
