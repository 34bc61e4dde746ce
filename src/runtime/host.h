// Whether this host can run containers, and what with: root, the OCI runtime CLI, usable cgroups. Both
// the task supervisor and Lambda's sandbox pool start from this one probe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"
#include "runtime/cgroup.h"
#include "runtime/os.h"
#include "runtime/runc.h"

namespace gantry::runtime {

struct ContainerHost {
  std::string runc_path;  // the OCI runtime CLI found
  CgroupLayout layout;
  bool swap_accounting = false;  // a memory limit can also forbid swap (see has_swap_accounting)
  std::unique_ptr<RuncDriver> runc;
};

// `oci_runtime` is a path or a name looked up in PATH; `runc_root` its state directory. The error's
// message says, for a person, why containers cannot run here (not root, no runtime, no cgroups).
Result<ContainerHost> probe_container_host(Os& os, const std::string& oci_runtime,
                                           const std::filesystem::path& runc_root);

}  // namespace gantry::runtime
