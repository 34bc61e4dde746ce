// PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget. Gantry delivers to Lambda functions
// and to ECS clusters (RunTask); any other kind of target is refused by name, never accepted and dropped.
#include <fmt/format.h>

#include <set>

#include "events/transform.h"
#include "core/pagination.h"
#include "services/events/handlers.h"

namespace gantry::events::detail {

namespace {

constexpr size_t kMaxTargetsPerRule = 5;

Error unsupported(std::string message) { return make_error(ErrorKind::kUnsupportedOperation, std::move(message)); }

// Checks one target as PutTargets does; returns the document to store.
Result<Target> check_target(const Ctx& ctx, const json::object& in) {
  Target t;
  t.id = get_string(in, "Id").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name(t.id, "id", 64));
  t.arn = get_string(in, "Arn").value_or("");
  auto arn = Arn::parse(t.arn);
  if (!arn)
    return validation(fmt::format("Parameter {} is not valid. Reason: Provided Arn is not in correct format.", t.arn));
  const bool lambda = arn->service == "lambda" && arn->resource.starts_with("function:");
  const bool ecs = arn->service == "ecs" && arn->resource.starts_with("cluster/");
  if (!lambda && !ecs)
    return unsupported(fmt::format("Target {}: Gantry delivers events to Lambda functions and ECS clusters only, not "
                                   "to {}",
                                   t.id, t.arn));
  if (arn->account != ctx.scope.account || arn->region != ctx.scope.region)
    return validation(fmt::format("Target {}: {} is not in this account and region ({} {}); cross-account targets "
                                  "are not supported by Gantry",
                                  t.id, t.arn, ctx.scope.account, ctx.scope.region));
  for (const char* member : {"SqsParameters", "HttpParameters", "KinesisParameters", "RunCommandParameters",
                             "BatchParameters", "SageMakerPipelineParameters", "RedshiftDataParameters",
                             "AppSyncParameters"})
    if (in.contains(member))
      return validation(
          fmt::format("Target {}: {} do not apply to a {} target.", t.id, member, lambda ? "Lambda" : "ECS"));
  if (in.contains("DeadLetterConfig"))
    return unsupported(fmt::format("Target {}: DeadLetterConfig needs an SQS queue, and Gantry has no SQS", t.id));
  GANTRY_ASSIGN_OR_RETURN(auto how, target_input(in, t.id));
  if (how.input) {
    boost::system::error_code ec;
    json::parse(*how.input, ec);
    if (ec) return validation(fmt::format("Target {}: Input is not valid JSON text: {}", t.id, ec.message()));
  }
  auto role = get_string(in, "RoleArn");
  if (role) {
    auto r = Arn::parse(*role);
    if (!r || r->service != "iam" || !r->resource.starts_with("role/"))
      return validation(fmt::format("Provided role '{}' is not a valid IAM role ARN.", *role));
    if (auto denied = ctx.denied("iam:PassRole", *role, {{"iam:passedtoservice", "events.amazonaws.com"}}))
      return make_error(ErrorKind::kAccessDenied, *denied);
  }
  auto* ecs_params = in.if_contains("EcsParameters");
  if (lambda && ecs_params) return validation(fmt::format("Target {}: EcsParameters apply to ECS targets only.", t.id));
  if (ecs) {
    if (ecs_params == nullptr || !ecs_params->is_object())
      return validation(fmt::format("Target {}: EcsParameters must be specified for an ECS target.", t.id));
    if (!role) return validation(fmt::format("RoleArn is required for target {}.", t.id));
    const auto& p = ecs_params->as_object();
    if (auto lt = get_string(p, "LaunchType"); lt && *lt != "FARGATE")
      return unsupported(fmt::format("Target {}: LaunchType {}: Gantry runs ECS tasks on Fargate only", t.id, *lt));
    for (const char* member : {"CapacityProviderStrategy", "PlacementConstraints", "PlacementStrategy"})
      if (auto* v = p.if_contains(member); v && v->is_array() && !v->as_array().empty())
        return unsupported(fmt::format("Target {}: {} is not supported by Gantry (Fargate only, no placement)", t.id,
                                       member));
  }
  t.doc = in;
  return t;
}

Result<std::pair<std::string, std::string>> rule_of(const Ctx& ctx, const json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto bus, bus_name(ctx, get_string(in, "EventBusName")));
  auto rule = get_string(in, "Rule").value_or("");
  GANTRY_RETURN_IF_ERROR(check_name(rule, "rule", 64));
  return std::make_pair(bus, rule);
}

Out put_targets(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, rule_of(ctx, in));
  std::vector<Target> targets;
  std::set<std::string> ids;
  if (auto* list = in.if_contains("Targets"); list && list->is_array()) {
    for (const auto& v : list->as_array()) {
      if (!v.is_object()) continue;
      GANTRY_ASSIGN_OR_RETURN(auto t, check_target(ctx, v.as_object()));
      if (!ids.insert(t.id).second) return validation(fmt::format("Target id {} appears more than once.", t.id));
      targets.push_back(std::move(t));
    }
  }
  auto out = d.store.write([&](EventsTables& tables) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(tables, ctx.scope, ref.first));
    if (!tables.find_rule(ctx.scope, ref.first, ref.second)) return rule_not_found(ref.second, ref.first);
    std::set<std::string> all;
    for (const auto& t : tables.targets(ctx.scope, ref.first, ref.second)) all.insert(t.id);
    for (const auto& t : targets) all.insert(t.id);
    if (all.size() > kMaxTargetsPerRule)
      return make_error(ErrorKind::kEventsLimitExceeded,
                        fmt::format("The requested resource exceeds the maximum number allowed: a rule has at most {} "
                                    "targets.",
                                    kMaxTargetsPerRule));
    for (const auto& t : targets) tables.put_target(ctx.scope, ref.first, ref.second, t);
    return json::object{{"FailedEntryCount", 0}, {"FailedEntries", json::array{}}};
  });
  if (out) d.engine.refresh(ctx.scope, ref.first, ref.second);
  return out;
}

Out remove_targets(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, rule_of(ctx, in));
  std::vector<std::string> ids;
  if (auto* list = in.if_contains("Ids"); list && list->is_array())
    for (const auto& v : list->as_array())
      if (v.is_string()) ids.emplace_back(v.as_string());
  auto out = d.store.write([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(t, ctx.scope, ref.first));
    if (!t.find_rule(ctx.scope, ref.first, ref.second)) return rule_not_found(ref.second, ref.first);
    for (const auto& id : ids) t.delete_target(ctx.scope, ref.first, ref.second, id);
    return json::object{{"FailedEntryCount", 0}, {"FailedEntries", json::array{}}};
  });
  if (out) d.engine.refresh(ctx.scope, ref.first, ref.second);
  return out;
}

Out list_targets_by_rule(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, rule_of(ctx, in));
  const std::string listing = "events:ListTargetsByRule:" + ref.first + "/" + ref.second;
  GANTRY_ASSIGN_OR_RETURN(size_t start, page_start(in, listing));
  size_t limit = static_cast<size_t>(get_int(in, "Limit").value_or(100));
  return d.store.read([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(t, ctx.scope, ref.first));
    if (!t.find_rule(ctx.scope, ref.first, ref.second)) return rule_not_found(ref.second, ref.first);
    auto all = t.targets(ctx.scope, ref.first, ref.second);
    json::array list;
    for (size_t i = start; i < all.size() && i < start + limit; ++i) list.push_back(all[i].doc);
    json::object out{{"Targets", std::move(list)}};
    if (start + limit < all.size()) out["NextToken"] = page_token(listing, start + limit);
    return out;
  });
}

Out list_rule_names_by_target(const Deps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto bus, bus_name(ctx, get_string(in, "EventBusName")));
  auto arn = get_string(in, "TargetArn").value_or("");
  const std::string listing = "events:ListRuleNamesByTarget:" + bus + ":" + arn;
  std::string after;
  if (auto token = get_string(in, "NextToken")) {
    auto last = decode_page_token(listing, *token);
    if (!last) return validation("The NextToken provided is invalid.");
    after = *last;
  }
  int limit = static_cast<int>(get_int(in, "Limit").value_or(100));
  return d.store.read([&](EventsTables& t) -> Out {
    GANTRY_RETURN_IF_ERROR(require_bus(t, ctx.scope, bus));
    auto names = t.rules_with_target(ctx.scope, bus, arn, after, limit + 1);
    json::array list;
    for (size_t i = 0; i < names.size() && i < static_cast<size_t>(limit); ++i) list.push_back(json::value(names[i]));
    json::object out{{"RuleNames", std::move(list)}};
    if (names.size() > static_cast<size_t>(limit)) out["NextToken"] = encode_page_token(listing, names[limit - 1]);
    return out;
  });
}

}  // namespace

void add_target_operations(api::JsonService& s, const DepsPtr& d) {
  s.operations["PutTargets"] = [d](Ctx& ctx, json::object& in) { return put_targets(*d, ctx, in); };
  s.operations["RemoveTargets"] = [d](Ctx& ctx, json::object& in) { return remove_targets(*d, ctx, in); };
  s.operations["ListTargetsByRule"] = [d](Ctx& ctx, json::object& in) { return list_targets_by_rule(*d, ctx, in); };
  s.operations["ListRuleNamesByTarget"] = [d](Ctx& ctx, json::object& in) {
    return list_rule_names_by_target(*d, ctx, in);
  };
}

}  // namespace gantry::events::detail
