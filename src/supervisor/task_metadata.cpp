#include "supervisor/task_metadata.h"

#include <fmt/format.h>

#include <functional>

#include "core/clock.h"

namespace gantry::supervisor {

namespace {

namespace json = boost::json;

std::string_view str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

// Epoch seconds (as the store keeps times) → RFC 3339 with nanoseconds, as the agent writes them.
void put_time(json::object& out, std::string_view key, const json::object& from, std::string_view from_key) {
  auto* v = from.if_contains(from_key);
  if (!v || !(v->is_double() || v->is_int64())) return;
  double s = v->is_double() ? v->as_double() : static_cast<double>(v->as_int64());
  auto t = from_epoch_seconds(s);
  auto since = t.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
  std::string base = iso8601(TimePoint(std::chrono::duration_cast<TimePoint::duration>(secs)));
  // iso8601 gives "YYYY-MM-DDTHH:MM:SS.mmmZ" or "...SSZ": keep the seconds, add nanoseconds.
  out[key] = fmt::format("{}.{:09d}Z", base.substr(0, 19), nanos);
}

int64_t to_int(std::string_view s) {
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    n = n * 10 + (c - '0');
  }
  return n;
}

const json::object* find_named(const json::array& list, std::string_view name) {
  for (const auto& v : list)
    if (v.is_object() && str(v.as_object(), "name") == name) return &v.as_object();
  return nullptr;
}

json::object details_of(const json::object& task) {
  json::object out;
  auto* atts = task.if_contains("attachments");
  if (!atts || !atts->is_array() || atts->as_array().empty()) return out;
  const auto& first = atts->as_array()[0];
  if (!first.is_object()) return out;
  if (auto* d = first.as_object().if_contains("details"); d && d->is_array())
    for (const auto& kv : d->as_array())
      if (kv.is_object()) out[str(kv.as_object(), "name")] = str(kv.as_object(), "value");
  return out;
}

}  // namespace

json::object container_metadata(const MetadataSource& source, std::string_view name, std::string_view runtime_id) {
  const json::object* c = nullptr;
  if (auto* list = source.task.if_contains("containers"); list && list->is_array())
    c = find_named(list->as_array(), name);
  if (c == nullptr) return {};
  const json::object* def = find_named(source.definitions, name);
  json::object out;
  out["DockerId"] = runtime_id;
  out["Name"] = name;
  out["DockerName"] = name;
  out["Image"] = str(*c, "image");
  if (auto digest = str(*c, "imageDigest"); !digest.empty()) out["ImageID"] = digest;
  out["Labels"] = json::object{{"com.amazonaws.ecs.cluster", str(source.task, "clusterArn")},
                               {"com.amazonaws.ecs.container-name", name},
                               {"com.amazonaws.ecs.task-arn", str(source.task, "taskArn")},
                               {"com.amazonaws.ecs.task-definition-family", source.family},
                               {"com.amazonaws.ecs.task-definition-version", std::to_string(source.revision)}};
  out["DesiredStatus"] = str(source.task, "desiredStatus");
  out["KnownStatus"] = str(*c, "lastStatus");
  json::object limits{{"CPU", to_int(str(*c, "cpu"))}};
  if (auto m = str(*c, "memory"); !m.empty()) limits["Memory"] = to_int(m);
  out["Limits"] = std::move(limits);
  put_time(out, "CreatedAt", source.task, "createdAt");
  put_time(out, "StartedAt", source.task, "startedAt");
  out["Type"] = "NORMAL";
  out["ContainerARN"] = str(*c, "containerArn");
  if (def != nullptr) {
    if (auto* lc = def->if_contains("logConfiguration"); lc && lc->is_object()) {
      out["LogDriver"] = str(lc->as_object(), "logDriver");
      if (auto* opts = lc->as_object().if_contains("options"); opts && opts->is_object())
        out["LogOptions"] = opts->as_object();
    }
  }
  auto d = details_of(source.task);
  json::object network{{"NetworkMode", "awsvpc"},
                       {"IPv4Addresses", json::array{d["privateIPv4Address"]}},
                       {"AttachmentIndex", 0}};
  if (auto* mac = d.if_contains("macAddress")) network["MACAddress"] = *mac;
  if (auto* dns = d.if_contains("privateDnsName")) network["PrivateDNSName"] = *dns;
  out["Networks"] = json::array{std::move(network)};
  out["Snapshotter"] = "overlayfs";
  return out;
}

json::object task_metadata(const MetadataSource& source,
                           const std::function<std::string(std::string_view name)>& runtime_id_of) {
  json::object out;
  out["Cluster"] = str(source.task, "clusterArn");
  out["TaskARN"] = str(source.task, "taskArn");
  out["Family"] = source.family;
  out["Revision"] = std::to_string(source.revision);
  out["DesiredStatus"] = str(source.task, "desiredStatus");
  out["KnownStatus"] = str(source.task, "lastStatus");
  out["Limits"] = json::object{{"CPU", static_cast<double>(to_int(str(source.task, "cpu"))) / 1024.0},
                               {"Memory", to_int(str(source.task, "memory"))}};
  put_time(out, "PullStartedAt", source.task, "pullStartedAt");
  put_time(out, "PullStoppedAt", source.task, "pullStoppedAt");
  out["AvailabilityZone"] = str(source.task, "availabilityZone");
  out["LaunchType"] = "FARGATE";
  json::array containers;
  if (auto* list = source.task.if_contains("containers"); list && list->is_array())
    for (const auto& c : list->as_array()) {
      if (!c.is_object()) continue;
      auto name = str(c.as_object(), "name");
      containers.push_back(container_metadata(source, name, runtime_id_of(name)));
    }
  out["Containers"] = std::move(containers);
  return out;
}

}  // namespace gantry::supervisor
