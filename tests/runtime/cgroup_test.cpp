#include "runtime/cgroup.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "runtime/fake_os.h"

namespace gantry::runtime {
namespace {

// This build machine, as read from its /proc/self/{mountinfo,cgroup}: v1 controllers each on its own
// mount under a tmpfs, cgroup2 at /sys/fs/cgroup/unified (holding only hugetlb), and the process's
// memory cgroup nested (/process_api/<id>) while its cpu cgroup is the root.
constexpr std::string_view kHybridMountinfo =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr std::string_view kHybridCgroup =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/32087f3bec611a35a7e1eafaadf7b974\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

// A classic v1 host (Debian 10 / CentOS 7 style): cpu,cpuacct co-mounted, systemd slices, no cgroup2.
constexpr std::string_view kV1Mountinfo =
    "25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory\n"
    "32 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids\n";
constexpr std::string_view kV1Cgroup =
    "5:pids:/system.slice/gantry.service\n"
    "4:memory:/system.slice/gantry.service\n"
    "3:cpu,cpuacct:/system.slice/gantry.service\n"
    "1:name=systemd:/system.slice/gantry.service\n";

// A current systemd host: cgroup2 only, Gantry in a delegated unit; and a container whose cgroup
// namespace makes its mount root a sub-path (root field /docker/abc), with an escaped space.
constexpr std::string_view kV2Mountinfo =
    "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr std::string_view kV2Cgroup = "0::/system.slice/gantry.service/supervisor\n";

TEST(ParseMountinfo, FieldsAndEscapes) {
  auto m =
      parse_mountinfo("36 35 0:31 /docker/abc /mnt/my\\040cgroup rw shared:1 master:2 - cgroup2 none rw,nsdelegate\n");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].root, "/docker/abc");
  EXPECT_EQ((*m)[0].mount_point, "/mnt/my cgroup");
  EXPECT_EQ((*m)[0].fstype, "cgroup2");
  EXPECT_EQ((*m)[0].super_options, "rw,nsdelegate");
  EXPECT_FALSE(parse_mountinfo("1 2 3\n").ok());
  EXPECT_EQ(parse_mountinfo("1 2 0:1 / /x rw - tmpfs\n").error().kind, ErrorKind::kRuntimeCgroup);
}

TEST(ParseProcCgroup, V1AndV2Lines) {
  auto c = parse_proc_cgroup(kHybridCgroup);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 10u);
  EXPECT_EQ((*c)[0].hierarchy_id, 9);
  EXPECT_EQ((*c)[0].controllers, (std::vector<std::string>{"name=systemd"}));
  EXPECT_EQ((*c)[5].path, "/process_api/32087f3bec611a35a7e1eafaadf7b974");
  EXPECT_TRUE((*c)[9].controllers.empty());
  EXPECT_EQ((*c)[9].hierarchy_id, 0);
  auto co = parse_proc_cgroup("3:cpu,cpuacct:/a/b\n");
  ASSERT_TRUE(co.ok());
  EXPECT_EQ((*co)[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_FALSE(parse_proc_cgroup("garbage\n").ok());
  EXPECT_FALSE(parse_proc_cgroup("x:cpu:/\n").ok());
}

TEST(DetectLayout, ThisMachineIsHybrid) {
  auto l = detect_cgroup_layout(kHybridMountinfo, kHybridCgroup);
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->mode, CgroupMode::kHybrid);
  EXPECT_EQ(l->cpu_dir, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(l->memory_dir, "/sys/fs/cgroup/memory/process_api/32087f3bec611a35a7e1eafaadf7b974");
  EXPECT_EQ(l->hierarchies.size(), 10u);
  EXPECT_EQ(to_string(l->mode), "hybrid");
}

TEST(DetectLayout, V1WithCoMountedCpu) {
  auto l = detect_cgroup_layout(kV1Mountinfo, kV1Cgroup);
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->mode, CgroupMode::kV1);
  EXPECT_EQ(l->cpu_dir, "/sys/fs/cgroup/cpu,cpuacct/system.slice/gantry.service");
  EXPECT_EQ(l->memory_dir, "/sys/fs/cgroup/memory/system.slice/gantry.service");
  EXPECT_EQ(l->hierarchies.size(), 4u);
}

TEST(DetectLayout, V2Unified) {
  auto l = detect_cgroup_layout(kV2Mountinfo, kV2Cgroup);
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->mode, CgroupMode::kV2);
  EXPECT_EQ(l->cpu_dir, "/sys/fs/cgroup/system.slice/gantry.service/supervisor");
  EXPECT_EQ(l->memory_dir, l->cpu_dir);
}

TEST(DetectLayout, V2InsideACgroupNamespaceMountRoot) {
  auto l =
      detect_cgroup_layout("35 24 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/docker/abc/sub\n");
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->cpu_dir, "/sys/fs/cgroup/sub");
  auto outside = detect_cgroup_layout("35 24 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/other\n");
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().kind, ErrorKind::kRuntimeCgroup);
}

TEST(DetectLayout, MissingControllers) {
  EXPECT_FALSE(detect_cgroup_layout("22 27 0:21 / /proc rw - proc proc rw\n", "0::/\n").ok());
  auto no_memory = detect_cgroup_layout("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n", "1:cpu:/\n");
  ASSERT_FALSE(no_memory.ok());
  EXPECT_NE(no_memory.error().message.find("memory"), std::string::npos);
}

TEST(CpuMath, QuotaAndWeight) {
  EXPECT_EQ(cfs_quota_us(256, 100000), 25000);
  EXPECT_EQ(cfs_quota_us(1024, 100000), 100000);
  EXPECT_EQ(cfs_quota_us(4096, 100000), 400000);
  EXPECT_EQ(cfs_quota_us(512, 50000), 25000);
  EXPECT_EQ(cfs_quota_us(2, 100000), 1000) << "never below the kernel's minimum";
  EXPECT_EQ(cpu_weight_from_shares(2), 1u);
  EXPECT_EQ(cpu_weight_from_shares(1024), 39u);
  EXPECT_EQ(cpu_weight_from_shares(262144), 10000u);
}

TEST(PlanTaskCgroup, HybridWritesV1Files) {
  auto l = detect_cgroup_layout(kHybridMountinfo, kHybridCgroup);
  ASSERT_TRUE(l.ok());
  auto p = plan_task_cgroup(*l, "gantry", "t1", TaskLimits{256, 512ull << 20, 100000, true});
  ASSERT_TRUE(p.ok()) << p.error().message;
  const std::string mem = "/sys/fs/cgroup/memory/process_api/32087f3bec611a35a7e1eafaadf7b974";
  EXPECT_EQ(p->relative, "gantry/t1");
  EXPECT_EQ(p->create_dirs, (std::vector<std::string>{"/sys/fs/cgroup/cpu/gantry", "/sys/fs/cgroup/cpu/gantry/t1",
                                                      mem + "/gantry", mem + "/gantry/t1"}));
  EXPECT_EQ(p->writes, (std::vector<CgroupWrite>{
                           {"/sys/fs/cgroup/cpu/gantry/t1", "cpu.cfs_period_us", "100000"},
                           {"/sys/fs/cgroup/cpu/gantry/t1", "cpu.cfs_quota_us", "25000"},
                           {"/sys/fs/cgroup/cpu/gantry/t1", "cpu.shares", "256"},
                           {mem + "/gantry/t1", "memory.limit_in_bytes", "536870912"},
                           {mem + "/gantry/t1", "memory.memsw.limit_in_bytes", "536870912"},
                       }));
  auto swap_ok = plan_task_cgroup(*l, "gantry", "t1", TaskLimits{256, 512ull << 20});
  ASSERT_TRUE(swap_ok.ok());
  EXPECT_EQ(swap_ok->writes.size(), 4u) << "no memsw write unless no_swap";
  EXPECT_EQ(p->memory_dir, mem + "/gantry/t1");
  // Every hierarchy runc creates the container in, the unified one included.
  EXPECT_EQ(p->remove_dirs.size(), 10u);
  EXPECT_EQ(p->remove_dirs.front(), "/sys/fs/cgroup/systemd/gantry/t1");
  EXPECT_EQ(p->remove_dirs.back(), "/sys/fs/cgroup/unified/gantry/t1");
}

TEST(PlanTaskCgroup, V2EnablesControllersDownThePath) {
  auto l = detect_cgroup_layout(kV2Mountinfo, kV2Cgroup);
  ASSERT_TRUE(l.ok());
  auto p = plan_task_cgroup(*l, "gantry", "t2", TaskLimits{1024, 2ull << 30, 100000, true});
  ASSERT_TRUE(p.ok());
  const std::string own = "/sys/fs/cgroup/system.slice/gantry.service/supervisor";
  EXPECT_EQ(p->create_dirs, (std::vector<std::string>{own + "/gantry", own + "/gantry/t2"}));
  EXPECT_EQ(p->writes, (std::vector<CgroupWrite>{
                           {own, "cgroup.subtree_control", "+cpu +memory"},
                           {own + "/gantry", "cgroup.subtree_control", "+cpu +memory"},
                           {own + "/gantry/t2", "cpu.max", "100000 100000"},
                           {own + "/gantry/t2", "cpu.weight", "39"},
                           {own + "/gantry/t2", "memory.max", "2147483648"},
                           {own + "/gantry/t2", "memory.swap.max", "0"},
                           {own + "/gantry/t2", "cgroup.subtree_control", "+cpu +memory"},
                       }));
  EXPECT_EQ(p->remove_dirs, (std::vector<std::string>{own + "/gantry/t2"}));
}

TEST(PlanTaskCgroup, NoLimitsNoWritesAndNamesChecked) {
  auto l = detect_cgroup_layout(kV1Mountinfo, kV1Cgroup);
  ASSERT_TRUE(l.ok());
  auto p = plan_task_cgroup(*l, "gantry", "t3", TaskLimits{});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->writes.empty());
  EXPECT_FALSE(plan_task_cgroup(*l, "gantry", "../etc", TaskLimits{}).ok());
  EXPECT_FALSE(plan_task_cgroup(*l, "gantry", "a/b", TaskLimits{}).ok());
  EXPECT_FALSE(plan_task_cgroup(*l, "", "t", TaskLimits{}).ok());
}

TEST(ApplyTaskCgroup, MkdirsThenWritesThenRemoves) {
  auto l = detect_cgroup_layout(kV1Mountinfo, kV1Cgroup);
  ASSERT_TRUE(l.ok());
  auto p = plan_task_cgroup(*l, "gantry", "t4", TaskLimits{512, 64ull << 20});
  ASSERT_TRUE(p.ok());
  FakeOs os;
  ASSERT_TRUE(apply_task_cgroup(os, *p).ok());
  const std::string cpu = "/sys/fs/cgroup/cpu,cpuacct/system.slice/gantry.service/gantry/t4";
  const std::string mem = "/sys/fs/cgroup/memory/system.slice/gantry.service/gantry/t4";
  EXPECT_EQ(os.file(cpu + "/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(os.file(mem + "/memory.limit_in_bytes"), "67108864");
  auto journal = os.journal();
  ASSERT_FALSE(journal.empty());
  EXPECT_EQ(journal.front(), "mkdir /sys/fs/cgroup/cpu,cpuacct/system.slice/gantry.service/gantry");
  EXPECT_EQ(journal.back(), "write " + mem + "/memory.limit_in_bytes 67108864");

  ASSERT_TRUE(remove_task_cgroup(os, *p).ok());
  EXPECT_FALSE(os.has_dir(cpu));
  EXPECT_FALSE(os.has_dir(mem));
  EXPECT_TRUE(os.has_dir("/sys/fs/cgroup/memory/system.slice/gantry.service/gantry")) << "shared by other tasks";
}

TEST(ApplyTaskCgroup, AFailedWriteUndoesTheTaskDirs) {
  auto l = detect_cgroup_layout(kV1Mountinfo, kV1Cgroup);
  ASSERT_TRUE(l.ok());
  auto p = plan_task_cgroup(*l, "gantry", "t5", TaskLimits{512, 64ull << 20});
  ASSERT_TRUE(p.ok());
  FakeOs os;
  os.fail_next("write_control", "/sys/fs/cgroup/memory", EINVAL);
  auto st = apply_task_cgroup(os, *p);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kRuntimeSystem);
  EXPECT_NE(st.error().message.find("memory.limit_in_bytes: Invalid argument"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(os.has_dir(p->memory_dir));
  EXPECT_FALSE(os.has_dir(p->cpu_dir));
}

TEST(RemoveTaskCgroup, BusyCgroupIsReportedAndOthersStillGo) {
  auto l = detect_cgroup_layout(kV1Mountinfo, kV1Cgroup);
  ASSERT_TRUE(l.ok());
  auto p = plan_task_cgroup(*l, "gantry", "t6", TaskLimits{256, 0});
  ASSERT_TRUE(p.ok());
  FakeOs os;
  ASSERT_TRUE(apply_task_cgroup(os, *p).ok());
  os.fail_next("rmdir", p->cpu_dir, EBUSY);
  auto st = remove_task_cgroup(os, *p);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("Device or resource busy"), std::string::npos);
  EXPECT_FALSE(os.has_dir(p->memory_dir));
}

TEST(ParseFlatKeyed, OomControlAndEvents) {
  auto v1 = parse_flat_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  EXPECT_EQ(v1["oom_kill"], 2u);
  EXPECT_EQ(v1["under_oom"], 0u);
  auto v2 = parse_flat_keyed("low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\noom_group_kill 0\nbroken\n");
  EXPECT_EQ(v2["max"], 17u);
  EXPECT_EQ(v2["oom_kill"], 1u);
  EXPECT_EQ(v2.count("broken"), 0u);
}

TEST(ReadMemoryStats, V1Files) {
  FakeOs os;
  os.add_file("/cg/memory.usage_in_bytes", "4096\n");
  os.add_file("/cg/memory.max_usage_in_bytes", "33554432\n");
  os.add_file("/cg/memory.failcnt", "12\n");
  os.add_file("/cg/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  auto s = read_memory_stats(os, CgroupMode::kHybrid, "/cg");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->usage_bytes, 4096u);
  EXPECT_EQ(s->peak_bytes, 33554432u);
  EXPECT_EQ(s->failcnt, 12u);
  EXPECT_EQ(s->oom_kills, 1u);
  os.add_file("/cg/memory.memsw.failcnt", "5\n");
  EXPECT_EQ(read_memory_stats(os, CgroupMode::kV1, "/cg")->failcnt, 17u);
}

TEST(ReadMemoryStats, V2FilesWithAndWithoutPeak) {
  FakeOs os;
  os.add_file("/cg/memory.current", "8192\n");
  os.add_file("/cg/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  auto s = read_memory_stats(os, CgroupMode::kV2, "/cg");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->usage_bytes, 8192u);
  EXPECT_EQ(s->peak_bytes, 0u) << "kernels before 5.19 have no memory.peak";
  EXPECT_EQ(s->failcnt, 3u);
  EXPECT_EQ(s->oom_kills, 1u);
  os.add_file("/cg/memory.peak", "65536\n");
  EXPECT_EQ(read_memory_stats(os, CgroupMode::kV2, "/cg")->peak_bytes, 65536u);
}

TEST(ReadMemoryStats, GarbageAndMissingFiles) {
  FakeOs os;
  os.add_file("/cg/memory.current", "lots\n");
  auto s = read_memory_stats(os, CgroupMode::kV2, "/cg");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kRuntimeCgroup);
  auto missing = read_memory_stats(os, CgroupMode::kV1, "/nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kRuntimeSystem);
  EXPECT_NE(missing.error().message.find("/nothing/memory.usage_in_bytes"), std::string::npos);
}

TEST(DetectHostLayout, ReadsProcThroughOs) {
  FakeOs os;
  os.add_file("/proc/self/mountinfo", std::string(kHybridMountinfo));
  os.add_file("/proc/self/cgroup", std::string(kHybridCgroup));
  auto l = detect_host_cgroup_layout(os);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->mode, CgroupMode::kHybrid);
}

}  // namespace
}  // namespace gantry::runtime
