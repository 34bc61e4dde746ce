// RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies,
// DeregisterTaskDefinition, DeleteTaskDefinitions.
#include <fmt/format.h>

#include <charconv>
#include <functional>
#include <map>
#include <set>

#include "core/pagination.h"
#include "services/ecs/fargate.h"
#include "services/ecs/handlers.h"

namespace gantry::ecs {

namespace {

constexpr int kMinContainerMemoryMib = 6;

Error client(std::string message) { return make_error(ErrorKind::kEcsClient, std::move(message)); }

struct TaskDefinitionRef {
  std::string family;
  std::optional<int64_t> revision;
};

// "family", "family:3" or "arn:aws:ecs:region:account:task-definition/family:3".
Result<TaskDefinitionRef> parse_ref(const Ctx& ctx, std::string_view text) {
  auto invalid = [&] {
    return client(fmt::format("The specified task definition identifier '{}' is invalid. Specify a valid name or ARN.",
                              text.substr(0, 256)));
  };
  std::string_view rest = text;
  if (text.starts_with("arn:")) {
    auto arn = Arn::parse(text);
    if (!arn || arn->service != "ecs" || !arn->resource.starts_with("task-definition/")) return invalid();
    if (arn->account != ctx.scope.account || arn->region != ctx.scope.region)
      return client("Unable to describe task definition.");
    rest = text.substr(text.find("task-definition/") + 16);
  }
  TaskDefinitionRef ref;
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    ref.family = std::string(rest);
  } else {
    ref.family = std::string(rest.substr(0, colon));
    auto rev = rest.substr(colon + 1);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(rev.data(), rev.data() + rev.size(), n);
    if (ec != std::errc() || p != rev.data() + rev.size() || n <= 0) return invalid();
    ref.revision = n;
  }
  if (!valid_ecs_name(ref.family)) return invalid();
  return ref;
}

json::object encode(const TaskDefinition& td) {
  json::object o;
  o["taskDefinitionArn"] = td.arn;
  for (const auto& [k, v] : td.body) o[k] = v;
  o["family"] = td.family;
  o["revision"] = td.revision;
  o["status"] = to_string(td.status);
  o["registeredAt"] = epoch_seconds(td.registered_at);
  if (td.deregistered_at) o["deregisteredAt"] = epoch_seconds(*td.deregistered_at);
  if (td.delete_requested_at) o["deleteRequestedAt"] = epoch_seconds(*td.delete_requested_at);
  o["registeredBy"] = td.registered_by;
  return o;
}

bool contains_string(const json::array* a, std::string_view s) {
  if (a == nullptr) return false;
  for (const auto& v : *a)
    if (v.is_string() && v.as_string() == s) return true;
  return false;
}

struct Sizes {
  std::optional<int64_t> cpu;     // task-level CPU units
  std::optional<int64_t> memory;  // task-level MiB
};

Result<Sizes> task_sizes(const json::object& in) {
  Sizes s;
  if (auto cpu = get_string(in, "cpu")) {
    s.cpu = parse_cpu_units(*cpu);
    if (!s.cpu || *s.cpu <= 0)
      return client(fmt::format("Invalid 'cpu' setting for task: '{}'. Give CPU units (for example '256') or vCPUs "
                                "(for example '0.25 vCPU').",
                                cpu->substr(0, 64)));
  }
  if (auto mem = get_string(in, "memory")) {
    s.memory = parse_memory_mib(*mem);
    if (!s.memory || *s.memory <= 0)
      return client(fmt::format("Invalid 'memory' setting for task: '{}'. Give MiB (for example '512') or GB (for "
                                "example '0.5 GB').",
                                mem->substr(0, 64)));
  }
  return s;
}

// Fills in what ECS fills in when it stores a container definition.
void normalize_container(json::object& c, bool awsvpc) {
  if (!c.contains("cpu")) c["cpu"] = 0;
  if (!c.contains("essential")) c["essential"] = true;
  for (const char* list : {"portMappings", "environment", "mountPoints", "volumesFrom", "systemControls"})
    if (!c.contains(list)) c[list] = json::array();
  for (auto& pm : c["portMappings"].as_array()) {
    auto& m = pm.as_object();
    if (awsvpc && !m.contains("hostPort") && m.contains("containerPort")) m["hostPort"] = m["containerPort"];
    if (!m.contains("protocol")) m["protocol"] = "tcp";
  }
  // ECS stores the documented health-check defaults, so describe shows the values the check runs
  // with (tools that diff definitions, such as Terraform, rely on seeing them).
  if (auto* hc = c.if_contains("healthCheck"); hc && hc->is_object()) {
    auto& h = hc->as_object();
    if (!h.contains("interval")) h["interval"] = 30;
    if (!h.contains("timeout")) h["timeout"] = 5;
    if (!h.contains("retries")) h["retries"] = 3;
  }
}

// The ranges ECS documents for HealthCheck (the model carries them only as prose, so the front end
// cannot check them).
Status check_health_check(const std::string& container, const json::object& hc) {
  struct Range {
    const char* field;
    int64_t min;
    int64_t max;
    const char* unit;
  };
  constexpr Range kRanges[] = {{"interval", 5, 300, " seconds"},
                               {"timeout", 2, 60, " seconds"},
                               {"retries", 1, 10, ""},
                               {"startPeriod", 0, 300, " seconds"}};
  for (const auto& r : kRanges) {
    auto v = get_int(hc, r.field);
    if (v && (*v < r.min || *v > r.max))
      return client(fmt::format("Invalid '{}' setting for the health check of container '{}': {}. Specify a value "
                                "between {} and {}{}.",
                                r.field, container, *v, r.min, r.max, r.unit));
  }
  return {};
}

Status check_containers(json::array& containers, const Sizes& sizes, bool fargate, bool awsvpc,
                        const std::optional<std::string>& execution_role) {
  if (containers.empty()) return client("Container list cannot be empty.");
  std::set<std::string> names;
  int essential = 0;
  int64_t reserved_mib = 0, container_cpu = 0;
  for (auto& cv : containers) {
    auto& c = cv.as_object();
    auto name = get_string(c, "name").value_or("");
    if (name.empty()) return client("Container.name should not be null or empty.");
    if (!valid_ecs_name(name))
      return client(fmt::format("Container name '{}' is invalid: up to 255 letters (uppercase and lowercase), "
                                "numbers, hyphens, and underscores are allowed.",
                                name.substr(0, 64)));
    if (!names.insert(name).second) return client(fmt::format("Duplicate container name '{}' in task definition.", name));
    auto image = get_string(c, "image").value_or("");
    if (image.empty()) return client(fmt::format("Container.image should not be null or empty (container '{}').", name));
    auto memory = get_int(c, "memory");
    auto reservation = get_int(c, "memoryReservation");
    if (memory && *memory < kMinContainerMemoryMib)
      return client(fmt::format("Invalid 'memory' setting for container '{}'. At least {} MiB of memory is required "
                                "for a container.",
                                name, kMinContainerMemoryMib));
    if (reservation && *reservation < kMinContainerMemoryMib)
      return client(fmt::format("Invalid 'memoryReservation' setting for container '{}'. At least {} MiB of memory is "
                                "required for a container.",
                                name, kMinContainerMemoryMib));
    if (memory && reservation && *reservation > *memory)
      return client(fmt::format("Invalid setting for container '{}'. 'memoryReservation' ({} MiB) must not be greater "
                                "than 'memory' ({} MiB).",
                                name, *reservation, *memory));
    if (!sizes.memory && !memory && !reservation)
      return client(fmt::format("Invalid setting for container '{}'. At least one of 'memory' or 'memoryReservation' "
                                "must be specified when the task has no task-level memory.",
                                name));
    if (sizes.memory && memory && *memory > *sizes.memory)
      return client(fmt::format("Invalid 'memory' setting for container '{}': {} MiB is more than the task memory of "
                                "{} MiB.",
                                name, *memory, *sizes.memory));
    reserved_mib += reservation ? *reservation : memory.value_or(0);
    auto cpu = get_int(c, "cpu").value_or(0);
    if (cpu < 0) return client(fmt::format("Invalid 'cpu' setting for container '{}': it must not be negative.", name));
    container_cpu += cpu;
    if (c.if_contains("essential") == nullptr || c.at("essential").as_bool()) ++essential;
    if (awsvpc) {
      if (auto* pms = get_array(c, "portMappings")) {
        for (const auto& pm : *pms) {
          auto cp = get_int(pm.as_object(), "containerPort");
          auto hp = get_int(pm.as_object(), "hostPort");
          if (cp && hp && *cp != *hp)
            return client("When networkMode=awsvpc, the host ports and container ports in port mappings must match.");
        }
      }
    }
    if (auto* lc = c.if_contains("logConfiguration"); lc && fargate && !execution_role) {
      if (get_string(lc->as_object(), "logDriver").value_or("") == "awslogs")
        return client("Fargate requires task definition to have execution role ARN to support log driver awslogs.");
    }
    if (get_array(c, "secrets") && !get_array(c, "secrets")->empty() && fargate && !execution_role)
      return client("Fargate requires task definition to have execution role ARN to support secrets.");
    if (fargate && c.contains("links"))
      return client(fmt::format("Container '{}': links are not supported with the awsvpc network mode.", name));
    if (auto* hc = c.if_contains("healthCheck"); hc && hc->is_object())
      GANTRY_RETURN_IF_ERROR(check_health_check(name, hc->as_object()));
  }
  for (auto& cv : containers) {
    auto& c = cv.as_object();
    std::string self = get_string(c, "name").value_or("");
    if (auto* deps = get_array(c, "dependsOn")) {
      for (const auto& d : *deps) {
        auto target = get_string(d.as_object(), "containerName").value_or("");
        if (!names.contains(target))
          return client(fmt::format("Container '{}' depends on container '{}', which the task definition does not "
                                    "define.",
                                    self, target));
        if (target == self) return client(fmt::format("Container '{}' cannot depend on itself.", self));
      }
    }
  }
  // A dependency cycle (a → b → a) would leave its containers waiting for ever: ECS refuses it.
  {
    std::map<std::string, std::vector<std::string>> edges;
    for (auto& cv : containers) {
      auto& c = cv.as_object();
      std::string self = get_string(c, "name").value_or("");
      if (auto* deps = get_array(c, "dependsOn")) {
        for (const auto& d : *deps) edges[self].push_back(get_string(d.as_object(), "containerName").value_or(""));
      }
    }
    std::map<std::string, int> state;  // 1: on the path, 2: done
    std::function<std::optional<std::string>(const std::string&)> visit = [&](const std::string& n)
        -> std::optional<std::string> {
      state[n] = 1;
      for (const auto& m : edges[n]) {
        if (state[m] == 1) return m;
        if (state[m] == 0) {
          if (auto cycle = visit(m)) return cycle;
        }
      }
      state[n] = 2;
      return std::nullopt;
    };
    for (const auto& [n, _] : edges) {
      if (state[n] != 0) continue;
      if (auto cycle = visit(n))
        return client(fmt::format("The dependsOn of container '{}' forms a cycle: containers cannot start.", *cycle));
    }
  }
  if (essential == 0) return client("A task definition must have at least one essential container.");
  if (sizes.memory && reserved_mib > *sizes.memory)
    return client(fmt::format("The containers reserve {} MiB of memory in total, more than the task memory of {} MiB.",
                              reserved_mib, *sizes.memory));
  if (sizes.cpu && container_cpu > *sizes.cpu)
    return client(fmt::format("The containers ask for {} CPU units in total, more than the task CPU of {} units.",
                              container_cpu, *sizes.cpu));
  return {};
}

Status check_fargate(const json::object& in, const Sizes& sizes) {
  auto mode = get_string(in, "networkMode");
  if (!mode || *mode != "awsvpc") return client("Fargate only supports network mode 'awsvpc'.");
  if (!sizes.cpu) return client("Fargate requires that 'cpu' be defined at the task level.");
  if (!sizes.memory) return client("Fargate requires that 'memory' be defined at the task level.");
  if (!fargate_size_supported(*sizes.cpu, *sizes.memory))
    return client(fmt::format("No Fargate configuration exists for given values: {} CPU, {} memory. With {} CPU units "
                              "Fargate offers {} MiB of memory.",
                              *sizes.cpu, *sizes.memory, *sizes.cpu, fargate_memory_choices(*sizes.cpu)));
  if (auto pid = get_string(in, "pidMode"); pid && *pid == "host")
    return client("Fargate does not support pidMode 'host'.");
  if (in.contains("ipcMode")) return client("Fargate does not support the ipcMode parameter.");
  if (auto* pc = get_array(in, "placementConstraints"); pc && !pc->empty())
    return client("Fargate does not support task placement constraints.");
  if (auto* vols = get_array(in, "volumes")) {
    for (const auto& v : *vols) {
      const auto& vo = v.as_object();
      if (vo.contains("dockerVolumeConfiguration"))
        return client("Fargate does not support dockerVolumeConfiguration volumes.");
      if (auto* host = vo.if_contains("host"); host && host->as_object().contains("sourcePath"))
        return client("Fargate does not support host volumes with a sourcePath.");
    }
  }
  if (auto* es = in.if_contains("ephemeralStorage")) {
    auto size = get_int(es->as_object(), "sizeInGiB").value_or(0);
    if (size < 21 || size > 200)
      return client(fmt::format("ephemeralStorage sizeInGiB must be between 21 and 200 for Fargate (got {}).", size));
  }
  return {};
}

// What a container instance must offer to run this definition, derived from the features it uses.
json::array requires_attributes(const json::object& body) {
  std::set<std::string> attrs;
  bool exec_role = body.contains("executionRoleArn");
  if (body.contains("taskRoleArn")) attrs.insert("com.amazonaws.ecs.capability.task-iam-role");
  if (get_string(body, "networkMode").value_or("") == "awsvpc") {
    attrs.insert("ecs.capability.task-eni");
    attrs.insert("com.amazonaws.ecs.capability.docker-remote-api.1.18");
  }
  for (const auto& cv : body.at("containerDefinitions").as_array()) {
    const auto& c = cv.as_object();
    if (auto* lc = c.if_contains("logConfiguration")) {
      auto driver = get_string(lc->as_object(), "logDriver").value_or("");
      if (driver == "awslogs") {
        attrs.insert("com.amazonaws.ecs.capability.logging-driver.awslogs");
        attrs.insert("com.amazonaws.ecs.capability.docker-remote-api.1.19");
        if (exec_role) attrs.insert("ecs.capability.execution-role-awslogs");
      }
    }
    auto image = get_string(c, "image").value_or("");
    if (image.find(".dkr.ecr.") != std::string::npos) {
      attrs.insert("com.amazonaws.ecs.capability.ecr-auth");
      if (exec_role) attrs.insert("ecs.capability.execution-role-ecr-pull");
    }
    if (c.contains("dependsOn")) attrs.insert("ecs.capability.container-ordering");
    if (c.contains("healthCheck")) attrs.insert("ecs.capability.container-health-check");
    if (c.contains("secrets")) attrs.insert("ecs.capability.secrets.ssm.environment-variables");
  }
  json::array out;
  for (const auto& a : attrs) out.push_back(json::object{{"name", a}});
  return out;
}

Result<std::optional<TaskDefinition>> find(EcsTables& t, const Ctx& ctx, const TaskDefinitionRef& ref) {
  if (ref.revision) return t.find_task_definition(ctx.scope, ref.family, *ref.revision);
  return t.latest_active_task_definition(ctx.scope, ref.family);
}

}  // namespace

Result<std::optional<TaskDefinition>> resolve_task_definition(EcsTables& t, const Ctx& ctx, std::string_view text) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_ref(ctx, text));
  return find(t, ctx, ref);
}

std::string_view to_string(TaskDefinitionStatus s) {
  switch (s) {
    case TaskDefinitionStatus::kActive: return "ACTIVE";
    case TaskDefinitionStatus::kInactive: return "INACTIVE";
    case TaskDefinitionStatus::kDeleteInProgress: return "DELETE_IN_PROGRESS";
  }
  return "ACTIVE";
}

std::optional<TaskDefinitionStatus> parse_task_definition_status(std::string_view s) {
  if (s == "ACTIVE") return TaskDefinitionStatus::kActive;
  if (s == "INACTIVE") return TaskDefinitionStatus::kInactive;
  if (s == "DELETE_IN_PROGRESS") return TaskDefinitionStatus::kDeleteInProgress;
  return std::nullopt;
}

Out register_task_definition(EcsStore& store, Ctx& ctx, json::object& in) {
  std::string family = get_string(in, "family").value_or("");
  if (!valid_ecs_name(family))
    return client("Family may contain up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.");
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(get_array(in, "tags")));
  GANTRY_ASSIGN_OR_RETURN(Sizes sizes, task_sizes(in));
  bool fargate = contains_string(get_array(in, "requiresCompatibilities"), "FARGATE");
  bool awsvpc = get_string(in, "networkMode").value_or("") == "awsvpc";
  if (fargate) GANTRY_RETURN_IF_ERROR(check_fargate(in, sizes));
  json::object body = in;
  body.erase("tags");
  auto& containers = body["containerDefinitions"].as_array();
  GANTRY_RETURN_IF_ERROR(check_containers(containers, sizes, fargate, awsvpc, get_string(in, "executionRoleArn")));
  for (auto& c : containers) normalize_container(c.as_object(), awsvpc);
  if (sizes.cpu) body["cpu"] = std::to_string(*sizes.cpu);
  if (sizes.memory) body["memory"] = std::to_string(*sizes.memory);
  if (!body.contains("volumes")) body["volumes"] = json::array();
  if (!body.contains("placementConstraints")) body["placementConstraints"] = json::array();
  body["requiresAttributes"] = requires_attributes(body);
  json::array compat{"EC2"};
  if (awsvpc) compat.push_back("FARGATE");
  body["compatibilities"] = std::move(compat);

  return store.write([&](EcsTables& t) -> Out {
    TaskDefinition td;
    td.account = ctx.scope.account;
    td.region = ctx.scope.region;
    td.family = family;
    td.revision = t.max_revision(ctx.scope, family) + 1;
    td.arn = ctx.scope.arn("ecs", fmt::format("task-definition/{}:{}", family, td.revision));
    td.registered_at = ctx.now;
    td.registered_by = ctx.principal_arn;
    td.body = std::move(body);
    t.put_task_definition(td);
    t.set_tags(td.arn, tags);
    return json::object{{"taskDefinition", encode(td)}, {"tags", encode_tags(tags)}};
  });
}

Out describe_task_definition(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_ref(ctx, get_string(in, "taskDefinition").value_or("")));
  bool with_tags = contains_string(get_array(in, "include"), "TAGS");
  return store.read([&](EcsTables& t) -> Out {
    GANTRY_ASSIGN_OR_RETURN(auto td, find(t, ctx, ref));
    if (!td) return client("Unable to describe task definition.");
    json::object out{{"taskDefinition", encode(*td)}};
    if (with_tags) out["tags"] = encode_tags(t.tags(td->arn));
    return out;
  });
}

Out list_task_definitions(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(int limit, page_size(in));
  TaskDefinitionFilter f;
  f.limit = limit + 1;
  f.family = get_string(in, "familyPrefix");
  f.status = parse_task_definition_status(get_string(in, "status").value_or("ACTIVE"));
  f.descending = get_string(in, "sort").value_or("ASC") == "DESC";
  GANTRY_ASSIGN_OR_RETURN(auto start, page_start(in, "ecs.ListTaskDefinitions"));
  if (start) {
    auto colon = start->rfind(':');
    int64_t revision = 0;
    if (colon != std::string::npos) std::from_chars(start->data() + colon + 1, start->data() + start->size(), revision);
    if (colon == std::string::npos || revision <= 0)
      return make_error(ErrorKind::kEcsInvalidParameter, "Invalid nextToken: it was not returned by ListTaskDefinitions.");
    f.after = std::make_pair(start->substr(0, colon), revision);
  }
  return store.read([&](EcsTables& t) -> Out {
    return make_page(
        t.list_task_definitions(ctx.scope, f), limit, "taskDefinitionArns", "ecs.ListTaskDefinitions",
        [](const TaskDefinition& td) { return json::string(td.arn); },
        [](const TaskDefinition& td) { return fmt::format("{}:{}", td.family, td.revision); });
  });
}

Out list_task_definition_families(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(int limit, page_size(in));
  std::string prefix = get_string(in, "familyPrefix").value_or("");
  auto status_text = get_string(in, "status").value_or("ALL");
  FamilyStatus status = status_text == "ACTIVE"     ? FamilyStatus::kActive
                        : status_text == "INACTIVE" ? FamilyStatus::kInactive
                                                    : FamilyStatus::kAll;
  GANTRY_ASSIGN_OR_RETURN(auto after, page_start(in, "ecs.ListTaskDefinitionFamilies"));
  return store.read([&](EcsTables& t) -> Out {
    auto family = [](const std::string& f) { return f; };
    return make_page(t.list_families(ctx.scope, prefix, status, after, limit + 1), limit, "families",
                     "ecs.ListTaskDefinitionFamilies", family, family);
  });
}

Out deregister_task_definition(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto ref, parse_ref(ctx, get_string(in, "taskDefinition").value_or("")));
  if (!ref.revision)
    return client("Specify the revision to deregister: 'family:revision' or the full task definition ARN.");
  return store.write([&](EcsTables& t) -> Out {
    auto td = t.find_task_definition(ctx.scope, ref.family, *ref.revision);
    if (!td || td->status == TaskDefinitionStatus::kDeleteInProgress)
      return client("The specified task definition does not exist.");
    if (td->status == TaskDefinitionStatus::kActive) {
      td->status = TaskDefinitionStatus::kInactive;
      td->deregistered_at = ctx.now;
      t.put_task_definition(*td);
    }
    return json::object{{"taskDefinition", encode(*td)}};
  });
}

Out delete_task_definitions(EcsStore& store, Ctx& ctx, json::object& in) {
  const auto* wanted = get_array(in, "taskDefinitions");
  if (wanted == nullptr || wanted->empty() || wanted->size() > 10)
    return make_error(ErrorKind::kEcsInvalidParameter, "taskDefinitions must list between 1 and 10 task definitions.");
  return store.write([&](EcsTables& t) -> Out {
    json::array done, failures;
    for (const auto& w : *wanted) {
      std::string text(w.as_string());
      auto fail = [&](std::string reason) {
        std::string arn = text.starts_with("arn:") ? text : ctx.scope.arn("ecs", "task-definition/" + text);
        failures.push_back(json::object{{"arn", arn}, {"reason", std::move(reason)}});
      };
      auto ref = parse_ref(ctx, text);
      if (!ref || !ref->revision) {
        fail("The specified task definition identifier is invalid. Specify a family and revision or an ARN.");
        continue;
      }
      auto td = t.find_task_definition(ctx.scope, ref->family, *ref->revision);
      if (!td) {
        fail("The specified task definition does not exist.");
        continue;
      }
      if (td->status == TaskDefinitionStatus::kActive) {
        fail("The specified task definition is still in ACTIVE status. Please deregister the target and try again.");
        continue;
      }
      if (td->status == TaskDefinitionStatus::kInactive) {
        td->status = TaskDefinitionStatus::kDeleteInProgress;
        td->delete_requested_at = ctx.now;
        t.put_task_definition(*td);
      }
      done.push_back(encode(*td));
    }
    return json::object{{"taskDefinitions", std::move(done)}, {"failures", std::move(failures)}};
  });
}

}  // namespace gantry::ecs
