#include "supervisor/supervisor.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "image/layer_unpack.h"
#include "runtime/cgroup.h"
#include "runtime/host.h"
#include "runtime/oci_spec.h"
#include "runtime/rootfs.h"
#include "runtime/runc.h"
#include "services/ecs/handlers.h"
#include "services/ecs/task_state.h"
#include "supervisor/image_ref.h"
#include "supervisor/task_endpoint.h"
#include "supervisor/task_metadata.h"

namespace gantry::supervisor {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::optional<std::vector<std::string>> strings(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& s : v->as_array()) {
    if (s.is_string()) out.emplace_back(s.as_string());
  }
  return out;
}

// The hostname a Fargate task sees: its ENI's private DNS name.
std::string task_hostname(const json::object& task) {
  auto* a = task.if_contains("attachments");
  if (a && a->is_array()) {
    for (const auto& att : a->as_array()) {
      const auto* details = att.as_object().if_contains("details");
      if (!details || !details->is_array()) continue;
      for (const auto& d : details->as_array()) {
        if (ecs::string_member(d.as_object(), "name") == "privateDnsName") return std::string(ecs::string_member(d.as_object(), "value"));
      }
    }
  }
  return "localhost";
}

struct Awslogs {
  bool enabled = false;
  std::string group;
  std::string stream;
  Scope scope;
  bool create_group = false;
};

enum class ContainerState { kWaiting, kRunning, kExited, kNeverStarted };

// Tells a container's health-check thread that the container is gone.
struct HealthControl {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  void finish() {
    std::lock_guard lock(mu);
    done = true;
    cv.notify_all();
  }
};

struct HealthCheck {
  std::vector<std::string> argv;  // what runs in the container
  std::chrono::seconds interval{30};
  std::chrono::seconds timeout{5};
  int retries = 3;
  std::chrono::seconds start_period{0};
};

// healthCheck.command: ["CMD-SHELL", "cmd"] runs through /bin/sh -c; ["CMD", "exe", "arg"...] directly.
std::optional<HealthCheck> parse_health_check(const json::object& def) {
  auto* hc = def.if_contains("healthCheck");
  if (!hc || !hc->is_object()) return std::nullopt;
  const auto& o = hc->as_object();
  auto command = strings(o, "command");
  if (!command || command->empty()) return std::nullopt;
  HealthCheck h;
  if ((*command)[0] == "CMD-SHELL") {
    std::string joined;
    for (size_t i = 1; i < command->size(); ++i) joined += (i > 1 ? " " : "") + (*command)[i];
    h.argv = {"/bin/sh", "-c", joined};
  } else if ((*command)[0] == "CMD") {
    h.argv.assign(command->begin() + 1, command->end());
  } else {
    h.argv = {"/bin/sh", "-c", (*command)[0]};
  }
  if (h.argv.empty()) return std::nullopt;
  h.interval = std::chrono::seconds(ecs::get_int(o, "interval").value_or(30));
  h.timeout = std::chrono::seconds(ecs::get_int(o, "timeout").value_or(5));
  h.retries = static_cast<int>(ecs::get_int(o, "retries").value_or(3));
  h.start_period = std::chrono::seconds(ecs::get_int(o, "startPeriod").value_or(0));
  return h;
}

struct ContainerRun {
  std::string name;
  json::object def;
  bool essential = true;
  std::string runtime_id;
  fs::path bundle;
  runtime::RootfsPlan rootfs;
  bool mounted = false;
  std::string cgroups_path;
  Awslogs logs;
  ContainerState state = ContainerState::kWaiting;
  std::optional<int> exit_code;
  std::string reason;
  std::thread waiter;
  bool term_sent = false;
  bool kill_sent = false;
  std::chrono::steady_clock::time_point kill_at;
  std::optional<HealthCheck> health_check;
  std::string health = "UNKNOWN";
  std::shared_ptr<HealthControl> health_control = std::make_shared<HealthControl>();
  std::thread health_thread;
};

struct HealthEvent {
  size_t index;
  std::string status;
};

struct Exit {
  size_t index;
  runtime::ExitStatus status;
  std::string reason;
};

struct RunningTask {
  std::string arn;
  std::string id;
  Scope scope;
  uint32_t cpu_units = 0;
  uint64_t memory_mib = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;
  uint64_t hurry = 0;  // bumped when a reset or shutdown wants the containers gone within its grace
  std::deque<Exit> exits;
  std::deque<HealthEvent> health;
};

// What a task's endpoint (169.254.170.2) answers from: the task's identity, its role and the
// credentials last issued for it, its containers' runtime ids.
struct EndpointState {
  std::string task_arn;
  std::string task_id;
  Scope scope;
  std::string role_arn;        // the task role; empty: no credentials endpoint
  std::string credentials_id;  // AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = /v2/credentials/<id>
  std::string family;
  int64_t revision = 0;
  json::array definitions;
  std::map<std::string, std::string, std::less<>> runtime_ids;  // container name -> runtime id
  std::mutex mu;
  std::optional<RoleCredentials> credentials;
};

constexpr const char* kEndpointAddress = "169.254.170.2";
constexpr auto kRefreshBefore = std::chrono::minutes(15);  // hand out new credentials this long before expiry
constexpr auto kNotFound = R"({"code":"InvalidIdInRequest","message":"CredentialsV2Request: Credentials not found"})";

struct Pending {
  std::string arn;
  uint32_t cpu_units;
  uint64_t memory_mib;
};

// Bounds how many tasks are being set up at once (layers, cgroup, mounts, `runc run`): past a few per
// CPU, starting more at once only makes each slower (and costs memory), without finishing sooner.
class StartGate {
 public:
  explicit StartGate(unsigned slots) : free_(slots) {}
  void acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void release() {
    std::lock_guard lock(mu_);
    ++free_;
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned free_;
};

// One task's hold on the gate, given back once (when its containers have been started).
class StartSlot {
 public:
  explicit StartSlot(StartGate& gate) : gate_(gate) { gate_.acquire(); }
  ~StartSlot() { release(); }
  StartSlot(const StartSlot&) = delete;
  StartSlot& operator=(const StartSlot&) = delete;
  void release() {
    if (held_) gate_.release();
    held_ = false;
  }

 private:
  StartGate& gate_;
  bool held_ = true;
};

// A failure that ends the task before it runs: stopCode TaskFailedToStart with this stoppedReason.
struct StartFailure {
  std::string reason;
};

}  // namespace

class Supervisor::Impl {
 public:
  Impl(SupervisorDeps deps, SupervisorOptions options) : d_(deps), options_(std::move(options)) {}

  void init() {
    capacity_cpu_ = options_.capacity_cpu_units;
    if (capacity_cpu_ == 0) capacity_cpu_ = std::max(1u, std::thread::hardware_concurrency()) * 1024u;
    capacity_mem_ = options_.capacity_memory_mib;
    if (capacity_mem_ == 0) {
      capacity_mem_ = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) >> 20;
    }
    tasks_dir_ = options_.data_dir / "tasks";
    layers_dir_ = options_.data_dir / "layers";
    auto host = runtime::probe_container_host(d_.os, options_.oci_runtime, options_.data_dir / "runc");
    if (!host.ok()) {
      reason_ = host.error().message;
      return;
    }
    layout_ = host->layout;
    swap_accounting_ = host->swap_accounting;  // whether a memory limit can also forbid swap (Fargate has none)
    runc_ = std::move(host->runc);
    for (const auto& dir : {tasks_dir_, layers_dir_}) {
      if (auto st = d_.os.make_dirs(dir); !st.ok()) {
        reason_ = st.error().message;
        return;
      }
    }
    (void)image::remove_stale_unpacks(layers_dir_);
    cache_ = std::make_unique<runtime::LayerCache>(d_.os, layers_dir_);
    endpoint_ = std::make_unique<TaskEndpoint>();
    nofile_ = runtime::host_default_nofile();
    spdlog::info("tasks: {} via {}, cgroups {}, capacity {} cpu units / {} MiB", host->runc_path, options_.oci_runtime,
                 runtime::to_string(layout_.mode), capacity_cpu_, capacity_mem_);
  }

  std::string reason() const { return reason_; }

  void submit(const std::string& arn, uint32_t cpu, uint64_t mem) {
    announce(arn);
    std::lock_guard lock(mu_);
    if (shutting_down_) return;
    queue_.push_back(Pending{arn, cpu, mem});
    admit_locked();
  }

  void stop(const std::string& arn) {
    bool was_queued = false;
    {
      std::lock_guard lock(mu_);
      auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Pending& p) { return p.arn == arn; });
      if (it != queue_.end()) {
        queue_.erase(it);
        was_queued = true;
      } else if (auto r = running_.find(arn); r != running_.end()) {
        std::lock_guard task_lock(r->second->mu);
        r->second->stop_requested = true;
        r->second->cv.notify_all();
      }
    }
    if (was_queued) {
      update(arn, [&](json::object& b) { ecs::task_state::stopped(b, d_.clock.now()); });
      std::lock_guard lock(mu_);
      admit_locked();
    }
  }

  Capacity capacity() const {
    std::lock_guard lock(mu_);
    return Capacity{capacity_cpu_, capacity_mem_, used_cpu_, used_mem_, running_.size(), queue_.size()};
  }

  void recover() {
    std::vector<ecs::Task> unfinished;
    (void)d_.ecs.read([&](ecs::EcsTables& t) -> Result<json::object> {
      unfinished = t.unfinished_tasks();
      return json::object();
    });
    if (runc_) {
      // Containers a previous server left behind (its runc state dir is ours).
      auto listed = d_.os.run({runc_->options().binary, "--root", runc_->options().root, "list", "-q"});
      if (listed.ok()) {
        size_t start = 0;
        const std::string& out = listed->out;
        while (start < out.size()) {
          size_t end = out.find('\n', start);
          if (end == std::string::npos) end = out.size();
          std::string id = out.substr(start, end - start);
          if (!id.empty()) {
            auto st = runc_->remove(id);
            spdlog::warn("recovery: deleted container {} left by a previous server{}", id,
                         st.ok() ? "" : ": " + st.error().message);
          }
          start = end + 1;
        }
      }
      unmount_below(tasks_dir_);
      (void)d_.os.remove_all(tasks_dir_);
      (void)d_.os.make_dirs(tasks_dir_);
    }
    for (auto& task : unfinished) {
      if (runc_) {
        auto plan = runtime::plan_task_cgroup(layout_, options_.cgroup_parent, task.id, runtime::TaskLimits{});
        if (plan.ok()) (void)runtime::remove_task_cgroup(d_.os, *plan);
      }
      if (task.last_status() == "PROVISIONING" && task.desired_status() == "RUNNING" && reason_.empty()) {
        submit(task.arn, static_cast<uint32_t>(ecs::get_int(task.spec, "cpu").value_or(0)),
               static_cast<uint64_t>(ecs::get_int(task.spec, "memory").value_or(0)));
        continue;
      }
      std::string was(task.last_status());
      update(task.arn, [&](json::object& b) {
        auto now = d_.clock.now();
        ecs::task_state::stop_requested(
            b, "", fmt::format("Gantry restarted while the task was {}: its containers were stopped and their exit "
                               "codes are unknown",
                               was),
            now);
        if (auto* list = b.if_contains("containers"); list && list->is_array()) {
          for (auto& c : list->as_array()) {
            auto& co = c.as_object();
            if (ecs::string_member(co, "lastStatus") != "STOPPED")
              ecs::task_state::container_stopped(b, std::string(ecs::string_member(co, "name")), std::nullopt,
                                                 "Stopped when Gantry restarted");
          }
        }
        ecs::task_state::stopped(b, now);
      });
      spdlog::warn("recovery: task {} was {} when the previous server stopped; marked STOPPED", task.arn, was);
    }
  }

  // Stops every running task and waits for them. `permanent`: for good (shutdown; queued tasks stay
  // PROVISIONING for the next start); otherwise (reset) the queue is dropped and work resumes after.
  void stop_all(std::chrono::seconds grace, bool permanent, std::string_view reason) {
    std::vector<std::shared_ptr<RunningTask>> tasks;
    {
      std::lock_guard lock(mu_);
      shutting_down_ = true;
      queue_.clear();
      for (auto& [arn, t] : running_) tasks.push_back(t);
      grace_ = grace;
    }
    for (auto& t : tasks) {
      update(t->arn, [&](json::object& b) { ecs::task_state::stop_requested(b, "", reason, d_.clock.now()); });
      std::lock_guard task_lock(t->mu);
      t->stop_requested = true;
      ++t->hurry;
      t->cv.notify_all();
    }
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return running_.empty(); });
    if (!permanent) {
      shutting_down_ = false;
      grace_.reset();
    }
  }

 private:
  std::optional<std::chrono::seconds> grace() const {
    std::lock_guard lock(mu_);
    return grace_;
  }

  // Applies `fn` to the stored task's body in one transaction.
  void update(const std::string& arn, const std::function<void(json::object&)>& fn) {
    std::optional<json::object> changed;
    auto st = d_.ecs.write([&](ecs::EcsTables& t) -> Result<json::object> {
      auto task = t.find_task(arn);
      if (!task) return json::object();
      auto status = [&](std::string_view key) {
        auto* v = task->body.if_contains(key);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
      };
      auto before = status("lastStatus") + "/" + status("desiredStatus");
      fn(task->body);
      t.put_task(*task);
      if (d_.task_changed && before != status("lastStatus") + "/" + status("desiredStatus")) changed = task->body;
      return json::object();
    });
    if (!st.ok()) spdlog::error("task {}: could not store its state: {}", arn, st.error().message);
    if (st.ok() && changed) d_.task_changed(*changed);
  }

  // Tells the listener of a task just submitted (PROVISIONING).
  void announce(const std::string& arn) {
    if (!d_.task_changed) return;
    std::optional<json::object> body;
    (void)d_.ecs.read([&](ecs::EcsTables& t) -> Result<json::object> {
      if (auto task = t.find_task(arn)) body = task->body;
      return json::object();
    });
    if (body) d_.task_changed(*body);
  }

  void admit_locked() {
    while (!queue_.empty() && !shutting_down_) {
      const Pending& p = queue_.front();
      bool fits = (used_cpu_ + p.cpu_units <= capacity_cpu_ && used_mem_ + p.memory_mib <= capacity_mem_) ||
                  running_.empty();
      if (!fits) return;
      auto rt = std::make_shared<RunningTask>();
      rt->arn = p.arn;
      rt->cpu_units = p.cpu_units;
      rt->memory_mib = p.memory_mib;
      used_cpu_ += p.cpu_units;
      used_mem_ += p.memory_mib;
      running_.emplace(p.arn, rt);
      try {
        std::thread([this, rt] { run(rt); }).detach();
      } catch (const std::system_error& e) {
        // No thread to be had: give the capacity back and leave the task queued for the next try.
        spdlog::error("task {}: cannot start a thread for it: {}", p.arn, e.what());
        used_cpu_ -= p.cpu_units;
        used_mem_ -= p.memory_mib;
        running_.erase(p.arn);
        return;
      }
      queue_.pop_front();
    }
  }

  void finished(const std::shared_ptr<RunningTask>& rt) {
    std::lock_guard lock(mu_);
    used_cpu_ -= rt->cpu_units;
    used_mem_ -= rt->memory_mib;
    running_.erase(rt->arn);
    admit_locked();
    done_cv_.notify_all();
  }

  void unmount_below(const fs::path& dir) {
    auto text = d_.os.read_file("/proc/self/mountinfo");
    if (!text.ok()) return;
    auto entries = runtime::parse_mountinfo(*text);
    if (!entries.ok()) return;
    const std::string prefix = dir.string() + "/";
    for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
      if (it->mount_point.starts_with(prefix)) (void)d_.os.unmount(it->mount_point, MNT_DETACH);
    }
  }

  // --- one task ---

  void run(std::shared_ptr<RunningTask> rt) {
    std::optional<ecs::Task> task;
    (void)d_.ecs.read([&](ecs::EcsTables& t) -> Result<json::object> {
      task = t.find_task(rt->arn);
      return json::object();
    });
    if (!task) {
      finished(rt);
      return;
    }
    rt->id = task->id;
    rt->scope = Scope{task->account, task->region};
    {
      std::lock_guard lock(rt->mu);
      if (task->desired_status() == "STOPPED") rt->stop_requested = true;
    }
    std::vector<ContainerRun> containers;
    std::optional<runtime::TaskCgroupPlan> cgroup;
    std::optional<runtime::NamespaceFiles> namespaces;
    const fs::path task_dir = tasks_dir_ / task->id;

    std::optional<StartFailure> failure;
    try {
      StartSlot slot(start_gate_);
      failure = prepare(*rt, *task, task_dir, containers, cgroup, namespaces);
      if (failure) slot.release();
      if (!failure) supervise(*rt, containers, slot);
    } catch (const std::exception& e) {
      // A bug, or a resource the system refused (a thread): end the task, never the server.
      spdlog::error("task {}: {}", rt->arn, e.what());
      failure = StartFailure{fmt::format("InternalError: Gantry failed to run the task: {}", e.what())};
      for (auto& c : containers) {
        if (c.state == ContainerState::kRunning) (void)runc_->kill(c.runtime_id, SIGKILL, true);
      }
    }
    if (failure) {
      update(rt->arn, [&](json::object& b) {
        auto now = d_.clock.now();
        ecs::task_state::pull_stopped(b, now);
        ecs::task_state::stop_requested(b, "TaskFailedToStart", failure->reason, now);
        // The containers carry the reason too, as in ECS.
        if (auto* list = b.if_contains("containers"); list && list->is_array()) {
          std::vector<std::string> names;
          for (const auto& c : list->as_array()) {
            if (c.is_object()) names.emplace_back(ecs::string_member(c.as_object(), "name"));
          }
          for (const auto& n : names) ecs::task_state::container_stopped(b, n, std::nullopt, failure->reason);
        }
        ecs::task_state::stopped(b, now);
      });
    } else {
      update(rt->arn, [&](json::object& b) { ecs::task_state::execution_stopped(b, d_.clock.now()); });
    }
    // Tear down: the containers are deleted by their waiters; what remains is files, mounts, cgroups.
    for (auto& c : containers) {
      if (c.waiter.joinable()) c.waiter.join();
      c.health_control->finish();
      if (c.health_thread.joinable()) c.health_thread.join();
      if (c.mounted) {
        if (auto st = runtime::unmount_rootfs(d_.os, c.rootfs); !st.ok())
          spdlog::warn("task {}: {}", rt->arn, st.error().message);
      }
    }
    if (endpoint_) endpoint_->remove(rt->id);
    if (namespaces) {
      for (const auto& f : {namespaces->net, namespaces->ipc, namespaces->uts}) (void)d_.os.unmount(f, MNT_DETACH);
    }
    if (cgroup) {
      if (auto st = runtime::remove_task_cgroup(d_.os, *cgroup); !st.ok())
        spdlog::warn("task {}: {}", rt->arn, st.error().message);
    }
    (void)d_.os.remove_all(task_dir);
    if (!failure) update(rt->arn, [&](json::object& b) { ecs::task_state::stopped(b, d_.clock.now()); });
    finished(rt);
  }

  // Pull, logs, cgroup, namespaces, bundles. A StartFailure ends the task as TaskFailedToStart.
  std::optional<StartFailure> prepare(RunningTask& rt, const ecs::Task& task, const fs::path& task_dir,
                                      std::vector<ContainerRun>& containers,
                                      std::optional<runtime::TaskCgroupPlan>& cgroup,
                                      std::optional<runtime::NamespaceFiles>& namespaces) {
    update(rt.arn, [&](json::object& b) { ecs::task_state::pull_started(b, d_.clock.now()); });
    if (!runc_) return StartFailure{"ResourceInitializationError: Gantry cannot run tasks on this host: " + reason_};
    const json::array* defs = nullptr;
    if (auto* v = task.spec.if_contains("containers"); v && v->is_array()) defs = &v->as_array();
    if (!defs || defs->empty()) return StartFailure{"ResourceInitializationError: the task has no containers"};

    // Images: resolve in the registry, unpack the layers.
    std::vector<runtime::ResolvedImage> images;
    std::vector<std::vector<fs::path>> lowers;
    for (const auto& v : *defs) {
      ContainerRun c;
      c.def = v.as_object();
      c.name = std::string(ecs::string_member(c.def, "name"));
      if (auto* e = c.def.if_contains("essential"); e && e->is_bool()) c.essential = e->as_bool();
      c.health_check = parse_health_check(c.def);
      std::string image(ecs::string_member(c.def, "image"));
      if (auto denied = check_image_pull(rt, task, image)) return StartFailure{*denied};
      auto resolved = resolve(rt.scope, image);
      if (!resolved.ok()) {
        return StartFailure{fmt::format("CannotPullContainerError: pull image manifest for {}: {}", image,
                                        resolved.error().message)};
      }
      auto layers = cache_->ensure_all(resolved->first, runtime::blob_store_blobs(d_.blobs));
      if (!layers.ok()) {
        return StartFailure{fmt::format("CannotPullContainerError: failed to extract layer of {}: {}", image,
                                        layers.error().message)};
      }
      update(rt.arn, [&](json::object& b) { ecs::task_state::set_image_digest(b, c.name, resolved->second); });
      images.push_back(std::move(resolved->first));
      lowers.push_back(std::move(*layers));
      containers.push_back(std::move(c));
    }
    update(rt.arn, [&](json::object& b) { ecs::task_state::pull_stopped(b, d_.clock.now()); });

    // awslogs: the group must exist unless awslogs-create-group is "true"; the stream is created.
    for (auto& c : containers) {
      auto* lc = c.def.if_contains("logConfiguration");
      if (!lc || !lc->is_object() || ecs::string_member(lc->as_object(), "logDriver") != "awslogs") continue;
      const json::object empty;
      const auto* opts_v = lc->as_object().if_contains("options");
      const json::object& opts = opts_v && opts_v->is_object() ? opts_v->as_object() : empty;
      c.logs.enabled = true;
      c.logs.group = std::string(ecs::string_member(opts, "awslogs-group"));
      std::string region(ecs::string_member(opts, "awslogs-region"));
      c.logs.scope = Scope{rt.scope.account, region.empty() ? rt.scope.region : region};
      std::string prefix(ecs::string_member(opts, "awslogs-stream-prefix"));
      c.logs.stream = prefix.empty() ? task.id : fmt::format("{}/{}/{}", prefix, c.name, task.id);
      c.logs.create_group = ecs::string_member(opts, "awslogs-create-group") == "true";
      if (auto denied = check_logs(rt, task, c.logs)) return StartFailure{*denied};
      auto st = d_.logs.append(c.logs.scope, c.logs.group, c.logs.stream, {}, c.logs.create_group, true);
      if (!st.ok()) {
        return StartFailure{fmt::format("ResourceInitializationError: failed to validate logger args: create "
                                        "stream has been retried 1 times: failed to create Cloudwatch log stream: "
                                        "{}: {}",
                                        c.logs.group, st.error().message)};
      }
    }

    // The task cgroup: the task's cpu and memory bound all its containers.
    runtime::TaskLimits limits;
    limits.cpu_units = static_cast<uint32_t>(ecs::get_int(task.spec, "cpu").value_or(0));
    limits.memory_bytes = static_cast<uint64_t>(ecs::get_int(task.spec, "memory").value_or(0)) << 20;
    limits.no_swap = swap_accounting_;
    auto plan = runtime::plan_task_cgroup(layout_, options_.cgroup_parent, task.id, limits);
    if (!plan.ok()) return StartFailure{"ResourceInitializationError: " + plan.error().message};
    if (auto st = runtime::apply_task_cgroup(d_.os, *plan); !st.ok())
      return StartFailure{"ResourceInitializationError: " + st.error().message};
    cgroup = *plan;

    if (auto st = d_.os.make_dirs(task_dir); !st.ok())
      return StartFailure{"ResourceInitializationError: " + st.error().message};
    const std::string hostname = task_hostname(task.body);
    // The task's network, IPC and UTS namespaces, which its containers join, with its endpoints inside.
    if (auto st = d_.os.make_dirs(task_dir / "ns"); !st.ok())
      return StartFailure{"ResourceInitializationError: " + st.error().message};
    runtime::NamespaceFiles files{task_dir / "ns" / "net", task_dir / "ns" / "ipc", task_dir / "ns" / "uts"};
    if (auto st = d_.os.create_namespaces(files, hostname); !st.ok())
      return StartFailure{"ResourceInitializationError: task network: " + st.error().message};
    namespaces = files;
    runtime::NamespacePaths join{files.net.string(), files.ipc.string(), files.uts.string()};
    auto endpoint = start_endpoint(task, files.net, containers);
    if (!endpoint.ok()) return StartFailure{"ResourceInitializationError: " + endpoint.error().message};
    const auto agent_env = agent_environment(**endpoint, task);

    for (size_t i = 0; i < containers.size(); ++i) {
      auto& c = containers[i];
      c.bundle = task_dir / c.name;
      c.runtime_id = fmt::format("{}-{}", task.id, c.name);
      auto rootfs = runtime::plan_rootfs(lowers[i], c.bundle);
      if (!rootfs.ok()) return StartFailure{"CannotCreateContainerError: " + rootfs.error().message};
      c.rootfs = *rootfs;
      if (auto st = runtime::mount_rootfs(d_.os, c.rootfs); !st.ok())
        return StartFailure{"CannotCreateContainerError: " + st.error().message};
      c.mounted = true;
      c.cgroups_path = plan->relative + "/" + c.name;
      auto spec = container_spec(c, images[i].config, hostname, join, agent_env);
      if (!spec.ok()) return StartFailure{"CannotStartContainerError: " + spec.error().message};
      if (auto st = runc_->write_bundle(c.bundle, *spec); !st.ok())
        return StartFailure{"CannotCreateContainerError: " + st.error().message};
    }
    return std::nullopt;
  }

  // With IAM enforced, ECS pulls with the task's execution role: it needs one, and the role must be allowed
  // to get registry credentials and read the image's repository. The reason the task fails, or nullopt.
  std::optional<std::string> check_image_pull(const RunningTask& rt, const ecs::Task& task, const std::string& image) {
    if (!d_.execution_role) return std::nullopt;
    std::string role(ecs::string_member(task.spec, "executionRoleArn"));
    auto ref = parse_image_ref(image);
    if (!ref.ok()) return std::nullopt;  // resolve() reports a malformed reference
    Scope scope = ref->scope.value_or(rt.scope);
    if (role.empty())
      return fmt::format("CannotPullContainerError: pull image manifest for {}: no basic auth credentials (the task "
                         "definition has no executionRoleArn, which pulling from the registry needs)",
                         image);
    std::string repo = scope.arn("ecr", "repository/" + ref->repository);
    const std::pair<std::string_view, std::string> needs[] = {
        {"ecr:GetAuthorizationToken", "*"}, {"ecr:BatchGetImage", repo}, {"ecr:GetDownloadUrlForLayer", repo}};
    for (const auto& [action, resource] : needs) {
      if (auto no = d_.execution_role(rt.scope, role, task.id, action, resource))
        return fmt::format("ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                           "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 "
                           "time(s): AccessDeniedException: {}",
                           *no);
    }
    return std::nullopt;
  }

  // awslogs writes with the execution role too: logs:CreateLogStream and logs:PutLogEvents on the stream,
  // logs:CreateLogGroup when it may create the group.
  std::optional<std::string> check_logs(const RunningTask& rt, const ecs::Task& task, const Awslogs& logs) {
    if (!d_.execution_role) return std::nullopt;
    std::string role(ecs::string_member(task.spec, "executionRoleArn"));
    if (role.empty())
      return std::string("ResourceInitializationError: failed to validate logger args: the task definition has no "
                         "executionRoleArn, which the awslogs log driver needs on Fargate");
    std::string group = logs.scope.arn("logs", "log-group:" + logs.group + ":log-stream:");
    std::vector<std::pair<std::string_view, std::string>> needs = {{"logs:CreateLogStream", group + logs.stream},
                                                                   {"logs:PutLogEvents", group + logs.stream}};
    if (logs.create_group) needs.emplace_back("logs:CreateLogGroup", group);
    for (const auto& [action, resource] : needs) {
      if (auto no = d_.execution_role(rt.scope, role, task.id, action, resource))
        return fmt::format("ResourceInitializationError: failed to validate logger args: create stream has been "
                           "retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: {}",
                           *no);
    }
    return std::nullopt;
  }

  // Opens the task's endpoint inside its network namespace and registers what it answers.
  Result<std::shared_ptr<EndpointState>> start_endpoint(const ecs::Task& task, const fs::path& netns,
                                                        const std::vector<ContainerRun>& containers) {
    auto state = std::make_shared<EndpointState>();
    state->task_arn = task.arn;
    state->task_id = task.id;
    state->scope = Scope{task.account, task.region};
    state->role_arn = std::string(ecs::string_member(task.spec, "taskRoleArn"));
    if (!state->role_arn.empty()) state->credentials_id = d_.random.uuid4();
    state->family = std::string(ecs::string_member(task.spec, "family"));
    auto td = ecs::string_member(task.body, "taskDefinitionArn");
    if (auto colon = td.rfind(':'); colon != std::string_view::npos) {
      auto rev = td.substr(colon + 1);
      (void)std::from_chars(rev.data(), rev.data() + rev.size(), state->revision);
    }
    if (auto* defs = task.spec.if_contains("containers"); defs && defs->is_array())
      state->definitions = defs->as_array();
    for (const auto& c : containers) state->runtime_ids[c.name] = fmt::format("{}-{}", task.id, c.name);
    if (!state->role_arn.empty()) {  // the role must be assumable now, as ECS checks before it starts a task
      auto first = issue_credentials(*state);
      if (!first.ok()) return make_error(ErrorKind::kRuntimeSystem, "task role: " + first.error().message);
    }
    GANTRY_ASSIGN_OR_RETURN(int fd, d_.os.listen_in_namespace(netns, kEndpointAddress, 80));
    GANTRY_RETURN_IF_ERROR(
        endpoint_->add(task.id, fd, [this, state](std::string_view path) { return answer(*state, path); }));
    return state;
  }

  // The environment the ECS agent gives every container of the task (the metadata URIs come per container).
  std::vector<std::pair<std::string, std::string>> agent_environment(const EndpointState& state,
                                                                     const ecs::Task& task) {
    std::vector<std::pair<std::string, std::string>> env = {
        {"AWS_EXECUTION_ENV", "AWS_ECS_FARGATE"},
        {"AWS_REGION", task.region},
        {"AWS_DEFAULT_REGION", task.region},
        {"ECS_AGENT_URI", fmt::format("http://{}/api/{}", kEndpointAddress, task.id)}};
    if (!state.credentials_id.empty())
      env.emplace_back("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/" + state.credentials_id);
    return env;
  }

  // The task role's credentials, issued again when those at hand are about to expire. mu held or not
  // shared yet.
  Result<RoleCredentials> issue_credentials(EndpointState& s) {
    if (s.credentials && s.credentials->expiration - d_.clock.now() > kRefreshBefore) return *s.credentials;
    if (!d_.role_credentials)
      return make_error(ErrorKind::kRuntimeSystem, "this server cannot issue role credentials to tasks");
    GANTRY_ASSIGN_OR_RETURN(auto c, d_.role_credentials(s.scope, s.role_arn, s.task_id));
    s.credentials = c;
    return c;
  }

  // One GET to a task's endpoint.
  TaskEndpoint::Reply answer(EndpointState& s, std::string_view path) {
    if (path.starts_with("/v2/credentials/")) {
      auto id = path.substr(16);
      if (s.credentials_id.empty() || id.size() != s.credentials_id.size() ||
          CRYPTO_memcmp(id.data(), s.credentials_id.data(), id.size()) != 0)
        return {400, kNotFound};
      std::lock_guard lock(s.mu);
      auto c = issue_credentials(s);
      if (!c.ok())
        return {500, json::serialize(json::object{{"code", "InternalError"}, {"message", c.error().message}})};
      return {200, json::serialize(json::object{{"RoleArn", s.role_arn},
                                                {"AccessKeyId", c->access_key_id},
                                                {"SecretAccessKey", c->secret},
                                                {"Token", c->token},
                                                {"Expiration", iso8601(c->expiration)}})};
    }
    for (std::string_view version : {"/v4/", "/v3/"}) {
      if (!path.starts_with(version)) continue;
      auto rest = path.substr(version.size());
      auto id = rest.substr(0, rest.find('/'));
      auto sub = rest.substr(id.size());
      std::string name;
      for (const auto& [n, rid] : s.runtime_ids)
        if (rid == id) name = n;
      if (name.empty()) return {404, R"({"message":"no container with that id in this task"})"};
      if (sub == "/stats" || sub == "/task/stats")
        return {501, R"({"message":"Gantry does not serve container statistics yet"})"};
      std::optional<ecs::Task> task;
      (void)d_.ecs.read([&](ecs::EcsTables& t) -> Result<json::object> {
        task = t.find_task(s.task_arn);
        return json::object();
      });
      if (!task) return {404, R"({"message":"the task is gone"})"};
      MetadataSource source{task->body, s.definitions, s.family, s.revision};
      if (sub.empty() || sub == "/") return {200, json::serialize(container_metadata(source, name, id))};
      if (sub == "/task")
        return {200, json::serialize(task_metadata(source, [&](std::string_view n) {
                  auto it = s.runtime_ids.find(n);
                  return it == s.runtime_ids.end() ? std::string() : it->second;
                }))};
      return {404, R"({"message":"no such metadata path"})"};
    }
    return {404, R"({"message":"no such path"})"};
  }

  Result<std::string> container_spec(ContainerRun& c, const runtime::ImageConfig& image, const std::string& hostname,
                                     const runtime::NamespacePaths& join,
                                     const std::vector<std::pair<std::string, std::string>>& agent_env) {
    runtime::ContainerSpecInput in;
    in.image = image;
    if (c.def.contains("entryPoint")) in.entry_point = strings(c.def, "entryPoint");
    if (c.def.contains("command")) in.command = strings(c.def, "command");
    if (auto* env = c.def.if_contains("environment"); env && env->is_array()) {
      for (const auto& e : env->as_array()) {
        const auto& o = e.as_object();
        in.environment.emplace_back(std::string(ecs::string_member(o, "name")), std::string(ecs::string_member(o, "value")));
      }
    }
    // What the ECS agent sets, unless the definition sets it itself; the metadata URI names this container.
    auto agent = agent_env;
    agent.emplace_back("ECS_CONTAINER_METADATA_URI_V4", fmt::format("http://{}/v4/{}", kEndpointAddress, c.runtime_id));
    agent.emplace_back("ECS_CONTAINER_METADATA_URI", fmt::format("http://{}/v3/{}", kEndpointAddress, c.runtime_id));
    for (auto& [name, value] : agent) {
      bool given = std::any_of(in.environment.begin(), in.environment.end(),
                               [&](const auto& e) { return e.first == name; });
      if (!given) in.environment.emplace_back(name, value);
    }
    if (auto wd = ecs::string_member(c.def, "workingDirectory"); !wd.empty()) in.working_directory = std::string(wd);
    if (auto u = ecs::string_member(c.def, "user"); !u.empty()) in.user = std::string(u);
    auto read_or_empty = [&](const char* file) {
      auto text = d_.os.read_file(fs::path(c.rootfs.target) / file);
      return text.ok() ? *text : std::string();
    };
    in.passwd = read_or_empty("etc/passwd");
    in.group = read_or_empty("etc/group");
    in.hostname = hostname;
    if (auto* ro = c.def.if_contains("readonlyRootFilesystem"); ro && ro->is_bool()) in.readonly_rootfs = ro->as_bool();
    if (auto* ul = c.def.if_contains("ulimits"); ul && ul->is_array()) {
      for (const auto& u : ul->as_array()) {
        const auto& o = u.as_object();
        in.ulimits.push_back(runtime::Ulimit{std::string(ecs::string_member(o, "name")), ecs::get_int(o, "softLimit").value_or(0),
                                             ecs::get_int(o, "hardLimit").value_or(0)});
      }
    }
    in.default_nofile = nofile_;
    in.join = join;
    in.cgroups_path = c.cgroups_path;
    if (auto m = ecs::get_int(c.def, "memory"); m && *m > 0) {
      in.resources.memory_limit_bytes = *m << 20;
      if (swap_accounting_) in.resources.memory_swap_bytes = *m << 20;
    }
    if (auto m = ecs::get_int(c.def, "memoryReservation"); m && *m > 0) in.resources.memory_reservation_bytes = *m << 20;
    if (auto cpu = ecs::get_int(c.def, "cpu"); cpu && *cpu > 0) in.resources.cpu_shares = std::max<int64_t>(2, *cpu);
    in.hosts_file = (c.bundle / "hosts").string();
    in.hostname_file = (c.bundle / "hostname").string();
    in.resolv_conf_file = (c.bundle / "resolv.conf").string();
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(in.hosts_file, runtime::hosts_file_content(hostname)));
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(in.hostname_file, runtime::hostname_file_content(hostname)));
    // The task network has loopback only: no name servers to offer.
    GANTRY_RETURN_IF_ERROR(d_.os.write_file(in.resolv_conf_file, ""));
    return runtime::build_oci_spec_json(in);
  }

  // The image a container names: (resolved image, manifest digest), from Gantry's registry only.
  Result<std::pair<runtime::ResolvedImage, std::string>> resolve(const Scope& task_scope, const std::string& text) {
    return resolve_local_image(d_.os, d_.ecr, d_.blobs, task_scope, text);
  }

  // Starts containers in dependsOn order, relays stop requests, and returns when every started
  // container has exited.
  void supervise(RunningTask& rt, std::vector<ContainerRun>& containers, StartSlot& slot) {
    bool stopping = false;
    bool stopping_stored = false;
    bool marked_running = false;
    uint64_t hurry_seen = 0;
    auto begin_stop = [&](std::string_view code, std::string_view reason) {
      if (stopping) return;
      stopping = true;
      stopping_stored = true;
      update(rt.arn, [&](json::object& b) {
        auto now = d_.clock.now();
        ecs::task_state::stop_requested(b, code, reason, now);
        ecs::task_state::stopping(b, now);
      });
    };
    for (;;) {
      bool hurried = false;
      {
        std::lock_guard lock(rt.mu);
        if (rt.stop_requested && !stopping) {
          // StopTask (or shutdown) already stored desiredStatus, stopCode and reason.
          stopping = true;
        }
        if (rt.hurry != hurry_seen) {
          hurry_seen = rt.hurry;
          hurried = true;
        }
      }
      if (stopping && !stopping_stored) {
        stopping_stored = true;
        update(rt.arn, [&](json::object& b) { ecs::task_state::stopping(b, d_.clock.now()); });
      }

      // Start what can start.
      bool progress = true;
      while (progress && !stopping) {
        progress = false;
        for (size_t i = 0; i < containers.size(); ++i) {
          auto& c = containers[i];
          if (c.state != ContainerState::kWaiting) continue;
          auto ready = dependencies_ready(c, containers);
          if (!ready.has_value()) continue;  // still waiting
          progress = true;
          if (!*ready) {
            c.state = ContainerState::kNeverStarted;
            c.reason = "DependencyConditionFailed: a container this one depends on did not reach its condition";
            update(rt.arn, [&](json::object& b) { ecs::task_state::container_stopped(b, c.name, std::nullopt, c.reason); });
            if (c.essential) begin_stop("TaskFailedToStart", "Essential container " + c.name + " could not start: " + c.reason);
            continue;
          }
          if (auto st = start(rt, c, i); !st.ok()) {
            c.state = ContainerState::kNeverStarted;
            c.reason = "CannotStartContainerError: " + st.error().message;
            update(rt.arn, [&](json::object& b) { ecs::task_state::container_stopped(b, c.name, std::nullopt, c.reason); });
            if (c.essential) begin_stop("TaskFailedToStart", c.reason);
          }
        }
      }
      slot.release();  // the first containers are started; later ones (dependsOn) start on their own
      {
        bool running_now = std::any_of(containers.begin(), containers.end(),
                                       [](const ContainerRun& c) { return c.state == ContainerState::kRunning; });
        bool waiting_now = std::any_of(containers.begin(), containers.end(),
                                       [](const ContainerRun& c) { return c.state == ContainerState::kWaiting; });
        // Nothing runs and something still waits: no event can come that would let it start (a
        // dependency cycle, or a condition on a container that will never get there).
        if (!stopping && !running_now && waiting_now) {
          for (auto& c : containers) {
            if (c.state != ContainerState::kWaiting) continue;
            c.state = ContainerState::kNeverStarted;
            c.reason = "DependencyConditionFailed: the containers it depends on can no longer reach their conditions";
            update(rt.arn, [&](json::object& b) { ecs::task_state::container_stopped(b, c.name, std::nullopt, c.reason); });
          }
          begin_stop("TaskFailedToStart", "Containers could not start: their dependsOn conditions can never be met");
        }
        // RUNNING as the ECS agent reports it: once no container is still waiting to start.
        if (!marked_running && !stopping && running_now && !waiting_now) {
          marked_running = true;
          update(rt.arn, [&](json::object& b) { ecs::task_state::running(b, d_.clock.now()); });
        }
      }

      // Stop what runs: SIGTERM, then SIGKILL after the container's stopTimeout.
      auto now = std::chrono::steady_clock::now();
      auto next_wake = now + 1s;
      if (stopping) {
        for (auto& c : containers) {
          if (c.state == ContainerState::kWaiting) {
            c.state = ContainerState::kNeverStarted;
            update(rt.arn, [&](json::object& b) { ecs::task_state::container_stopped(b, c.name, std::nullopt, ""); });
          }
          if (c.state != ContainerState::kRunning) continue;
          if (hurried && c.term_sent && !c.kill_sent) {
            if (auto g = grace()) c.kill_at = std::min(c.kill_at, now + *g);
          }
          if (!c.term_sent) {
            c.term_sent = true;
            auto timeout = std::chrono::seconds(ecs::get_int(c.def, "stopTimeout").value_or(30));
            if (auto g = grace(); g && *g < timeout) timeout = *g;
            c.kill_at = now + timeout;
            if (auto st = runc_->kill(c.runtime_id, SIGTERM); !st.ok())
              spdlog::debug("task {}: SIGTERM {}: {}", rt.arn, c.name, st.error().message);
          } else if (!c.kill_sent && now >= c.kill_at) {
            c.kill_sent = true;
            if (auto st = runc_->kill(c.runtime_id, SIGKILL, true); !st.ok())
              spdlog::debug("task {}: SIGKILL {}: {}", rt.arn, c.name, st.error().message);
          }
          if (!c.kill_sent) next_wake = std::min(next_wake, c.kill_at);
        }
      }

      bool any_running = std::any_of(containers.begin(), containers.end(),
                                     [](const ContainerRun& c) { return c.state == ContainerState::kRunning; });
      bool any_waiting = std::any_of(containers.begin(), containers.end(),
                                     [](const ContainerRun& c) { return c.state == ContainerState::kWaiting; });
      if (!any_running && (stopping || !any_waiting)) break;

      // Wait for an exit, a stop request or the next SIGKILL deadline.
      std::deque<Exit> exits;
      std::deque<HealthEvent> health;
      {
        std::unique_lock lock(rt.mu);
        rt.cv.wait_until(lock, next_wake, [&] {
          return !rt.exits.empty() || !rt.health.empty() || (rt.stop_requested && !stopping) ||
                 rt.hurry != hurry_seen;
        });
        exits.swap(rt.exits);
        health.swap(rt.health);
      }
      for (auto& h : health) {
        auto& c = containers[h.index];
        if (c.state != ContainerState::kRunning) continue;
        c.health = h.status;
        std::string task_health = task_health_of(containers);
        update(rt.arn, [&](json::object& b) { ecs::task_state::set_health(b, c.name, c.health, task_health); });
      }
      for (auto& e : exits) {
        auto& c = containers[e.index];
        c.state = ContainerState::kExited;
        c.exit_code = e.status.exit_code;
        c.reason = e.reason;
        update(rt.arn, [&](json::object& b) { ecs::task_state::container_stopped(b, c.name, c.exit_code, c.reason); });
        if (c.essential) begin_stop("EssentialContainerExited", "Essential container in task exited");
      }
    }
  }

  // ECS's rule: HEALTHY when every essential container with a health check is; UNHEALTHY when one is.
  static std::string task_health_of(const std::vector<ContainerRun>& containers) {
    bool any_checked = false, all_healthy = true;
    for (const auto& c : containers) {
      if (!c.essential || !c.health_check) continue;
      any_checked = true;
      if (c.health == "UNHEALTHY") return "UNHEALTHY";
      if (c.health != "HEALTHY") all_healthy = false;
    }
    return any_checked && all_healthy ? "HEALTHY" : "UNKNOWN";
  }

  // Runs the container's health check every interval until it exits; reports changes of its status.
  void health_loop(RunningTask& rt, size_t index, HealthCheck check, std::string id,
                   std::shared_ptr<HealthControl> control) {
    const auto started = std::chrono::steady_clock::now();
    std::string status = "UNKNOWN";
    int failures = 0;
    for (;;) {
      {
        std::unique_lock lock(control->mu);
        if (control->cv.wait_for(lock, check.interval, [&] { return control->done; })) return;
      }
      auto result = runc_->exec(id, check.argv, check.timeout);
      bool healthy = result.ok() && result->exit_code == 0 && !result->signal;
      std::string next = status;
      if (healthy) {
        failures = 0;
        next = "HEALTHY";
      } else if (std::chrono::steady_clock::now() - started >= check.start_period) {
        if (++failures >= check.retries) next = "UNHEALTHY";
      }
      if (next != status) {
        status = next;
        std::lock_guard lock(rt.mu);
        rt.health.push_back(HealthEvent{index, status});
        rt.cv.notify_all();
      }
    }
  }

  // nullopt: not yet; true: start it; false: a condition can no longer be met.
  std::optional<bool> dependencies_ready(const ContainerRun& c, const std::vector<ContainerRun>& all) {
    auto* deps = c.def.if_contains("dependsOn");
    if (!deps || !deps->is_array()) return true;
    for (const auto& d : deps->as_array()) {
      const auto& o = d.as_object();
      std::string_view name = ecs::string_member(o, "containerName");
      std::string_view condition = ecs::string_member(o, "condition");
      auto it = std::find_if(all.begin(), all.end(), [&](const ContainerRun& x) { return x.name == name; });
      if (it == all.end()) return false;
      const auto s = it->state;
      if (s == ContainerState::kNeverStarted) return false;
      if (condition == "START") {
        if (s == ContainerState::kWaiting) return std::nullopt;
      } else if (condition == "COMPLETE") {
        if (s != ContainerState::kExited) return std::nullopt;
      } else if (condition == "SUCCESS") {
        if (s != ContainerState::kExited) return std::nullopt;
        if (it->exit_code != 0) return false;
      } else {  // HEALTHY
        if (!it->health_check || s == ContainerState::kExited || it->health == "UNHEALTHY") return false;
        if (it->health != "HEALTHY") return std::nullopt;
      }
    }
    return true;
  }

  Status start(RunningTask& rt, ContainerRun& c, size_t index) {
    GANTRY_ASSIGN_OR_RETURN(runtime::CreatedContainer created, runc_->run_detached(c.runtime_id, c.bundle));
    c.state = ContainerState::kRunning;
    update(rt.arn, [&](json::object& b) { ecs::task_state::container_running(b, c.name, c.runtime_id); });
    auto shared = std::make_shared<runtime::CreatedContainer>(std::move(created));
    if (c.health_check) {
      c.health_thread = std::thread(
          [this, &rt, index, check = *c.health_check, id = c.runtime_id, control = c.health_control] {
            health_loop(rt, index, check, id, control);
          });
    }
    c.waiter = std::thread([this, &rt, shared, index, logs = c.logs, id = c.runtime_id, control = c.health_control,
                            cgroup = fs::path(layout_.memory_dir) / c.cgroups_path] {
      auto pump = [&](runtime::LineReader* reader) {
        for (;;) {
          auto line = reader->next_line();
          if (!line.ok() || !line->has_value()) return;
          if (!logs.enabled) continue;
          int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           d_.clock.now().time_since_epoch())
                           .count();
          std::vector<logs::Event> events{logs::Event{ms, std::move(**line)}};
          auto st = d_.logs.append(logs.scope, logs.group, logs.stream, std::move(events), logs.create_group, true);
          if (!st.ok()) spdlog::warn("task {}: awslogs: {}", rt.arn, st.error().message);
        }
      };
      std::thread err_thread(pump, shared->stderr_lines.get());
      pump(shared->stdout_lines.get());
      auto exit = runc_->wait(*shared);
      control->finish();
      err_thread.join();
      Exit e{index, {}, ""};
      if (exit.ok()) {
        e.status = *exit;
        auto stats = runtime::read_memory_stats(d_.os, layout_.mode, cgroup.string());
        if (stats.ok() && stats->oom_kills > 0) e.reason = "OutOfMemoryError: Container killed due to memory usage";
      } else {
        e.status = runtime::ExitStatus{255, std::nullopt};
        e.reason = "Gantry lost track of the container: " + exit.error().message;
      }
      if (auto st = runc_->remove(id); !st.ok()) spdlog::warn("task {}: {}", rt.arn, st.error().message);
      std::lock_guard lock(rt.mu);
      rt.exits.push_back(std::move(e));
      rt.cv.notify_all();
    });
    return {};
  }

  SupervisorDeps d_;
  SupervisorOptions options_;
  std::string reason_;
  runtime::CgroupLayout layout_;
  std::unique_ptr<runtime::RuncDriver> runc_;
  std::unique_ptr<runtime::LayerCache> cache_;
  std::unique_ptr<TaskEndpoint> endpoint_;  // with runc_
  fs::path tasks_dir_;
  fs::path layers_dir_;
  bool swap_accounting_ = false;
  runtime::Rlimit nofile_ = runtime::kDefaultNofile;
  std::optional<std::chrono::seconds> grace_;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::deque<Pending> queue_;
  std::map<std::string, std::shared_ptr<RunningTask>> running_;
  uint32_t capacity_cpu_ = 0;
  uint64_t capacity_mem_ = 0;
  uint32_t used_cpu_ = 0;
  uint64_t used_mem_ = 0;
  bool shutting_down_ = false;
  StartGate start_gate_{std::max(2u, 2 * std::thread::hardware_concurrency())};
};

std::unique_ptr<Supervisor> Supervisor::create(SupervisorDeps deps, SupervisorOptions options) {
  auto impl = std::make_unique<Impl>(deps, std::move(options));
  impl->init();
  return std::unique_ptr<Supervisor>(new Supervisor(std::move(impl)));
}

Supervisor::Supervisor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Supervisor::~Supervisor() { shutdown(); }

std::string Supervisor::unavailable_reason() const { return impl_->reason(); }
void Supervisor::submit(const std::string& arn, uint32_t cpu, uint64_t mem) { impl_->submit(arn, cpu, mem); }
void Supervisor::stop(const std::string& arn) { impl_->stop(arn); }
void Supervisor::recover() { impl_->recover(); }
void Supervisor::shutdown(std::chrono::seconds grace) { impl_->stop_all(grace, true, "Gantry server shut down"); }
void Supervisor::stop_all_for_reset() { impl_->stop_all(std::chrono::seconds(0), false, "Gantry state was reset"); }
Capacity Supervisor::capacity() const { return impl_->capacity(); }

}  // namespace gantry::supervisor
