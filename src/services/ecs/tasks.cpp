// RunTask, DescribeTasks, ListTasks, StopTask. These store and read Task objects; running them is the
// TaskRunner's (src/supervisor/).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <set>

#include "core/pagination.h"
#include "services/ec2/network.h"
#include "services/ecs/fargate.h"
#include "services/ecs/handlers.h"
#include "services/ecs/task_state.h"

namespace gantry::ecs {

namespace {

Error invalid(std::string message) { return make_error(ErrorKind::kEcsInvalidParameter, std::move(message)); }
Error client(std::string message) { return make_error(ErrorKind::kEcsClient, std::move(message)); }

// The launch: FARGATE by launchType, or a capacity provider of the request's (or else the cluster's
// default) strategy. Gantry has no container instances, so EC2 and EXTERNAL cannot place anything.
struct Launch {
  std::string launch_type;        // "FARGATE" when asked by launchType
  std::string capacity_provider;  // when placed by a strategy
};

Result<Launch> choose_launch(const json::object& in, const Cluster& cluster) {
  auto launch_type = get_string(in, "launchType");
  const json::array* strategy = get_array(in, "capacityProviderStrategy");
  if (launch_type && strategy && !strategy->empty())
    return invalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and "
                   "try again.");
  const auto no_instances = [] {
    return invalid("No Container Instances were found in your cluster. Gantry runs Fargate tasks only: use "
                   "launchType FARGATE or a FARGATE capacity provider strategy.");
  };
  if (launch_type) {
    if (*launch_type != "FARGATE") return no_instances();
    return Launch{"FARGATE", ""};
  }
  if (!strategy || strategy->empty()) strategy = &cluster.default_strategy;
  if (strategy->empty()) return no_instances();
  // The provider that gets the first task: the one with a base, else the first with weight.
  std::string chosen;
  for (const auto& s : *strategy) {
    const auto& o = s.as_object();
    std::string cp(string_member(o, "capacityProvider"));
    if (cp != "FARGATE" && cp != "FARGATE_SPOT")
      return invalid(fmt::format("The specified capacity provider '{}' is not supported. Gantry runs Fargate tasks "
                                 "only: use FARGATE or FARGATE_SPOT.",
                                 cp.substr(0, 256)));
    bool associated = false;
    for (const auto& p : cluster.capacity_providers) associated |= p.is_string() && p.as_string() == cp;
    if (!associated)
      return invalid(fmt::format("The specified capacity provider strategy cannot contain a capacity provider that "
                                 "is not associated with the cluster. Associate the capacity provider '{}' with the "
                                 "cluster or specify a valid capacity provider and try again.",
                                 cp));
    if (chosen.empty() && (get_int(o, "base").value_or(0) > 0 || get_int(o, "weight").value_or(0) > 0)) chosen = cp;
  }
  if (chosen.empty())
    return invalid("The capacity provider strategy has no provider with a weight or base greater than zero.");
  return Launch{"", chosen};
}

struct Network {
  std::vector<ec2::Subnet> subnets;
  std::vector<std::string> security_groups;
  std::string assign_public_ip = "DISABLED";
};

Result<Network> check_network(TaskDeps& d, const Ctx& ctx, const json::object& in) {
  auto* nc = in.if_contains("networkConfiguration");
  const json::object* awsvpc = nullptr;
  if (nc && nc->is_object()) {
    auto* a = nc->as_object().if_contains("awsvpcConfiguration");
    if (a && a->is_object()) awsvpc = &a->as_object();
  }
  if (!awsvpc)
    return invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  std::vector<std::string> subnet_ids;
  if (const auto* s = get_array(*awsvpc, "subnets")) {
    for (const auto& v : *s) subnet_ids.emplace_back(v.as_string());
  }
  if (subnet_ids.empty()) return invalid("subnets can not be empty.");
  if (subnet_ids.size() > 16) return invalid("At most 16 subnets can be specified.");
  Network net;
  auto subnets = d.network.find_subnets(ctx.scope, subnet_ids);
  if (!subnets.ok()) {
    return invalid(fmt::format("Error retrieving subnet information for [{}]: {}", fmt::join(subnet_ids, ", "),
                               subnets.error().message));
  }
  net.subnets = std::move(*subnets);
  if (const auto* g = get_array(*awsvpc, "securityGroups")) {
    for (const auto& v : *g) net.security_groups.emplace_back(v.as_string());
  }
  if (net.security_groups.size() > 5) return invalid("At most 5 security groups can be specified.");
  if (!net.security_groups.empty()) {
    auto groups = d.network.find_security_groups(ctx.scope, net.security_groups);
    if (!groups.ok())
      return invalid(fmt::format("Error retrieving security group information for [{}]: {}",
                                 fmt::join(net.security_groups, ", "), groups.error().message));
    for (const auto& g : *groups) {
      if (g.vpc_id != net.subnets.front().vpc_id)
        return invalid(fmt::format("Security group {} does not belong to the VPC of subnet {}.", g.id,
                                   net.subnets.front().id));
    }
  }
  for (const auto& s : net.subnets) {
    if (s.vpc_id != net.subnets.front().vpc_id)
      return invalid("The subnets of a task's network configuration must all belong to the same VPC.");
  }
  if (auto v = get_string(*awsvpc, "assignPublicIp")) net.assign_public_ip = *v;
  return net;
}

// A private address in the subnet's CIDR (AWS keeps the first four and the last address).
std::string pick_address(const std::string& cidr, Random& random) {
  unsigned a = 0, b = 0, c = 0, d = 0, bits = 0;
  if (std::sscanf(cidr.c_str(), "%u.%u.%u.%u/%u", &a, &b, &c, &d, &bits) != 5 || bits < 8 || bits > 28) return "";
  uint32_t base = (a << 24) | (b << 16) | (c << 8) | d;
  uint32_t size = 1u << (32 - bits);
  uint32_t r = 0;
  for (char ch : random.hex(4)) r = r * 16 + static_cast<uint32_t>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
  uint32_t ip = base + 4 + r % (size - 5);
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

std::string private_dns_name(const std::string& ip, std::string_view region) {
  std::string dashed = ip;
  for (char& ch : dashed) ch = ch == '.' ? '-' : ch;
  if (region == "us-east-1") return fmt::format("ip-{}.ec2.internal", dashed);
  return fmt::format("ip-{}.{}.compute.internal", dashed, region);
}

json::array details(std::initializer_list<std::pair<const char*, std::string>> items) {
  json::array out;
  for (const auto& [name, value] : items) out.push_back(json::object{{"name", name}, {"value", value}});
  return out;
}

// containerOverrides applied to the definition's containers: what each container runs with.
Result<json::array> effective_containers(const json::array& definitions, const json::object* overrides) {
  json::array out = definitions;
  const json::array* list = overrides ? get_array(*overrides, "containerOverrides") : nullptr;
  if (!list) return out;
  for (const auto& ov : *list) {
    const auto& o = ov.as_object();
    std::string name(string_member(o, "name"));
    json::object* target = nullptr;
    for (auto& c : out) {
      if (string_member(c.as_object(), "name") == name) target = &c.as_object();
    }
    if (!target)
      return invalid(fmt::format("Override for container named {} is not a container in the TaskDefinition.",
                                 name.substr(0, 256)));
    if (auto* cmd = o.if_contains("command")) (*target)["command"] = *cmd;
    for (const char* k : {"cpu", "memory", "memoryReservation"}) {
      if (auto* v = o.if_contains(k)) (*target)[k] = *v;
    }
    if (const auto* env = get_array(o, "environment")) {
      auto& current = (*target)["environment"];
      if (!current.is_array()) current = json::array();
      for (const auto& e : *env) {
        bool replaced = false;
        for (auto& existing : current.as_array()) {
          if (string_member(existing.as_object(), "name") == string_member(e.as_object(), "name")) {
            existing = e;
            replaced = true;
          }
        }
        if (!replaced) current.as_array().push_back(e);
      }
    }
    if (o.contains("environmentFiles") || o.contains("resourceRequirements"))
      return make_error(ErrorKind::kUnsupportedOperation,
                        "Gantry does not support environmentFiles or resourceRequirements (GPUs) in container "
                        "overrides.");
  }
  return out;
}

Result<std::pair<int64_t, int64_t>> task_size(const TaskDefinition& td, const json::object* overrides) {
  std::string cpu(string_member(td.body, "cpu"));
  std::string memory(string_member(td.body, "memory"));
  if (overrides) {
    if (auto v = get_string(*overrides, "cpu")) cpu = *v;
    if (auto v = get_string(*overrides, "memory")) memory = *v;
  }
  auto units = parse_cpu_units(cpu);
  auto mib = parse_memory_mib(memory);
  if (!units || !mib) return invalid("Fargate requires task definition to have cpu and memory values set.");
  if (!fargate_size_supported(*units, *mib))
    return invalid(fmt::format("No Fargate configuration exists for given values: {} CPU, {} memory. Valid memory "
                               "values for {} CPU units: {}.",
                               *units, *mib, *units, fargate_memory_choices(*units)));
  return std::make_pair(*units, *mib);
}

Status reject_unsupported(const json::object& in) {
  if (in.contains("placementConstraints") || in.contains("placementStrategy")) {
    const auto* pc = get_array(in, "placementConstraints");
    const auto* ps = get_array(in, "placementStrategy");
    if ((pc && !pc->empty()) || (ps && !ps->empty()))
      return invalid("Task placement constraints and strategies are not supported with the FARGATE launch type.");
  }
  if (auto* e = in.if_contains("enableExecuteCommand"); e && e->is_bool() && e->as_bool())
    return make_error(ErrorKind::kUnsupportedOperation,
                      "Gantry does not support ECS Exec (enableExecuteCommand): there is no SSM agent.");
  if (const auto* v = get_array(in, "volumeConfigurations"); v && !v->empty())
    return make_error(ErrorKind::kUnsupportedOperation,
                      "Gantry does not support volumeConfigurations (EBS volumes) for tasks.");
  if (auto* m = in.if_contains("enableECSManagedTags"); m && m->is_bool() && m->as_bool())
    return make_error(ErrorKind::kUnsupportedOperation,
                      "Gantry does not support enableECSManagedTags: it adds no aws:ecs:* tags.");
  auto pv = get_string(in, "platformVersion");
  if (pv && *pv != "LATEST" && *pv != "1.4.0")
    return invalid(fmt::format("The specified platform version '{}' does not exist or is not supported: Gantry "
                               "runs Fargate platform version 1.4.0 (LATEST).",
                               pv->substr(0, 64)));
  return {};
}

// iam:PassRole for every role the task is handed (the definition's, or the overrides'), and a task role
// ECS can assume, as ECS checks. A definition that cannot be resolved is left for RunTask's own checks.
Status check_pass_role(TaskDeps& d, const Ctx& ctx, std::string_view definition, const json::object* overrides) {
  if (ctx.authorizer == nullptr) return {};
  std::vector<std::string> roles;
  std::string task_role;
  (void)d.store.read([&](EcsTables& t) -> Out {
    auto td = resolve_task_definition(t, ctx, definition);
    for (const char* key : {"executionRoleArn", "taskRoleArn"}) {
      std::string role = td.ok() && *td ? std::string(string_member((*td)->body, key)) : std::string();
      if (overrides) {
        if (auto v = get_string(*overrides, key)) role = *v;
      }
      if (std::string_view(key) == "taskRoleArn") task_role = role;
      if (!role.empty()) roles.push_back(std::move(role));
    }
    return json::object();
  });
  for (const auto& role : roles) {
    if (auto no = ctx.denied("iam:PassRole", role, {{"iam:passedtoservice", "ecs-tasks.amazonaws.com"}}))
      return make_error(ErrorKind::kAccessDenied, *no);
  }
  // The task role must be one ECS can assume, as ECS checks before it accepts the task.
  if (!task_role.empty()) {
    if (auto why = ctx.authorizer->service_cannot_assume(ctx, task_role, "ecs-tasks.amazonaws.com"))
      return make_error(ErrorKind::kEcsClient,
                        fmt::format("ECS was unable to assume the role '{}' that was provided for this task. Please "
                                    "verify that the role being passed has the proper trust relationship and "
                                    "permissions and that your IAM user has permissions to pass this role. ({})",
                                    task_role, *why));
  }
  return {};
}

}  // namespace

std::string task_arn_for(const Ctx& ctx, const std::string& cluster, std::string_view id_or_arn) {
  if (id_or_arn.starts_with("arn:")) return std::string(id_or_arn);
  return ctx.scope.arn("ecs", fmt::format("task/{}/{}", cluster, id_or_arn));
}

std::string_view Task::last_status() const { return string_member(body, "lastStatus"); }
std::string_view Task::desired_status() const { return string_member(body, "desiredStatus"); }

json::object encode_task(EcsTables& t, const Task& task, bool with_tags) {
  json::object o = task.body;
  if (with_tags) {
    auto tags = t.tags(task.arn);
    o["tags"] = encode_tags(tags);
  }
  return o;
}

Out run_task(TaskDeps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto cluster_name, cluster_name_from(ctx, get_string(in, "cluster")));
  int64_t count = get_int(in, "count").value_or(1);
  if (count < 1 || count > 10) return invalid("count must be between 1 and 10.");
  GANTRY_RETURN_IF_ERROR(reject_unsupported(in));
  GANTRY_ASSIGN_OR_RETURN(auto request_tags, parse_tags(get_array(in, "tags")));
  auto propagate = get_string(in, "propagateTags").value_or("NONE");
  if (propagate == "SERVICE") return invalid("propagateTags SERVICE is only valid for tasks started by a service.");
  auto started_by = get_string(in, "startedBy");
  if (started_by && started_by->size() > 128) return invalid("startedBy can be at most 128 characters.");
  auto client_token = get_string(in, "clientToken").value_or("");
  if (client_token.size() > 64) return invalid("clientToken can be at most 64 characters.");
  const json::object* overrides = nullptr;
  if (auto* o = in.if_contains("overrides"); o && o->is_object()) overrides = &o->as_object();

  // The EC2 and IAM stores share the database: look the subnets up and check the roles before the ECS
  // transaction begins.
  GANTRY_ASSIGN_OR_RETURN(auto net, check_network(d, ctx, in));
  GANTRY_RETURN_IF_ERROR(check_pass_role(d, ctx, get_string(in, "taskDefinition").value_or(""), overrides));
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> created;  // arn, (cpu, memory)
  auto out = d.store.write([&](EcsTables& t) -> Out {
    auto cluster = t.find_cluster(ctx.scope, cluster_name);
    if (!cluster || cluster->status != "ACTIVE") return make_error(ErrorKind::kEcsClusterNotFound, "Cluster not found.");
    if (!client_token.empty()) {
      auto earlier = t.tasks_by_client_token(ctx.scope, cluster_name, client_token);
      if (!earlier.empty()) {
        json::array tasks;
        for (const auto& task : earlier) tasks.push_back(encode_task(t, task, true));
        return json::object{{"tasks", std::move(tasks)}, {"failures", json::array()}};
      }
    }
    GANTRY_ASSIGN_OR_RETURN(auto launch, choose_launch(in, *cluster));
    GANTRY_ASSIGN_OR_RETURN(auto td, resolve_task_definition(t, ctx, get_string(in, "taskDefinition").value_or("")));
    if (!td) return client("TaskDefinition not found.");
    if (td->status != TaskDefinitionStatus::kActive) return client("TaskDefinition is inactive");
    bool fargate = false;
    if (const auto* rc = get_array(td->body, "requiresCompatibilities")) {
      for (const auto& c : *rc) fargate |= c.is_string() && c.as_string() == "FARGATE";
    }
    if (!fargate) return client("Task definition does not support launch_type FARGATE.");
    if (string_member(td->body, "networkMode") != "awsvpc")
      return invalid("Fargate only supports network mode 'awsvpc'.");
    GANTRY_ASSIGN_OR_RETURN(auto size, task_size(*td, overrides));
    const json::array* definitions = get_array(td->body, "containerDefinitions");
    GANTRY_ASSIGN_OR_RETURN(auto containers,
                            effective_containers(definitions ? *definitions : json::array(), overrides));
    std::string reason = d.runner.unavailable_reason();
    if (!reason.empty())
      return make_error(ErrorKind::kUnsupportedOperation,
                        fmt::format("Gantry cannot run tasks on this host: {}", reason));

    std::vector<Tag> tags;
    if (propagate == "TASK_DEFINITION") tags = t.tags(td->arn);
    for (const auto& tag : request_tags) {
      std::erase_if(tags, [&](const Tag& x) { return x.key == tag.key; });
      tags.push_back(tag);
    }
    if (tags.size() > 50) return invalid("A task can have at most 50 tags.");

    json::object given_overrides = overrides ? *overrides : json::object();
    json::array container_overrides;
    if (const auto* list = get_array(given_overrides, "containerOverrides")) container_overrides = *list;
    for (const auto& c : containers) {
      std::string_view name = string_member(c.as_object(), "name");
      bool listed = false;
      for (const auto& o : container_overrides) listed |= string_member(o.as_object(), "name") == name;
      if (!listed) container_overrides.push_back(json::object{{"name", name}});
    }
    given_overrides["containerOverrides"] = std::move(container_overrides);
    if (!given_overrides.contains("inferenceAcceleratorOverrides"))
      given_overrides["inferenceAcceleratorOverrides"] = json::array();

    json::array tasks;
    for (int64_t i = 0; i < count; ++i) {
      Task task;
      task.account = ctx.scope.account;
      task.region = ctx.scope.region;
      task.cluster = cluster_name;
      task.id = ctx.random->hex(16);
      task.arn = ctx.scope.arn("ecs", fmt::format("task/{}/{}", cluster_name, task.id));
      task.client_token = client_token;
      const ec2::Subnet& subnet = net.subnets[static_cast<size_t>(i) % net.subnets.size()];
      const std::string attachment_id = ctx.random->uuid4();
      const std::string ip = pick_address(subnet.cidr_block, *ctx.random);
      const std::string mac = fmt::format("0e:{}:{}:{}:{}:{}", ctx.random->hex(1), ctx.random->hex(1),
                                          ctx.random->hex(1), ctx.random->hex(1), ctx.random->hex(1));
      json::object& b = task.body;
      b["attachments"] = json::array{json::object{
          {"id", attachment_id},
          {"type", "ElasticNetworkInterface"},
          {"status", "PRECREATED"},
          {"details", details({{"subnetId", subnet.id},
                               {"networkInterfaceId", "eni-" + ctx.random->hex(8).substr(0, 17)},
                               {"macAddress", mac},
                               {"privateDnsName", private_dns_name(ip, ctx.scope.region)},
                               {"privateIPv4Address", ip}})}}};
      b["attributes"] = json::array{json::object{{"name", "ecs.cpu-architecture"}, {"value", "x86_64"}}};
      b["availabilityZone"] = subnet.availability_zone;
      if (!launch.capacity_provider.empty()) b["capacityProviderName"] = launch.capacity_provider;
      b["clusterArn"] = cluster->arn;
      json::array encoded_containers;
      for (const auto& c : containers) {
        const auto& def = c.as_object();
        json::object ec;
        ec["containerArn"] =
            ctx.scope.arn("ecs", fmt::format("container/{}/{}/{}", cluster_name, task.id, ctx.random->uuid4()));
        ec["taskArn"] = task.arn;
        ec["name"] = string_member(def, "name");
        ec["image"] = string_member(def, "image");
        ec["lastStatus"] = "PENDING";
        ec["networkBindings"] = json::array();
        ec["networkInterfaces"] =
            json::array{json::object{{"attachmentId", attachment_id}, {"privateIpv4Address", ip}}};
        ec["healthStatus"] = "UNKNOWN";
        ec["cpu"] = std::to_string(get_int(def, "cpu").value_or(0));
        if (auto m = get_int(def, "memory")) ec["memory"] = std::to_string(*m);
        if (auto m = get_int(def, "memoryReservation")) ec["memoryReservation"] = std::to_string(*m);
        encoded_containers.push_back(std::move(ec));
      }
      b["containers"] = std::move(encoded_containers);
      b["cpu"] = std::to_string(size.first);
      b["createdAt"] = epoch_seconds(ctx.now);
      b["desiredStatus"] = "RUNNING";
      b["enableExecuteCommand"] = false;
      b["ephemeralStorage"] = json::object{{"sizeInGiB", 20}};
      b["fargateEphemeralStorage"] = json::object{{"sizeInGiB", 20}};
      b["group"] = get_string(in, "group").value_or("family:" + td->family);
      b["healthStatus"] = "UNKNOWN";
      b["lastStatus"] = "PROVISIONING";
      if (!launch.launch_type.empty()) b["launchType"] = launch.launch_type;
      b["memory"] = std::to_string(size.second);
      b["overrides"] = given_overrides;
      b["platformVersion"] = "1.4.0";
      b["platformFamily"] = "Linux";
      if (started_by) b["startedBy"] = *started_by;
      b["taskArn"] = task.arn;
      b["taskDefinitionArn"] = td->arn;
      b["version"] = 1;
      // The roles the task runs with: the overrides', else the definition's.
      auto role = [&](const char* key) {
        auto given = string_member(given_overrides, key);
        return std::string(given.empty() ? string_member(td->body, key) : given);
      };
      task.spec = json::object{{"cpu", size.first},
                               {"memory", size.second},
                               {"family", td->family},
                               {"executionRoleArn", role("executionRoleArn")},
                               {"taskRoleArn", role("taskRoleArn")},
                               {"containers", containers}};
      t.put_task(task);
      if (!tags.empty()) t.set_tags(task.arn, tags);
      tasks.push_back(encode_task(t, task, !tags.empty()));
      created.emplace_back(task.arn, size);
    }
    return json::object{{"tasks", std::move(tasks)}, {"failures", json::array()}};
  });
  if (!out.ok()) return out;
  for (const auto& [arn, size] : created) {
    d.runner.submit(arn, static_cast<uint32_t>(size.first), static_cast<uint64_t>(size.second));
  }
  return out;
}

Out describe_tasks(TaskDeps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto cluster_name, cluster_name_from(ctx, get_string(in, "cluster")));
  const json::array* ids = get_array(in, "tasks");
  if (!ids || ids->empty()) return invalid("Tasks cannot be empty.");
  if (ids->size() > 100) return invalid("Tasks can have at most 100 items.");
  bool with_tags = false;
  if (const auto* include = get_array(in, "include")) {
    for (const auto& i : *include) with_tags |= i.is_string() && i.as_string() == "TAGS";
  }
  return d.store.read([&](EcsTables& t) -> Out {
    auto cluster = t.find_cluster(ctx.scope, cluster_name);
    if (!cluster) return make_error(ErrorKind::kEcsClusterNotFound, "Cluster not found.");
    json::array tasks, failures;
    std::set<std::string> seen;
    for (const auto& v : *ids) {
      std::string arn = task_arn_for(ctx, cluster_name, v.as_string());
      if (!seen.insert(arn).second) continue;
      auto task = t.find_task(arn);
      if (!task || task->cluster != cluster_name || task->account != ctx.scope.account ||
          task->region != ctx.scope.region) {
        failures.push_back(json::object{{"arn", arn}, {"reason", "MISSING"}});
        continue;
      }
      tasks.push_back(encode_task(t, *task, with_tags));
    }
    return json::object{{"tasks", std::move(tasks)}, {"failures", std::move(failures)}};
  });
}

Out list_tasks(TaskDeps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto cluster_name, cluster_name_from(ctx, get_string(in, "cluster")));
  GANTRY_ASSIGN_OR_RETURN(int limit, page_size(in));
  GANTRY_ASSIGN_OR_RETURN(auto after, page_start(in, "ecs.ListTasks"));
  if (get_string(in, "serviceName"))
    return make_error(ErrorKind::kEcsServiceNotFound, "Service not found.");
  if (get_string(in, "containerInstance"))
    return invalid("The referenced container instance was not found: Gantry runs Fargate tasks only.");
  TaskFilter f;
  f.cluster = cluster_name;
  f.family = get_string(in, "family");
  f.started_by = get_string(in, "startedBy");
  f.desired_status = get_string(in, "desiredStatus").value_or("RUNNING");
  if (*f.desired_status == "PENDING") f.desired_status = "RUNNING";  // ECS never sets desiredStatus PENDING
  f.launch_type = get_string(in, "launchType");
  f.after_arn = after;
  f.limit = limit + 1;
  return d.store.read([&](EcsTables& t) -> Out {
    auto cluster = t.find_cluster(ctx.scope, cluster_name);
    if (!cluster) return make_error(ErrorKind::kEcsClusterNotFound, "Cluster not found.");
    auto arn = [](const Task& task) { return task.arn; };
    return make_page(t.list_tasks(ctx.scope, f), limit, "taskArns", "ecs.ListTasks", arn, arn);
  });
}

Out stop_task(TaskDeps& d, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto cluster_name, cluster_name_from(ctx, get_string(in, "cluster")));
  std::string reason = get_string(in, "reason").value_or("");
  if (reason.size() > 255) return invalid("reason can be at most 255 characters.");
  if (reason.empty()) reason = "Task stopped by user";
  std::string arn = task_arn_for(ctx, cluster_name, get_string(in, "task").value_or(""));
  bool first = false;
  auto out = d.store.write([&](EcsTables& t) -> Out {
    auto cluster = t.find_cluster(ctx.scope, cluster_name);
    if (!cluster) return make_error(ErrorKind::kEcsClusterNotFound, "Cluster not found.");
    auto task = t.find_task(arn);
    if (!task || task->cluster != cluster_name || task->account != ctx.scope.account ||
        task->region != ctx.scope.region)
      return invalid("The referenced task was not found.");
    if (task->last_status() != "STOPPED") {
      first = task_state::stop_requested(task->body, "UserInitiated", reason, ctx.now);
      if (first) t.put_task(*task);
    }
    return json::object{{"task", encode_task(t, *task, false)}};
  });
  if (out.ok() && first) d.runner.stop(arn);
  return out;
}

}  // namespace gantry::ecs
