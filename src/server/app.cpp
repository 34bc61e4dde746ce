#include "server/app.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>

#include "api/router.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/random.h"
#include "http/server.h"
#include "image/blob_store.h"
#include "registry/registry.h"
#include "server/data_dir.h"
#include "services/ec2/model.h"
#include "services/ec2/service.h"
#include "services/ecr/model.h"
#include "services/ecr/service.h"
#include "services/ecs/model.h"
#include "services/ecs/service.h"
#include "services/logs/model.h"
#include "services/ec2/network.h"
#include "services/logs/service.h"
#include "services/logs/sink.h"
#include "services/iam/access.h"
#include "services/iam/sessions.h"
#include "services/iam/service.h"
#include "services/sts/service.h"
#include "store/database.h"
#include "runtime/os.h"
#include "supervisor/supervisor.h"

namespace gantry::server {

namespace json = boost::json;

namespace {

Result<std::pair<std::string, uint16_t>> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return make_error(ErrorKind::kInternal, "--listen must be HOST:PORT, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) return make_error(ErrorKind::kInternal, "--listen has an invalid port: '" + listen + "'");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

http::Response json_reply(int status, const json::object& body) {
  http::Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json");
  r.body = json::serialize(body);
  return r;
}

}  // namespace

Status run(const Config& config) {
  GANTRY_ASSIGN_OR_RETURN(auto listen, split_listen(config.listen));
  GANTRY_ASSIGN_OR_RETURN(auto data_dir_lock, DataDirLock::acquire(config.data_dir));

  std::vector<store::Migration> migrations = ecs::sqlite_migrations();
  for (auto& m : ecr::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : ec2::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : logs::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : iam::sqlite_migrations()) migrations.push_back(std::move(m));
  GANTRY_ASSIGN_OR_RETURN(auto db, store::Database::open((std::filesystem::path(config.data_dir) / "gantry.db").string(),
                                                         migrations));
  SystemClock clock;
  SystemRandom random;
  const auto started = std::chrono::steady_clock::now();

  // Who may call: the account root's key pair (IAM users and sessions come later).
  auth::RootCredentials root;
  if (!config.root_credentials.empty()) {
    GANTRY_ASSIGN_OR_RETURN(root, auth::parse_root_credentials(config.root_credentials));
  } else {
    GANTRY_ASSIGN_OR_RETURN(root, auth::load_or_create_root_credentials(config.data_dir, random));
    spdlog::info("root credentials {} {} (access key {}; use them with AWS_SHARED_CREDENTIALS_FILE={})",
                 root.created ? "written to" : "read from", root.file.string(), root.access_key_id,
                 root.file.string());
  }
  auto iam_tables = iam::make_sqlite_store(*db);
  auto iam_store = std::make_unique<iam::CountingStore>(*iam_tables);  // every IAM change goes through it
  iam::Access access(*iam_store, auth::AccessKey{root.access_key_id, root.secret, config.account_id,
                                                 fmt::format("arn:aws:iam::{}:root", config.account_id),
                                                 config.account_id, "", std::nullopt});
  if (!config.auth)
    spdlog::warn("--auth off: signatures are NOT verified and IAM policies NOT enforced; anyone who can reach this "
                 "port can do anything. Use it for throwaway local work only");
  api::RouterOptions router_options{config.account_id, config.region, config.auth ? &access : nullptr,
                                    config.auth ? &access : nullptr};
  api::Router router(router_options, clock, random);
  auto ecs_store = ecs::make_sqlite_store(*db);
  auto ec2_store = ec2::make_sqlite_store(*db);
  auto ecr_store = ecr::make_sqlite_store(*db);
  auto logs_store = logs::make_sqlite_store(*db);
  GANTRY_ASSIGN_OR_RETURN(auto blobs, image::BlobStore::open(std::filesystem::path(config.data_dir) / "blobs", random));
  ec2::Network network(*ec2_store);
  auto log_sink = logs::make_sink(*logs_store, clock);
  runtime::PosixOs os;
  supervisor::SupervisorOptions task_options;
  task_options.data_dir = config.data_dir;
  task_options.oci_runtime = config.oci_runtime;
  task_options.capacity_cpu_units = config.capacity_cpu;
  task_options.capacity_memory_mib = config.capacity_memory;
  // Task roles: sessions of the role for ecs-tasks.amazonaws.com, an hour long, named after the task.
  auto role_credentials = [&](const Scope& scope, const std::string& role_arn,
                              const std::string& session) -> Result<supervisor::RoleCredentials> {
    GANTRY_ASSIGN_OR_RETURN(auto s, iam::service_session(*iam_store, scope.account, role_arn, "ecs-tasks.amazonaws.com",
                                                         session, std::chrono::hours(1), clock.now(), random));
    return supervisor::RoleCredentials{s.access_key_id, s.secret, s.token, s.expires_at};
  };
  // Execution roles, as ECS uses them to pull images and write logs (only when IAM is enforced).
  auto execution_role = [&](const Scope& scope, const std::string& role_arn, const std::string& session,
                            std::string_view action, const std::string& resource) {
    return access.deny_service_role(scope, role_arn, "ecs-tasks.amazonaws.com", session, action, resource,
                                    clock.now());
  };
  auto tasks = supervisor::Supervisor::create(
      supervisor::SupervisorDeps{os, *ecs_store, *ecr_store, *blobs, *log_sink, clock, random, role_credentials,
                                 config.auth ? execution_role : supervisor::ExecutionRoleCheckFn()},
      task_options);
  if (auto reason = tasks->unavailable_reason(); !reason.empty())
    spdlog::warn("tasks cannot run on this host, RunTask will say so: {}", reason);
  tasks->recover();

  GANTRY_RETURN_IF_ERROR(router.add_json_service(ecs::make_service(*ecs_store, network, *tasks)));
  GANTRY_RETURN_IF_ERROR(router.add_query_service(ec2::make_service(*ec2_store)));
  GANTRY_RETURN_IF_ERROR(router.add_query_service(sts::make_service(*iam_store)));
  GANTRY_RETURN_IF_ERROR(router.add_query_service(iam::make_service(*iam_store)));
  std::atomic<uint16_t> port{0};  // known once the server listens (--listen may ask for port 0)
  GANTRY_RETURN_IF_ERROR(router.add_json_service(ecr::make_service(*ecr_store, [&port] { return port.load(); })));
  GANTRY_RETURN_IF_ERROR(router.add_json_service(logs::make_service(*logs_store)));
  registry::Registry registry(
      registry::RegistryOptions{config.account_id, config.region, config.auth ? &access : nullptr}, *ecr_store,
      *blobs, clock);

  http::ServerOptions options;
  options.address = listen.first;
  options.port = listen.second;
  options.threads = config.threads;
  options.new_request_id = [&random] { return random.uuid4(); };
  bool enable_reset = config.enable_reset;
  auto* database = db.get();
  http::Server server(options, [&](http::Request& req) -> http::Response {
    auto path = req.path();
    if (path.starts_with("/_gantry/")) {
      if (path == "/_gantry/health" && (req.method == "GET" || req.method == "HEAD")) {
        double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto cap = tasks->capacity();
        json::object task_info{{"capacity_cpu_units", cap.cpu_units},   {"capacity_memory_mib", cap.memory_mib},
                               {"used_cpu_units", cap.used_cpu_units},   {"used_memory_mib", cap.used_memory_mib},
                               {"running", cap.running},                 {"queued", cap.queued},
                               {"unavailable_reason", tasks->unavailable_reason()}};
        return json_reply(200, {{"status", "ok"},
                                {"version", GANTRY_VERSION},
                                {"uptime_seconds", uptime},
                                {"tasks", std::move(task_info)}});
      }
      if (path == "/_gantry/reset" && req.method == "POST" && enable_reset) {
        tasks->stop_all_for_reset();
        auto st = database->wipe();
        iam_store->touch();  // the IAM tables changed under the authorizer's caches
        if (st) st = blobs->clear();
        if (!st) return json_reply(500, {{"error", st.error().message}});
        return json_reply(200, {{"reset", true}});
      }
      return json_reply(404, {{"error", "no such Gantry endpoint: " + std::string(path)}});
    }
    if (registry::Registry::owns(path)) return registry.handle(req);
    return router.handle(req);
  }, [&](http::Request& req) -> http::HeadDecision {
    // The registry decides how its bodies are read (blob uploads stream); everything else is read whole.
    if (registry::Registry::owns(req.path())) return registry.head(req);
    return std::monostate{};
  });
  GANTRY_RETURN_IF_ERROR(server.start());
  port = server.port();
  spdlog::info("gantry {} listening on {}:{} (data dir {}, region {}, account {})", GANTRY_VERSION, listen.first,
               server.port(), config.data_dir, config.region, config.account_id);
  if (enable_reset) spdlog::warn("POST /_gantry/reset is enabled: anyone who can reach this port can wipe all state");
  server.run_until_signal();
  spdlog::info("gantry stopped");
  return {};
}

}  // namespace gantry::server
