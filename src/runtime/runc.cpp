#include "runtime/runc.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>

namespace gantry::runtime {
namespace json = boost::json;
namespace {

std::string describe_status(int wait_status) {
  if (WIFEXITED(wait_status)) return fmt::format("exit status {}", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return fmt::format("killed by signal {}", WTERMSIG(wait_status));
  return fmt::format("wait status {}", wait_status);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

Error oci_error(const std::vector<std::string>& argv, int wait_status, std::string_view err) {
  return make_error(ErrorKind::kRuntimeOciFailed,
                    fmt::format("{}: {}: {}", command_line(argv), describe_status(wait_status),
                                err.empty() ? std::string("(no stderr)") : trim(std::string(err))));
}

// The "msg" of each error-level line of runc's --log-format json log.
std::string log_errors(std::string_view log) {
  std::string out;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string_view::npos) end = log.size();
    boost::system::error_code ec;
    auto v = json::parse(log.substr(start, end - start), ec);
    start = end + 1;
    if (ec || !v.is_object()) continue;
    const auto& o = v.get_object();
    const auto* level = o.if_contains("level");
    const auto* msg = o.if_contains("msg");
    if (level == nullptr || msg == nullptr || !level->is_string() || !msg->is_string()) continue;
    if (level->get_string() != "error" && level->get_string() != "fatal") continue;
    if (!out.empty()) out += "; ";
    out += msg->get_string();
  }
  return out;
}

std::string drain(LineReader& reader) {
  std::string out;
  for (;;) {
    auto line = reader.next_line();
    if (!line.ok() || !line->has_value()) return out;
    if (!out.empty()) out += '\n';
    out += **line;
  }
}

}  // namespace

LineReader::~LineReader() { os_.close_fd(fd_); }

Result<std::optional<std::string>> LineReader::next_line() {
  for (;;) {
    size_t nl = buffer_.find('\n', scanned_);
    if (nl != std::string::npos && nl <= kMaxLine) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      scanned_ = 0;
      return std::optional<std::string>(std::move(line));
    }
    scanned_ = buffer_.size();
    if (nl != std::string::npos || buffer_.size() >= kMaxLine) {
      std::string line = buffer_.substr(0, kMaxLine);
      buffer_.erase(0, kMaxLine);
      scanned_ = 0;
      return std::optional<std::string>(std::move(line));
    }
    if (eof_) {
      if (buffer_.empty()) return std::optional<std::string>();
      std::string line = std::move(buffer_);
      buffer_.clear();
      scanned_ = 0;
      return std::optional<std::string>(std::move(line));
    }
    char chunk[16384];
    GANTRY_ASSIGN_OR_RETURN(size_t n, os_.read_fd(fd_, std::span<char>(chunk, sizeof chunk)));
    if (n == 0)
      eof_ = true;
    else
      buffer_.append(chunk, n);
  }
}

Result<ContainerState> parse_container_state(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  auto bad = [&] {
    return make_error(ErrorKind::kRuntimeOciFailed,
                      fmt::format("runc state: unexpected output \"{}\"", trim(std::string(text))));
  };
  if (ec || !v.is_object()) return bad();
  const auto& o = v.get_object();
  ContainerState s;
  const auto* id = o.if_contains("id");
  const auto* status = o.if_contains("status");
  const auto* pid = o.if_contains("pid");
  if (id == nullptr || !id->is_string() || status == nullptr || !status->is_string() || pid == nullptr ||
      !pid->is_int64()) {
    return bad();
  }
  s.id = std::string(id->get_string());
  s.status = std::string(status->get_string());
  s.pid = static_cast<pid_t>(pid->get_int64());
  if (const auto* bundle = o.if_contains("bundle"); bundle != nullptr && bundle->is_string()) {
    s.bundle = std::string(bundle->get_string());
  }
  return s;
}

Result<std::unique_ptr<RuncDriver>> RuncDriver::create(Os& os, RuncOptions options) {
  GANTRY_RETURN_IF_ERROR(os.become_subreaper());
  return std::unique_ptr<RuncDriver>(new RuncDriver(os, std::move(options)));
}

std::vector<std::string> RuncDriver::base_args() const {
  std::vector<std::string> args{options_.binary};
  if (!options_.root.empty()) {
    args.push_back("--root");
    args.push_back(options_.root);
  }
  return args;
}

Result<CommandResult> RuncDriver::run_checked(std::vector<std::string> args) {
  auto argv = base_args();
  argv.insert(argv.end(), args.begin(), args.end());
  GANTRY_ASSIGN_OR_RETURN(CommandResult result, os_.run(argv));
  if (!WIFEXITED(result.wait_status) || WEXITSTATUS(result.wait_status) != 0) {
    return oci_error(argv, result.wait_status, result.err);
  }
  return result;
}

Status RuncDriver::write_bundle(const std::filesystem::path& bundle, std::string_view config_json) {
  GANTRY_RETURN_IF_ERROR(os_.make_dirs(bundle));
  return os_.write_file(bundle / "config.json", config_json);
}

Result<CreatedContainer> RuncDriver::create_container(const std::string& id, const std::filesystem::path& bundle) {
  return launch(id, bundle, false);
}

Result<CreatedContainer> RuncDriver::run_detached(const std::string& id, const std::filesystem::path& bundle) {
  return launch(id, bundle, true);
}

Result<CreatedContainer> RuncDriver::launch(const std::string& id, const std::filesystem::path& bundle, bool start) {
  const auto pid_file = bundle / "init.pid";
  const auto log_file = bundle / "runc.log";
  auto argv = base_args();
  for (const std::string& a :
       {std::string("--log"), log_file.string(), std::string("--log-format"), std::string("json")}) {
    argv.push_back(a);
  }
  if (start) {
    argv.push_back("run");
    argv.push_back("--detach");
  } else {
    argv.push_back("create");
  }
  for (const std::string& a :
       {std::string("--bundle"), bundle.string(), std::string("--pid-file"), pid_file.string(), id}) {
    argv.push_back(a);
  }
  GANTRY_ASSIGN_OR_RETURN(Pipe out, os_.make_pipe());
  auto out_reader = std::make_unique<LineReader>(os_, out.read_fd);
  auto err = os_.make_pipe();
  if (!err.ok()) {
    os_.close_fd(out.write_fd);
    return err.error();
  }
  auto err_reader = std::make_unique<LineReader>(os_, err->read_fd);
  auto pid = os_.spawn(SpawnOptions{argv, -1, out.write_fd, err->write_fd});
  os_.close_fd(out.write_fd);
  os_.close_fd(err->write_fd);
  if (!pid.ok()) return pid.error();
  GANTRY_ASSIGN_OR_RETURN(int status, os_.wait(*pid));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // No container holds the pipes now: runc's own stderr can be read to its end.
    std::string stderr_text = drain(*err_reader);
    auto log = os_.read_file(log_file);
    std::string logged = log.ok() ? log_errors(*log) : std::string();
    if (!logged.empty() && stderr_text.find(logged) == std::string::npos) {
      stderr_text += (stderr_text.empty() ? "" : "; ") + std::string("log: ") + logged;
    }
    (void)run_checked({"delete", "--force", id});
    return oci_error(argv, status, stderr_text);
  }
  auto pid_text = os_.read_file(pid_file);
  pid_t init_pid = 0;
  if (pid_text.ok()) {
    std::string t = trim(*pid_text);
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), init_pid);
    if (ec != std::errc() || ptr != t.data() + t.size()) init_pid = 0;
  }
  if (init_pid <= 0) {
    (void)run_checked({"delete", "--force", id});
    return make_error(ErrorKind::kRuntimeOciFailed,
                      fmt::format("{}: succeeded but wrote no pid to {}{}", command_line(argv), pid_file.string(),
                                  pid_text.ok() ? "" : ": " + pid_text.error().message));
  }
  return CreatedContainer{id, init_pid, std::move(out_reader), std::move(err_reader)};
}

Status RuncDriver::start(const std::string& id) {
  GANTRY_RETURN_IF_ERROR(run_checked({"start", id}));
  return {};
}

Result<ContainerState> RuncDriver::state(const std::string& id) {
  GANTRY_ASSIGN_OR_RETURN(CommandResult r, run_checked({"state", id}));
  return parse_container_state(r.out);
}

Status RuncDriver::kill(const std::string& id, int signal, bool all) {
  std::vector<std::string> args{"kill"};
  if (all) args.push_back("--all");
  args.push_back(id);
  args.push_back(std::to_string(signal));
  GANTRY_RETURN_IF_ERROR(run_checked(std::move(args)));
  return {};
}

Result<ExitStatus> RuncDriver::exec(const std::string& id, const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout) {
  auto full = base_args();
  full.push_back("exec");
  full.push_back(id);
  full.insert(full.end(), argv.begin(), argv.end());
  GANTRY_ASSIGN_OR_RETURN(pid_t pid, os_.spawn(SpawnOptions{full, -1, -1, -1}));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool timed_out = false;
  std::thread timer([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, timeout, [&] { return done; })) {
      timed_out = true;
      (void)os_.kill(pid, SIGKILL);
    }
  });
  auto status = os_.wait(pid);
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  timer.join();
  if (!status.ok()) return status.error();
  if (timed_out)
    return make_error(ErrorKind::kRuntimeOciFailed,
                      fmt::format("{}: timed out after {} ms", command_line(full), timeout.count()));
  return exit_status_from_wait(*status);
}

Status RuncDriver::remove(const std::string& id) {
  GANTRY_RETURN_IF_ERROR(run_checked({"delete", "--force", id}));
  return {};
}

Result<ExitStatus> RuncDriver::wait(const CreatedContainer& container) {
  GANTRY_ASSIGN_OR_RETURN(int status, os_.wait(container.pid));
  return exit_status_from_wait(status);
}

Result<RunOutcome> run_container(RuncDriver& driver, const std::string& id, const std::filesystem::path& bundle,
                                 const LineSink& on_line, const std::function<void(const ExitStatus&)>& on_exit) {
  GANTRY_ASSIGN_OR_RETURN(CreatedContainer c, driver.run_detached(id, bundle));
  auto pump = [&on_line](LineReader* reader, bool is_stderr) {
    for (;;) {
      auto line = reader->next_line();
      if (!line.ok() || !line->has_value()) return;
      on_line(is_stderr, std::move(**line));
    }
  };
  std::thread out_thread(pump, c.stdout_lines.get(), false);
  std::thread err_thread(pump, c.stderr_lines.get(), true);
  Status removed;
  auto exit = driver.wait(c);
  // Could not wait (not a subreaper?): the container may still run and hold the pipes open; kill it so
  // the readers see the end of its output.
  if (!exit.ok()) removed = driver.remove(id);
  out_thread.join();
  err_thread.join();
  if (exit.ok() && on_exit) on_exit(*exit);
  if (exit.ok()) removed = driver.remove(id);
  if (!exit.ok()) return exit.error();
  if (!removed.ok()) return removed.error();
  return RunOutcome{*exit, c.pid};
}

}  // namespace gantry::runtime
