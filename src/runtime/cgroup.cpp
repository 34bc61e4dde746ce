#include "runtime/cgroup.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace gantry::runtime {
namespace {

Error cgroup_error(std::string message) { return make_error(ErrorKind::kRuntimeCgroup, std::move(message)); }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4, [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string join_path(std::string_view dir, std::string_view rel) {
  std::string out(dir);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  if (rel.empty()) return out;
  if (out != "/") out += '/';
  out += rel;
  return out;
}

// The directory of `path` (a cgroup path) in a mount of its hierarchy whose root is `root`.
std::optional<std::string> dir_in_mount(const MountInfoEntry& m, const std::string& path) {
  if (m.root == "/") return join_path(m.mount_point, path);
  if (path == m.root) return m.mount_point;
  if (path.size() > m.root.size() && path.compare(0, m.root.size(), m.root) == 0 && path[m.root.size()] == '/') {
    return join_path(m.mount_point, std::string_view(path).substr(m.root.size()));
  }
  return std::nullopt;
}

bool has(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

bool valid_component(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

}  // namespace

Result<std::vector<MountInfoEntry>> parse_mountinfo(std::string_view text) {
  std::vector<MountInfoEntry> out;
  for (auto line : split(text, '\n')) {
    if (line.empty()) continue;
    auto f = fields(line);
    auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
    if (dash == f.end() || f.end() - dash < 4 || dash - f.begin() < 6) {
      return cgroup_error(fmt::format("mountinfo: malformed line \"{}\"", line));
    }
    out.push_back(MountInfoEntry{unescape(f[3]), unescape(f[4]), std::string(dash[1]), std::string(dash[3])});
  }
  return out;
}

Result<std::vector<ProcCgroupEntry>> parse_proc_cgroup(std::string_view text) {
  std::vector<ProcCgroupEntry> out;
  for (auto line : split(text, '\n')) {
    if (line.empty()) continue;
    auto first = line.find(':');
    auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos)
      return cgroup_error(fmt::format("/proc/self/cgroup: malformed line \"{}\"", line));
    ProcCgroupEntry e;
    auto id = line.substr(0, first);
    auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), e.hierarchy_id);
    if (ec != std::errc() || ptr != id.data() + id.size()) {
      return cgroup_error(fmt::format("/proc/self/cgroup: malformed line \"{}\"", line));
    }
    auto controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty()) {
      for (auto c : split(controllers, ',')) e.controllers.emplace_back(c);
    }
    e.path = std::string(line.substr(second + 1));
    out.push_back(std::move(e));
  }
  return out;
}

std::string_view to_string(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::kV1: return "v1";
    case CgroupMode::kHybrid: return "hybrid";
    case CgroupMode::kV2: return "v2";
  }
  return "?";
}

Result<CgroupLayout> detect_cgroup_layout(std::string_view mountinfo, std::string_view proc_cgroup) {
  GANTRY_ASSIGN_OR_RETURN(auto mounts, parse_mountinfo(mountinfo));
  GANTRY_ASSIGN_OR_RETURN(auto cgroups, parse_proc_cgroup(proc_cgroup));
  CgroupLayout layout;
  std::string unified_dir;
  bool v1_memory = false;
  bool v1_cpu = false;
  for (const auto& cg : cgroups) {
    for (const auto& m : mounts) {
      std::optional<std::string> dir;
      if (cg.hierarchy_id == 0 && cg.controllers.empty()) {
        if (m.fstype != "cgroup2") continue;
        dir = dir_in_mount(m, cg.path);
      } else {
        if (m.fstype != "cgroup") continue;
        std::vector<std::string> opts;
        for (auto o : split(m.super_options, ',')) opts.emplace_back(o);
        if (!std::all_of(cg.controllers.begin(), cg.controllers.end(),
                         [&](const std::string& c) { return has(opts, c); })) {
          continue;
        }
        dir = dir_in_mount(m, cg.path);
      }
      if (!dir) continue;
      layout.hierarchies.push_back(CgroupHierarchy{cg.controllers, *dir});
      if (cg.controllers.empty()) unified_dir = *dir;
      if (has(cg.controllers, "memory")) {
        v1_memory = true;
        layout.memory_dir = *dir;
      }
      if (has(cg.controllers, "cpu")) {
        v1_cpu = true;
        layout.cpu_dir = *dir;
      }
      break;
    }
  }
  if (v1_memory || v1_cpu) {
    if (!v1_memory || !v1_cpu) {
      return cgroup_error(
          fmt::format("cgroup v1: the {} controller is not mounted where this process can see its cgroup",
                      v1_memory ? "cpu" : "memory"));
    }
    layout.mode = unified_dir.empty() ? CgroupMode::kV1 : CgroupMode::kHybrid;
    return layout;
  }
  if (unified_dir.empty()) {
    return cgroup_error(
        "no cgroup hierarchy found: neither v1 cpu/memory controllers nor a cgroup2 mount holding this process's "
        "cgroup");
  }
  layout.mode = CgroupMode::kV2;
  layout.cpu_dir = unified_dir;
  layout.memory_dir = unified_dir;
  return layout;
}

Result<CgroupLayout> detect_host_cgroup_layout(Os& os) {
  GANTRY_ASSIGN_OR_RETURN(auto mountinfo, os.read_file("/proc/self/mountinfo"));
  GANTRY_ASSIGN_OR_RETURN(auto cgroup, os.read_file("/proc/self/cgroup"));
  return detect_cgroup_layout(mountinfo, cgroup);
}

int64_t cfs_quota_us(uint32_t cpu_units, uint64_t period_us) {
  auto quota = static_cast<int64_t>(uint64_t{cpu_units} * period_us / 1024);
  return std::max<int64_t>(quota, 1000);
}

uint64_t cpu_weight_from_shares(uint64_t shares) {
  if (shares == 0) return 0;
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

Result<TaskCgroupPlan> plan_task_cgroup(const CgroupLayout& layout, std::string_view parent, std::string_view task_id,
                                        const TaskLimits& limits) {
  if (!valid_component(parent) || !valid_component(task_id)) {
    return make_error(
        ErrorKind::kRuntimeInvalidSpec,
        fmt::format("cgroup names must be single path components of [A-Za-z0-9_.-]: \"{}\", \"{}\"", parent, task_id));
  }
  TaskCgroupPlan plan;
  plan.mode = layout.mode;
  plan.relative = fmt::format("{}/{}", parent, task_id);
  plan.cpu_dir = join_path(layout.cpu_dir, plan.relative);
  plan.memory_dir = join_path(layout.memory_dir, plan.relative);
  const uint64_t shares = limits.cpu_units == 0 ? 0 : std::max<uint64_t>(limits.cpu_units, 2);

  if (layout.mode == CgroupMode::kV2) {
    const std::string parent_dir = join_path(layout.cpu_dir, parent);
    plan.create_dirs = {parent_dir, plan.cpu_dir};
    plan.writes.push_back({layout.cpu_dir, "cgroup.subtree_control", "+cpu +memory"});
    plan.writes.push_back({parent_dir, "cgroup.subtree_control", "+cpu +memory"});
    if (limits.cpu_units > 0) {
      plan.writes.push_back(
          {plan.cpu_dir, "cpu.max",
           fmt::format("{} {}", cfs_quota_us(limits.cpu_units, limits.cpu_period_us), limits.cpu_period_us)});
      plan.writes.push_back({plan.cpu_dir, "cpu.weight", std::to_string(cpu_weight_from_shares(shares))});
    }
    if (limits.memory_bytes > 0) {
      plan.writes.push_back({plan.memory_dir, "memory.max", std::to_string(limits.memory_bytes)});
      if (limits.no_swap) plan.writes.push_back({plan.memory_dir, "memory.swap.max", "0"});
    }
    plan.writes.push_back({plan.cpu_dir, "cgroup.subtree_control", "+cpu +memory"});
    plan.remove_dirs = {plan.cpu_dir};
    return plan;
  }

  for (const auto* dir : {&layout.cpu_dir, &layout.memory_dir}) {
    std::string parent_dir = join_path(*dir, parent);
    if (!has(plan.create_dirs, parent_dir)) plan.create_dirs.push_back(parent_dir);
    std::string task_dir = join_path(*dir, plan.relative);
    if (!has(plan.create_dirs, task_dir)) plan.create_dirs.push_back(task_dir);
  }
  if (limits.cpu_units > 0) {
    plan.writes.push_back({plan.cpu_dir, "cpu.cfs_period_us", std::to_string(limits.cpu_period_us)});
    plan.writes.push_back(
        {plan.cpu_dir, "cpu.cfs_quota_us", std::to_string(cfs_quota_us(limits.cpu_units, limits.cpu_period_us))});
    plan.writes.push_back({plan.cpu_dir, "cpu.shares", std::to_string(shares)});
  }
  if (limits.memory_bytes > 0) {
    // memsw must stay >= the memory limit: set the limit first.
    plan.writes.push_back({plan.memory_dir, "memory.limit_in_bytes", std::to_string(limits.memory_bytes)});
    if (limits.no_swap) {
      plan.writes.push_back({plan.memory_dir, "memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes)});
    }
  }
  // runc creates "<relative>/<container>" in every hierarchy (cpuset, pids, name=systemd, ... and, in
  // hybrid mode, the unified one) and removes only the container level; the task level goes here.
  for (const auto& h : layout.hierarchies) {
    std::string task_dir = join_path(h.dir, plan.relative);
    if (!has(plan.remove_dirs, task_dir)) plan.remove_dirs.push_back(task_dir);
  }
  return plan;
}

Status apply_task_cgroup(Os& os, const TaskCgroupPlan& plan) {
  std::vector<std::string> created;
  auto undo = [&](Error error) -> Status {
    for (auto it = created.rbegin(); it != created.rend(); ++it) (void)os.remove_dir(*it);
    return error;
  };
  for (const auto& dir : plan.create_dirs) {
    GANTRY_ASSIGN_OR_RETURN(bool existed, os.exists(dir));
    if (auto st = os.make_dirs(dir); !st.ok()) return undo(st.error());
    // The shared parent ("gantry") stays for other tasks; only the task's own dirs are undone.
    if (!existed && (dir == plan.cpu_dir || dir == plan.memory_dir)) created.push_back(dir);
  }
  for (const auto& w : plan.writes) {
    if (auto st = os.write_control(join_path(w.dir, w.file), w.value); !st.ok()) return undo(st.error());
  }
  return {};
}

Status remove_task_cgroup(Os& os, const TaskCgroupPlan& plan) {
  std::optional<Error> first;
  auto dirs = plan.remove_dirs;
  for (const auto* d : {&plan.cpu_dir, &plan.memory_dir}) {
    if (!has(dirs, *d)) dirs.push_back(*d);
  }
  for (const auto& dir : dirs) {
    auto st = os.remove_dir(dir);
    if (!st.ok() && !first) first = st.error();
  }
  if (first) return *first;
  return {};
}

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (auto line : split(text, '\n')) {
    auto f = fields(line);
    if (f.size() != 2) continue;
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), v);
    if (ec != std::errc() || ptr != f[1].data() + f[1].size()) continue;
    out[std::string(f[0])] = v;
  }
  return out;
}

namespace {

Result<uint64_t> read_number(Os& os, const std::string& path) {
  GANTRY_ASSIGN_OR_RETURN(auto text, os.read_file(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return cgroup_error(fmt::format("{}: not a number: \"{}\"", path, text));
  }
  return v;
}

}  // namespace

bool has_swap_accounting(Os& os, const CgroupLayout& layout) {
  const char* file = layout.mode == CgroupMode::kV2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
  auto has = os.exists(std::filesystem::path(layout.memory_dir) / file);
  return has.ok() && *has;
}

Result<MemoryStats> read_memory_stats(Os& os, CgroupMode mode, const std::string& dir) {
  MemoryStats stats;
  if (mode == CgroupMode::kV2) {
    GANTRY_ASSIGN_OR_RETURN(stats.usage_bytes, read_number(os, join_path(dir, "memory.current")));
    GANTRY_ASSIGN_OR_RETURN(bool has_peak, os.exists(join_path(dir, "memory.peak")));
    if (has_peak) {
      GANTRY_ASSIGN_OR_RETURN(stats.peak_bytes, read_number(os, join_path(dir, "memory.peak")));
    }
    GANTRY_ASSIGN_OR_RETURN(auto events, os.read_file(join_path(dir, "memory.events")));
    auto kv = parse_flat_keyed(events);
    stats.failcnt = kv["max"];
    stats.oom_kills = kv["oom_kill"];
    return stats;
  }
  GANTRY_ASSIGN_OR_RETURN(stats.usage_bytes, read_number(os, join_path(dir, "memory.usage_in_bytes")));
  GANTRY_ASSIGN_OR_RETURN(stats.peak_bytes, read_number(os, join_path(dir, "memory.max_usage_in_bytes")));
  GANTRY_ASSIGN_OR_RETURN(stats.failcnt, read_number(os, join_path(dir, "memory.failcnt")));
  // With swap forbidden (memsw limit = memory limit) the memory+swap counter is the one that fails.
  GANTRY_ASSIGN_OR_RETURN(bool has_memsw, os.exists(join_path(dir, "memory.memsw.failcnt")));
  if (has_memsw) {
    GANTRY_ASSIGN_OR_RETURN(uint64_t memsw_failcnt, read_number(os, join_path(dir, "memory.memsw.failcnt")));
    stats.failcnt += memsw_failcnt;
  }
  GANTRY_ASSIGN_OR_RETURN(auto oom_control, os.read_file(join_path(dir, "memory.oom_control")));
  stats.oom_kills = parse_flat_keyed(oom_control)["oom_kill"];
  return stats;
}

}  // namespace gantry::runtime
