#include "runtime/oci_spec.h"

#include <gtest/gtest.h>

#include <limits>

namespace gantry::runtime {
namespace {

namespace json = boost::json;
using Strings = std::vector<std::string>;
using OptStrings = std::optional<Strings>;

// --- entrypoint / command: Docker's combination table ---

struct ArgsCase {
  const char* name;
  OptStrings image_entrypoint;
  OptStrings image_cmd;
  OptStrings task_entry_point;
  OptStrings task_command;
  Strings expected;
};

class ResolveArgs : public ::testing::TestWithParam<ArgsCase> {};

TEST_P(ResolveArgs, FollowsDocker) {
  const auto& c = GetParam();
  ImageConfig image;
  image.entrypoint = c.image_entrypoint;
  image.cmd = c.image_cmd;
  auto args = resolve_args(image, c.task_entry_point, c.task_command);
  ASSERT_TRUE(args.ok()) << args.error().message;
  EXPECT_EQ(*args, c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResolveArgs,
    ::testing::Values(
        ArgsCase{"image_cmd_only", std::nullopt, Strings{"sh"}, std::nullopt, std::nullopt, {"sh"}},
        ArgsCase{"image_entrypoint_and_cmd",
                 Strings{"/ep", "-x"},
                 Strings{"a", "b"},
                 std::nullopt,
                 std::nullopt,
                 {"/ep", "-x", "a", "b"}},
        ArgsCase{"task_command_replaces_image_cmd",
                 Strings{"/ep"},
                 Strings{"a"},
                 std::nullopt,
                 Strings{"c", "d"},
                 {"/ep", "c", "d"}},
        ArgsCase{
            "task_entrypoint_drops_image_cmd", Strings{"/ep"}, Strings{"a"}, Strings{"/mine"}, std::nullopt, {"/mine"}},
        ArgsCase{"task_entrypoint_and_command",
                 Strings{"/ep"},
                 Strings{"a"},
                 Strings{"/mine"},
                 Strings{"x"},
                 {"/mine", "x"}},
        ArgsCase{"empty_task_entrypoint_clears_image_entrypoint",
                 Strings{"/ep"},
                 Strings{"a"},
                 Strings{},
                 std::nullopt,
                 {"a"}},
        ArgsCase{
            "empty_task_command_keeps_image_cmd", Strings{"/ep"}, Strings{"a"}, std::nullopt, Strings{}, {"/ep", "a"}},
        ArgsCase{"command_without_any_image_args",
                 std::nullopt,
                 std::nullopt,
                 std::nullopt,
                 Strings{"/bin/true"},
                 {"/bin/true"}},
        ArgsCase{"entrypoint_only_image", Strings{"/ep"}, std::nullopt, std::nullopt, std::nullopt, {"/ep"}}),
    [](const ::testing::TestParamInfo<ArgsCase>& case_info) { return std::string(case_info.param.name); });

TEST(ResolveArgsErrors, NothingToRun) {
  auto args = resolve_args(ImageConfig{}, std::nullopt, std::nullopt);
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.error().kind, ErrorKind::kRuntimeInvalidSpec);
  EXPECT_NE(args.error().message.find("no command specified"), std::string::npos);
  ImageConfig image;
  image.entrypoint = Strings{"/ep"};
  EXPECT_FALSE(resolve_args(image, Strings{}, Strings{}).ok()) << "an empty entrypoint clears the image's";
}

// --- environment ---

TEST(MergeEnv, TaskWinsInPlaceAndNewOnesAppend) {
  auto env = merge_env({"PATH=/usr/bin", "A=1", "B=2"}, {{"B", "task"}, {"C", "3"}}, "host1");
  EXPECT_EQ(env, (Strings{"PATH=/usr/bin", "HOSTNAME=host1", "A=1", "B=task", "C=3"}));
}

TEST(MergeEnv, DefaultPathWhenNobodySetsIt) {
  auto env = merge_env({"A=1"}, {}, "h");
  EXPECT_EQ(env, (Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=h", "A=1"}));
}

TEST(MergeEnv, TaskPathOverridesImagePathAndValuesMayHoldEquals) {
  auto env = merge_env({"PATH=/img"}, {{"PATH", "/task"}, {"Q", "a=b"}, {"EMPTY", ""}}, "h");
  EXPECT_EQ(env, (Strings{"PATH=/task", "HOSTNAME=h", "Q=a=b", "EMPTY="}));
}

// --- users ---

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "app:x:1000:1000:App:/home/app:/bin/sh\n"
    "svc:x:1001:50::/:/bin/false\n"
    "broken line\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "staff:x:50:\n"
    "app:x:1000:\n"
    "docker:x:999:app,svc\n"
    "audio:x:29:app\n"
    "nogroup:x:65534:\n";

TEST(ResolveUser, EmptyIsRoot) {
  auto u = resolve_user("", kPasswd, kGroup);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, (ResolvedUser{0, 0, {}}));
}

TEST(ResolveUser, NameUsesPasswdGidAndGroupMemberships) {
  auto u = resolve_user("app", kPasswd, kGroup);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(*u, (ResolvedUser{1000, 1000, {999, 29}}));
}

TEST(ResolveUser, NumericUidFoundInPasswdGetsItsGid) {
  auto u = resolve_user("1001", kPasswd, kGroup);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, (ResolvedUser{1001, 50, {999}}));
}

TEST(ResolveUser, NumericUidUnknownGetsGidZero) {
  auto u = resolve_user("4242", kPasswd, kGroup);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, (ResolvedUser{4242, 0, {}}));
  auto none = resolve_user("4242", "", "");
  ASSERT_TRUE(none.ok()) << "an image without /etc/passwd still runs numeric users";
  EXPECT_EQ(*none, (ResolvedUser{4242, 0, {}}));
}

TEST(ResolveUser, UidColonGid) {
  auto u = resolve_user("1000:50", kPasswd, kGroup);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, (ResolvedUser{1000, 50, {999, 29}}));
  auto raw = resolve_user("5:6", "", "");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, (ResolvedUser{5, 6, {}}));
}

TEST(ResolveUser, NameColonGroupName) {
  auto u = resolve_user("svc:nogroup", kPasswd, kGroup);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, (ResolvedUser{1001, 65534, {999}}));
  auto uid_group = resolve_user("0:staff", kPasswd, kGroup);
  ASSERT_TRUE(uid_group.ok());
  EXPECT_EQ(*uid_group, (ResolvedUser{0, 50, {}}));
}

TEST(ResolveUser, UnknownNamesAreErrorsInDockersWords) {
  auto u = resolve_user("ghost", kPasswd, kGroup);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().kind, ErrorKind::kRuntimeInvalidSpec);
  EXPECT_EQ(u.error().message, "unable to find user ghost: no matching entries in passwd file");
  auto g = resolve_user("app:ghosts", kPasswd, kGroup);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message, "unable to find group ghosts: no matching entries in group file");
  EXPECT_FALSE(resolve_user("app:", kPasswd, kGroup).ok());
  EXPECT_FALSE(resolve_user(":0", kPasswd, kGroup).ok());
  EXPECT_FALSE(resolve_user("99999999999", kPasswd, kGroup).ok()) << "beyond uint32 is not a uid, nor a known name";
}

// --- ulimits ---

TEST(MapUlimits, EveryEcsNameMaps) {
  const char* names[] = {"core", "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
                         "nice", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  for (const char* name : names) {
    auto r = map_ulimits({Ulimit{name, 1, 2}});
    ASSERT_TRUE(r.ok()) << name;
    ASSERT_EQ(r->size(), 2u);
    std::string expected = "RLIMIT_";
    for (const char* p = name; *p; ++p) expected += static_cast<char>(std::toupper(*p));
    EXPECT_EQ((*r)[1], (Rlimit{expected, 1, 2}));
  }
}

TEST(MapUlimits, NofileDefaultsToFargateAndTaskOverrides) {
  auto d = map_ulimits({});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, (std::vector<Rlimit>{{"RLIMIT_NOFILE", 1024, 65535}}));
  auto o = map_ulimits({Ulimit{"nofile", 4096, 8192}});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (std::vector<Rlimit>{{"RLIMIT_NOFILE", 4096, 8192}}));
  auto clamped = map_ulimits({}, Rlimit{"RLIMIT_NOFILE", 1024, 20000});
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ((*clamped)[0].hard, 20000u);
}

TEST(MapUlimits, UnlimitedAndLaterDuplicatesWin) {
  auto r = map_ulimits({Ulimit{"core", 1, 1}, Ulimit{"core", -1, -1}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].soft, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ((*r)[1].hard, std::numeric_limits<uint64_t>::max());
}

TEST(MapUlimits, Rejects) {
  auto unknown = map_ulimits({Ulimit{"files", 1, 1}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::kRuntimeInvalidSpec);
  EXPECT_NE(unknown.error().message.find("files"), std::string::npos);
  EXPECT_FALSE(map_ulimits({Ulimit{"nofile", 10, 5}}).ok());
  EXPECT_FALSE(map_ulimits({Ulimit{"nofile", -1, 5}}).ok()) << "unlimited soft above a finite hard";
  EXPECT_FALSE(map_ulimits({Ulimit{"stack", -2, 5}}).ok());
}

// --- image config ---

TEST(ParseImageConfig, ReadsTheConfigObject) {
  auto c = parse_image_config(R"({"architecture":"amd64","os":"linux","config":{"Entrypoint":["/ep"],"Cmd":null,
      "Env":["PATH=/bin","X=1"],"WorkingDir":"/srv","User":"app"},"rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->entrypoint, OptStrings(Strings{"/ep"}));
  EXPECT_EQ(c->cmd, std::nullopt);
  EXPECT_EQ(c->env, (Strings{"PATH=/bin", "X=1"}));
  EXPECT_EQ(c->working_dir, "/srv");
  EXPECT_EQ(c->user, "app");
  auto bare = parse_image_config(R"({"architecture":"amd64"})");
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->cmd.has_value());
}

TEST(ParseImageConfig, RejectsWrongTypes) {
  EXPECT_EQ(parse_image_config("not json").error().kind, ErrorKind::kRuntimeImageInvalid);
  EXPECT_FALSE(parse_image_config(R"({"config":{"Cmd":"sh"}})").ok());
  EXPECT_FALSE(parse_image_config(R"({"config":{"Env":[1]}})").ok());
  EXPECT_FALSE(parse_image_config(R"({"config":{"User":5}})").ok());
  EXPECT_FALSE(parse_image_config(R"([1])").ok());
}

// --- the whole spec ---

ContainerSpecInput base_input() {
  ContainerSpecInput in;
  in.image.cmd = Strings{"sh"};
  in.image.env = {"PATH=/usr/bin:/bin"};
  in.passwd = kPasswd;
  in.group = kGroup;
  in.hostname = "ip-10-0-0-5";
  in.cgroups_path = "gantry/t1/app";
  in.hosts_file = "/b/hosts";
  in.resolv_conf_file = "/b/resolv.conf";
  in.hostname_file = "/b/hostname";
  return in;
}

json::object spec_of(const ContainerSpecInput& in) {
  auto spec = build_oci_spec(in);
  EXPECT_TRUE(spec.ok()) << spec.error().message;
  return spec.ok() ? *spec : json::object{};
}

const json::object* find_mount(const json::object& spec, std::string_view destination) {
  for (const auto& m : spec.at("mounts").as_array()) {
    if (m.as_object().at("destination").as_string() == destination) return &m.as_object();
  }
  return nullptr;
}

TEST(BuildOciSpec, ProcessFromImageAndTask) {
  auto in = base_input();
  in.command = Strings{"echo", "hi"};
  in.environment = {{"A", "1"}};
  in.user = "app";
  in.working_directory = "/work";
  auto spec = spec_of(in);
  const auto& p = spec.at("process").as_object();
  EXPECT_EQ(p.at("args"), (json::array{"echo", "hi"}));
  EXPECT_EQ(p.at("env"), (json::array{"PATH=/usr/bin:/bin", "HOSTNAME=ip-10-0-0-5", "A=1"}));
  EXPECT_EQ(p.at("cwd"), "/work");
  EXPECT_EQ(p.at("user"), (json::object{{"uid", 1000}, {"gid", 1000}, {"additionalGids", json::array{999, 29}}}));
  EXPECT_EQ(p.at("terminal"), false);
  const auto& caps = p.at("capabilities").as_object();
  EXPECT_EQ(caps.at("bounding").as_array().size(), 14u);
  EXPECT_FALSE(caps.contains("effective")) << "a non-root user keeps the default set in bounding only";
  EXPECT_FALSE(caps.contains("inheritable"));
  EXPECT_EQ(spec.at("hostname"), "ip-10-0-0-5");
  EXPECT_EQ(spec.at("root"), (json::object{{"path", "rootfs"}, {"readonly", false}}));
}

TEST(BuildOciSpec, RootGetsEffectiveCapabilitiesAndImageDefaults) {
  auto in = base_input();
  in.image.working_dir = "/srv";
  auto spec = spec_of(in);
  const auto& p = spec.at("process").as_object();
  EXPECT_EQ(p.at("cwd"), "/srv");
  EXPECT_EQ(p.at("args"), (json::array{"sh"}));
  EXPECT_EQ(p.at("user"), (json::object{{"uid", 0}, {"gid", 0}}));
  const auto& caps = p.at("capabilities").as_object();
  EXPECT_EQ(caps.at("effective"), caps.at("bounding"));
  EXPECT_EQ(caps.at("permitted"), caps.at("bounding"));
  EXPECT_NE(std::find(caps.at("bounding").as_array().begin(), caps.at("bounding").as_array().end(),
                      json::value("CAP_NET_BIND_SERVICE")),
            caps.at("bounding").as_array().end());
  EXPECT_EQ(std::find(caps.at("bounding").as_array().begin(), caps.at("bounding").as_array().end(),
                      json::value("CAP_SYS_ADMIN")),
            caps.at("bounding").as_array().end());
}

TEST(BuildOciSpec, CwdDefaultsToRootAndMustBeAbsolute) {
  auto in = base_input();
  EXPECT_EQ(spec_of(in).at("process").as_object().at("cwd"), "/");
  in.working_directory = "relative";
  auto bad = build_oci_spec(in);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kRuntimeInvalidSpec);
}

TEST(BuildOciSpec, ImageUserUnlessTaskUser) {
  auto in = base_input();
  in.image.user = "svc";
  EXPECT_EQ(spec_of(in).at("process").as_object().at("user").as_object().at("uid"), 1001);
  in.user = "0";
  EXPECT_EQ(spec_of(in).at("process").as_object().at("user").as_object().at("uid"), 0);
  in.user = "ghost";
  EXPECT_FALSE(build_oci_spec(in).ok());
}

TEST(BuildOciSpec, Rlimits) {
  auto in = base_input();
  in.ulimits = {Ulimit{"nproc", 100, 200}};
  auto rl = spec_of(in).at("process").as_object().at("rlimits");
  EXPECT_EQ(rl, (json::array{json::object{{"type", "RLIMIT_NOFILE"}, {"hard", 65535}, {"soft", 1024}},
                             json::object{{"type", "RLIMIT_NPROC"}, {"hard", 200}, {"soft", 100}}}));
}

TEST(BuildOciSpec, DockerMountsAndBindFiles) {
  auto in = base_input();
  in.shm_size_bytes = 128 << 20;
  auto spec = spec_of(in);
  for (const char* dest : {"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
                           "/etc/hosts", "/etc/resolv.conf", "/etc/hostname"}) {
    EXPECT_NE(find_mount(spec, dest), nullptr) << dest;
  }
  EXPECT_EQ(find_mount(spec, "/dev/shm")->at("options"),
            (json::array{"nosuid", "noexec", "nodev", "mode=1777", "size=131072k"}));
  EXPECT_EQ(find_mount(spec, "/sys")->at("options").as_array().back(), "ro");
  EXPECT_EQ(find_mount(spec, "/sys/fs/cgroup")->at("options").as_array().back(), "ro");
  EXPECT_EQ(*find_mount(spec, "/etc/hosts"), (json::object{{"destination", "/etc/hosts"},
                                                           {"type", "bind"},
                                                           {"source", "/b/hosts"},
                                                           {"options", json::array{"rbind", "rprivate", "rw"}}}));
  in.readonly_rootfs = true;
  auto ro = spec_of(in);
  EXPECT_EQ(ro.at("root").as_object().at("readonly"), true);
  EXPECT_EQ(find_mount(ro, "/etc/resolv.conf")->at("options").as_array().back(), "ro");
  in.hosts_file.clear();
  EXPECT_EQ(find_mount(spec_of(in), "/etc/hosts"), nullptr);
}

TEST(BuildOciSpec, MaskedAndReadonlyPaths) {
  auto linux_obj = spec_of(base_input()).at("linux").as_object();
  const auto& masked = linux_obj.at("maskedPaths").as_array();
  EXPECT_EQ(masked.size(), 11u);
  EXPECT_NE(std::find(masked.begin(), masked.end(), json::value("/proc/kcore")), masked.end());
  EXPECT_EQ(linux_obj.at("readonlyPaths"),
            (json::array{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
}

TEST(BuildOciSpec, NamespacesNewOrJoined) {
  auto in = base_input();
  EXPECT_EQ(
      spec_of(in).at("linux").as_object().at("namespaces"),
      (json::array{json::object{{"type", "pid"}}, json::object{{"type", "mount"}}, json::object{{"type", "network"}},
                   json::object{{"type", "ipc"}}, json::object{{"type", "uts"}}}));
  in.join = NamespacePaths{"/proc/42/ns/net", "/proc/42/ns/ipc", "/proc/42/ns/uts"};
  in.hostname.clear();
  auto joined = spec_of(in);
  EXPECT_EQ(joined.at("linux").as_object().at("namespaces"),
            (json::array{json::object{{"type", "pid"}}, json::object{{"type", "mount"}},
                         json::object{{"type", "network"}, {"path", "/proc/42/ns/net"}},
                         json::object{{"type", "ipc"}, {"path", "/proc/42/ns/ipc"}},
                         json::object{{"type", "uts"}, {"path", "/proc/42/ns/uts"}}}));
  EXPECT_FALSE(joined.contains("hostname"));
  // A joined UTS namespace carries its own hostname: the spec sets none, the environment still names it.
  in.hostname = "ip-10-0-0-7.ec2.internal";
  auto named = spec_of(in);
  EXPECT_FALSE(named.contains("hostname"));
  bool has_env = false;
  for (const auto& e : named.at("process").as_object().at("env").as_array())
    has_env |= e.as_string() == "HOSTNAME=ip-10-0-0-7.ec2.internal";
  EXPECT_TRUE(has_env);
}

TEST(BuildOciSpec, CgroupsPathAndResources) {
  auto in = base_input();
  in.resources.memory_limit_bytes = 64 << 20;
  in.resources.memory_reservation_bytes = 32 << 20;
  in.resources.memory_swap_bytes = 64 << 20;
  in.resources.cpu_shares = 1;
  in.resources.cpu_quota_us = 25000;
  in.resources.cpu_period_us = 100000;
  auto linux_obj = spec_of(in).at("linux").as_object();
  EXPECT_EQ(linux_obj.at("cgroupsPath"), "gantry/t1/app");
  const auto& res = linux_obj.at("resources").as_object();
  EXPECT_EQ(res.at("memory"), (json::object{{"limit", 64 << 20}, {"swap", 64 << 20}, {"reservation", 32 << 20}}));
  in.resources.memory_swap_bytes.reset();
  EXPECT_FALSE(
      spec_of(in).at("linux").as_object().at("resources").as_object().at("memory").as_object().contains("swap"))
      << "no swap limit unless asked (hosts without swap accounting)";
  EXPECT_EQ(res.at("cpu"), (json::object{{"shares", 2}, {"quota", 25000}, {"period", 100000}}));
  EXPECT_EQ(res.at("devices"), (json::array{json::object{{"allow", false}, {"access", "rwm"}}}));
  in.resources = {};
  auto bare = spec_of(in).at("linux").as_object().at("resources").as_object();
  EXPECT_FALSE(bare.contains("memory"));
  EXPECT_FALSE(bare.contains("cpu"));
  in.cgroups_path.clear();
  EXPECT_FALSE(build_oci_spec(in).ok());
}

TEST(BuildOciSpec, JsonTextRoundTrips) {
  auto text = build_oci_spec_json(base_input());
  ASSERT_TRUE(text.ok());
  auto parsed = json::parse(*text);
  EXPECT_EQ(parsed.as_object().at("ociVersion"), "1.0.2");
}

TEST(BundleFiles, HostsAndHostname) {
  EXPECT_EQ(hosts_file_content("h1"),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\th1\n");
  EXPECT_EQ(hostname_file_content("h1"), "h1\n");
}

}  // namespace
}  // namespace gantry::runtime
