// CreateCluster, DescribeClusters, ListClusters, DeleteCluster, UpdateCluster, UpdateClusterSettings,
// PutClusterCapacityProviders.
#include <fmt/format.h>

#include <set>

#include "core/pagination.h"
#include "services/ecs/handlers.h"

namespace gantry::ecs {

namespace {

Error cluster_not_found() { return make_error(ErrorKind::kEcsClusterNotFound, "Cluster not found."); }

Result<json::array> parse_settings(const json::array* settings) {
  json::array out;
  if (settings == nullptr) return out;
  for (const auto& s : *settings) {
    const auto& o = s.as_object();
    auto name = get_string(o, "name");
    auto value = get_string(o, "value");
    if (!name || *name != "containerInsights")
      return make_error(ErrorKind::kEcsInvalidParameter, "Cluster setting name must be 'containerInsights'.");
    if (!value || (*value != "enabled" && *value != "disabled" && *value != "enhanced"))
      return make_error(ErrorKind::kEcsInvalidParameter,
                        "Cluster setting 'containerInsights' must have the value 'enabled', 'disabled' or 'enhanced'.");
    out.push_back(json::object{{"name", *name}, {"value", *value}});
  }
  return out;
}

// Replaces settings of the same name, keeping the order of first appearance.
void merge_settings(json::array& current, const json::array& update) {
  for (const auto& u : update) {
    bool replaced = false;
    for (auto& c : current) {
      if (c.as_object().at("name") == u.as_object().at("name")) {
        c = u;
        replaced = true;
      }
    }
    if (!replaced) current.push_back(u);
  }
}

Status check_capacity_providers(const json::array* providers, const json::array* strategy) {
  std::set<std::string> names;
  if (providers) {
    for (const auto& p : *providers) {
      std::string name(p.as_string());
      if (name != "FARGATE" && name != "FARGATE_SPOT")
        return make_error(ErrorKind::kEcsInvalidParameter,
                          fmt::format("The specified capacity provider '{}' is not supported. Gantry runs Fargate "
                                      "tasks only: use FARGATE or FARGATE_SPOT.",
                                      name));
      if (!names.insert(name).second)
        return make_error(ErrorKind::kEcsInvalidParameter,
                          fmt::format("The capacity provider '{}' is listed more than once.", name));
    }
  }
  if (strategy) {
    int with_base = 0;
    for (const auto& s : *strategy) {
      const auto& o = s.as_object();
      std::string cp = get_string(o, "capacityProvider").value_or("");
      if (!names.contains(cp))
        return make_error(ErrorKind::kEcsInvalidParameter,
                          fmt::format("The specified capacity provider strategy cannot contain a capacity provider "
                                      "that is not associated with the cluster. Associate the capacity provider "
                                      "'{}' with the cluster or specify a valid capacity provider and try again.",
                                      cp));
      auto weight = get_int(o, "weight").value_or(0);
      auto base = get_int(o, "base").value_or(0);
      if (weight < 0 || weight > 1000)
        return make_error(ErrorKind::kEcsInvalidParameter, "Capacity provider strategy weight must be between 0 and 1000.");
      if (base < 0 || base > 100000)
        return make_error(ErrorKind::kEcsInvalidParameter, "Capacity provider strategy base must be between 0 and 100000.");
      if (base > 0) ++with_base;
    }
    if (with_base > 1)
      return make_error(ErrorKind::kEcsInvalidParameter,
                        "Only one capacity provider in a capacity provider strategy can have a base defined.");
  }
  return {};
}

Status reject_service_connect(const json::object& in) {
  if (in.contains("serviceConnectDefaults"))
    return make_error(ErrorKind::kEcsInvalidParameter,
                      "Gantry does not support Service Connect (serviceConnectDefaults): it has no Cloud Map namespaces.");
  return {};
}

}  // namespace

Result<std::string> cluster_name_from(const Ctx& ctx, std::optional<std::string> name_or_arn) {
  if (!name_or_arn || name_or_arn->empty()) return std::string("default");
  if (name_or_arn->starts_with("arn:")) {
    auto arn = Arn::parse(*name_or_arn);
    if (!arn || arn->service != "ecs" || !arn->resource.starts_with("cluster/"))
      return make_error(ErrorKind::kEcsInvalidParameter, fmt::format("Invalid cluster ARN: {}", name_or_arn->substr(0, 256)));
    if (arn->account != ctx.scope.account || arn->region != ctx.scope.region) return cluster_not_found();
    return arn->resource.substr(8);
  }
  return *name_or_arn;
}

json::object encode_cluster(EcsTables& t, const Cluster& c, bool with_settings, bool with_tags, bool with_statistics,
                            bool with_configuration) {
  json::object o;
  o["clusterArn"] = c.arn;
  o["clusterName"] = c.name;
  if (with_configuration && !c.configuration.empty()) o["configuration"] = c.configuration;
  o["status"] = c.status;
  // Gantry runs Fargate tasks only: there are no container instances and no services.
  int64_t running = 0, pending = 0;
  for (const auto& [status, n] : t.task_status_counts(Scope{c.account, c.region}, c.name)) {
    if (status == "RUNNING") running += n;
    if (status == "PROVISIONING" || status == "PENDING" || status == "ACTIVATING") pending += n;
  }
  o["registeredContainerInstancesCount"] = 0;
  o["runningTasksCount"] = running;
  o["pendingTasksCount"] = pending;
  o["activeServicesCount"] = 0;
  json::array stats;
  if (with_statistics) {
    for (const char* name : {"runningEC2TasksCount", "runningFargateTasksCount", "pendingEC2TasksCount",
                             "pendingFargateTasksCount", "activeEC2ServiceCount", "activeFargateServiceCount",
                             "drainingEC2ServiceCount", "drainingFargateServiceCount"}) {
      std::string_view n(name);
      int64_t value = n == "runningFargateTasksCount" ? running : n == "pendingFargateTasksCount" ? pending : 0;
      stats.push_back(json::object{{"name", name}, {"value", std::to_string(value)}});
    }
  }
  o["statistics"] = std::move(stats);
  o["tags"] = with_tags ? encode_tags(t.tags(c.arn)) : json::array();
  if (with_settings) o["settings"] = c.settings;
  o["capacityProviders"] = c.capacity_providers;
  o["defaultCapacityProviderStrategy"] = c.default_strategy;
  return o;
}

Out create_cluster(EcsStore& store, Ctx& ctx, json::object& in) {
  std::string name = get_string(in, "clusterName").value_or("default");
  if (!valid_ecs_name(name))
    return make_error(ErrorKind::kEcsInvalidParameter,
                      "Cluster name may contain up to 255 letters (uppercase and lowercase), numbers, underscores, "
                      "and hyphens.");
  GANTRY_RETURN_IF_ERROR(reject_service_connect(in));
  GANTRY_ASSIGN_OR_RETURN(auto tags, parse_tags(get_array(in, "tags")));
  GANTRY_ASSIGN_OR_RETURN(auto settings, parse_settings(get_array(in, "settings")));
  GANTRY_RETURN_IF_ERROR(check_capacity_providers(get_array(in, "capacityProviders"),
                                                  get_array(in, "defaultCapacityProviderStrategy")));
  return store.write([&](EcsTables& t) -> Out {
    auto existing = t.find_cluster(ctx.scope, name);
    if (existing && existing->status == "ACTIVE") {
      // CreateCluster is idempotent by name: the existing cluster comes back unchanged.
      return json::object{{"cluster", encode_cluster(t, *existing, true, true, false, true)}};
    }
    Cluster c;
    c.arn = ctx.scope.arn("ecs", "cluster/" + name);
    c.account = ctx.scope.account;
    c.region = ctx.scope.region;
    c.name = name;
    c.settings = json::array{json::object{{"name", "containerInsights"}, {"value", "disabled"}}};
    merge_settings(c.settings, settings);
    if (auto* cfg = in.if_contains("configuration")) c.configuration = cfg->as_object();
    if (auto* cp = get_array(in, "capacityProviders")) c.capacity_providers = *cp;
    if (auto* ds = get_array(in, "defaultCapacityProviderStrategy")) c.default_strategy = *ds;
    c.created_at = ctx.now;
    if (existing) {  // an INACTIVE cluster of that name comes back to life without its old tags
      std::vector<std::string> old_keys;
      for (auto& tag : t.tags(c.arn)) old_keys.push_back(tag.key);
      t.remove_tags(c.arn, old_keys);
    }
    t.put_cluster(c);
    t.set_tags(c.arn, tags);
    return json::object{{"cluster", encode_cluster(t, c, true, true, false, true)}};
  });
}

Out describe_clusters(EcsStore& store, Ctx& ctx, json::object& in) {
  std::vector<std::string> wanted;
  if (auto* cs = get_array(in, "clusters")) {
    if (cs->size() > 100)
      return make_error(ErrorKind::kEcsInvalidParameter, "DescribeClusters accepts at most 100 clusters per call.");
    for (const auto& c : *cs) wanted.emplace_back(c.as_string());
  }
  if (wanted.empty()) wanted.emplace_back("default");
  bool settings = false, tags = false, stats = false, config = false;
  if (auto* inc = get_array(in, "include")) {
    for (const auto& i : *inc) {
      auto s = i.as_string();
      settings |= s == "SETTINGS";
      tags |= s == "TAGS";
      stats |= s == "STATISTICS";
      config |= s == "CONFIGURATIONS";
    }
  }
  return store.read([&](EcsTables& t) -> Out {
    json::array clusters, failures;
    for (const auto& w : wanted) {
      auto name = cluster_name_from(ctx, w);
      std::optional<Cluster> c;
      if (name) c = t.find_cluster(ctx.scope, *name);
      if (!c) {
        std::string arn = w.starts_with("arn:") ? w : ctx.scope.arn("ecs", "cluster/" + w);
        failures.push_back(json::object{{"arn", arn}, {"reason", "MISSING"}});
        continue;
      }
      clusters.push_back(encode_cluster(t, *c, settings, tags, stats, config));
    }
    return json::object{{"clusters", std::move(clusters)}, {"failures", std::move(failures)}};
  });
}

Out list_clusters(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(int limit, page_size(in));
  GANTRY_ASSIGN_OR_RETURN(auto after, page_start(in, "ecs.ListClusters"));
  return store.read([&](EcsTables& t) -> Out {
    auto arn = [](const std::string& a) { return a; };
    return make_page(t.list_cluster_arns(ctx.scope, after, limit + 1), limit, "clusterArns", "ecs.ListClusters", arn,
                     arn);
  });
}

Out delete_cluster(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, cluster_name_from(ctx, get_string(in, "cluster")));
  return store.write([&](EcsTables& t) -> Out {
    auto c = t.find_cluster(ctx.scope, name);
    if (!c || c->status != "ACTIVE") return cluster_not_found();
    if (!t.task_status_counts(ctx.scope, name).empty())
      return make_error(ErrorKind::kEcsClusterContainsTasks, "The Cluster cannot be deleted while Tasks are active.");
    c->status = "INACTIVE";
    t.put_cluster(*c);
    return json::object{{"cluster", encode_cluster(t, *c, true, true, false, true)}};
  });
}

Out update_cluster(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, cluster_name_from(ctx, get_string(in, "cluster")));
  GANTRY_RETURN_IF_ERROR(reject_service_connect(in));
  GANTRY_ASSIGN_OR_RETURN(auto settings, parse_settings(get_array(in, "settings")));
  return store.write([&](EcsTables& t) -> Out {
    auto c = t.find_cluster(ctx.scope, name);
    if (!c || c->status != "ACTIVE") return cluster_not_found();
    merge_settings(c->settings, settings);
    if (auto* cfg = in.if_contains("configuration")) c->configuration = cfg->as_object();
    t.put_cluster(*c);
    return json::object{{"cluster", encode_cluster(t, *c, true, true, false, true)}};
  });
}

Out update_cluster_settings(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, cluster_name_from(ctx, get_string(in, "cluster")));
  GANTRY_ASSIGN_OR_RETURN(auto settings, parse_settings(get_array(in, "settings")));
  return store.write([&](EcsTables& t) -> Out {
    auto c = t.find_cluster(ctx.scope, name);
    if (!c || c->status != "ACTIVE") return cluster_not_found();
    merge_settings(c->settings, settings);
    t.put_cluster(*c);
    return json::object{{"cluster", encode_cluster(t, *c, true, true, false, true)}};
  });
}

Out put_cluster_capacity_providers(EcsStore& store, Ctx& ctx, json::object& in) {
  GANTRY_ASSIGN_OR_RETURN(auto name, cluster_name_from(ctx, get_string(in, "cluster")));
  GANTRY_RETURN_IF_ERROR(check_capacity_providers(get_array(in, "capacityProviders"),
                                                  get_array(in, "defaultCapacityProviderStrategy")));
  return store.write([&](EcsTables& t) -> Out {
    auto c = t.find_cluster(ctx.scope, name);
    if (!c || c->status != "ACTIVE") return cluster_not_found();
    c->capacity_providers = *get_array(in, "capacityProviders");
    c->default_strategy = *get_array(in, "defaultCapacityProviderStrategy");
    t.put_cluster(*c);
    return json::object{{"cluster", encode_cluster(t, *c, true, true, false, true)}};
  });
}

}  // namespace gantry::ecs
