// Builds the OCI runtime config.json of one container from typed inputs: pure functions, no I/O.
//
// The rules are Docker's, as the ECS agent hands a task definition to Docker:
// - args: an ECS entryPoint replaces the image Entrypoint and then drops the image Cmd (docker run
//   --entrypoint); an ECS command replaces the image Cmd. An explicitly empty entryPoint clears the
//   image's. args = entrypoint + cmd; both empty → kRuntimeInvalidSpec "no command specified".
// - env: the image Env, then the task's environment; a task variable replaces the image's of the same
//   name in place, new ones are appended in the task's order. PATH is added (Docker's default) when
//   neither sets it; HOSTNAME is set to the container's hostname. HOME is left to runc, which sets it
//   from the user's passwd entry.
// - cwd: workingDirectory, else the image WorkingDir, else "/".
// - user: "uid", "uid:gid", "name", "name:group", "uid:group"; the task's user wins over the image's
//   User; empty means root. Names resolve through the rootfs's /etc/passwd and /etc/group (their
//   contents are inputs). A numeric uid without a passwd entry gets gid 0, as runc does.
//   Supplementary groups are the /etc/group entries that list the user by name.
// - rlimits: ECS ulimit names → RLIMIT_<NAME>; RLIMIT_NOFILE defaults to soft 1024 / hard 65535 (the
//   Fargate default; the caller may clamp it to what the host allows) unless the task sets nofile.
// - capabilities: Docker's default set (14 capabilities) in bounding, effective and permitted for
//   root; a non-root user keeps them in the bounding set only (Docker ≥ 23). Inheritable and ambient
//   are empty (CVE-2022-24769).
// - mounts, masked and read-only paths: Docker's defaults for a non-privileged container.
// - namespaces: pid, ipc, uts, mount, network — new, or joined by path (all containers of a task
//   share network, IPC and UTS). The spec's hostname is set only with a private UTS namespace (a joined
//   one carries its own); the hostname still names the container in HOSTNAME and /etc/hosts. A new network
//   namespace has only loopback (runc brings it up); nothing reaches outside.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace gantry::runtime {

// The parts of an OCI image config ("config" object) a container is made from.
struct ImageConfig {
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> env;  // "NAME=value"
  std::string working_dir;
  std::string user;
};
// Parses an OCI / Docker image config blob (the JSON with "architecture", "config", "rootfs").
// Malformed JSON or wrong member types → kRuntimeImageInvalid.
Result<ImageConfig> parse_image_config(std::string_view json);

// --- the individual rules, exposed for tests and for ECS validation ---

Result<std::vector<std::string>> resolve_args(const ImageConfig& image,
                                              const std::optional<std::vector<std::string>>& entry_point,
                                              const std::optional<std::vector<std::string>>& command);

std::vector<std::string> merge_env(const std::vector<std::string>& image_env,
                                   const std::vector<std::pair<std::string, std::string>>& task_env,
                                   std::string_view hostname);

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  friend bool operator==(const ResolvedUser&, const ResolvedUser&) = default;
};
// `spec` as above; passwd/group are file contents (empty when the image has none). An unknown name →
// kRuntimeInvalidSpec "unable to find user X: no matching entries in passwd file" (Docker's words).
Result<ResolvedUser> resolve_user(std::string_view spec, std::string_view passwd, std::string_view group);

struct Ulimit {
  std::string name;  // ECS names: core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc,
                     // rss, rtprio, rttime, sigpending, stack
  int64_t soft = 0;  // -1 is unlimited
  int64_t hard = 0;
};
struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t soft = 0;
  uint64_t hard = 0;
  friend bool operator==(const Rlimit&, const Rlimit&) = default;
};
// Fargate's default: nofile soft 1024, hard 65535. Raising a hard limit above the host's needs
// CAP_SYS_RESOURCE; without it, pass a default clamped to the host's hard limit.
inline const Rlimit kDefaultNofile{"RLIMIT_NOFILE", 1024, 65535};
// kDefaultNofile clamped to this process's hard limit (raising it needs CAP_SYS_RESOURCE).
Rlimit host_default_nofile();

// `default_nofile` first, then the task's ulimits (a task nofile replaces it). Unknown names, soft > hard,
// values below -1 → kRuntimeInvalidSpec. Later duplicates win.
Result<std::vector<Rlimit>> map_ulimits(const std::vector<Ulimit>& ulimits,
                                        const Rlimit& default_nofile = kDefaultNofile);

std::vector<std::string> default_capabilities();
std::vector<std::string> default_masked_paths();
std::vector<std::string> default_readonly_paths();

// --- the whole spec ---

struct NamespacePaths {
  // Empty: a new namespace. Otherwise a path such as /proc/<pid>/ns/net or a bind-mounted nsfs file.
  std::string network;
  std::string ipc;
  std::string uts;
};

struct ContainerResources {
  std::optional<int64_t> memory_limit_bytes;  // hard limit (ECS container `memory`)
  // memory + swap. Equal to the limit forbids swap (Fargate has none); leave unset on hosts without
  // swap accounting (no memory.memsw.* / memory.swap.max), where runc would fail to set it.
  std::optional<int64_t> memory_swap_bytes;
  std::optional<int64_t> memory_reservation_bytes;  // soft limit (ECS `memoryReservation`)
  std::optional<uint64_t> cpu_shares;               // ECS container `cpu` units (min 2)
  std::optional<int64_t> cpu_quota_us;
  std::optional<uint64_t> cpu_period_us;
};

struct ContainerSpecInput {
  ImageConfig image;
  std::optional<std::vector<std::string>> entry_point;  // nullopt: not set in the task definition
  std::optional<std::vector<std::string>> command;
  std::vector<std::pair<std::string, std::string>> environment;
  std::optional<std::string> working_directory;
  std::optional<std::string> user;
  std::string passwd;  // contents of the rootfs's /etc/passwd ("" if absent)
  std::string group;   // contents of the rootfs's /etc/group
  std::string hostname;
  bool readonly_rootfs = false;
  std::vector<Ulimit> ulimits;
  Rlimit default_nofile = kDefaultNofile;
  NamespacePaths join;
  uint64_t shm_size_bytes = 64 << 20;  // Docker's default /dev/shm
  // Relative to the OCI runtime's own cgroup (see cgroup.h), e.g. "gantry/<task>/<container>".
  std::string cgroups_path;
  ContainerResources resources;
  // Host files bind-mounted over /etc/hosts, /etc/resolv.conf and /etc/hostname (read-write, as Docker
  // does; read-only when the rootfs is); absolute paths, usually in the bundle. Empty: not mounted.
  std::string hosts_file;
  std::string resolv_conf_file;
  std::string hostname_file;
  std::string rootfs = "rootfs";  // root.path, relative to the bundle
};

// Contents of the bundle files bind-mounted over /etc/hosts and /etc/hostname: loopback names plus the
// hostname on 127.0.0.1 (the task network has only loopback for now).
std::string hosts_file_content(std::string_view hostname);
std::string hostname_file_content(std::string_view hostname);

Result<boost::json::object> build_oci_spec(const ContainerSpecInput& input);
Result<std::string> build_oci_spec_json(const ContainerSpecInput& input);

}  // namespace gantry::runtime
