#include "runtime/os.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <csignal>
#include <system_error>
#include <thread>

extern char** environ;

namespace gantry::runtime {
namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Error sys_error(std::string_view op, const std::filesystem::path& path, int err) {
  return make_error(ErrorKind::kRuntimeSystem, fmt::format("{} {}: {}", op, path.string(), errno_text(err)));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status write_whole(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

ExitStatus exit_status_from_wait(int wait_status) {
  if (WIFSIGNALED(wait_status)) return ExitStatus{128 + WTERMSIG(wait_status), WTERMSIG(wait_status)};
  if (WIFEXITED(wait_status)) return ExitStatus{WEXITSTATUS(wait_status), std::nullopt};
  return ExitStatus{255, std::nullopt};
}

std::string find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::filesystem::path candidate = std::filesystem::path(p.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    if (!arg.empty() && arg.find_first_of(" '\"\t\n") == std::string::npos) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

Result<std::string> PosixOs::read_file(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return sys_error("open", path, errno);
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status PosixOs::write_file(const std::filesystem::path& path, std::string_view data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return sys_error("open", path, errno);
  return write_whole(fd.get(), data, path);
}

Status PosixOs::write_control(const std::filesystem::path& path, std::string_view data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return sys_error("open", path, errno);
  for (;;) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(fmt::format("write '{}' to", data), path, errno);
    return {};
  }
}

Result<bool> PosixOs::exists(const std::filesystem::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return sys_error("lstat", path, errno);
}

Status PosixOs::make_dirs(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return sys_error("mkdir -p", path, ec.value());
  return {};
}

Status PosixOs::remove_dir(const std::filesystem::path& path) {
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return {};
  return sys_error("rmdir", path, errno);
}

Status PosixOs::remove_all(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return sys_error("rm -rf", path, ec.value());
  return {};
}

Status PosixOs::mount(const std::string& source, const std::filesystem::path& target, const std::string& fstype,
                      unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) == 0) {
    return {};
  }
  int err = errno;
  return make_error(ErrorKind::kRuntimeSystem,
                    fmt::format("mount -t {} {} {} -o {}: {}", fstype, source, target.string(), data, errno_text(err)));
}

Status PosixOs::unmount(const std::filesystem::path& target, int flags) {
  if (::umount2(target.c_str(), flags) == 0 || errno == EINVAL || errno == ENOENT) return {};
  return sys_error("umount", target, errno);
}

Result<Pipe> PosixOs::make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe2", "", errno);
  return Pipe{fds[0], fds[1]};
}

Result<size_t> PosixOs::read_fd(int fd, std::span<char> out) {
  for (;;) {
    ssize_t n = ::read(fd, out.data(), out.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return sys_error("read", fmt::format("fd {}", fd), errno);
  }
}

void PosixOs::close_fd(int fd) {
  if (fd >= 0) ::close(fd);
}

Status PosixOs::create_namespaces(const NamespaceFiles& files, const std::string& hostname) {
  for (const auto& f : {files.net, files.ipc, files.uts}) GANTRY_RETURN_IF_ERROR(write_file(f, ""));
  // Network, IPC and UTS namespaces belong to a thread, not the process: a short-lived thread unshares
  // them, sets them up, and bind-mounts them on the files (it is still in the server's mount namespace),
  // so they outlive it. No fork: nothing of the server (descriptors, locks) leaks into a helper process.
  Status result;
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
      result = make_error(ErrorKind::kRuntimeSystem, "unshare(net, ipc, uts): " + errno_text(errno));
      return;
    }
    if (::sethostname(hostname.data(), hostname.size()) != 0) {
      result = make_error(ErrorKind::kRuntimeSystem, fmt::format("sethostname {}: {}", hostname, errno_text(errno)));
      return;
    }
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr {};
    ifr.ifr_name[0] = 'l';
    ifr.ifr_name[1] = 'o';
    bool up = sock >= 0 && ::ioctl(sock, SIOCGIFFLAGS, &ifr) == 0;
    if (up) {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      up = ::ioctl(sock, SIOCSIFFLAGS, &ifr) == 0;
    }
    int err = errno;
    if (sock >= 0) ::close(sock);
    if (!up) {
      result = make_error(ErrorKind::kRuntimeSystem, "bring up lo: " + errno_text(err));
      return;
    }
    const std::pair<const std::filesystem::path*, const char*> ns[] = {
        {&files.net, "net"}, {&files.ipc, "ipc"}, {&files.uts, "uts"}};
    for (const auto& [file, kind] : ns) {
      std::string source = fmt::format("/proc/thread-self/ns/{}", kind);
      if (::mount(source.c_str(), file->c_str(), nullptr, MS_BIND, nullptr) != 0) {
        result = make_error(ErrorKind::kRuntimeSystem,
                            fmt::format("mount --bind {} {}: {}", source, file->string(), errno_text(errno)));
        return;
      }
    }
  });
  worker.join();
  if (!result.ok()) {
    for (const auto& f : {files.net, files.ipc, files.uts}) ::umount2(f.c_str(), MNT_DETACH);
  }
  return result;
}

Result<int> PosixOs::listen_in_namespace(const std::filesystem::path& netns, const std::string& ipv4, uint16_t port) {
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) != 1)
    return make_error(ErrorKind::kRuntimeSystem, "listen_in_namespace: not an IPv4 address: " + ipv4);
  // setns(CLONE_NEWNET) moves only the calling thread: a short-lived thread enters the namespace, makes
  // the socket there (a socket stays in the namespace it was made in) and hands the descriptor back.
  Result<int> result = make_error(ErrorKind::kRuntimeSystem, "listen_in_namespace: not run");
  std::thread worker([&] {
    auto fail = [&](std::string what, int err) {
      result = make_error(ErrorKind::kRuntimeSystem,
                          fmt::format("{} in {}: {}", what, netns.string(), errno_text(err)));
    };
    int ns = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return fail("open", errno);
    int rc = ::setns(ns, CLONE_NEWNET);
    int err = errno;
    ::close(ns);
    if (rc != 0) return fail("setns", err);
    // 127.0.0.0/8 is loopback's own already; any other address becomes an alias of lo.
    const bool loopback = (ntohl(addr.sin_addr.s_addr) >> 24) == 127;
    int ctl = loopback ? -2 : ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ctl == -1) return fail("socket", errno);
    struct ifreq ifr {};
    std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:%u", static_cast<unsigned>(port));
    auto* sin = reinterpret_cast<struct sockaddr_in*>(&ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr = addr.sin_addr;
    if (!loopback) {
      bool ok = ::ioctl(ctl, SIOCSIFADDR, &ifr) == 0 || errno == EEXIST;
      err = errno;
      if (ok) {
        sin->sin_addr.s_addr = 0xffffffffu;
        ok = ::ioctl(ctl, SIOCSIFNETMASK, &ifr) == 0;
        err = errno;
      }
      ::close(ctl);
      if (!ok) return fail("add " + ipv4 + " to lo", err);
    }
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail("socket", errno);
    int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0) {
      err = errno;
      ::close(fd);
      return fail(fmt::format("listen on {}:{}", ipv4, port), err);
    }
    result = fd;
  });
  worker.join();
  return result;
}

Result<pid_t> PosixOs::spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return make_error(ErrorKind::kRuntimeSystem, "spawn: empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const int fds[3] = {options.stdin_fd, options.stdout_fd, options.stderr_fd};
  for (int target = 0; target < 3; ++target) {
    if (fds[target] >= 0) {
      posix_spawn_file_actions_adddup2(&actions, fds[target], target);
    } else {
      posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0);
    }
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return make_error(ErrorKind::kRuntimeSystem,
                      fmt::format("spawn {}: {}", command_line(options.argv), errno_text(rc)));
  }
  return pid;
}

Result<int> PosixOs::wait(pid_t pid) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, 0);
    if (r == pid) return status;
    if (r < 0 && errno == EINTR) continue;
    return sys_error("waitpid", fmt::format("pid {}", pid), errno);
  }
}

Result<CommandResult> PosixOs::run(const std::vector<std::string>& argv) {
  GANTRY_ASSIGN_OR_RETURN(Pipe out, make_pipe());
  Fd out_read(out.read_fd);
  auto err_pipe = make_pipe();
  if (!err_pipe.ok()) {
    ::close(out.write_fd);
    return err_pipe.error();
  }
  Fd err_read(err_pipe->read_fd);
  auto pid = spawn(SpawnOptions{argv, -1, out.write_fd, err_pipe->write_fd});
  ::close(out.write_fd);
  ::close(err_pipe->write_fd);
  if (!pid.ok()) return pid.error();

  CommandResult result;
  pollfd pfds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = 2;
  char buf[8192];
  while (open_streams > 0) {
    if (::poll(pfds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (pfds[i].fd < 0 || pfds[i].revents == 0) continue;
      ssize_t n = ::read(pfds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        pfds[i].fd = -1;
        --open_streams;
      }
    }
  }
  GANTRY_ASSIGN_OR_RETURN(result.wait_status, wait(*pid));
  return result;
}

Status PosixOs::kill(pid_t pid, int signal) {
  if (::kill(pid, signal) == 0) return {};
  return sys_error(fmt::format("kill -{}", signal), fmt::format("pid {}", pid), errno);
}

Status PosixOs::become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0) return {};
  return sys_error("prctl", "PR_SET_CHILD_SUBREAPER", errno);
}

}  // namespace gantry::runtime
