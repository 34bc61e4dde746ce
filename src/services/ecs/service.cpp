#include "services/ecs/service.h"

#include <memory>

#include "services/ecs/handlers.h"

namespace gantry::ecs {

api::JsonService make_service(EcsStore& store, ec2::Network& network, TaskRunner& runner) {
  api::JsonService s;
  s.name = "ecs";
  s.validation_error_type = "InvalidParameterException";
  auto add = [&](std::string name, Out (*fn)(EcsStore&, Ctx&, json::object&)) {
    s.operations.emplace(std::move(name), [&store, fn](Ctx& ctx, json::object& in) { return fn(store, ctx, in); });
  };
  add("CreateCluster", create_cluster);
  add("DescribeClusters", describe_clusters);
  add("ListClusters", list_clusters);
  add("DeleteCluster", delete_cluster);
  add("UpdateCluster", update_cluster);
  add("UpdateClusterSettings", update_cluster_settings);
  add("PutClusterCapacityProviders", put_cluster_capacity_providers);
  add("RegisterTaskDefinition", register_task_definition);
  add("DescribeTaskDefinition", describe_task_definition);
  add("ListTaskDefinitions", list_task_definitions);
  add("ListTaskDefinitionFamilies", list_task_definition_families);
  add("DeregisterTaskDefinition", deregister_task_definition);
  add("DeleteTaskDefinitions", delete_task_definitions);
  auto deps = std::make_shared<TaskDeps>(TaskDeps{store, network, runner});
  auto add_task = [&](std::string name, Out (*fn)(TaskDeps&, Ctx&, json::object&)) {
    s.operations.emplace(std::move(name), [deps, fn](Ctx& ctx, json::object& in) { return fn(*deps, ctx, in); });
  };
  add_task("RunTask", run_task);
  add_task("DescribeTasks", describe_tasks);
  add_task("ListTasks", list_tasks);
  add_task("StopTask", stop_task);
  add("TagResource", tag_resource);
  add("UntagResource", untag_resource);
  add("ListTagsForResource", list_tags_for_resource);
  s.auth_target = [&store](std::string_view op, const json::object& in, const Ctx& ctx) {
    return auth_target(store, op, in, ctx);
  };
  return s;
}

}  // namespace gantry::ecs
