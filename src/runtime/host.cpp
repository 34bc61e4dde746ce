#include "runtime/host.h"

#include <fmt/format.h>
#include <unistd.h>

namespace gantry::runtime {

Result<ContainerHost> probe_container_host(Os& os, const std::string& oci_runtime,
                                           const std::filesystem::path& runc_root) {
  auto unavailable = [](std::string why) { return make_error(ErrorKind::kRuntimeSystem, std::move(why)); };
  if (::geteuid() != 0)
    return unavailable("the server is not running as root (runc, overlayfs mounts, namespaces and cgroups need root)");
  ContainerHost host;
  host.runc_path = find_executable(oci_runtime);
  if (host.runc_path.empty())
    return unavailable(
        fmt::format("the OCI runtime '{}' was not found (install runc, or pass --oci-runtime PATH)", oci_runtime));
  auto layout = detect_host_cgroup_layout(os);
  if (!layout.ok()) return unavailable("no usable cgroups: " + layout.error().message);
  host.layout = *layout;
  host.swap_accounting = has_swap_accounting(os, host.layout);
  GANTRY_ASSIGN_OR_RETURN(host.runc, RuncDriver::create(os, RuncOptions{host.runc_path, runc_root.string()}));
  return host;
}

}  // namespace gantry::runtime
