#include "runtime/oci_spec.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>

namespace gantry::runtime {
namespace json = boost::json;
namespace {

constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

Error invalid_spec(std::string message) { return make_error(ErrorKind::kRuntimeInvalidSpec, std::move(message)); }
Error invalid_image(std::string message) { return make_error(ErrorKind::kRuntimeImageInvalid, std::move(message)); }

Result<std::optional<std::vector<std::string>>> string_list(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::vector<std::string>>{};
  if (!v->is_array()) return invalid_image(fmt::format("image config: config.{} is not an array", key));
  std::vector<std::string> out;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return invalid_image(fmt::format("image config: config.{} holds a non-string", key));
    out.emplace_back(item.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::string> string_member(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return invalid_image(fmt::format("image config: config.{} is not a string", key));
  return std::string(v->get_string());
}

std::string_view env_name(std::string_view entry) { return entry.substr(0, entry.find('=')); }

// Docker's ReplaceOrAppendEnvValues: an entry of `overrides` replaces the one of the same name in
// `base` in place, others are appended in order.
void replace_or_append(std::vector<std::string>& base, const std::vector<std::string>& overrides) {
  for (const auto& entry : overrides) {
    auto name = env_name(entry);
    auto it = std::find_if(base.begin(), base.end(), [&](const std::string& e) { return env_name(e) == name; });
    if (it != base.end())
      *it = entry;
    else
      base.push_back(entry);
  }
}

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

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

struct PasswdEntry {
  std::string name;
  uint32_t uid;
  uint32_t gid;
};
struct GroupEntry {
  std::string name;
  uint32_t gid;
  std::vector<std::string> members;
};

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (auto line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, ':');
    if (f.size() < 4) continue;
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (!uid || !gid) continue;
    out.push_back(PasswdEntry{std::string(f[0]), *uid, *gid});
  }
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> out;
  for (auto line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto f = split(line, ':');
    if (f.size() < 3) continue;
    auto gid = parse_id(f[2]);
    if (!gid) continue;
    GroupEntry g{std::string(f[0]), *gid, {}};
    if (f.size() >= 4 && !f[3].empty()) {
      for (auto m : split(f[3], ',')) {
        if (!m.empty()) g.members.emplace_back(m);
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object mount(std::string_view destination, std::string_view type, std::string_view source,
                   const std::vector<std::string>& options) {
  return json::object{{"destination", destination}, {"type", type}, {"source", source}, {"options", to_array(options)}};
}

}  // namespace

Result<ImageConfig> parse_image_config(std::string_view text) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return invalid_image(fmt::format("image config: not JSON: {}", ec.message()));
  if (!root.is_object()) return invalid_image("image config: not a JSON object");
  ImageConfig out;
  const json::value* config = root.get_object().if_contains("config");
  if (config == nullptr || config->is_null()) return out;
  if (!config->is_object()) return invalid_image("image config: config is not an object");
  const auto& c = config->get_object();
  GANTRY_ASSIGN_OR_RETURN(out.entrypoint, string_list(c, "Entrypoint"));
  GANTRY_ASSIGN_OR_RETURN(out.cmd, string_list(c, "Cmd"));
  GANTRY_ASSIGN_OR_RETURN(auto env, string_list(c, "Env"));
  out.env = env.value_or(std::vector<std::string>{});
  GANTRY_ASSIGN_OR_RETURN(out.working_dir, string_member(c, "WorkingDir"));
  GANTRY_ASSIGN_OR_RETURN(out.user, string_member(c, "User"));
  return out;
}

Result<std::vector<std::string>> resolve_args(const ImageConfig& image,
                                              const std::optional<std::vector<std::string>>& entry_point,
                                              const std::optional<std::vector<std::string>>& command) {
  std::vector<std::string> ep;
  std::vector<std::string> cmd;
  if (entry_point && !entry_point->empty()) {
    ep = *entry_point;
    if (command) cmd = *command;
  } else {
    if (command && !command->empty())
      cmd = *command;
    else if (image.cmd)
      cmd = *image.cmd;
    if (!entry_point && image.entrypoint) ep = *image.entrypoint;
  }
  ep.insert(ep.end(), cmd.begin(), cmd.end());
  if (ep.empty())
    return invalid_spec("no command specified: neither the task nor the image sets an entrypoint or a command");
  return ep;
}

std::vector<std::string> merge_env(const std::vector<std::string>& image_env,
                                   const std::vector<std::pair<std::string, std::string>>& task_env,
                                   std::string_view hostname) {
  std::vector<std::string> config_env = image_env;
  std::vector<std::string> task;
  task.reserve(task_env.size());
  for (const auto& [name, value] : task_env) task.push_back(name + "=" + value);
  replace_or_append(config_env, task);
  std::vector<std::string> env{fmt::format("PATH={}", kDefaultPath), fmt::format("HOSTNAME={}", hostname)};
  replace_or_append(env, config_env);
  return env;
}

Result<ResolvedUser> resolve_user(std::string_view spec, std::string_view passwd, std::string_view group) {
  if (spec.empty()) spec = "0";
  auto colon = spec.find(':');
  std::string_view user_part = spec.substr(0, colon);
  std::optional<std::string_view> group_part;
  if (colon != std::string_view::npos) group_part = spec.substr(colon + 1);
  if (user_part.empty()) return invalid_spec(fmt::format("invalid user \"{}\": empty user name", spec));

  auto users = parse_passwd(passwd);
  auto groups = parse_group(group);
  ResolvedUser out;
  std::optional<PasswdEntry> entry;
  if (auto uid = parse_id(user_part)) {
    out.uid = *uid;
    for (const auto& u : users) {
      if (u.uid == *uid) {
        entry = u;
        break;
      }
    }
  } else {
    for (const auto& u : users) {
      if (u.name == user_part) {
        entry = u;
        break;
      }
    }
    if (!entry)
      return invalid_spec(fmt::format("unable to find user {}: no matching entries in passwd file", user_part));
    out.uid = entry->uid;
  }
  if (group_part) {
    if (group_part->empty()) return invalid_spec(fmt::format("invalid user \"{}\": empty group", spec));
    if (auto gid = parse_id(*group_part)) {
      out.gid = *gid;
    } else {
      auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& g) { return g.name == *group_part; });
      if (it == groups.end()) {
        return invalid_spec(fmt::format("unable to find group {}: no matching entries in group file", *group_part));
      }
      out.gid = it->gid;
    }
  } else {
    out.gid = entry ? entry->gid : 0;
  }
  if (entry) {
    for (const auto& g : groups) {
      if (std::find(g.members.begin(), g.members.end(), entry->name) == g.members.end()) continue;
      if (std::find(out.additional_gids.begin(), out.additional_gids.end(), g.gid) == out.additional_gids.end()) {
        out.additional_gids.push_back(g.gid);
      }
    }
  }
  return out;
}

Rlimit host_default_nofile() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  uint64_t hard = std::min<uint64_t>(kDefaultNofile.hard, rl.rlim_max);
  return Rlimit{"RLIMIT_NOFILE", std::min<uint64_t>(kDefaultNofile.soft, hard), hard};
}

Result<std::vector<Rlimit>> map_ulimits(const std::vector<Ulimit>& ulimits, const Rlimit& default_nofile) {
  static const std::map<std::string, std::string, std::less<>> kNames = {
      {"core", "RLIMIT_CORE"},         {"cpu", "RLIMIT_CPU"},
      {"data", "RLIMIT_DATA"},         {"fsize", "RLIMIT_FSIZE"},
      {"locks", "RLIMIT_LOCKS"},       {"memlock", "RLIMIT_MEMLOCK"},
      {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
      {"nofile", "RLIMIT_NOFILE"},     {"nproc", "RLIMIT_NPROC"},
      {"rss", "RLIMIT_RSS"},           {"rtprio", "RLIMIT_RTPRIO"},
      {"rttime", "RLIMIT_RTTIME"},     {"sigpending", "RLIMIT_SIGPENDING"},
      {"stack", "RLIMIT_STACK"},
  };
  auto value = [](int64_t v) { return v == -1 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(v); };
  std::vector<Rlimit> out{default_nofile};
  for (const auto& u : ulimits) {
    auto it = kNames.find(u.name);
    if (it == kNames.end()) return invalid_spec(fmt::format("unknown ulimit name \"{}\"", u.name));
    if (u.soft < -1 || u.hard < -1) {
      return invalid_spec(fmt::format("ulimit {}: values must be -1 (unlimited) or non-negative", u.name));
    }
    if (value(u.soft) > value(u.hard)) {
      return invalid_spec(fmt::format("ulimit {}: soft limit {} is above hard limit {}", u.name, u.soft, u.hard));
    }
    Rlimit r{it->second, value(u.soft), value(u.hard)};
    auto existing = std::find_if(out.begin(), out.end(), [&](const Rlimit& x) { return x.type == r.type; });
    if (existing != out.end())
      *existing = r;
    else
      out.push_back(r);
  }
  return out;
}

std::vector<std::string> default_capabilities() {
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

std::vector<std::string> default_masked_paths() {
  return {"/proc/asound",
          "/proc/acpi",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/proc/sched_debug",
          "/proc/scsi",
          "/sys/firmware",
          "/sys/devices/virtual/powercap"};
}

std::vector<std::string> default_readonly_paths() {
  return {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
}

Result<boost::json::object> build_oci_spec(const ContainerSpecInput& in) {
  GANTRY_ASSIGN_OR_RETURN(auto args, resolve_args(in.image, in.entry_point, in.command));
  std::string user_spec = in.user.value_or(in.image.user);
  GANTRY_ASSIGN_OR_RETURN(ResolvedUser user, resolve_user(user_spec, in.passwd, in.group));
  GANTRY_ASSIGN_OR_RETURN(auto rlimits, map_ulimits(in.ulimits, in.default_nofile));
  std::string cwd = in.working_directory.value_or(in.image.working_dir);
  if (cwd.empty()) cwd.push_back('/');  // not `= "/"`: GCC 12 warns falsely there (-Wrestrict, PR 105329)
  if (cwd[0] != '/') return invalid_spec(fmt::format("working directory \"{}\" is not an absolute path", cwd));
  if (in.cgroups_path.empty()) return invalid_spec("no cgroups path");

  json::object user_obj{{"uid", user.uid}, {"gid", user.gid}};
  if (!user.additional_gids.empty()) {
    json::array gids;
    for (auto g : user.additional_gids) gids.emplace_back(g);
    user_obj["additionalGids"] = std::move(gids);
  }
  json::array caps = to_array(default_capabilities());
  json::object capabilities{{"bounding", caps}};
  if (user.uid == 0) {
    capabilities["effective"] = caps;
    capabilities["permitted"] = caps;
  }
  json::array rl;
  for (const auto& r : rlimits) rl.push_back(json::object{{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});

  json::object process{
      {"terminal", false},
      {"user", std::move(user_obj)},
      {"args", to_array(args)},
      {"env", to_array(merge_env(in.image.env, in.environment, in.hostname))},
      {"cwd", cwd},
      {"capabilities", std::move(capabilities)},
      {"rlimits", std::move(rl)},
      {"noNewPrivileges", false},
  };

  json::array mounts{
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/dev/shm", "tmpfs", "shm",
            {"nosuid", "noexec", "nodev", "mode=1777", fmt::format("size={}k", in.shm_size_bytes / 1024)}),
  };
  const std::string rw = in.readonly_rootfs ? "ro" : "rw";
  const std::pair<std::string_view, const std::string*> binds[] = {
      {"/etc/resolv.conf", &in.resolv_conf_file}, {"/etc/hostname", &in.hostname_file}, {"/etc/hosts", &in.hosts_file}};
  for (const auto& [dest, source] : binds) {
    if (!source->empty()) mounts.push_back(mount(dest, "bind", *source, {"rbind", "rprivate", rw}));
  }

  json::array namespaces{json::object{{"type", "pid"}}, json::object{{"type", "mount"}}};
  const std::pair<std::string_view, const std::string*> shared[] = {
      {"network", &in.join.network}, {"ipc", &in.join.ipc}, {"uts", &in.join.uts}};
  for (const auto& [type, path] : shared) {
    json::object ns{{"type", type}};
    if (!path->empty()) ns["path"] = *path;
    namespaces.push_back(std::move(ns));
  }

  json::object resources{{"devices", json::array{json::object{{"allow", false}, {"access", "rwm"}}}}};
  const auto& res = in.resources;
  json::object memory;
  if (res.memory_limit_bytes) memory["limit"] = *res.memory_limit_bytes;
  if (res.memory_swap_bytes) memory["swap"] = *res.memory_swap_bytes;
  if (res.memory_reservation_bytes) memory["reservation"] = *res.memory_reservation_bytes;
  if (!memory.empty()) resources["memory"] = std::move(memory);
  json::object cpu;
  if (res.cpu_shares) cpu["shares"] = std::max<uint64_t>(*res.cpu_shares, 2);
  if (res.cpu_quota_us) cpu["quota"] = *res.cpu_quota_us;
  if (res.cpu_period_us) cpu["period"] = *res.cpu_period_us;
  if (!cpu.empty()) resources["cpu"] = std::move(cpu);

  json::object linux_obj{
      {"cgroupsPath", in.cgroups_path},
      {"resources", std::move(resources)},
      {"namespaces", std::move(namespaces)},
      {"maskedPaths", to_array(default_masked_paths())},
      {"readonlyPaths", to_array(default_readonly_paths())},
  };

  json::object spec{
      {"ociVersion", "1.0.2"},
      {"process", std::move(process)},
      {"root", json::object{{"path", in.rootfs}, {"readonly", in.readonly_rootfs}}},
      {"mounts", std::move(mounts)},
      {"linux", std::move(linux_obj)},
  };
  if (in.join.uts.empty() && !in.hostname.empty()) spec["hostname"] = in.hostname;
  return spec;
}

std::string hosts_file_content(std::string_view hostname) {
  std::string out = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (!hostname.empty()) out += fmt::format("127.0.0.1\t{}\n", hostname);
  return out;
}

std::string hostname_file_content(std::string_view hostname) { return fmt::format("{}\n", hostname); }

Result<std::string> build_oci_spec_json(const ContainerSpecInput& input) {
  GANTRY_ASSIGN_OR_RETURN(auto spec, build_oci_spec(input));
  return json::serialize(spec);
}

}  // namespace gantry::runtime
