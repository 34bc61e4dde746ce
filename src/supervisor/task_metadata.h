// The task metadata endpoint v4 (ECS_CONTAINER_METADATA_URI_V4) as Fargate answers it, made from the
// task as the ECS store holds it (the DescribeTasks shape) and its container definitions. Pure
// functions: the supervisor's endpoint serves them. Fields Gantry has no true value for (the subnet's
// CIDR block and gateway, clock drift, ephemeral storage use) are left out rather than made up.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <string_view>

namespace gantry::supervisor {

// `task`: the task body; `definitions`: its container definitions (the task spec's "containers");
// `family`, `revision`: its task definition; `runtime_id`: the container's runtime id ("DockerId").
struct MetadataSource {
  const boost::json::object& task;
  const boost::json::array& definitions;
  std::string_view family;
  int64_t revision = 0;
};

// GET ${ECS_CONTAINER_METADATA_URI_V4}: the container named `name`, whose runtime id is `runtime_id`.
// Empty when the task has no such container.
boost::json::object container_metadata(const MetadataSource& source, std::string_view name,
                                       std::string_view runtime_id);
// GET ${ECS_CONTAINER_METADATA_URI_V4}/task; `runtime_id_of` gives each container's runtime id by name.
boost::json::object task_metadata(const MetadataSource& source,
                                  const std::function<std::string(std::string_view name)>& runtime_id_of);

}  // namespace gantry::supervisor
