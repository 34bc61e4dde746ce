#include "lambda/sandbox_pool.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <unistd.h>

#include <csignal>

#include <boost/json.hpp>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "lambda/bootstrap_source.h"
#include "lambda/local_ca.h"
#include "lambda/runtime_api.h"
#include "lambda/tls_proxy.h"
#include "runtime/cgroup.h"
#include "runtime/oci_spec.h"
#include "runtime/host.h"
#include "runtime/rootfs.h"
#include "runtime/runc.h"
#include "supervisor/image_ref.h"

namespace gantry::sandbox {

namespace fs = std::filesystem;
namespace json = boost::json;
using Steady = std::chrono::steady_clock;

namespace {

constexpr uint16_t kRuntimeApiPort = 9001;
constexpr uint16_t kApiPort = 4566;
constexpr uint16_t kTlsPort = 443;
constexpr std::string_view kCaBundle = "/etc/gantry-ca.pem";
constexpr uint32_t kUid = 993;  // Lambda's sbx_user1051
constexpr uint32_t kGid = 990;
constexpr auto kInitLimit = std::chrono::seconds(10);          // Lambda's init phase limit
constexpr auto kOutputGrace = std::chrono::milliseconds(500);  // for runtimes that write no end marker
constexpr auto kCredentialMargin = std::chrono::minutes(10);   // retire sandboxes before their role session ends
constexpr size_t kTailKeep = 8192;
constexpr size_t kMaxQueuedLines = 100000;   // log lines waiting for the store, all sandboxes together
constexpr size_t kAccountConcurrency = 1000;  // Lambda's default account limit of invocations in flight
constexpr std::string_view kEndMarker = "\x1egantry-invocation-end ";
constexpr std::string_view kInitMarker = "\x1egantry-init-end";

int64_t epoch_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string iso_ms(TimePoint t) {
  auto ms = epoch_ms(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

std::string stream_name(TimePoint t, std::string_view version, std::string_view hex) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms(t) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}/{:02d}/{:02d}/[{}]{}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, version, hex);
}

json::object mount(std::string dest, std::string type, std::string source, std::vector<std::string> options) {
  json::array opts;
  for (auto& o : options) opts.emplace_back(std::move(o));
  return json::object{{"destination", std::move(dest)}, {"type", std::move(type)}, {"source", std::move(source)},
                      {"options", std::move(opts)}};
}

// What the configured interpreter is: "3.11", its executable and its installation prefix.
struct PythonInfo {
  std::string version;
  std::string executable;
  std::string prefix;
};

Result<PythonInfo> probe_python(runtime::Os& os, const std::string& python) {
  std::string path = runtime::find_executable(python);
  if (path.empty()) return make_error(ErrorKind::kRuntimeSystem, fmt::format("no Python interpreter '{}' in PATH", python));
  GANTRY_ASSIGN_OR_RETURN(auto r, os.run({path, "-c",
                                          "import sys, os\n"
                                          "print('%d.%d' % sys.version_info[:2])\n"
                                          "print(os.path.realpath(sys.executable))\n"
                                          "print(os.path.realpath(sys.base_prefix))\n"}));
  if (r.wait_status != 0)
    return make_error(ErrorKind::kRuntimeSystem, fmt::format("{} failed to start: {}", path, r.err.substr(0, 300)));
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < r.out.size()) {
    auto nl = r.out.find('\n', start);
    lines.push_back(r.out.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  if (lines.size() < 3 || !lines[0].starts_with("3."))
    return make_error(ErrorKind::kRuntimeSystem, fmt::format("{} is not Python 3", path));
  return PythonInfo{lines[0], lines[1], lines[2]};
}

struct Completion {
  std::function<void(Result<lambda::InvocationResult>)> done;
  Result<lambda::InvocationResult> result;
};

struct Current {
  Current(lambda::Invocation i, std::function<void(Result<lambda::InvocationResult>)> d)
      : inv(std::move(i)), done(std::move(d)), queued(Steady::now()) {}

  lambda::Invocation inv;
  std::function<void(Result<lambda::InvocationResult>)> done;
  Steady::time_point queued;  // when the sandbox took it
  bool dispatched = false;
  Steady::time_point started;
  Steady::time_point deadline;
  std::optional<std::string> payload;
  std::optional<std::string> function_error;
  bool output_done = false;
  Steady::time_point answered;
  std::string tail;
};

// A sandbox serves an invocation from the moment it is made (kBusy), waits warm (kIdle), or is gone.
enum class State { kIdle, kBusy, kDead };

struct Sandbox {
  std::string id;  // 32 hex
  std::string key;
  std::string function_id;  // account/region/name
  lambda::FunctionSpec spec;
  std::string runtime_id;
  fs::path dir;
  std::string cgroups_path;
  std::optional<runtime::RootfsPlan> rootfs;  // Image functions: the overlay of the image's layers
  std::optional<runtime::ImageConfig> image_config;
  std::string log_stream;
  bool logs_enabled = true;
  bool create_group = true;
  State state = State::kBusy;
  bool retired = false;
  bool kill_requested = false;
  bool container_started = false;
  std::function<void(NextEvent)> waiting;
  std::optional<Current> current;
  std::optional<std::string> init_error;
  Steady::time_point created;
  Steady::time_point idle_since;
  TimePoint credentials_expire;
  std::optional<double> init_ms;
  bool init_reported = false;
  // Gantry's runtime client writes an end marker after each invocation's output; an image's own client
  // (awslambdaric) does not, and its invocations end when the answer arrives.
  bool has_markers = false;
  std::thread thread;
};

struct AsyncItem {
  lambda::Invocation inv;
  int attempts = 0;
  Steady::time_point first;
  Steady::time_point due;
};

struct LogLine {
  Scope scope;
  std::string group;
  std::string stream;
  logs::Event event;
  bool create_group = true;
};

}  // namespace

class SandboxPool::Impl {
 public:
  Impl(PoolDeps d, PoolOptions o) : d_(std::move(d)), options_(std::move(o)) {}

  void init() {
    // The runtimes are known even where functions cannot run, so the API accepts functions there too.
    for (const auto& candidate : options_.pythons) {
      auto python = probe_python(d_.os, candidate);
      if (!python.ok()) {
        reason_ = "no Python for the runtime: " + python.error().message;
        return;
      }
      pythons_.emplace("python" + python->version, *python);  // the first of a version wins
    }
    if (pythons_.empty()) {
      reason_ = "no Python for the runtime: --lambda-python names none";
      return;
    }
    auto host = runtime::probe_container_host(d_.os, options_.oci_runtime, options_.data_dir / "runc");
    if (!host.ok()) {
      reason_ = host.error().message;
      return;
    }
    layout_ = host->layout;
    swap_accounting_ = host->swap_accounting;
    runc_ = std::move(host->runc);
    root_ = options_.data_dir / "lambda";
    if (auto st = prepare_root(); !st.ok()) {
      reason_ = "preparing the sandbox root: " + st.error().message;
      return;
    }
    clean_stale_sandboxes();
    if (auto st = d_.os.make_dirs(options_.data_dir / "layers"); !st.ok()) {
      reason_ = st.error().message;
      return;
    }
    layers_ = std::make_unique<runtime::LayerCache>(d_.os, options_.data_dir / "layers");
    // The TLS relay is for old SDKs only: without it functions still reach Gantry via AWS_ENDPOINT_URL.
    auto ca = LocalCa::load_or_create(options_.data_dir / "tls");
    if (ca.ok() && d_.api_port) {
      if (auto st = d_.os.write_file(root_ / "runtime" / "ca.pem", (*ca)->ca_pem()); st.ok()) {
        ca_ = std::move(*ca);
        tls_ = std::make_unique<TlsProxy>(d_.api_host, d_.api_port);
      }
    } else if (!ca.ok()) {
      spdlog::warn("lambda: no local CA ({}); SDKs that ignore AWS_ENDPOINT_URL cannot reach Gantry from functions",
                   ca.error().message);
    }
    api_ = std::make_unique<RuntimeApi>();
    log_thread_ = std::thread([this] { log_loop(); });
    reaper_ = std::thread([this] { reap_loop(); });
    for (const auto& [runtime, python] : pythons_)
      spdlog::info("lambda: {} runtime from {} (prefix {}), sandboxes via {}", runtime, python.executable,
                   python.prefix, host->runc_path);
  }

  std::string reason() const { return reason_; }

  std::vector<std::string> runtimes() const {
    std::vector<std::string> out;
    for (const auto& [runtime, python] : pythons_) out.push_back(runtime);
    return out;
  }

  void invoke(lambda::Invocation inv, std::function<void(Result<lambda::InvocationResult>)> done) {
    std::optional<Completion> refused;
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        refused = Completion{std::move(done), make_error(ErrorKind::kLambdaService, "Gantry is shutting down")};
      } else {
        // Reserved concurrency bounds the invocations in flight, warm sandboxes or not.
        std::string fid = function_id(inv.function);
        size_t in_flight = 0;
        for (auto& [id, s] : sandboxes_)
          if (s->function_id == fid && s->current) ++in_flight;
        size_t account_in_flight = 0;
        for (auto& [id, s] : sandboxes_)
          if (s->current && s->spec.scope.account == inv.function.scope.account) ++account_in_flight;
        const bool throttled = (inv.function.reserved_concurrency &&
                                static_cast<int64_t>(in_flight) >= *inv.function.reserved_concurrency) ||
                               account_in_flight >= kAccountConcurrency;
        for (auto& [id, s] : sandboxes_) {
          if (throttled) break;
          if (s->key == inv.function.sandbox_key && s->state == State::kIdle && !s->retired && !s->kill_requested) {
            s->state = State::kBusy;
            s->current = Current(std::move(inv), std::move(done));
            dispatch_locked(*s);
            return;
          }
        }
        if (throttled) {
          refused = Completion{std::move(done), make_error(ErrorKind::kLambdaTooManyRequests,
                                                           "Rate Exceeded. (ReservedFunctionConcurrentInvocationLimit"
                                                           "Exceeded: the function's reserved concurrency is in use)")};
        } else {
          start_locked(std::move(inv), std::move(done));
          return;
        }
      }
    }
    refused->done(std::move(refused->result));
  }

  void enqueue(lambda::Invocation inv) {
    std::lock_guard lock(mu_);
    auto now = Steady::now();
    async_.push_back(AsyncItem{std::move(inv), 0, now, now});
    cv_.notify_all();
  }

  void retire(const Scope& scope, const std::string& name) {
    std::vector<std::string> kill;
    {
      std::lock_guard lock(mu_);
      std::string fid = fmt::format("{}/{}/{}", scope.account, scope.region, name);
      for (auto& [id, s] : sandboxes_) {
        if (s->function_id != fid) continue;
        s->retired = true;
        if (s->state == State::kIdle) request_kill_locked(*s, kill);
      }
    }
    kill_all(kill);
  }

  void shutdown() {
    std::vector<std::string> kill;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      for (auto& [id, s] : sandboxes_) request_kill_locked(*s, kill);
      cv_.notify_all();
    }
    kill_all(kill);
    wait_for_no_sandboxes();
    if (reaper_.joinable()) reaper_.join();
    join_finished();
    {
      std::lock_guard lock(prep_mu_);
      prep_stop_ = true;  // what is queued still runs: each job ends in its `done`
      prep_cv_.notify_all();
    }
    if (prep_thread_.joinable()) prep_thread_.join();
    {
      std::lock_guard lock(log_mu_);
      log_stop_ = true;
      log_cv_.notify_all();
    }
    if (log_thread_.joinable()) log_thread_.join();
    api_.reset();
    tls_.reset();
  }

  void stop_all_for_reset() {
    std::vector<std::string> kill;
    {
      std::lock_guard lock(mu_);
      async_.clear();
      ++generation_;  // Event invocations in flight are not queued again
      for (auto& [id, s] : sandboxes_) {
        s->retired = true;
        request_kill_locked(*s, kill);
      }
    }
    kill_all(kill);
    wait_for_no_sandboxes();
    // The killed sandboxes' last log lines are written before the store is wiped.
    std::unique_lock lock(log_mu_);
    log_idle_cv_.wait(lock, [&] { return log_queue_.empty() && !log_writing_; });
  }

  // Each sandbox's thread removes it from the map once its container is gone and everything it used is
  // released; its thread must end before the pool goes. A sandbox still starting is killed once it is
  // created, so the wait ends; every few seconds the kills are sent again, and said.
  void wait_for_no_sandboxes() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return sandboxes_.empty(); })) {
      std::vector<std::string> kill;
      for (auto& [id, s] : sandboxes_)
        if (s->container_started) kill.push_back(s->runtime_id);
      spdlog::warn("lambda: waiting for {} sandbox(es) to stop", sandboxes_.size());
      lock.unlock();
      kill_all(kill);
      lock.lock();
    }
  }

  Stats stats() const {
    std::lock_guard lock(mu_);
    Stats st;
    st.sandboxes = sandboxes_.size();
    for (auto& [id, s] : sandboxes_)
      if (s->current) ++st.busy;
    st.queued_async = async_.size();
    return st;
  }

 private:
  static std::string function_id(const lambda::FunctionSpec& f) {
    return fmt::format("{}/{}/{}", f.scope.account, f.scope.region, f.name);
  }

  // --- the sandbox root, shared read-only by every sandbox ---

  Status prepare_root() {
    fs::path rootfs = root_ / "rootfs";
    fs::path runtime_dir = root_ / "runtime";
    for (const auto& d : {"proc", "dev", "sys", "tmp", "var/task", "var/runtime", "etc", "usr", "opt", "home",
                          "root"})
      GANTRY_RETURN_IF_ERROR(d_.os.make_dirs(rootfs / d));
    // Debian and most distributions merge /bin, /lib, ... into /usr: the same links here; otherwise
    // they are bound like /usr.
    for (const auto& d : {"bin", "sbin", "lib", "lib64", "lib32", "libx32"}) {
      fs::path host = fs::path("/") / d;
      std::error_code ec;
      if (fs::is_symlink(host, ec)) {
        auto target = fs::read_symlink(host, ec);
        fs::remove(rootfs / d, ec);
        fs::create_symlink(target, rootfs / d, ec);
      } else if (fs::is_directory(host, ec)) {
        GANTRY_RETURN_IF_ERROR(d_.os.make_dirs(rootfs / d));
        host_binds_.push_back(host.string());
      }
    }
    for (const auto& [runtime, python] : pythons_) {
      if (python.prefix.starts_with("/usr/") || python.prefix == "/usr") continue;
      GANTRY_RETURN_IF_ERROR(d_.os.make_dirs(rootfs / fs::path(python.prefix).relative_path()));
      if (std::find(host_binds_.begin(), host_binds_.end(), python.prefix) == host_binds_.end())
        host_binds_.push_back(python.prefix);
    }
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(rootfs / "etc/passwd",
                                            fmt::format("root:x:0:0:root:/root:/sbin/nologin\n"
                                                        "sbx_user1051:x:{}:{}::/home/sbx_user1051:/sbin/nologin\n",
                                                        kUid, kGid)));
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(rootfs / "etc/group", fmt::format("root:x:0:\nsbx_user1051:x:{}:\n", kGid)));
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(rootfs / "etc/nsswitch.conf", "hosts: files\n"));
    for (const auto& f : {"etc/hosts", "etc/hostname", "etc/resolv.conf", "etc/gantry-ca.pem"})
      GANTRY_RETURN_IF_ERROR(d_.os.write_file(rootfs / f, ""));
    GANTRY_RETURN_IF_ERROR(d_.os.make_dirs(runtime_dir));
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(runtime_dir / "bootstrap.py", kBootstrapSource));
    GANTRY_RETURN_IF_ERROR(d_.os.make_dirs(root_ / "sandboxes"));
    return {};
  }

  // Sandboxes of a server that died: their containers are gone (the supervisor deletes whatever the
  // OCI runtime still knows at startup), their namespace files and directories remain.
  void clean_stale_sandboxes() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_ / "sandboxes", ec)) {
      for (const auto& ns : {"net", "ipc", "uts"}) (void)d_.os.unmount(entry.path() / "ns" / ns, MNT_DETACH);
      (void)d_.os.unmount(entry.path() / "rootfs", MNT_DETACH);
      (void)d_.os.remove_all(entry.path());
    }
  }

  // --- starting a sandbox ---

  void start_locked(lambda::Invocation inv, std::function<void(Result<lambda::InvocationResult>)> done) {
    auto s = std::make_shared<Sandbox>();
    s->id = d_.random.hex(16);
    s->key = inv.function.sandbox_key;
    s->function_id = function_id(inv.function);
    s->spec = inv.function;
    s->runtime_id = "lambda-" + s->id;
    s->dir = root_ / "sandboxes" / s->id;
    s->cgroups_path = "gantry/lambda-" + s->id;
    s->log_stream = stream_name(d_.clock.now(), inv.function.version, s->id);
    s->has_markers = inv.function.image.empty();  // .zip functions run Gantry's runtime client
    s->created = Steady::now();
    s->current = Current(std::move(inv), std::move(done));
    sandboxes_[s->id] = s;
    s->thread = std::thread([this, s] { run_sandbox(s); });
  }

  // The sandbox's whole life, on its own thread: set up, run the container, read its output, clean up.
  void run_sandbox(const std::shared_ptr<Sandbox>& s) {
    std::optional<uint64_t> api_id;
    bool ns_made = false;
    bool api_added = false;
    bool tls_added = false;
    auto setup = [&]() -> Result<runtime::CreatedContainer> {
      const auto& spec = s->spec;
      auto creds = d_.role_credentials ? d_.role_credentials(spec.scope, spec.role_arn, spec.name)
                                       : Result<RoleCredentials>(make_error(ErrorKind::kLambdaService,
                                                                            "no credentials for function roles"));
      if (!creds.ok())
        return make_error(ErrorKind::kLambdaService,
                          fmt::format("Lambda could not assume the function's role {}: {}", spec.role_arn,
                                      creds.error().message));
      {
        std::lock_guard lock(mu_);
        s->credentials_expire = creds->expiration;
      }
      check_log_permissions(*s);
      GANTRY_RETURN_IF_ERROR(d_.os.make_dirs(s->dir / "ns"));
      runtime::NamespaceFiles files{s->dir / "ns" / "net", s->dir / "ns" / "ipc", s->dir / "ns" / "uts"};
      GANTRY_RETURN_IF_ERROR(d_.os.create_namespaces(files, "sandbox"));
      ns_made = true;
      GANTRY_ASSIGN_OR_RETURN(int runtime_fd, d_.os.listen_in_namespace(files.net, "127.0.0.1", kRuntimeApiPort));
      GANTRY_RETURN_IF_ERROR(api_->add(s->id, runtime_fd, handlers(s)));
      api_added = true;
      if (d_.serve_api) {
        GANTRY_ASSIGN_OR_RETURN(int api_fd, d_.os.listen_in_namespace(files.net, "127.0.0.1", kApiPort));
        GANTRY_ASSIGN_OR_RETURN(api_id, d_.serve_api(api_fd));
      }
      if (tls_enabled(spec.scope.region)) {
        GANTRY_ASSIGN_OR_RETURN(auto certificate, certificate_for(spec.scope.region));
        GANTRY_ASSIGN_OR_RETURN(int tls_fd, d_.os.listen_in_namespace(files.net, "127.0.0.1", kTlsPort));
        GANTRY_RETURN_IF_ERROR(tls_->add(s->id, tls_fd, certificate));
        tls_added = true;
      }
      if (!spec.image.empty()) GANTRY_RETURN_IF_ERROR(image_rootfs(*s));
      GANTRY_ASSIGN_OR_RETURN(auto config, container_spec(*s, files, *creds));
      GANTRY_RETURN_IF_ERROR(runc_->write_bundle(s->dir, config));
      return runc_->run_detached(s->runtime_id, s->dir);
    };
    auto created = setup();
    std::vector<Completion> completions;
    if (created.ok()) {
      bool kill_now = false;
      {
        std::lock_guard lock(mu_);
        s->container_started = true;
        kill_now = s->kill_requested;
      }
      if (kill_now) (void)runc_->kill(s->runtime_id, SIGKILL, true);
      auto shared = std::make_shared<runtime::CreatedContainer>(std::move(*created));
      std::thread err_thread([this, s, shared] { pump(s, shared->stderr_lines.get()); });
      pump(s, shared->stdout_lines.get());
      auto exit = runc_->wait(*shared);
      err_thread.join();
      auto stats = runtime::read_memory_stats(d_.os, layout_.mode,
                                              (fs::path(layout_.memory_dir) / s->cgroups_path).string());
      bool oom = stats.ok() && stats->oom_kills > 0;
      std::lock_guard lock(mu_);
      if (s->current) completions.push_back(exited_locked(*s, exit.ok() ? *exit : runtime::ExitStatus{255, {}}, oom));
      // Gone: no invocation may pick it while it is cleaned up.
      s->state = State::kDead;
      s->kill_requested = true;
    } else {
      spdlog::warn("lambda: sandbox for {} did not start: {}", s->spec.function_arn, created.error().message);
      std::lock_guard lock(mu_);
      s->state = State::kDead;
      s->kill_requested = true;
      if (s->current) {
        completions.push_back(Completion{std::move(s->current->done),
                                         make_error(ErrorKind::kLambdaService,
                                                    "Lambda could not start the function's execution environment: " +
                                                        created.error().message)});
        s->current.reset();
      }
    }
    for (auto& c : completions) c.done(std::move(c.result));
    // Clean up: the container, its Runtime API and Gantry API listeners, its namespaces and files.
    if (created.ok()) (void)runc_->remove(s->runtime_id);
    if (api_added) api_->remove(s->id);
    if (tls_added) tls_->remove(s->id);
    if (api_id && d_.stop_api) d_.stop_api(*api_id);
    if (ns_made)
      for (const auto& ns : {"net", "ipc", "uts"}) (void)d_.os.unmount(s->dir / "ns" / ns, MNT_DETACH);
    if (s->rootfs)
      if (auto st = runtime::unmount_rootfs(d_.os, *s->rootfs); !st.ok()) spdlog::warn("lambda: {}", st.error().message);
    (void)d_.os.remove_all(s->dir);
    std::lock_guard lock(mu_);
    s->state = State::kDead;
    sandboxes_.erase(s->id);
    {
      std::lock_guard finished_lock(finished_mu_);
      finished_threads_.push_back(std::move(s->thread));
    }
    cv_.notify_all();
  }

  // An Image function's root: the image's layers (unpacked once into the shared layer cache) under an overlay.
  Status image_rootfs(Sandbox& s) {
    GANTRY_ASSIGN_OR_RETURN(auto resolved,
                            supervisor::resolve_local_image(d_.os, d_.ecr, d_.blobs, s.spec.scope, s.spec.image));
    GANTRY_ASSIGN_OR_RETURN(auto lowers, layers_->ensure_all(resolved.first, runtime::blob_store_blobs(d_.blobs)));
    GANTRY_ASSIGN_OR_RETURN(auto plan, runtime::plan_rootfs(lowers, s.dir));
    GANTRY_RETURN_IF_ERROR(runtime::mount_rootfs(d_.os, plan));
    s.rootfs = plan;
    s.image_config = resolved.first.config;
    return {};
  }

 public:
  Result<lambda::Invoker::ImageFound> resolve_image(const Scope& scope, const std::string& uri) {
    GANTRY_ASSIGN_OR_RETURN(auto ref, supervisor::parse_image_ref(uri));
    GANTRY_ASSIGN_OR_RETURN(auto resolved, supervisor::resolve_local_image(d_.os, d_.ecr, d_.blobs, scope, uri));
    Scope repo_scope = ref.scope.value_or(scope);
    return lambda::Invoker::ImageFound{resolved.second, repo_scope.arn("ecr", "repository/" + ref.repository)};
  }

  bool uses_code(const fs::path& code_dir) const {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : sandboxes_)
      if (s->spec.code_dir == code_dir) return true;
    for (const auto& item : async_)
      if (item.inv.function.code_dir == code_dir) return true;
    return false;
  }

  void prepare_image(const Scope& scope, const std::string& image, std::function<void(Status)> done) {
    auto work = [this, scope, image, done = std::move(done)] {
      Status st = [&]() -> Status {
        if (!reason_.empty()) return {};  // nothing can run here: the image is checked, there is nothing to unpack
        GANTRY_ASSIGN_OR_RETURN(auto resolved, supervisor::resolve_local_image(d_.os, d_.ecr, d_.blobs, scope, image));
        GANTRY_RETURN_IF_ERROR(layers_->ensure_all(resolved.first, runtime::blob_store_blobs(d_.blobs)));
        return {};
      }();
      done(st);
    };
    std::lock_guard lock(prep_mu_);
    prep_queue_.push_back(std::move(work));
    if (!prep_thread_.joinable()) prep_thread_ = std::thread([this] { prepare_loop(); });
    prep_cv_.notify_one();
  }

  // One worker unpacks images, in order (layer unpacking is disk-bound: two at once would not be faster).
  void prepare_loop() {
    std::unique_lock lock(prep_mu_);
    for (;;) {
      prep_cv_.wait(lock, [&] { return prep_stop_ || !prep_queue_.empty(); });
      if (prep_queue_.empty()) return;
      auto job = std::move(prep_queue_.front());
      prep_queue_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

 private:
  // With IAM enforced, Lambda writes logs only as far as the role allows, as on AWS.
  void check_log_permissions(Sandbox& s) {
    if (!d_.role_allows) return;
    const auto& spec = s.spec;
    std::string group_arn = spec.scope.arn("logs", fmt::format("log-group:{}", spec.log_group));
    std::string stream_arn = spec.scope.arn("logs", fmt::format("log-group:{}:log-stream:{}", spec.log_group,
                                                                s.log_stream));
    bool create_group = d_.role_allows(spec.scope, spec.role_arn, spec.name, "logs:CreateLogGroup", group_arn + ":*");
    bool stream = d_.role_allows(spec.scope, spec.role_arn, spec.name, "logs:CreateLogStream", stream_arn);
    bool put = d_.role_allows(spec.scope, spec.role_arn, spec.name, "logs:PutLogEvents", stream_arn);
    std::lock_guard lock(mu_);
    s.create_group = create_group;
    s.logs_enabled = stream && put;
    if (!s.logs_enabled)
      spdlog::info("lambda: {}'s role {} may not write logs to {}; its output goes unlogged, as on AWS",
                   spec.function_arn, spec.role_arn, spec.log_group);
  }

  Result<std::string> container_spec(const Sandbox& s, const runtime::NamespaceFiles& ns, const RoleCredentials& creds) {
    const auto& f = s.spec;
    runtime::ContainerSpecInput in;
    const bool image_package = s.image_config.has_value();
    // A .zip function's interpreter (CreateFunction only accepts runtimes this host provides).
    PythonInfo python;
    if (!image_package) {
      auto it = pythons_.find(f.runtime);
      if (it == pythons_.end())
        return make_error(ErrorKind::kLambdaService,
                          fmt::format("this host no longer provides the runtime {}", f.runtime));
      python = it->second;
    }
    if (image_package) {
      in.image = *s.image_config;
      in.entry_point = f.entry_point;
      in.command = f.command;
      if (!f.working_directory.empty()) in.working_directory = f.working_directory;
      in.rootfs = s.rootfs->target;
    } else {
      in.image.entrypoint = std::vector<std::string>{python.executable, "/var/runtime/bootstrap.py"};
      in.image.working_dir = "/var/task";
      in.rootfs = (root_ / "rootfs").string();
    }
    std::vector<std::pair<std::string, std::string>> env = f.environment;
    auto set = [&](std::string k, std::string v) { env.emplace_back(std::move(k), std::move(v)); };
    // Defaults the function's own variables may override, as on Lambda.
    auto set_default = [&](std::string k, std::string v) {
      for (const auto& [name, value] : f.environment)
        if (name == k) return;
      set(std::move(k), std::move(v));
    };
    if (!image_package) {
      set_default("PATH",
                  fmt::format("{}:/usr/local/bin:/usr/bin:/bin", fs::path(python.executable).parent_path().string()));
      set_default("LANG", "C.UTF-8");
    }
    set_default("TZ", ":UTC");
    if (!image_package) set("_HANDLER", f.handler);
    set("AWS_REGION", f.scope.region);
    set("AWS_DEFAULT_REGION", f.scope.region);
    if (!image_package) set("AWS_EXECUTION_ENV", "AWS_Lambda_" + f.runtime);
    if (image_package && f.command && !f.command->empty()) set("_HANDLER", f.command->front());
    set("AWS_LAMBDA_FUNCTION_NAME", f.name);
    set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(f.memory_mb));
    set("AWS_LAMBDA_FUNCTION_VERSION", f.version);
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    set("AWS_LAMBDA_LOG_GROUP_NAME", f.log_group);
    set("AWS_LAMBDA_LOG_STREAM_NAME", s.log_stream);
    set("AWS_LAMBDA_RUNTIME_API", fmt::format("127.0.0.1:{}", kRuntimeApiPort));
    set("LAMBDA_TASK_ROOT", "/var/task");
    set("LAMBDA_RUNTIME_DIR", "/var/runtime");
    set("AWS_ACCESS_KEY_ID", creds.access_key_id);
    set("AWS_SECRET_ACCESS_KEY", creds.secret);
    set("AWS_SESSION_TOKEN", creds.token);
    set_default("AWS_ENDPOINT_URL", fmt::format("http://127.0.0.1:{}", kApiPort));
    std::string hosts = runtime::hosts_file_content("sandbox");
    if (tls_enabled(f.scope.region)) {
      for (const char* var : {"AWS_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"})
        set_default(var, std::string(kCaBundle));
      for (const auto& name : aws_host_names(f.scope.region)) hosts += fmt::format("127.0.0.1\t{}\n", name);
    }
    in.environment = std::move(env);
    in.user = fmt::format("{}:{}", kUid, kGid);
    in.passwd = fmt::format("sbx_user1051:x:{}:{}::/home/sbx_user1051:/sbin/nologin\n", kUid, kGid);
    in.group = fmt::format("sbx_user1051:x:{}:\n", kGid);
    in.hostname = "sandbox";
    in.readonly_rootfs = true;
    in.default_nofile = runtime::host_default_nofile();
    in.join = runtime::NamespacePaths{ns.net.string(), ns.ipc.string(), ns.uts.string()};
    in.cgroups_path = s.cgroups_path;
    in.resources.memory_limit_bytes = f.memory_mb << 20;
    if (swap_accounting_) in.resources.memory_swap_bytes = f.memory_mb << 20;
    // Lambda allots cpu in proportion to memory (1769 MB is one vCPU): as shares, which weigh only when
    // sandboxes compete, so a small function is not slowed on an idle host.
    in.resources.cpu_shares = std::max<uint64_t>(2, static_cast<uint64_t>(f.memory_mb) * 1024 / 1769);
    in.hosts_file = (s.dir / "hosts").string();
    in.resolv_conf_file = (s.dir / "resolv.conf").string();
    in.hostname_file = (s.dir / "hostname").string();
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(in.hosts_file, hosts));
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(in.resolv_conf_file, ""));
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(in.hostname_file, runtime::hostname_file_content("sandbox")));
    GANTRY_ASSIGN_OR_RETURN(auto spec, runtime::build_oci_spec(in));
    auto& mounts = spec["mounts"].as_array();
    const std::vector<std::string> ro{"rbind", "rprivate", "ro", "nosuid", "nodev"};
    if (!image_package) {
      mounts.push_back(mount("/usr", "bind", "/usr", ro));
      for (const auto& host : host_binds_) mounts.push_back(mount(host, "bind", host, ro));
      mounts.push_back(mount("/var/task", "bind", f.code_dir.string(), ro));
      mounts.push_back(mount("/var/runtime", "bind", (root_ / "runtime").string(), ro));
    }
    if (tls_enabled(f.scope.region))
      mounts.push_back(mount(std::string(kCaBundle), "bind", (root_ / "runtime" / "ca.pem").string(), ro));
    mounts.push_back(mount("/tmp", "tmpfs", "tmpfs",
                           {"nosuid", "nodev", "mode=1777", fmt::format("size={}m", f.ephemeral_mb)}));
    return json::serialize(spec);
  }

  // The relay needs the CA, and a region name fit for host names and certificates.
  bool tls_enabled(const std::string& region) const {
    return tls_ && !region.empty() && region.size() <= 32 &&
           region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
  }

  Result<ServerCertificate> certificate_for(const std::string& region) {
    {
      std::lock_guard lock(mu_);
      if (auto it = certificates_.find(region); it != certificates_.end()) return it->second;
    }
    GANTRY_ASSIGN_OR_RETURN(auto certificate, ca_->issue(region));
    std::lock_guard lock(mu_);
    return certificates_.emplace(region, std::move(certificate)).first->second;
  }

  RuntimeApi::Handlers handlers(const std::shared_ptr<Sandbox>& s) {
    std::weak_ptr<Sandbox> weak = s;
    RuntimeApi::Handlers h;
    h.next = [this, weak](std::function<void(NextEvent)> deliver) {
      auto sb = weak.lock();
      if (!sb) return;
      std::lock_guard lock(mu_);
      if (!sb->init_ms) sb->init_ms = std::chrono::duration<double, std::milli>(Steady::now() - sb->created).count();
      sb->waiting = std::move(deliver);
      dispatch_locked(*sb);
    };
    h.response = [this, weak](const std::string& id, std::string body) {
      return answered(weak, id, std::move(body), std::nullopt);
    };
    h.error = [this, weak](const std::string& id, const std::string&, std::string body) {
      return answered(weak, id, std::move(body), std::string("Unhandled"));
    };
    h.init_error = [this, weak](const std::string&, std::string body) {
      auto sb = weak.lock();
      if (!sb) return;
      std::lock_guard lock(mu_);
      sb->init_error = std::move(body);
    };
    return h;
  }

  bool answered(const std::weak_ptr<Sandbox>& weak, const std::string& id, std::string body,
                std::optional<std::string> function_error) {
    auto s = weak.lock();
    if (!s) return false;
    std::optional<Completion> c;
    {
      std::lock_guard lock(mu_);
      if (!s->current || !s->current->dispatched || s->current->inv.request_id != id || s->current->payload) return false;
      s->current->payload = std::move(body);
      s->current->function_error = std::move(function_error);
      s->current->answered = Steady::now();
      if (!s->has_markers) s->current->output_done = true;
      c = finish_if_complete_locked(*s);
    }
    if (c) c->done(std::move(c->result));
    return true;
  }

  // --- invocations ---

  void dispatch_locked(Sandbox& s) {
    if (!s.current || s.current->dispatched || !s.waiting) return;
    auto& cur = *s.current;
    cur.dispatched = true;
    cur.started = Steady::now();
    cur.deadline = cur.started + std::chrono::seconds(cur.inv.function.timeout_seconds);
    auto now = d_.clock.now();
    log_locked(s, fmt::format("START RequestId: {} Version: {}", cur.inv.request_id, cur.inv.function.version));
    NextEvent e;
    e.request_id = cur.inv.request_id;
    e.deadline_ms = epoch_ms(now) + cur.inv.function.timeout_seconds * 1000;
    e.invoked_arn = cur.inv.invoked_arn;
    e.trace_id = fmt::format("Root=1-{:08x}-{};Parent={};Sampled=0", epoch_ms(now) / 1000, d_.random.hex(12),
                             d_.random.hex(8));
    e.client_context = cur.inv.client_context;
    e.payload = cur.inv.payload;
    auto deliver = std::move(s.waiting);
    s.waiting = nullptr;
    deliver(std::move(e));
  }

  // The invocation ends once the runtime answered and its output is all in (the end marker).
  std::optional<Completion> finish_if_complete_locked(Sandbox& s) {
    if (!s.current || !s.current->payload || !s.current->output_done) return std::nullopt;
    lambda::InvocationResult r;
    r.payload = std::move(*s.current->payload);
    r.function_error = s.current->function_error;
    return end_locked(s, std::move(r));
  }

  // END and REPORT, the result handed over, the sandbox idle again (or retired).
  Completion end_locked(Sandbox& s, lambda::InvocationResult r) {
    auto& cur = *s.current;
    double ms = std::chrono::duration<double, std::milli>(Steady::now() - cur.started).count();
    auto stats = runtime::read_memory_stats(d_.os, layout_.mode, (fs::path(layout_.memory_dir) / s.cgroups_path).string());
    uint64_t used = 0;
    if (stats.ok()) used = std::max(stats->peak_bytes, stats->usage_bytes);
    std::string report = fmt::format(
        "REPORT RequestId: {}\tDuration: {:.2f} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
        cur.inv.request_id, ms, static_cast<int64_t>(std::ceil(ms)), cur.inv.function.memory_mb,
        (used + (1 << 20) - 1) >> 20);
    if (s.init_ms && !s.init_reported) {
      report += fmt::format("\tInit Duration: {:.2f} ms", *s.init_ms);
      s.init_reported = true;
    }
    log_locked(s, fmt::format("END RequestId: {}", cur.inv.request_id));
    log_locked(s, report);
    r.log_tail = cur.tail;
    Completion c{std::move(cur.done), std::move(r)};
    s.current.reset();
    if (s.state == State::kBusy) {
      s.state = State::kIdle;
      s.idle_since = Steady::now();
    }
    if (s.state != State::kDead && (s.retired || stopping_)) {
      std::vector<std::string> kill;
      request_kill_locked(s, kill);
      kill_later_.insert(kill_later_.end(), kill.begin(), kill.end());
      cv_.notify_all();
    }
    return c;
  }

  // The container ended with an invocation in flight: the runtime crashed, ran out of memory, failed to
  // initialise, or was killed for a timeout (already reported, so nothing in flight then).
  Completion exited_locked(Sandbox& s, const runtime::ExitStatus& exit, bool oom) {
    auto& cur = *s.current;
    if (!cur.dispatched) {
      cur.dispatched = true;
      cur.started = Steady::now();
      log_locked(s, fmt::format("START RequestId: {} Version: {}", cur.inv.request_id, cur.inv.function.version));
    }
    std::string how = exit.signal ? fmt::format("signal: {}", *exit.signal == SIGKILL ? "killed" : std::to_string(*exit.signal))
                                  : fmt::format("exit status {}", exit.exit_code);
    lambda::InvocationResult r;
    r.function_error = "Unhandled";
    if (s.init_error) {
      r.payload = *s.init_error;
    } else {
      std::string type = oom ? "Runtime.OutOfMemory" : "Runtime.ExitError";
      std::string message = fmt::format("RequestId: {} Error: Runtime exited with error: {}", cur.inv.request_id, how);
      log_locked(s, message);
      r.payload = json::serialize(json::object{{"errorType", type}, {"errorMessage", message}});
    }
    s.state = State::kDead;
    return end_locked(s, std::move(r));
  }

  void request_kill_locked(Sandbox& s, std::vector<std::string>& kill) {
    if (s.kill_requested) return;
    s.kill_requested = true;
    if (s.container_started) kill.push_back(s.runtime_id);
  }

  void kill_all(const std::vector<std::string>& ids) {
    for (const auto& id : ids) (void)runc_->kill(id, SIGKILL, true);
  }

  // --- output ---

  void pump(const std::shared_ptr<Sandbox>& s, runtime::LineReader* reader) {
    for (;;) {
      auto line = reader->next_line();
      if (!line.ok() || !line->has_value()) break;
      std::string text = std::move(**line);
      // A function that prints faster than the store takes its lines waits, as a process writing to a full
      // pipe does: the server's memory stays bounded.
      {
        std::unique_lock lock(log_mu_);
        log_space_cv_.wait(lock, [&] { return log_queue_.size() < kMaxQueuedLines || log_stop_; });
      }
      std::optional<Completion> c;
      {
        std::lock_guard lock(mu_);
        if (text.starts_with(kEndMarker)) {
          if (s->current && s->current->inv.request_id == text.substr(kEndMarker.size())) {
            s->current->output_done = true;
            c = finish_if_complete_locked(*s);
          }
        } else if (text.starts_with(kInitMarker)) {
          s->has_markers = true;
        } else {
          log_locked(*s, std::move(text));
        }
      }
      if (c) c->done(std::move(c->result));
    }
  }

  // One log line of the sandbox (and of the invocation's tail, when one is in flight).
  void log_locked(Sandbox& s, std::string text) {
    if (s.current && s.current->dispatched) {
      auto& tail = s.current->tail;
      tail += text;
      tail += '\n';
      if (tail.size() > kTailKeep) tail.erase(0, tail.size() - kTailKeep);
    }
    if (!s.logs_enabled) return;
    std::lock_guard lock(log_mu_);
    log_queue_.push_back(LogLine{s.spec.scope, s.spec.log_group, s.log_stream,
                                 logs::Event{epoch_ms(d_.clock.now()), std::move(text)}, s.create_group});
    log_cv_.notify_one();
  }

  // Log lines are written by one thread, in order, in batches per stream.
  void log_loop() {
    std::unique_lock lock(log_mu_);
    for (;;) {
      log_cv_.wait(lock, [&] { return log_stop_ || !log_queue_.empty(); });
      if (log_queue_.empty() && log_stop_) return;
      std::deque<LogLine> batch;
      batch.swap(log_queue_);
      log_writing_ = true;
      log_space_cv_.notify_all();
      lock.unlock();
      while (!batch.empty()) {
        LogLine first = std::move(batch.front());
        batch.pop_front();
        std::vector<logs::Event> events{std::move(first.event)};
        while (!batch.empty() && batch.front().stream == first.stream && batch.front().group == first.group &&
               batch.front().scope.account == first.scope.account && batch.front().scope.region == first.scope.region) {
          events.push_back(std::move(batch.front().event));
          batch.pop_front();
        }
        auto st = d_.logs.append(first.scope, first.group, first.stream, std::move(events), first.create_group, true);
        if (!st.ok()) spdlog::warn("lambda: logs for {}: {}", first.group, st.error().message);
      }
      lock.lock();
      log_writing_ = false;
      log_idle_cv_.notify_all();
    }
  }

  // --- timers: timeouts, idle sandboxes, asynchronous invocations ---

  void reap_loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(50));
      if (stopping_) break;
      std::vector<Completion> completions;
      std::vector<std::string> kill;
      kill.swap(kill_later_);
      std::vector<AsyncItem> due;
      auto now = Steady::now();
      for (auto& [id, sp] : sandboxes_) {
        Sandbox& s = *sp;
        if (s.current && s.current->dispatched && !s.current->payload && now > s.current->deadline) {
          completions.push_back(timed_out_locked(s));
          request_kill_locked(s, kill);
        } else if (s.current && !s.current->dispatched && !s.init_ms &&
                   now - s.current->queued > kInitLimit + std::chrono::seconds(s.spec.timeout_seconds)) {
          // A new sandbox whose runtime never asked for its first event.
          s.current->dispatched = true;
          s.current->started = s.current->queued;
          completions.push_back(timed_out_locked(s));
          request_kill_locked(s, kill);
        } else if (s.current && s.current->payload && !s.current->output_done &&
                   now - s.current->answered > kOutputGrace) {
          s.current->output_done = true;
          if (auto c = finish_if_complete_locked(s)) completions.push_back(std::move(*c));
        } else if (s.state == State::kIdle &&
                   (now - s.idle_since > options_.idle ||
                    d_.clock.now() + kCredentialMargin > s.credentials_expire)) {
          request_kill_locked(s, kill);
        }
      }
      for (auto it = async_.begin(); it != async_.end();) {
        if (it->due <= now) {
          due.push_back(std::move(*it));
          it = async_.erase(it);
        } else {
          ++it;
        }
      }
      lock.unlock();
      for (auto& c : completions) c.done(std::move(c.result));
      kill_all(kill);
      for (auto& item : due) run_async(std::move(item));
      join_finished();
      lock.lock();
    }
  }

  Completion timed_out_locked(Sandbox& s) {
    auto& cur = *s.current;
    std::string message = fmt::format("Task timed out after {:.2f} seconds",
                                      static_cast<double>(cur.inv.function.timeout_seconds));
    log_locked(s, fmt::format("{} {} {}", iso_ms(d_.clock.now()), cur.inv.request_id, message));
    lambda::InvocationResult r;
    r.function_error = "Unhandled";
    r.payload = json::serialize(json::object{
        {"errorType", "Sandbox.Timedout"},
        {"errorMessage", fmt::format("RequestId: {} Error: {}", cur.inv.request_id, message)}});
    s.state = State::kDead;
    return end_locked(s, std::move(r));
  }

  // An Event invocation: retried twice after a function error or a throttle, as Lambda does, then dropped.
  void run_async(AsyncItem item) {
    ++item.attempts;
    auto copy = item.inv;
    uint64_t generation = 0;
    {
      std::lock_guard lock(mu_);
      generation = generation_;
    }
    invoke(std::move(copy), [this, item, generation](Result<lambda::InvocationResult> r) mutable {
      bool failed = !r.ok() || r->function_error.has_value();
      if (!failed) return;
      std::string why = r.ok() ? r->payload.substr(0, 300) : r.error().message;
      auto now = Steady::now();
      bool throttled = !r.ok() && r.error().kind == ErrorKind::kLambdaTooManyRequests;
      if ((item.attempts >= 3 && !throttled) || now - item.first > options_.async_max_age) {
        spdlog::warn("lambda: dropped asynchronous invocation {} of {} after {} attempts: {}", item.inv.request_id,
                     item.inv.function.function_arn, item.attempts, why);
        return;
      }
      item.due = now + options_.async_retry_delay * (throttled ? 1 : item.attempts);
      std::lock_guard lock(mu_);
      if (stopping_ || generation != generation_) return;
      async_.push_back(std::move(item));
    });
  }

  void join_finished() {
    std::vector<std::thread> done;
    {
      std::lock_guard lock(finished_mu_);
      done.swap(finished_threads_);
    }
    for (auto& t : done)
      if (t.joinable()) t.join();
  }

  PoolDeps d_;
  PoolOptions options_;
  std::string reason_;
  std::map<std::string, PythonInfo> pythons_;  // by runtime name, "python3.11"
  runtime::CgroupLayout layout_;
  bool swap_accounting_ = false;
  std::unique_ptr<runtime::RuncDriver> runc_;
  fs::path root_;
  std::vector<std::string> host_binds_;
  std::unique_ptr<RuntimeApi> api_;
  std::unique_ptr<runtime::LayerCache> layers_;
  std::unique_ptr<LocalCa> ca_;
  std::unique_ptr<TlsProxy> tls_;
  std::map<std::string, ServerCertificate> certificates_;  // by region, under mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Sandbox>> sandboxes_;
  std::vector<std::string> kill_later_;
  std::deque<AsyncItem> async_;
  uint64_t generation_ = 0;  // bumped by a reset
  bool stopping_ = false;
  std::thread reaper_;

  std::mutex finished_mu_;
  std::vector<std::thread> finished_threads_;
  std::mutex prep_mu_;
  std::condition_variable prep_cv_;
  std::deque<std::function<void()>> prep_queue_;  // Image functions' layer unpacking
  bool prep_stop_ = false;
  std::thread prep_thread_;

  std::mutex log_mu_;
  std::condition_variable log_cv_;
  std::deque<LogLine> log_queue_;
  bool log_writing_ = false;
  std::condition_variable log_space_cv_;  // a full queue has room again
  std::condition_variable log_idle_cv_;   // everything queued is written
  bool log_stop_ = false;
  std::thread log_thread_;
};

std::unique_ptr<SandboxPool> SandboxPool::create(PoolDeps deps, PoolOptions options) {
  auto impl = std::make_unique<Impl>(std::move(deps), std::move(options));
  impl->init();
  return std::unique_ptr<SandboxPool>(new SandboxPool(std::move(impl)));
}

SandboxPool::SandboxPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SandboxPool::~SandboxPool() { shutdown(); }

std::string SandboxPool::unavailable_reason() const { return impl_->reason(); }
std::vector<std::string> SandboxPool::runtimes() const { return impl_->runtimes(); }
Result<lambda::Invoker::ImageFound> SandboxPool::resolve_image(const Scope& scope, const std::string& image_uri) {
  return impl_->resolve_image(scope, image_uri);
}
bool SandboxPool::uses_code(const std::filesystem::path& code_dir) const { return impl_->uses_code(code_dir); }
void SandboxPool::prepare_image(const Scope& scope, const std::string& image, std::function<void(Status)> done) {
  impl_->prepare_image(scope, image, std::move(done));
}
void SandboxPool::invoke(lambda::Invocation invocation, std::function<void(Result<lambda::InvocationResult>)> done) {
  if (auto reason = impl_->reason(); !reason.empty())
    return done(make_error(ErrorKind::kLambdaService, "Gantry cannot run functions on this host: " + reason));
  impl_->invoke(std::move(invocation), std::move(done));
}
void SandboxPool::enqueue(lambda::Invocation invocation) { impl_->enqueue(std::move(invocation)); }
void SandboxPool::retire(const Scope& scope, const std::string& function_name) { impl_->retire(scope, function_name); }
void SandboxPool::shutdown() { impl_->shutdown(); }
void SandboxPool::stop_all_for_reset() { impl_->stop_all_for_reset(); }
SandboxPool::Stats SandboxPool::stats() const { return impl_->stats(); }

}  // namespace gantry::sandbox
