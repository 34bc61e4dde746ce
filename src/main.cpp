// gantry: serverless containers on your own machines.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "server/app.h"
#include "server/image_load.h"

int main(int argc, char** argv) {
  CLI::App app{"Gantry: the AWS APIs of ECS (Fargate), ECR, Lambda, EventBridge and friends, running for real"};
  app.set_version_flag("--version", std::string("gantry ") + GANTRY_VERSION);
  app.require_subcommand(1);

  gantry::server::Config config;
  auto* server = app.add_subcommand("server", "Run the Gantry server (every service on one port)");
  server->add_option("--listen", config.listen, "HOST:PORT to listen on (port 0 picks a free one)")
      ->envname("GANTRY_LISTEN")
      ->capture_default_str();
  server->add_option("--data-dir", config.data_dir, "Directory of the embedded store (created if missing)")
      ->envname("GANTRY_DATA_DIR")
      ->capture_default_str();
  server->add_option("--region", config.region, "Region for requests that do not name one")
      ->envname("GANTRY_REGION")
      ->capture_default_str();
  server->add_option("--account-id", config.account_id, "The 12-digit AWS account id resources belong to")
      ->envname("GANTRY_ACCOUNT_ID")
      ->capture_default_str()
      ->check([](const std::string& s) -> std::string {
        if (s.size() != 12 || s.find_first_not_of("0123456789") != std::string::npos) return "must be 12 digits";
        return {};
      });
  server->add_option("--log-level", config.log_level, "trace, debug, info, warn, error or off")
      ->envname("GANTRY_LOG_LEVEL")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  server->add_option("--threads", config.threads, "I/O threads")->envname("GANTRY_THREADS")->capture_default_str()
      ->check(CLI::Range(1, 64));
  server->add_option("--oci-runtime", config.oci_runtime, "OCI runtime CLI that runs task containers (path or name)")
      ->envname("GANTRY_OCI_RUNTIME")
      ->capture_default_str();
  server->add_option("--capacity-cpu", config.capacity_cpu,
                     "ECS cpu units the node offers to tasks (1024 = 1 vCPU); default 1024 per CPU")
      ->envname("GANTRY_CAPACITY_CPU");
  server->add_option("--capacity-memory", config.capacity_memory,
                     "MiB of memory the node offers to tasks; default the host's memory")
      ->envname("GANTRY_CAPACITY_MEMORY");
  server->add_option("--root-credentials", config.root_credentials,
                     "ACCESS_KEY_ID:SECRET of the account root (default: DATA_DIR/credentials, made on first start)")
      ->envname("GANTRY_ROOT_CREDENTIALS");
  server->add_option("--lambda-python", config.lambda_pythons,
                     "A Python 3 interpreter Lambda functions run on (path or name in PATH); its version is a "
                     "runtime Gantry offers, e.g. python3.11. Repeat it for more versions")
      ->envname("GANTRY_LAMBDA_PYTHON")
      ->capture_default_str();
  server->add_option("--lambda-idle-seconds", config.lambda_idle_seconds,
                     "How long an idle Lambda sandbox stays warm for the next invocation")
      ->envname("GANTRY_LAMBDA_IDLE_SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  server->add_option("--lambda-retry-seconds", config.lambda_retry_seconds,
                     "Delay before the first retry of a failed asynchronous invocation (Lambda: 60; the second "
                     "waits twice as long)")
      ->envname("GANTRY_LAMBDA_RETRY_SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  std::string auth_mode = "on";
  server->add_option("--auth", auth_mode, "on: verify every request's SigV4 signature; off: accept any signer")
      ->envname("GANTRY_AUTH")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  server->add_option("--clock", config.clock,
                     "real: schedules fire on the wall clock; manual (tests and demos): the server's clock starts at "
                     "the real time and moves only on POST /_gantry/clock, firing every schedule due up to the new "
                     "time at once")
      ->envname("GANTRY_CLOCK")
      ->capture_default_str()
      ->check(CLI::IsMember({"real", "manual"}));
  server->add_flag("--enable-reset", config.enable_reset,
                   "Serve POST /_gantry/reset, which wipes all state (for test suites)")
      ->envname("GANTRY_ENABLE_RESET");

  gantry::server::ImageLoadOptions load;
  auto* image = app.add_subcommand("image", "Work with images in the data directory");
  image->require_subcommand(1);
  auto* image_load = image->add_subcommand(
      "load", "Import a `docker save` archive or an OCI layout tarball into an ECR repository (offline: the "
              "server must not be running on the data dir)");
  image_load->add_option("file", load.file, "The archive")->required()->check(CLI::ExistingFile);
  image_load->add_option("--repository", load.repository, "ECR repository name")->required();
  image_load->add_option("--tag", load.tag, "Tag the image(s) with this instead of the archive's own tags");
  image_load->add_flag("--create-repository", load.create_repository, "Create the repository when missing");
  image_load->add_option("--data-dir", load.data_dir, "Data directory of the server")
      ->envname("GANTRY_DATA_DIR")
      ->capture_default_str();
  image_load->add_option("--region", load.region, "Region of the repository")->envname("GANTRY_REGION")
      ->capture_default_str();
  image_load->add_option("--account-id", load.account_id, "Account of the repository")->envname("GANTRY_ACCOUNT_ID")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_color_mt("gantry");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  if (image_load->parsed()) {
    auto st = gantry::server::load_image(load);
    if (!st) {
      spdlog::error("image load: {}", st.error().message);
      return 1;
    }
    return 0;
  }
  if (server->parsed()) {
    config.auth = auth_mode == "on";
    auto st = gantry::server::run(config);
    if (!st) {
      spdlog::critical("{}", st.error().message);
      return 1;
    }
  }
  return 0;
}
