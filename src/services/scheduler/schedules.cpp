// CreateSchedule, GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules. A schedule is checked whole
// before anything is stored: its expression, time zone, dates, time window and target. Gantry delivers to
// Lambda functions and ECS clusters (RunTask); any other target, and what needs a service Gantry does not
// have (a dead-letter queue, a KMS key), is refused by name, never accepted and dropped.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/pagination.h"
#include "schedule/expression.h"
#include "schedule/timezone.h"
#include "services/scheduler/handlers.h"

namespace gantry::scheduler::detail {

namespace {

constexpr std::string_view kRolePattern = "^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$";
constexpr std::string_view kTargets =
    "Lambda functions (arn:aws:lambda:REGION:ACCOUNT:function:NAME) and ECS clusters "
    "(arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)";
// RetryPolicy when a target names none, or names one member only: AWS's defaults (24 hours, 185 retries).
constexpr int64_t kDefaultEventAge = 86400;
constexpr int64_t kDefaultRetries = 185;
// A StartDate of a recurring schedule may be at most this far in the past.
constexpr auto kStartDateGrace = std::chrono::minutes(5);
// Timestamps Gantry takes: 1970 up to the end of the last year a cron may name (2199-12-31T23:59:59Z).
constexpr double kMaxEpochSeconds =
    std::chrono::duration<double>(
        std::chrono::sys_days{std::chrono::year{schedule::kMaxYear + 1} / 1 / 1}.time_since_epoch())
        .count() -
    1;
static_assert(kMaxEpochSeconds == 7258118399.0);

bool word_chars(std::string_view s, std::string_view extra) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           extra.find(c) != std::string_view::npos;
  });
}

// ^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@\/-]+$
bool valid_role_arn(std::string_view s) {
  if (!s.starts_with("arn:aws")) return false;
  s.remove_prefix(7);
  if (s.starts_with("-")) {
    size_t n = 1;
    while (n < s.size() && s[n] >= 'a' && s[n] <= 'z') ++n;
    if (n == 1) return false;
    s.remove_prefix(n);
  }
  if (!s.starts_with(":iam::")) return false;
  s.remove_prefix(6);
  if (s.size() < 12 || !std::all_of(s.begin(), s.begin() + 12, [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  s.remove_prefix(12);
  if (!s.starts_with(":role/")) return false;
  return word_chars(s.substr(6), "_+=,.@/-");
}

// A timestamp member (epoch seconds) Gantry can hold, in milliseconds.
Result<std::optional<int64_t>> date_member(const json::object& in, std::string_view member) {
  if (!in.contains(member)) return std::optional<int64_t>();
  auto v = get_number(in, member);
  if (!v || !std::isfinite(*v) || *v < 0 || *v > kMaxEpochSeconds)
    return validation(fmt::format("Invalid {}: a date from 1970 to 2199 (epoch seconds) is required.", member));
  return std::optional<int64_t>(static_cast<int64_t>(std::llround(*v * 1000.0)));
}

// The target as GetSchedule shows it, RetryPolicy filled in. Gantry delivers to Lambda function and ECS cluster
// ARNs of the caller's account and region; the role must be one the caller may pass to Scheduler.
Result<json::object> check_target(const Ctx& ctx, const json::object& in) {
  const std::string arn_text = get_string(in, "Arn").value_or("");
  auto arn = Arn::parse(arn_text);
  if (arn && arn->service == "scheduler" && arn->resource.starts_with("aws-sdk:"))
    return unsupported(fmt::format("Target {}: universal targets (aws-sdk) are not supported by Gantry, which "
                                   "delivers to {} only",
                                   arn_text, kTargets));
  if (!arn) return validation(fmt::format("Invalid target ARN {}: it is not an ARN.", arn_text.substr(0, 256)));
  const bool lambda = arn->service == "lambda" && arn->resource.starts_with("function:");
  const bool ecs = arn->service == "ecs" && arn->resource.starts_with("cluster/");
  if (!lambda && !ecs)
    return unsupported(fmt::format("Target {}: Gantry's scheduler delivers to {} only", arn_text.substr(0, 256),
                                   kTargets));
  if (lambda) {
    // function:NAME or function:NAME:QUALIFIER
    std::string_view rest = std::string_view(arn->resource).substr(9);
    auto colon = rest.find(':');
    std::string_view fn = rest.substr(0, colon);
    std::string_view qualifier = colon == std::string_view::npos ? std::string_view("$LATEST") : rest.substr(colon + 1);
    if (fn.size() > 64 || !word_chars(fn, "-_") ||
        !(qualifier == "$LATEST" || (qualifier.size() <= 128 && word_chars(qualifier, "-_"))))
      return validation(fmt::format("Invalid target ARN {}: a Lambda function ARN is "
                                    "arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].",
                                    arn_text.substr(0, 256)));
  } else if (std::string_view cluster = std::string_view(arn->resource).substr(8);
             cluster.size() > 255 || !word_chars(cluster, "-_")) {
    return validation(fmt::format("Invalid target ARN {}: an ECS cluster ARN is arn:aws:ecs:REGION:ACCOUNT:cluster/NAME.",
                                  arn_text.substr(0, 256)));
  }
  if (arn->account != ctx.scope.account || arn->region != ctx.scope.region)
    return validation(fmt::format("Target {} is not in this account and region ({} {}); cross-account and "
                                  "cross-region targets are not supported by Gantry",
                                  arn_text, ctx.scope.account, ctx.scope.region));
  if (in.contains("DeadLetterConfig"))
    return unsupported("Target DeadLetterConfig: a dead-letter queue is an SQS queue, and Gantry has no SQS");
  for (auto [member, what] : {std::pair{"SqsParameters", "Amazon SQS"}, std::pair{"KinesisParameters", "Kinesis"},
                              std::pair{"EventBridgeParameters", "EventBridge event bus"},
                              std::pair{"SageMakerPipelineParameters", "SageMaker pipeline"}})
    if (in.contains(member))
      return unsupported(fmt::format("Target {}: {} are for {} targets, and Gantry's scheduler delivers to {} only",
                                     member, member, what, kTargets));
  if (auto input = get_string(in, "Input"); input && lambda) {
    boost::system::error_code ec;
    json::parse(*input, ec);
    if (ec)
      return validation(fmt::format("Target Input must be well-formed JSON for a Lambda function target: {}",
                                    ec.message()));
  }
  const auto* ecs_params = get_object(in, "EcsParameters");
  if (lambda && in.contains("EcsParameters"))
    return validation(fmt::format("Target EcsParameters apply to ECS cluster targets only, not to {}.", arn_text));
  if (ecs) {
    if (ecs_params == nullptr)
      return validation(fmt::format("Target EcsParameters (with TaskDefinitionArn) must be specified for the ECS "
                                    "cluster target {}.",
                                    arn_text));
    const auto& p = *ecs_params;
    auto task_definition = get_string(p, "TaskDefinitionArn").value_or("");
    if (task_definition.starts_with("arn:")) {
      auto td = Arn::parse(task_definition);
      if (!td || td->service != "ecs" || !td->resource.starts_with("task-definition/"))
        return validation(fmt::format("Invalid TaskDefinitionArn {}: a task definition ARN is "
                                      "arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.",
                                      task_definition.substr(0, 256)));
    } else if (!word_chars(task_definition, "-_:")) {
      return validation(fmt::format("Invalid TaskDefinitionArn {}: name a task definition by its ARN.",
                                    task_definition.substr(0, 256)));
    }
    if (auto launch = get_string(p, "LaunchType"); launch && *launch != "FARGATE")
      return unsupported(fmt::format("Target EcsParameters LaunchType {}: Gantry runs ECS tasks on Fargate only",
                                     *launch));
    for (const char* member : {"CapacityProviderStrategy", "PlacementConstraints", "PlacementStrategy"})
      if (auto* v = p.if_contains(member); v && v->is_array() && !v->as_array().empty())
        return unsupported(fmt::format("Target EcsParameters {}: not supported by Gantry, which runs ECS tasks on "
                                       "Fargate only, with no placement",
                                       member));
  }
  const std::string role = get_string(in, "RoleArn").value_or("");
  if (!valid_role_arn(role)) return pattern_error(role, "target.roleArn", kRolePattern);

  json::object out = in;
  json::object retry;
  if (const auto* given = get_object(in, "RetryPolicy")) retry = *given;
  if (!retry.contains("MaximumEventAgeInSeconds")) retry["MaximumEventAgeInSeconds"] = kDefaultEventAge;
  if (!retry.contains("MaximumRetryAttempts")) retry["MaximumRetryAttempts"] = kDefaultRetries;
  out["RetryPolicy"] = std::move(retry);
  return out;
}

// Everything CreateSchedule and UpdateSchedule take, checked; the GetSchedule document without the members
// naming the schedule (Arn, Name, GroupName) and its dates (CreationDate, LastModificationDate). Asks IAM about
// passing the target's role: call it outside any store transaction.
Result<json::object> schedule_doc(const Ctx& ctx, const json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_client_token(in));
  if (in.contains("KmsKeyArn"))
    return unsupported("KmsKeyArn: Gantry has no KMS; schedules are stored unencrypted in the data dir");

  const auto expression_text = get_string(in, "ScheduleExpression").value_or("");
  GANTRY_ASSIGN_OR_RETURN(auto expression, parse_schedule_expression(expression_text));
  const bool recurring = std::holds_alternative<schedule::Expression>(expression.what);

  const auto zone = get_string(in, "ScheduleExpressionTimezone").value_or("UTC");
  if (zone != "UTC") GANTRY_RETURN_IF_ERROR(schedule::TimeZone::load(zone));

  GANTRY_ASSIGN_OR_RETURN(auto start, date_member(in, "StartDate"));
  GANTRY_ASSIGN_OR_RETURN(auto end, date_member(in, "EndDate"));
  // Scheduler ignores the dates of one-time schedules; those of recurring ones must make sense.
  if (recurring) {
    const int64_t now = store::to_ms(ctx.now);
    if (start && *start < now - std::chrono::duration_cast<std::chrono::milliseconds>(kStartDateGrace).count())
      return validation("The StartDate you specify cannot be earlier than 5 minutes ago.");
    if (end && *end < now) return validation("The EndDate you specify cannot be earlier than the current time.");
    if (start && end && *end <= *start)
      return validation("The EndDate you specify must be later than the StartDate you specify.");
  }

  const auto* window = get_object(in, "FlexibleTimeWindow");
  if (window == nullptr)
    return validation("1 validation error detected: Value null at 'flexibleTimeWindow' failed to satisfy "
                      "constraint: Member must not be null");
  const auto mode = get_string(*window, "Mode").value_or("");
  const bool has_max = window->contains("MaximumWindowInMinutes");
  if (mode == "FLEXIBLE" && !has_max)
    return validation("FlexibleTimeWindow MaximumWindowInMinutes must be specified when Mode is FLEXIBLE.");
  if (mode == "OFF" && has_max)
    return validation("FlexibleTimeWindow MaximumWindowInMinutes can only be specified when Mode is FLEXIBLE.");

  const auto* target_in = get_object(in, "Target");
  if (target_in == nullptr)
    return validation("1 validation error detected: Value null at 'target' failed to satisfy constraint: Member "
                      "must not be null");
  GANTRY_ASSIGN_OR_RETURN(auto target, check_target(ctx, *target_in));
  // Handing the role to Scheduler is iam:PassRole on it, as AWS checks at CreateSchedule and UpdateSchedule.
  const std::string role(target.at("RoleArn").as_string());
  if (auto denied = ctx.denied("iam:PassRole", role, {{"iam:passedtoservice", "scheduler.amazonaws.com"}}))
    return make_error(ErrorKind::kAccessDenied403, *denied);

  json::object doc;
  doc["ScheduleExpression"] = expression_text;
  doc["ScheduleExpressionTimezone"] = zone;
  if (auto description = get_string(in, "Description"); description && !description->empty())
    doc["Description"] = *description;
  if (start) doc["StartDate"] = static_cast<double>(*start) / 1000.0;
  if (end) doc["EndDate"] = static_cast<double>(*end) / 1000.0;
  doc["State"] = get_string(in, "State").value_or("ENABLED");
  doc["FlexibleTimeWindow"] = *window;
  doc["Target"] = std::move(target);
  doc["ActionAfterCompletion"] = get_string(in, "ActionAfterCompletion").value_or("NONE");
  return doc;
}

struct Named {
  std::string group;
  std::string name;
};

Result<Named> schedule_named(const json::object& in) {
  auto name = get_string(in, "Name").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name(name, "name"));
  GANTRY_ASSIGN_OR_RETURN(auto group, group_of(in));
  return Named{group, name};
}

// The stored schedule: `doc` with the members naming it and its dates.
Schedule make_schedule(const Ctx& ctx, const Named& n, json::object doc, int64_t created_ms) {
  Schedule s;
  s.account = ctx.scope.account;
  s.region = ctx.scope.region;
  s.group = n.group;
  s.name = n.name;
  s.created_ms = created_ms;
  json::object full{{"Arn", schedule_arn(ctx.scope, n.group, n.name)}, {"Name", n.name}, {"GroupName", n.group}};
  for (auto& [k, v] : doc) full[k] = std::move(v);
  full["CreationDate"] = static_cast<double>(created_ms) / 1000.0;
  full["LastModificationDate"] = epoch_seconds(ctx.now);
  s.doc = std::move(full);
  return s;
}

Result<api::RestResponse> create_schedule(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto n, schedule_named(in));
  GANTRY_ASSIGN_OR_RETURN(auto doc, schedule_doc(ctx, in));
  const auto arn = schedule_arn(ctx.scope, n.group, n.name);
  auto out = d.store.write([&](SchedulerTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_group(t, ctx.scope, n.group));
    if (t.find_schedule(ctx.scope, n.group, n.name)) return conflict(fmt::format("Schedule {} already exists.", n.name));
    t.put_schedule(make_schedule(ctx, n, doc, store::to_ms(ctx.now)));
    return json::object{{"ScheduleArn", arn}};
  });
  if (out) d.runner.refresh(ctx.scope, n.group, n.name);
  return reply(std::move(out));
}

// UpdateSchedule replaces the schedule whole, as AWS documents: what the request leaves out takes its default.
Result<api::RestResponse> update_schedule(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto n, schedule_named(in));
  GANTRY_ASSIGN_OR_RETURN(auto doc, schedule_doc(ctx, in));
  const auto arn = schedule_arn(ctx.scope, n.group, n.name);
  auto out = d.store.write([&](SchedulerTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_group(t, ctx.scope, n.group));
    auto old = t.find_schedule(ctx.scope, n.group, n.name);
    if (!old) return schedule_not_found(n.name);
    t.put_schedule(make_schedule(ctx, n, doc, old->created_ms));
    return json::object{{"ScheduleArn", arn}};
  });
  if (out) d.runner.refresh(ctx.scope, n.group, n.name);
  return reply(std::move(out));
}

Result<api::RestResponse> get_schedule(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto n, schedule_named(in));
  return reply(d.store.read([&](SchedulerTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_group(t, ctx.scope, n.group));
    auto s = t.find_schedule(ctx.scope, n.group, n.name);
    if (!s) return schedule_not_found(n.name);
    return s->doc;
  }));
}

Result<api::RestResponse> delete_schedule(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto n, schedule_named(in));
  GANTRY_RETURN_IF_ERROR(check_client_token(in));
  auto out = d.store.write([&](SchedulerTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_group(t, ctx.scope, n.group));
    if (!t.find_schedule(ctx.scope, n.group, n.name)) return schedule_not_found(n.name);
    t.delete_schedule(ctx.scope, n.group, n.name);
    return json::object{};
  });
  if (out) d.runner.refresh(ctx.scope, n.group, n.name);
  return reply(std::move(out));
}

json::object summary(const Schedule& s) {
  json::object out;
  for (const char* key : {"Arn", "Name", "GroupName", "State", "CreationDate", "LastModificationDate"})
    if (auto* v = s.doc.if_contains(key)) out[key] = *v;
  json::object target;
  if (const auto* t = get_object(s.doc, "Target"))
    if (auto* arn = t->if_contains("Arn")) target["Arn"] = *arn;
  out["Target"] = std::move(target);
  return out;
}

Result<api::RestResponse> list_schedules(const Deps& d, Ctx& ctx, json::object& in) {
  ScheduleQuery q;
  if (auto group = get_string(in, "GroupName")) {
    GANTRY_RETURN_IF_ERROR(check_name(*group, "groupName"));
    q.group = *group;
  }
  if (auto prefix = get_string(in, "NamePrefix")) {
    GANTRY_RETURN_IF_ERROR(check_name(*prefix, "namePrefix"));
    q.name_prefix = *prefix;
  }
  q.state = get_string(in, "State");
  const int limit = page_size(in);
  const std::string listing =
      fmt::format("scheduler:ListSchedules:{}:{}:{}", q.group.value_or("*"), q.name_prefix, q.state.value_or("*"));
  GANTRY_ASSIGN_OR_RETURN(auto after, page_after(in, listing));
  if (!after.empty()) {
    auto slash = after.find('/');
    if (slash == std::string::npos) return validation("The NextToken provided is invalid.");
    q.after_group = after.substr(0, slash);
    q.after_name = after.substr(slash + 1);
  }
  q.limit = limit + 1;
  return reply(d.store.read([&](SchedulerTables& t) -> Out {
    if (q.group) GANTRY_RETURN_IF_ERROR(require_group(t, ctx.scope, *q.group));
    auto found = t.list_schedules(ctx.scope, q);
    json::array list;
    for (size_t i = 0; i < found.size() && i < static_cast<size_t>(limit); ++i) list.push_back(summary(found[i]));
    json::object out{{"Schedules", std::move(list)}};
    if (found.size() > static_cast<size_t>(limit)) {
      const auto& last = found[static_cast<size_t>(limit) - 1];
      out["NextToken"] = encode_page_token(listing, last.group + "/" + last.name);
    }
    return out;
  }));
}

}  // namespace

void add_schedule_operations(api::RestService& s, const DepsPtr& d) {
  auto bind = [&](const char* op, auto fn) {
    s.operations[op] = [d, fn](Ctx& ctx, json::object& in) { return fn(*d, ctx, in); };
  };
  bind("CreateSchedule", create_schedule);
  bind("GetSchedule", get_schedule);
  bind("UpdateSchedule", update_schedule);
  bind("DeleteSchedule", delete_schedule);
  bind("ListSchedules", list_schedules);
}

}  // namespace gantry::scheduler::detail
