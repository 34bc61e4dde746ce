// Wires the components of `gantry server` together. Holds no business logic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace gantry::server {

struct Config {
  std::string listen = "127.0.0.1:4566";
  std::string data_dir = "./gantry-data";
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::string log_level = "info";
  bool enable_reset = false;
  int threads = 2;
  std::string oci_runtime = "runc";  // path or name in PATH
  uint32_t capacity_cpu = 0;         // ECS cpu units tasks may reserve; 0: 1024 per CPU
  uint64_t capacity_memory = 0;      // MiB tasks may reserve; 0: the host's memory
  std::string root_credentials;      // "AKID:SECRET"; empty: <data-dir>/credentials (created if missing)
  bool auth = true;                  // false: signatures are read but not verified
  std::vector<std::string> lambda_pythons = {"python3"};  // interpreters Lambda functions run on (paths or names)
  uint32_t lambda_idle_seconds = 300;     // how long an idle sandbox stays warm
  uint32_t lambda_retry_seconds = 60;     // first retry of a failed asynchronous invocation (then twice that)
  std::string clock = "real";             // "manual": the clock moves only on POST /_gantry/clock
};

// Runs the server until SIGINT/SIGTERM. Returns an error when it cannot start.
Status run(const Config& config);

}  // namespace gantry::server
