#include "server/app.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "api/router.h"
#include "auth/keys.h"
#include "core/clock.h"
#include "core/json_members.h"
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
#include "services/ecs/task_state.h"
#include "services/events/engine.h"
#include "services/events/model.h"
#include "services/events/service.h"
#include "services/scheduler/engine.h"
#include "services/scheduler/model.h"
#include "services/scheduler/service.h"
#include "schedule/timer_queue.h"
#include "server/event_delivery.h"
#include "services/logs/model.h"
#include "services/ec2/network.h"
#include "services/logs/service.h"
#include "services/logs/sink.h"
#include "services/iam/access.h"
#include "services/iam/sessions.h"
#include "services/iam/service.h"
#include "services/lambda/model.h"
#include "services/lambda/service.h"
#include "lambda/sandbox_pool.h"
#include "services/sts/service.h"
#include "store/database.h"
#include "runtime/os.h"
#include "supervisor/supervisor.h"

namespace gantry::server {

namespace json = boost::json;

namespace {

Result<std::pair<std::string, uint16_t>> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    return make_error(ErrorKind::kInternal, "--listen must be HOST:PORT, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    return make_error(ErrorKind::kInternal, "--listen has an invalid port: '" + listen + "'");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

http::Response json_reply(int status, const json::object& body) {
  http::Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json");
  r.body = json::serialize(body);
  return r;
}

// GetFunction's Code.Location: the deployment package, by its unguessable code id (as AWS hands out a
// presigned URL).
http::Response code_download(const std::filesystem::path& root, std::string_view path) {
  auto name = path.substr(std::string_view("/_gantry/lambda/code/").size());
  bool ok = name.size() == 36 && name.ends_with(".zip") &&
            name.substr(0, 32).find_first_not_of("0123456789abcdef") == std::string_view::npos;
  int fd = ok ? ::open((root / std::string(name)).c_str(), O_RDONLY | O_CLOEXEC) : -1;
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    return json_reply(404, {{"error", "no such deployment package"}});
  }
  http::Response r;
  r.set_header("Content-Type", "application/zip");
  r.file = std::make_shared<http::FileBody>(fd, 0, static_cast<uint64_t>(st.st_size));
  return r;
}

// GET /_gantry/clock: the manual clock's time. POST with {"advance_seconds": N} or {"set": "<ISO-8601>"}: moves it,
// firing every schedule due up to the new time in due order before answering (deliveries may finish later).
http::Response clock_endpoint(const http::Request& req, FakeClock& clock, schedule::TimerQueue& timers) {
  if (req.method == "GET") return json_reply(200, {{"now", iso8601(clock.now())}, {"fired", 0}});
  if (req.method != "POST") return json_reply(405, {{"error", "use GET or POST"}});
  constexpr std::string_view kUsage = R"(the body must be {"advance_seconds": N} or {"set": "2027-01-31T23:59:59Z"})";
  boost::system::error_code ec;
  auto body = json::parse(req.body, ec);
  if (ec || !body.is_object()) return json_reply(400, {{"error", kUsage}});
  const auto& o = body.as_object();
  TimePoint target;
  if (auto secs = json_members::get_number(o, "advance_seconds")) {
    if (*secs < 0 || *secs > 100.0 * 365 * 86400)
      return json_reply(400, {{"error", "advance_seconds must be from 0 to 100 years; use set to go back"}});
    target = clock.now() + std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(*secs));
  } else if (auto set = json_members::get_string(o, "set")) {
    auto t = parse_iso8601(*set);
    if (!t) return json_reply(400, {{"error", "set must be an ISO-8601 UTC time such as 2027-01-31T23:59:59Z"}});
    target = *t;
  } else {
    return json_reply(400, {{"error", kUsage}});
  }
  // At most this many slots per call, so one request cannot queue deliveries without bound; the answer says
  // when the clock stopped short of the time asked for (call again to go on).
  constexpr size_t kMaxFiringsPerCall = 100000;
  size_t fired = timers.advance_to(target, kMaxFiringsPerCall);
  json::object answer{{"now", iso8601(clock.now())}, {"fired", fired}};
  if (clock.now() < target) {
    answer["complete"] = false;
    answer["message"] = "stopped after 100000 slots; POST again to go on to " + iso8601(target);
  }
  return json_reply(200, answer);
}

}  // namespace

Status run(const Config& config) {
  GANTRY_ASSIGN_OR_RETURN(auto listen, split_listen(config.listen));
  GANTRY_ASSIGN_OR_RETURN(auto data_dir_lock, DataDirLock::acquire(config.data_dir));
  // Absolute from here on: runc resolves a bundle's paths against the bundle, not our working directory.
  const std::string data_dir = std::filesystem::absolute(config.data_dir).lexically_normal().string();

  std::vector<store::Migration> migrations = ecs::sqlite_migrations();
  for (auto& m : ecr::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : ec2::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : logs::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : iam::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : lambda::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : events::sqlite_migrations()) migrations.push_back(std::move(m));
  for (auto& m : scheduler::sqlite_migrations()) migrations.push_back(std::move(m));
  GANTRY_ASSIGN_OR_RETURN(auto db, store::Database::open((std::filesystem::path(data_dir) / "gantry.db").string(),
                                                         migrations));
  // One clock for the whole server; `--clock manual` makes it one that only POST /_gantry/clock moves. Request
  // signatures are dated by clients' real clocks, so SigV4 checks them against the wall clock in any case.
  SystemClock wall_clock;
  std::unique_ptr<FakeClock> manual_clock;
  if (config.clock == "manual") {
    manual_clock = std::make_unique<FakeClock>(wall_clock.now());
    spdlog::warn("--clock manual: schedules fire only when POST /_gantry/clock moves the clock, and anyone who can "
                 "reach this port can move it (credentials' expiry follows it too): for tests and demos only");
  }
  const Clock& clock = manual_clock ? static_cast<const Clock&>(*manual_clock) : wall_clock;
  SystemRandom random;
  const auto started = std::chrono::steady_clock::now();

  // Who may call: the account root's key pair (IAM users and sessions come later).
  auth::RootCredentials root;
  if (!config.root_credentials.empty()) {
    GANTRY_ASSIGN_OR_RETURN(root, auth::parse_root_credentials(config.root_credentials));
  } else {
    GANTRY_ASSIGN_OR_RETURN(root, auth::load_or_create_root_credentials(data_dir, random));
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
  router_options.wall_clock = &wall_clock;
  api::Router router(router_options, clock, random);
  // EventBridge: rules fire on the timer queue; the engine delivers to Lambda and ECS (wired below).
  auto timers = manual_clock ? schedule::TimerQueue::manual(*manual_clock) : schedule::TimerQueue::real(wall_clock);
  auto events_store = events::make_sqlite_store(*db);
  auto engine = events::Engine::create(*events_store, *timers, clock, random);
  auto ecs_store = ecs::make_sqlite_store(*db);
  auto ec2_store = ec2::make_sqlite_store(*db);
  auto ecr_store = ecr::make_sqlite_store(*db);
  auto logs_store = logs::make_sqlite_store(*db);
  GANTRY_ASSIGN_OR_RETURN(auto blobs, image::BlobStore::open(std::filesystem::path(data_dir) / "blobs", random));
  ec2::Network network(*ec2_store);
  auto log_sink = logs::make_sink(*logs_store, clock);
  runtime::PosixOs os;
  supervisor::SupervisorOptions task_options;
  task_options.data_dir = data_dir;
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
  // Every change of a task's status goes to the default bus as an "ECS Task State Change" event.
  auto task_changed = [&](const json::object& task) {
    auto* arn_value = task.if_contains("taskArn");
    auto arn = arn_value && arn_value->is_string() ? Arn::parse(arn_value->as_string()) : std::nullopt;
    if (!arn) return;
    const Scope scope{arn->account, arn->region};
    auto now = clock.now();
    json::object event{{"version", "0"},
                       {"id", engine->new_event_id()},
                       {"detail-type", "ECS Task State Change"},
                       {"source", "aws.ecs"},
                       {"account", scope.account},
                       {"time", events::event_time(now)},
                       {"region", scope.region},
                       {"resources", json::array{*arn_value}},
                       {"detail", ecs::task_state::change_event_detail(task, now)}};
    engine->publish(scope, std::string(events::kDefaultBus), json::value(std::move(event)));
  };
  auto tasks = supervisor::Supervisor::create(
      supervisor::SupervisorDeps{os, *ecs_store, *ecr_store, *blobs, *log_sink, clock, random, role_credentials,
                                 config.auth ? execution_role : supervisor::ExecutionRoleCheckFn(), task_changed},
      task_options);
  if (auto reason = tasks->unavailable_reason(); !reason.empty())
    spdlog::warn("tasks cannot run on this host, RunTask will say so: {}", reason);
  tasks->recover();

  std::atomic<uint16_t> port{0};  // known once the server listens (--listen may ask for port 0)
  // Lambda: sandboxes reach Gantry's API through a listener inside each sandbox, served like the main one.
  http::Server* api_server = nullptr;  // set once the server exists; sandboxes start only after that
  sandbox::PoolDeps pool_deps{os,      *log_sink, *ecr_store, *blobs,  clock,        random,
                              nullptr, nullptr,   nullptr,    nullptr, "127.0.0.1", nullptr};
  pool_deps.role_credentials = [&](const Scope& scope, const std::string& role_arn,
                                   const std::string& session) -> Result<sandbox::RoleCredentials> {
    GANTRY_ASSIGN_OR_RETURN(auto s, iam::service_session(*iam_store, scope.account, role_arn, "lambda.amazonaws.com",
                                                         session, std::chrono::hours(1), clock.now(), random));
    return sandbox::RoleCredentials{s.access_key_id, s.secret, s.token, s.expires_at};
  };
  if (config.auth)
    pool_deps.role_allows = [&](const Scope& scope, const std::string& role_arn, const std::string& session,
                                std::string_view action, const std::string& resource) {
      return !access.deny_service_role(scope, role_arn, "lambda.amazonaws.com", session, action, resource, clock.now());
    };
  pool_deps.serve_api = [&api_server](int fd) -> Result<uint64_t> { return api_server->add_listener(fd); };
  pool_deps.stop_api = [&api_server](uint64_t id) { api_server->remove_listener(id); };
  pool_deps.api_host = listen.first == "0.0.0.0" || listen.first == "::" || listen.first.empty() ? "127.0.0.1"
                                                                                                 : listen.first;
  pool_deps.api_port = [&port] { return port.load(); };
  sandbox::PoolOptions pool_options;
  pool_options.data_dir = data_dir;
  pool_options.oci_runtime = config.oci_runtime;
  pool_options.pythons = config.lambda_pythons;
  pool_options.idle = std::chrono::seconds(config.lambda_idle_seconds);
  pool_options.async_retry_delay = std::chrono::seconds(config.lambda_retry_seconds);
  auto functions = sandbox::SandboxPool::create(std::move(pool_deps), pool_options);
  if (auto reason = functions->unavailable_reason(); !reason.empty())
    spdlog::warn("Lambda functions cannot run on this host, Invoke will say so: {}", reason);
  auto lambda_store = lambda::make_sqlite_store(*db);
  const auto lambda_code = std::filesystem::path(data_dir) / "lambda" / "code";

  GANTRY_RETURN_IF_ERROR(router.add_json_service(ecs::make_service(*ecs_store, network, *tasks)));
  GANTRY_RETURN_IF_ERROR(router.add_query_service(ec2::make_service(*ec2_store)));
  GANTRY_RETURN_IF_ERROR(router.add_query_service(sts::make_service(*iam_store)));
  GANTRY_RETURN_IF_ERROR(router.add_query_service(iam::make_service(*iam_store)));
  GANTRY_RETURN_IF_ERROR(router.add_json_service(ecr::make_service(*ecr_store, [&port] { return port.load(); })));
  GANTRY_RETURN_IF_ERROR(router.add_json_service(logs::make_service(*logs_store)));
  GANTRY_RETURN_IF_ERROR(router.add_rest_service(
      lambda::make_service(*lambda_store, *functions, lambda_code, [&] {
        return fmt::format("http://{}:{}", listen.first.find(':') != std::string::npos ? "[" + listen.first + "]"
                                                                                      : listen.first,
                           port.load());
      })));
  // EventBridge's deliveries: Lambda through its resource policy, ECS as the target's role through the router.
  auto role_key = [&](const Scope& scope, const std::string& role_arn,
                      const std::string& service) -> Result<SigningKey> {
    if (!config.auth) return SigningKey{root.access_key_id, root.secret, "", TimePoint::max()};
    GANTRY_ASSIGN_OR_RETURN(auto s, iam::service_session(*iam_store, scope.account, role_arn, service,
                                                         "events-" + random.hex(8), std::chrono::hours(1),
                                                         clock.now(), random));
    return SigningKey{s.access_key_id, s.secret, s.token, s.expires_at};
  };
  TargetDeliverer deliverer(DeliveryDeps{*lambda_store, *functions, lambda_code,
                                         [&router](http::Request& r) { return router.handle(r); }, role_key, clock,
                                         wall_clock});
  engine->set_deliverer(&deliverer);
  GANTRY_RETURN_IF_ERROR(router.add_json_service(events::make_service(*events_store, *engine)));
  GANTRY_RETURN_IF_ERROR(engine->load());
  // EventBridge Scheduler: schedules fire on the same timer queue and deliver through the same worker.
  auto scheduler_store = scheduler::make_sqlite_store(*db);
  auto schedules = scheduler::Engine::create(*scheduler_store, *timers, clock, random, *engine);
  // Whatever way run() ends, the timer thread and the delivery worker stop before what they call goes.
  struct StopThreads {
    schedule::TimerQueue& timers;
    events::Engine& engine;
    ~StopThreads() {
      timers.stop();
      engine.stop();
    }
  } stop_threads{*timers, *engine};
  GANTRY_RETURN_IF_ERROR(router.add_rest_service(scheduler::make_service(*scheduler_store, *schedules)));
  GANTRY_RETURN_IF_ERROR(schedules->load());
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
        auto fn = functions->stats();
        json::object lambda_info{{"sandboxes", fn.sandboxes},
                                 {"busy", fn.busy},
                                 {"queued_async", fn.queued_async},
                                 {"runtimes", json::value_from(functions->runtimes())},
                                 {"unavailable_reason", functions->unavailable_reason()}};
        auto ev = engine->stats();
        json::object events_info{{"rules", ev.rules},           {"scheduled", ev.scheduled},
                                 {"matched", ev.matched},       {"delivered", ev.delivered},
                                 {"failed", ev.failed},         {"dropped", ev.dropped},
                                 {"retries_pending", ev.retries_pending}, {"queued", ev.queued},
                                 {"firings", ev.firings},       {"late_p50_us", ev.late_p50_us},
                                 {"late_p99_us", ev.late_p99_us}, {"late_max_us", ev.late_max_us},
                                 {"clock", manual_clock ? "manual" : "real"}};
        auto sc = schedules->stats();
        json::object scheduler_info{{"schedules", sc.schedules},     {"pending", sc.pending},
                                    {"invocations", sc.invocations}, {"completed", sc.completed},
                                    {"deleted", sc.deleted}};
        return json_reply(200, {{"status", "ok"},
                                {"version", GANTRY_VERSION},
                                {"uptime_seconds", uptime},
                                {"tasks", std::move(task_info)},
                                {"lambda", std::move(lambda_info)},
                                {"events", std::move(events_info)},
                                {"scheduler", std::move(scheduler_info)}});
      }
      if (path == "/_gantry/reset" && req.method == "POST" && enable_reset) {
        tasks->stop_all_for_reset();
        functions->stop_all_for_reset();
        auto st = database->wipe();
        iam_store->touch();  // the IAM tables changed under the authorizer's caches
        engine->clear();
        schedules->clear();
        deliverer.clear();
        if (st) st = blobs->clear();
        std::error_code ec;
        std::filesystem::remove_all(lambda_code, ec);  // the deployment packages of the wiped functions
        if (!st) return json_reply(500, {{"error", st.error().message}});
        return json_reply(200, {{"reset", true}});
      }
      if (path.starts_with("/_gantry/lambda/code/") && req.method == "GET") return code_download(lambda_code, path);
      if (path == "/_gantry/clock" && manual_clock) return clock_endpoint(req, *manual_clock, *timers);
      return json_reply(404, {{"error", "no such Gantry endpoint: " + std::string(path)}});
    }
    if (registry::Registry::owns(path)) return registry.handle(req);
    return router.handle(req);
  }, [&](http::Request& req) -> http::HeadDecision {
    // The registry decides how its bodies are read (blob uploads stream); everything else is read whole.
    if (registry::Registry::owns(req.path())) return registry.head(req);
    // CreateFunction and UpdateFunctionCode carry the deployment package (up to 50 MB, base64 in JSON):
    // Lambda's own request limit for them.
    if ((req.method == "POST" && req.path() == "/2015-03-31/functions") ||
        (req.method == "PUT" && req.path().starts_with("/2015-03-31/functions/") && req.path().ends_with("/code")))
      return http::BodyLimit{70167211};
    return std::monostate{};
  });
  GANTRY_RETURN_IF_ERROR(server.start());
  api_server = &server;
  port = server.port();
  spdlog::info("gantry {} listening on {}:{} (data dir {}, region {}, account {})", GANTRY_VERSION, listen.first,
               server.port(), data_dir, config.region, config.account_id);
  if (enable_reset) spdlog::warn("POST /_gantry/reset is enabled: anyone who can reach this port can wipe all state");
  server.run_until_signal();
  timers->stop();
  engine->stop();
  functions->shutdown();  // before the server goes: in-flight invocations answer through its connections
  spdlog::info("gantry stopped");
  return {};
}

}  // namespace gantry::server
