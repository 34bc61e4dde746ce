// The ECS operations Gantry implements (one function per operation) and the helpers they share.
// Inputs arrive validated against the ECS model (types, required members, enums).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/context.h"
#include "api/router.h"
#include "core/error.h"
#include "core/pagination.h"
#include "services/ecs/model.h"
#include "services/ecs/task_runner.h"

namespace gantry::ec2 {
class Network;
}

namespace gantry::ecs {

namespace json = boost::json;
using Ctx = api::RequestContext;
using Out = Result<json::object>;

// clusters.cpp
Out create_cluster(EcsStore& store, Ctx& ctx, json::object& in);
Out describe_clusters(EcsStore& store, Ctx& ctx, json::object& in);
Out list_clusters(EcsStore& store, Ctx& ctx, json::object& in);
Out delete_cluster(EcsStore& store, Ctx& ctx, json::object& in);
Out update_cluster(EcsStore& store, Ctx& ctx, json::object& in);
Out update_cluster_settings(EcsStore& store, Ctx& ctx, json::object& in);
Out put_cluster_capacity_providers(EcsStore& store, Ctx& ctx, json::object& in);

// task_definitions.cpp
Out register_task_definition(EcsStore& store, Ctx& ctx, json::object& in);
Out describe_task_definition(EcsStore& store, Ctx& ctx, json::object& in);
Out list_task_definitions(EcsStore& store, Ctx& ctx, json::object& in);
Out list_task_definition_families(EcsStore& store, Ctx& ctx, json::object& in);
Out deregister_task_definition(EcsStore& store, Ctx& ctx, json::object& in);
Out delete_task_definitions(EcsStore& store, Ctx& ctx, json::object& in);

// tasks.cpp: RunTask needs the network (subnet checks) and the runner.
struct TaskDeps {
  EcsStore& store;
  ec2::Network& network;
  TaskRunner& runner;
};
Out run_task(TaskDeps& d, Ctx& ctx, json::object& in);
Out describe_tasks(TaskDeps& d, Ctx& ctx, json::object& in);
Out list_tasks(TaskDeps& d, Ctx& ctx, json::object& in);
Out stop_task(TaskDeps& d, Ctx& ctx, json::object& in);
json::object encode_task(EcsTables& t, const Task& task, bool with_tags);

// A task's ARN from its ARN or its id in `cluster`.
std::string task_arn_for(const Ctx& ctx, const std::string& cluster, std::string_view id_or_arn);

// The task definition RunTask names ("family", "family:3" or its ARN); nullopt when there is none.
Result<std::optional<TaskDefinition>> resolve_task_definition(EcsTables& t, const Ctx& ctx, std::string_view text);

// authorization.cpp: what IAM is asked about each operation.
api::AuthTarget auth_target(EcsStore& store, std::string_view op, const json::object& in, const Ctx& ctx);

// tags.cpp
Out tag_resource(EcsStore& store, Ctx& ctx, json::object& in);
Out untag_resource(EcsStore& store, Ctx& ctx, json::object& in);
Out list_tags_for_resource(EcsStore& store, Ctx& ctx, json::object& in);

// Shared helpers.
std::optional<std::string> get_string(const json::object& in, std::string_view key);
std::optional<int64_t> get_int(const json::object& in, std::string_view key);
// A string member as a view into `in`; empty when absent or not a string.
std::string_view string_member(const json::object& in, std::string_view key);
const json::array* get_array(const json::object& in, std::string_view key);

// Tags as given in a request: validated as ECS validates them (at most 50, key 1-128, value 0-256,
// no "aws:" prefix, no duplicate keys).
Result<std::vector<Tag>> parse_tags(const json::array* tags);
json::array encode_tags(const std::vector<Tag>& tags);

// A cluster named by name or ARN (default "default") in the caller's scope.
Result<std::string> cluster_name_from(const Ctx& ctx, std::optional<std::string> name_or_arn);
json::object encode_cluster(EcsTables& t, const Cluster& c, bool with_settings, bool with_tags, bool with_statistics,
                            bool with_configuration);

// maxResults in [1, 100] (default 100).
Result<int> page_size(const json::object& in);

// The sort key a listing resumes after: none without nextToken, an InvalidParameterException for a
// token that `listing` did not hand out.
Result<std::optional<std::string>> page_start(const json::object& in, std::string_view listing);

// One page of a listing whose rows were fetched with limit + 1 (the extra row only tells that more
// follow): the first `limit` rows as JSON under `items_key`, and a nextToken holding the sort key of
// the last row returned when more follow.
template <class Row, class ToJson, class SortKey>
json::object make_page(const std::vector<Row>& rows, int limit, std::string_view items_key, std::string_view listing,
                       ToJson to_json, SortKey sort_key) {
  size_t n = std::min(rows.size(), static_cast<size_t>(limit));
  json::array items;
  items.reserve(n);
  for (size_t i = 0; i < n; ++i) items.emplace_back(to_json(rows[i]));
  json::object out;
  if (rows.size() > n && n > 0) out["nextToken"] = encode_page_token(listing, sort_key(rows[n - 1]));
  out[items_key] = std::move(items);
  return out;
}

// Family and container names: 1-255 letters, digits, hyphens and underscores (cluster names too).
bool valid_ecs_name(std::string_view s);

}  // namespace gantry::ecs
