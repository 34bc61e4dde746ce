// The Python runtime client (runtime/python/bootstrap.py), built into the binary: the server writes it
// to <data dir>/lambda/runtime/, which every sandbox mounts read-only at /var/runtime.
#pragma once

#include <string_view>

namespace gantry::sandbox {

extern const std::string_view kBootstrapSource;

}  // namespace gantry::sandbox
