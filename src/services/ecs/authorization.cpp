// The resource each ECS operation is authorized on, as AWS's Service Authorization Reference lists them:
// clusters by cluster ARN; RunTask by the task definition's ARN with its revision; StopTask and
// DescribeTasks by task ARN; tagging by the resource ARN; the rest on "*". The condition key
// ecs:cluster is given where AWS gives it, aws:ResourceTag/<key> for a call on one tagged resource.
#include <fmt/format.h>

#include "core/arn.h"
#include "services/ecs/handlers.h"
#include "services/ecs/service.h"

namespace gantry::ecs {

namespace {

std::string cluster_arn(const Ctx& ctx, const std::optional<std::string>& name_or_arn) {
  auto name = cluster_name_from(ctx, name_or_arn);
  if (!name.ok()) return name_or_arn.value_or("*");
  return ctx.scope.arn("ecs", "cluster/" + *name);
}

// "family", "family:3" or an ARN → the ARN of the revision RunTask would run.
std::string task_definition_arn(EcsStore& store, const Ctx& ctx, std::string_view text) {
  std::string out;
  (void)store.read([&](EcsTables& t) -> Result<json::object> {
    auto td = resolve_task_definition(t, ctx, text);
    if (td.ok() && *td) out = (*td)->arn;
    return json::object();
  });
  if (!out.empty()) return out;
  if (text.starts_with("arn:")) return std::string(text);
  return ctx.scope.arn("ecs", fmt::format("task-definition/{}", text));
}

}  // namespace

api::AuthTarget auth_target(EcsStore& store, std::string_view op, const json::object& in, const Ctx& ctx) {
  api::AuthTarget target;
  auto cluster = get_string(in, "cluster");
  auto with_cluster = [&] { target.keys.emplace_back("ecs:cluster", cluster_arn(ctx, cluster)); };
  if (op == "CreateCluster") {
    target.resources = {cluster_arn(ctx, get_string(in, "clusterName"))};
  } else if (op == "DeleteCluster" || op == "UpdateCluster" || op == "UpdateClusterSettings" ||
             op == "PutClusterCapacityProviders") {
    target.resources = {cluster_arn(ctx, cluster)};
  } else if (op == "DescribeClusters") {
    target.resources.clear();
    if (const auto* list = get_array(in, "clusters"))
      for (const auto& c : *list)
        if (c.is_string()) target.resources.push_back(cluster_arn(ctx, std::string(c.as_string())));
    if (target.resources.empty()) target.resources.push_back(cluster_arn(ctx, std::nullopt));
  } else if (op == "RunTask") {
    target.resources = {task_definition_arn(store, ctx, string_member(in, "taskDefinition"))};
    with_cluster();
  } else if (op == "StopTask" || op == "DescribeTasks") {
    auto name = cluster_name_from(ctx, cluster);
    std::string cluster_name = name.ok() ? *name : "default";
    target.resources.clear();
    if (op == "StopTask") {
      target.resources.push_back(task_arn_for(ctx, cluster_name, string_member(in, "task")));
    } else if (const auto* list = get_array(in, "tasks")) {
      for (const auto& t : *list)
        if (t.is_string()) target.resources.push_back(task_arn_for(ctx, cluster_name, t.as_string()));
    }
    if (target.resources.empty()) target.resources.push_back("*");
    with_cluster();
  } else if (op == "ListTasks") {
    with_cluster();
  } else if (op == "TagResource" || op == "UntagResource" || op == "ListTagsForResource") {
    target.resources = {std::string(string_member(in, "resourceArn"))};
  }
  // aws:ResourceTag/<key>: the tags of the one resource the call names.
  if (target.resources.size() == 1 && target.resources[0] != "*") {
    (void)store.read([&](EcsTables& t) -> Result<json::object> {
      for (const auto& tag : t.tags(target.resources[0]))
        target.keys.emplace_back(api::resource_tag_key(tag.key), tag.value);
      return json::object();
    });
  }
  return target;
}

}  // namespace gantry::ecs
