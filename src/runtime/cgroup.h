// Task cgroups: detect the host's cgroup layout, plan a task's cgroup as data, apply it through Os,
// and read memory usage and OOM kills back.
//
// Where cgroups go. A container's OCI cgroupsPath is *relative* ("gantry/<task>/<container>"), which
// runc resolves per hierarchy under its own cgroup — the cgroup of the Gantry process, since runc is
// our child. The task cgroup planned here is the same "gantry/<task>" below this process's cgroup in
// each hierarchy, so a container's cgroup nests inside its task's and the task's cpu/memory limits
// bound all its containers, while the container's own `memory` is a hard limit inside it. Relative
// paths also keep Gantry's tasks inside whatever cgroup Gantry was started in (a systemd unit, a CI
// sandbox: this machine's memory cgroup is /process_api/<id>, its cpu cgroup is /).
//
// Layouts:
// - v1: one hierarchy per controller (or co-mounted "cpu,cpuacct"); limits go to the cpu and memory
//   hierarchies.
// - hybrid: v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified) holding no cpu or
//   memory controller — treated as v1 (runc does the same).
// - v2: one unified hierarchy; controllers must be enabled down the path (cgroup.subtree_control),
//   which the kernel refuses in a cgroup that itself holds processes unless it is the root: run Gantry
//   in a delegated cgroup (systemd Delegate=yes) whose processes live in a leaf.
//
// Limits: CFS quota = cpu units / 1024 × period (period 100000 µs), cpu.shares = units (v1) or the
// equivalent cpu.weight (v2); memory limit in bytes (memory.limit_in_bytes / memory.max).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "runtime/os.h"

namespace gantry::runtime {

// --- parsing /proc/self/mountinfo and /proc/self/cgroup (pure) ---

struct MountInfoEntry {
  std::string root;         // the path within the filesystem that is mounted (4th field)
  std::string mount_point;  // octal escapes (\040) decoded
  std::string fstype;
  std::string super_options;
};
// Malformed lines → kRuntimeCgroup naming the line.
Result<std::vector<MountInfoEntry>> parse_mountinfo(std::string_view text);

struct ProcCgroupEntry {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;  // "cpu", "cpuacct", "name=systemd"; empty for the v2 line
  std::string path;
};
Result<std::vector<ProcCgroupEntry>> parse_proc_cgroup(std::string_view text);

enum class CgroupMode { kV1, kHybrid, kV2 };
std::string_view to_string(CgroupMode mode);

struct CgroupHierarchy {
  std::vector<std::string> controllers;  // empty for the unified (v2) hierarchy
  std::string dir;                       // this process's cgroup in it, e.g. /sys/fs/cgroup/memory/x
};

struct CgroupLayout {
  CgroupMode mode = CgroupMode::kV2;
  // Every hierarchy this process is in and can see mounted (v1 ones and the unified one).
  std::vector<CgroupHierarchy> hierarchies;
  std::string cpu_dir;     // this process's cgroup for cpu limits (v1 cpu hierarchy, or v2 unified)
  std::string memory_dir;  // ... for memory limits and stats
};

// From the two files' contents. kRuntimeCgroup when no cpu or memory controller is usable, or this
// process's cgroup is not visible below a mount of its hierarchy.
Result<CgroupLayout> detect_cgroup_layout(std::string_view mountinfo, std::string_view proc_cgroup);
// Reads /proc/self/mountinfo and /proc/self/cgroup through `os`.
Result<CgroupLayout> detect_host_cgroup_layout(Os& os);

// --- the task cgroup plan ---

struct CgroupWrite {
  std::string dir;
  std::string file;
  std::string value;
  friend bool operator==(const CgroupWrite&, const CgroupWrite&) = default;
};

struct TaskLimits {
  uint32_t cpu_units = 0;     // ECS task cpu (1024 = 1 vCPU); 0: no cpu limit
  uint64_t memory_bytes = 0;  // 0: no memory limit
  uint64_t cpu_period_us = 100000;
  // With a memory limit: forbid swap too (v1 memory.memsw.limit_in_bytes = limit, v2 memory.swap.max
  // = 0), as Fargate has no swap. Needs swap accounting in the kernel; leave off where it is missing.
  bool no_swap = false;
};

struct TaskCgroupPlan {
  CgroupMode mode = CgroupMode::kV2;
  std::string relative;                  // "gantry/<task>": its containers' cgroupsPath start with it
  std::vector<std::string> create_dirs;  // mkdir, parents first
  std::vector<CgroupWrite> writes;       // in order
  std::vector<std::string> remove_dirs;  // rmdir in this order after the containers are deleted
  std::string memory_dir;                // the task cgroup in the memory hierarchy (stats)
  std::string cpu_dir;
};

// 256 units, 100000 µs → 25000 µs. Never below the kernel's 1000 µs minimum.
int64_t cfs_quota_us(uint32_t cpu_units, uint64_t period_us);
// cpu.weight for a cgroup v1 cpu.shares value (the conversion runc and systemd use).
uint64_t cpu_weight_from_shares(uint64_t shares);

// `parent` is Gantry's own level ("gantry"), `task_id` a single path component ([A-Za-z0-9_.-]+).
Result<TaskCgroupPlan> plan_task_cgroup(const CgroupLayout& layout, std::string_view parent, std::string_view task_id,
                                        const TaskLimits& limits);
// mkdir + writes. On a failure, whatever was created is removed again (best effort) and the first error
// is returned.
Status apply_task_cgroup(Os& os, const TaskCgroupPlan& plan);
// rmdir of the task's cgroup in every hierarchy (also the ones runc created for its containers); a
// cgroup that still holds processes fails with EBUSY, named in the error.
Status remove_task_cgroup(Os& os, const TaskCgroupPlan& plan);

// Whether the kernel accounts swap in the memory hierarchy (memory.memsw.* on v1, memory.swap.max on v2): a
// memory limit can then also forbid swap.
bool has_swap_accounting(Os& os, const CgroupLayout& layout);

// --- reading back ---

struct MemoryStats {
  uint64_t usage_bytes = 0;  // v1 memory.usage_in_bytes / v2 memory.current
  uint64_t peak_bytes = 0;   // v1 memory.max_usage_in_bytes / v2 memory.peak (0 if the kernel has none)
  uint64_t failcnt = 0;    // times the limit was hit: v1 memory.failcnt + memory.memsw.failcnt / v2 memory.events "max"
  uint64_t oom_kills = 0;  // v1 memory.oom_control "oom_kill" / v2 memory.events "oom_kill"
};
// "key value" lines (memory.oom_control, memory.events, cpu.stat); malformed lines are skipped.
std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);
// Reads the stats of the memory cgroup at `dir` (e.g. plan.memory_dir, or a container's cgroup dir).
// Where OOM kills are counted: the kernel charges an OOM kill to the cgroup of the killed process (the
// container's), even when an ancestor's limit (the task's) was the one hit — that ancestor's failcnt
// rises instead. v2 memory.events also counts the kill in every ancestor; v1 does not, so on v1 read
// the container's cgroup before `runc delete` removes it (run_container's on_exit).
Result<MemoryStats> read_memory_stats(Os& os, CgroupMode mode, const std::string& dir);

}  // namespace gantry::runtime
