// Real containers under real runc: rootfs from the test images' OCI layouts (layer cache + overlayfs),
// a task cgroup with cpu/memory limits, config.json from oci_spec, the runc driver's create/start/wait.
// Needs root and runc; skips (printing GANTRY_E2E_SKIPPED, which ctest reports as skipped) otherwise.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "runtime/cgroup.h"
#include "runtime/oci_spec.h"
#include "runtime/os.h"
#include "runtime/rootfs.h"
#include "runtime/runc.h"

namespace gantry::runtime {
namespace {

namespace fs = std::filesystem;

}  // namespace
void PrintTo(const ExitStatus& s, std::ostream* os) {
  *os << "{exit_code " << s.exit_code << ", signal " << (s.signal ? std::to_string(*s.signal) : "none") << "}";
}
namespace {

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    fs::path candidate = fs::path(p.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

// Fargate's nofile default, clamped to this host's hard limit (raising it needs CAP_SYS_RESOURCE,
// which sandboxed CI runners may lack).
Rlimit host_nofile() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  uint64_t hard = std::min<uint64_t>(kDefaultNofile.hard, rl.rlim_max);
  return Rlimit{"RLIMIT_NOFILE", std::min<uint64_t>(kDefaultNofile.soft, hard), hard};
}

fs::path images_dir() {
  if (const char* env = std::getenv("GANTRY_TEST_IMAGES_DIR")) return env;
  return GANTRY_TEST_IMAGES_DIR;
}

struct TaskRun {
  ExitStatus exit;
  std::vector<std::string> out;
  std::vector<std::string> err;
  MemoryStats memory;            // the task cgroup, after the container was deleted
  MemoryStats container_memory;  // the container's cgroup, read when it exited (before runc delete)
  std::string cpu_quota;         // the task cgroup's CFS quota as read back while it existed
  std::string memory_limit;      // the task cgroup's memory limit as read back
};

struct ContainerArgs {
  std::string image = "busybox";
  std::optional<std::vector<std::string>> entry_point;
  std::optional<std::vector<std::string>> command;
  std::vector<std::pair<std::string, std::string>> env;
  TaskLimits limits;
  std::optional<int64_t> container_memory;
  std::optional<std::string> user;
  bool readonly_rootfs = false;
};

class RuntimeE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      std::printf("GANTRY_E2E_SKIPPED: not root (runc, overlayfs and cgroups need root)\n");
      GTEST_SKIP() << "needs root";
    }
    runc_path_ = find_in_path("runc");
    if (runc_path_.empty()) {
      std::printf("GANTRY_E2E_SKIPPED: runc is not installed (scripts/install-deps installs it)\n");
      GTEST_SKIP() << "needs runc";
    }
    ASSERT_TRUE(fs::exists(images_dir() / "busybox" / "index.json"))
        << "no test images in " << images_dir() << ": run scripts/make-test-images --out " << images_dir();
    char tmpl[] = "/var/tmp/gantry-runtime-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    work_ = tmpl;
    auto driver = RuncDriver::create(os_, RuncOptions{runc_path_, (work_ / "runc").string()});
    ASSERT_TRUE(driver.ok()) << driver.error().message;
    runc_ = std::move(*driver);
    auto layout = detect_host_cgroup_layout(os_);
    ASSERT_TRUE(layout.ok()) << layout.error().message;
    layout_ = *layout;
    cache_ = std::make_unique<LayerCache>(os_, work_ / "layers");
  }

  void TearDown() override {
    for (const auto& h : layout_.hierarchies) (void)os_.remove_dir(fs::path(h.dir) / "gantry-e2e");
    if (!work_.empty()) {
      // A test that failed half-way may leave its overlay mounted; never rm -rf through a mount.
      auto mountinfo =
          parse_mountinfo(os_.read_file("/proc/self/mountinfo").ok() ? *os_.read_file("/proc/self/mountinfo") : "");
      if (mountinfo.ok()) {
        for (auto it = mountinfo->rbegin(); it != mountinfo->rend(); ++it) {
          if (it->mount_point.rfind(work_.string() + "/", 0) == 0) (void)os_.unmount(it->mount_point, MNT_DETACH);
        }
      }
      std::error_code ec;
      fs::remove_all(work_, ec);
    }
  }

  std::string task_id() {
    static std::mt19937_64 rng(std::random_device{}());
    return fmt::format("{:016x}", rng());
  }

  // One task with one container, start to finish; every step checked.
  TaskRun run_task(const ContainerArgs& args) {
    TaskRun result;
    const std::string id = task_id();
    auto image = resolve_oci_layout(os_, images_dir() / args.image, "latest");
    EXPECT_TRUE(image.ok()) << image.error().message;
    if (!image.ok()) return result;
    auto layers = cache_->ensure_all(*image, oci_layout_blobs(images_dir() / args.image));
    EXPECT_TRUE(layers.ok()) << layers.error().message;
    if (!layers.ok()) return result;

    const fs::path bundle = work_ / "tasks" / id / "app";
    auto rootfs = plan_rootfs(*layers, bundle);
    EXPECT_TRUE(rootfs.ok()) << rootfs.error().message;
    if (!rootfs.ok()) return result;
    auto mounted = mount_rootfs(os_, *rootfs);
    EXPECT_TRUE(mounted.ok()) << mounted.error().message;
    if (!mounted.ok()) return result;

    auto cg = plan_task_cgroup(layout_, "gantry-e2e", id, args.limits);
    EXPECT_TRUE(cg.ok()) << cg.error().message;
    auto applied = apply_task_cgroup(os_, *cg);
    EXPECT_TRUE(applied.ok()) << applied.error().message;

    ContainerSpecInput in;
    in.image = image->config;
    in.entry_point = args.entry_point;
    in.command = args.command;
    in.environment = args.env;
    in.user = args.user;
    in.readonly_rootfs = args.readonly_rootfs;
    in.passwd = os_.read_file(fs::path(rootfs->target) / "etc/passwd").ok()
                    ? *os_.read_file(fs::path(rootfs->target) / "etc/passwd")
                    : "";
    in.group = os_.read_file(fs::path(rootfs->target) / "etc/group").ok()
                   ? *os_.read_file(fs::path(rootfs->target) / "etc/group")
                   : "";
    in.hostname = "ip-10-0-0-1";
    in.default_nofile = host_nofile();
    in.cgroups_path = cg->relative + "/app";
    in.resources.memory_limit_bytes = args.container_memory;
    in.hosts_file = (bundle / "hosts").string();
    in.hostname_file = (bundle / "hostname").string();
    in.resolv_conf_file = (bundle / "resolv.conf").string();
    EXPECT_TRUE(os_.write_file(in.hosts_file, hosts_file_content(in.hostname)).ok());
    EXPECT_TRUE(os_.write_file(in.hostname_file, hostname_file_content(in.hostname)).ok());
    EXPECT_TRUE(os_.write_file(in.resolv_conf_file, "").ok());
    auto config = build_oci_spec_json(in);
    EXPECT_TRUE(config.ok()) << config.error().message;
    if (config.ok()) {
      EXPECT_TRUE(runc_->write_bundle(bundle, *config).ok());
      if (args.limits.cpu_units > 0) {
        auto q =
            os_.read_file(fs::path(cg->cpu_dir) / (layout_.mode == CgroupMode::kV2 ? "cpu.max" : "cpu.cfs_quota_us"));
        if (q.ok()) result.cpu_quota = *q;
      }
      if (args.limits.memory_bytes > 0) {
        auto m = os_.read_file(fs::path(cg->memory_dir) /
                               (layout_.mode == CgroupMode::kV2 ? "memory.max" : "memory.limit_in_bytes"));
        if (m.ok()) result.memory_limit = *m;
      }
      std::mutex mu;
      auto outcome = run_container(
          *runc_, "gantry-e2e-" + id, bundle,
          [&](bool is_stderr, std::string line) {
            std::lock_guard lock(mu);
            (is_stderr ? result.err : result.out).push_back(std::move(line));
          },
          [&](const ExitStatus&) {
            auto stats =
                read_memory_stats(os_, layout_.mode, (fs::path(layout_.memory_dir) / in.cgroups_path).string());
            EXPECT_TRUE(stats.ok()) << stats.error().message;
            if (stats.ok()) result.container_memory = *stats;
          });
      EXPECT_TRUE(outcome.ok()) << outcome.error().message;
      if (outcome.ok()) result.exit = outcome->exit;
      auto stats = read_memory_stats(os_, layout_.mode, cg->memory_dir);
      EXPECT_TRUE(stats.ok()) << stats.error().message;
      if (stats.ok()) result.memory = *stats;
    }
    auto removed = remove_task_cgroup(os_, *cg);
    EXPECT_TRUE(removed.ok()) << removed.error().message;
    auto unmounted = unmount_rootfs(os_, *rootfs);
    EXPECT_TRUE(unmounted.ok()) << unmounted.error().message;
    EXPECT_FALSE(fs::exists(cg->memory_dir));
    return result;
  }

  PosixOs os_;
  std::string runc_path_;
  fs::path work_;
  std::unique_ptr<RuncDriver> runc_;
  CgroupLayout layout_;
  std::unique_ptr<LayerCache> cache_;
};

TEST_F(RuntimeE2e, ShellOutputAndExitCodeUnderLimits) {
  ContainerArgs args;
  args.command = std::vector<std::string>{"/bin/sh", "-c", "echo hello; echo err >&2; exit 3"};
  args.limits = TaskLimits{256, 64ull << 20};
  TaskRun run = run_task(args);
  EXPECT_EQ(run.out, std::vector<std::string>{"hello"});
  EXPECT_EQ(run.err, std::vector<std::string>{"err"});
  EXPECT_EQ(run.exit, (ExitStatus{3, std::nullopt}));
  if (layout_.mode == CgroupMode::kV2) {
    EXPECT_EQ(run.cpu_quota, "25000 100000\n");
  } else {
    EXPECT_EQ(run.cpu_quota, "25000\n");
  }
  EXPECT_EQ(run.memory_limit, fmt::format("{}\n", 64ull << 20));
  EXPECT_EQ(run.memory.oom_kills, 0u);
}

TEST_F(RuntimeE2e, ContainerSeesItsSpec) {
  ContainerArgs args;
  args.command = std::vector<std::string>{
      "/bin/sh", "-c",
      "id -u; hostname; echo $GREETING; pwd; ulimit -n; cat /etc/hostname; ip link 2>/dev/null | grep -c '^[0-9]'; "
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; "
      "echo x > /probe && cat /probe"};
  args.env = {{"GREETING", "hi there"}};
  args.limits = TaskLimits{512, 128ull << 20};
  args.container_memory = 96ll << 20;  // the container's hard limit, inside the task's 128 MiB
  TaskRun run = run_task(args);
  EXPECT_EQ(run.exit, (ExitStatus{0, std::nullopt})) << fmt::format("{}", fmt::join(run.err, "\n"));
  ASSERT_EQ(run.out.size(), 9u) << fmt::format("{}", fmt::join(run.out, "\n"));
  EXPECT_EQ(run.out[0], "0");
  EXPECT_EQ(run.out[1], "ip-10-0-0-1");
  EXPECT_EQ(run.out[2], "hi there");
  EXPECT_EQ(run.out[3], "/");
  EXPECT_EQ(run.out[4], "1024");
  EXPECT_EQ(run.out[5], "ip-10-0-0-1");
  EXPECT_EQ(run.out[6], "1") << "a new network namespace holds loopback only";
  EXPECT_EQ(run.out[7], std::to_string(96ll << 20)) << "the container sees its own cgroup and limit";
  EXPECT_EQ(run.out[8], "x") << "the overlay's upper dir takes writes";
}

TEST_F(RuntimeE2e, NamedUserAndReadonlyRootfs) {
  ContainerArgs args;
  args.command = std::vector<std::string>{
      "/bin/sh", "-c",
      "id -u; id -g; touch /x 2>/dev/null || echo read-only; echo ok > /tmp/y 2>/dev/null || echo tmp-ro"};
  args.user = "nobody";
  args.readonly_rootfs = true;
  args.limits = TaskLimits{256, 64ull << 20};
  TaskRun run = run_task(args);
  EXPECT_EQ(run.exit, (ExitStatus{0, std::nullopt})) << fmt::format("{}", fmt::join(run.err, "\n"));
  EXPECT_EQ(run.out, (std::vector<std::string>{"65534", "65534", "read-only", "tmp-ro"}));
}

TEST_F(RuntimeE2e, MemoryHogIsOomKilled) {
  ContainerArgs args;
  args.command = std::vector<std::string>{"/bin/sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo done"};
  // Forbid swap where the kernel accounts it, so a host with swap still OOM-kills at 32 MiB.
  const bool swap_accounted =
      fs::exists(fs::path(layout_.memory_dir) /
                 (layout_.mode == CgroupMode::kV2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes"));
  args.limits = TaskLimits{256, 32ull << 20, 100000, swap_accounted};
  TaskRun run = run_task(args);
  EXPECT_EQ(run.exit, (ExitStatus{137, 9}));
  EXPECT_TRUE(run.out.empty()) << fmt::format("{}", fmt::join(run.out, "\n"));
  // The victim's cgroup counts the kill (v1 and v2); v2 also counts it in every ancestor.
  EXPECT_GE(run.container_memory.oom_kills, 1u);
  if (layout_.mode == CgroupMode::kV2) {
    EXPECT_GE(run.memory.oom_kills, 1u);
  }
  // The task's limit is the one that was hit: its peak reached it. (failcnt is no witness: with swap
  // forbidden this 6.x kernel counted no failure in memory.failcnt nor memory.memsw.failcnt.)
  EXPECT_LE(run.memory.peak_bytes, 32ull << 20);
  EXPECT_GE(run.memory.peak_bytes, 30ull << 20);
}

TEST_F(RuntimeE2e, PythonImagePrintsTheSeedLines) {
  ContainerArgs args;
  args.image = "python";
  args.command = std::vector<std::string>{
      "python3", "-c", "import time\nprint('Task starting..')\ntime.sleep(1)\nprint('Task ended, took 5 seconds')"};
  args.limits = TaskLimits{256, 512ull << 20};
  auto start = std::chrono::steady_clock::now();
  TaskRun run = run_task(args);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(run.exit, (ExitStatus{0, std::nullopt})) << fmt::format("{}", fmt::join(run.err, "\n"));
  EXPECT_EQ(run.out, (std::vector<std::string>{"Task starting..", "Task ended, took 5 seconds"}));
  EXPECT_GE(elapsed, std::chrono::seconds(1));
}

std::vector<std::string> read_all_lines(LineReader& reader) {
  std::vector<std::string> lines;
  for (;;) {
    auto line = reader.next_line();
    if (!line.ok() || !line->has_value()) return lines;
    lines.push_back(**line);
  }
}

std::string host_readlink(const std::string& path) {
  std::error_code ec;
  return fs::read_symlink(path, ec).string();
}

// Two containers of one task: the first owns the task's network, IPC and UTS namespaces, the second
// joins them by path. Then stopping: a container that handles SIGTERM exits on it; one whose init
// ignores it (pid 1 without a handler) is stopped with SIGKILL → 137.
TEST_F(RuntimeE2e, ContainersOfATaskShareNamespacesAndStopOnSignals) {
  const std::string id = task_id();
  auto image = resolve_oci_layout(os_, images_dir() / "busybox", "latest");
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto layers = cache_->ensure_all(*image, oci_layout_blobs(images_dir() / "busybox"));
  ASSERT_TRUE(layers.ok()) << layers.error().message;
  auto cg = plan_task_cgroup(layout_, "gantry-e2e", id, TaskLimits{512, 128ull << 20});
  ASSERT_TRUE(cg.ok());
  ASSERT_TRUE(apply_task_cgroup(os_, *cg).ok());
  std::vector<RootfsPlan> mounted;
  auto prepare = [&](const std::string& name, ContainerSpecInput in) -> fs::path {
    fs::path bundle = work_ / "tasks" / id / name;
    auto rootfs = plan_rootfs(*layers, bundle);
    EXPECT_TRUE(rootfs.ok());
    auto st = mount_rootfs(os_, *rootfs);
    EXPECT_TRUE(st.ok()) << st.error().message;
    mounted.push_back(*rootfs);
    in.image = image->config;
    in.cgroups_path = cg->relative + "/" + name;
    in.default_nofile = host_nofile();
    auto config = build_oci_spec_json(in);
    EXPECT_TRUE(config.ok()) << config.error().message;
    EXPECT_TRUE(runc_->write_bundle(bundle, config.ok() ? *config : "").ok());
    return bundle;
  };

  ContainerSpecInput first;
  first.hostname = "task-host";
  first.command = std::vector<std::string>{
      "/bin/sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo up; while true; do sleep 0.05; done"};
  const std::string a_id = "gantry-e2e-" + id + "-a";
  auto a = runc_->create_container(a_id, prepare("a", first));
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(runc_->start(a_id).ok());
  auto up = a->stdout_lines->next_line();
  ASSERT_TRUE(up.ok() && up->has_value());
  EXPECT_EQ(**up, "up");
  auto state = runc_->state(a_id);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->status, "running");
  EXPECT_EQ(state->pid, a->pid);

  ContainerSpecInput second;
  const std::string ns = fmt::format("/proc/{}/ns/", a->pid);
  second.join = NamespacePaths{ns + "net", ns + "ipc", ns + "uts"};
  second.command = std::vector<std::string>{
      "/bin/sh", "-c", "hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts"};
  std::vector<std::string> b_out;
  std::mutex mu;
  auto b = run_container(*runc_, "gantry-e2e-" + id + "-b", prepare("b", second), [&](bool, std::string line) {
    std::lock_guard lock(mu);
    b_out.push_back(std::move(line));
  });
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->exit.exit_code, 0);
  EXPECT_EQ(b_out, (std::vector<std::string>{"task-host", host_readlink(ns + "net"), host_readlink(ns + "ipc"),
                                             host_readlink(ns + "uts")}));
  EXPECT_NE(host_readlink(ns + "net"), host_readlink("/proc/self/ns/net")) << "the task has its own network";

  ASSERT_TRUE(runc_->kill(a_id, SIGTERM).ok());
  auto a_exit = runc_->wait(*a);
  ASSERT_TRUE(a_exit.ok());
  EXPECT_EQ(*a_exit, (ExitStatus{0, std::nullopt}));
  EXPECT_EQ(read_all_lines(*a->stdout_lines), std::vector<std::string>{"got TERM"});
  ASSERT_TRUE(runc_->remove(a_id).ok());

  ContainerSpecInput stubborn;
  stubborn.command = std::vector<std::string>{"/bin/sleep", "30"};
  const std::string c_id = "gantry-e2e-" + id + "-c";
  auto c = runc_->create_container(c_id, prepare("c", stubborn));
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(runc_->start(c_id).ok());
  ASSERT_TRUE(runc_->kill(c_id, SIGTERM).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto still = runc_->state(c_id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, "running") << "pid 1 without a SIGTERM handler ignores it";
  ASSERT_TRUE(runc_->kill(c_id, SIGKILL).ok());
  auto c_exit = runc_->wait(*c);
  ASSERT_TRUE(c_exit.ok());
  EXPECT_EQ(*c_exit, (ExitStatus{137, SIGKILL}));
  auto stopped = runc_->state(c_id);
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->status, "stopped");
  ASSERT_TRUE(runc_->remove(c_id).ok());

  for (const auto& r : mounted) EXPECT_TRUE(unmount_rootfs(os_, r).ok());
  auto removed = remove_task_cgroup(os_, *cg);
  EXPECT_TRUE(removed.ok()) << removed.error().message;
}

// Not a pass/fail benchmark: prints the driver's two ways of running /bin/true next to a raw foreground
// `runc run` of the same bundle, all on an already mounted rootfs.
TEST_F(RuntimeE2e, TrueTimingDriverVersusRawRunc) {
  auto image = resolve_oci_layout(os_, images_dir() / "busybox", "latest");
  ASSERT_TRUE(image.ok()) << image.error().message;
  auto layers = cache_->ensure_all(*image, oci_layout_blobs(images_dir() / "busybox"));
  ASSERT_TRUE(layers.ok()) << layers.error().message;
  const fs::path bundle = work_ / "bench";
  auto rootfs = plan_rootfs(*layers, bundle);
  ASSERT_TRUE(rootfs.ok());
  ASSERT_TRUE(mount_rootfs(os_, *rootfs).ok());
  ContainerSpecInput in;
  in.image = image->config;
  in.command = std::vector<std::string>{"/bin/true"};
  in.hostname = "bench";
  in.default_nofile = host_nofile();
  in.cgroups_path = "gantry-e2e/bench";
  auto config = build_oci_spec_json(in);
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(runc_->write_bundle(bundle, *config).ok());

  constexpr int kRuns = 15;
  std::vector<double> driver_ms;
  std::vector<double> split_ms;
  std::vector<double> raw_ms;
  for (int i = 0; i < kRuns; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto outcome = run_container(*runc_, fmt::format("bench-d-{}", i), bundle, [](bool, std::string) {});
    auto t1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome->exit.exit_code, 0);
    driver_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());

    auto s0 = std::chrono::steady_clock::now();
    const std::string split_id = fmt::format("bench-s-{}", i);
    auto created = runc_->create_container(split_id, bundle);
    ASSERT_TRUE(created.ok()) << created.error().message;
    ASSERT_TRUE(runc_->start(split_id).ok());
    auto split_exit = runc_->wait(*created);
    ASSERT_TRUE(split_exit.ok());
    EXPECT_EQ(split_exit->exit_code, 0);
    ASSERT_TRUE(runc_->remove(split_id).ok());
    auto s1 = std::chrono::steady_clock::now();
    split_ms.push_back(std::chrono::duration<double, std::milli>(s1 - s0).count());

    auto r0 = std::chrono::steady_clock::now();
    auto raw = os_.run({runc_path_, "--root", (work_ / "runc").string(), "run", "--bundle", bundle.string(),
                        fmt::format("bench-r-{}", i)});
    auto r1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(raw->wait_status, 0) << raw->err;
    raw_ms.push_back(std::chrono::duration<double, std::milli>(r1 - r0).count());
    (void)os_.run({runc_path_, "--root", (work_ / "runc").string(), "delete", "--force", fmt::format("bench-r-{}", i)});
  }
  std::sort(driver_ms.begin(), driver_ms.end());
  std::sort(raw_ms.begin(), raw_ms.end());
  std::sort(split_ms.begin(), split_ms.end());
  std::printf(
      "runc /bin/true over %d runs (rootfs already mounted, no cgroup setup): "
      "run_container (run --detach + wait + delete) p50 %.1f ms min %.1f ms; "
      "create + start + wait + delete p50 %.1f ms min %.1f ms; "
      "raw foreground `runc run` (destroys the container itself) p50 %.1f ms min %.1f ms\n",
      kRuns, driver_ms[kRuns / 2], driver_ms[0], split_ms[kRuns / 2], split_ms[0], raw_ms[kRuns / 2], raw_ms[0]);
  EXPECT_TRUE(unmount_rootfs(os_, *rootfs).ok());
  for (const auto& h : layout_.hierarchies) (void)os_.remove_dir(fs::path(h.dir) / "gantry-e2e" / "bench");
}

}  // namespace
}  // namespace gantry::runtime
