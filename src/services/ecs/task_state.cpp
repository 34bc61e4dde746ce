#include "services/ecs/task_state.h"

#include "services/ecs/handlers.h"

#include <array>

namespace gantry::ecs::task_state {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 8> kOrder = {"PROVISIONING", "PENDING",      "ACTIVATING", "RUNNING",
                                                    "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"};

void bump(json::object& task) {
  auto* v = task.if_contains("version");
  task["version"] = (v && v->is_int64() ? v->as_int64() : 0) + 1;
}

// Moves lastStatus forward to `status`; false (and no change) when it is there or beyond already.
bool advance(json::object& task, std::string_view status) {
  if (rank(string_member(task, "lastStatus")) >= rank(status)) return false;
  task["lastStatus"] = status;
  return true;
}

void stamp_once(json::object& task, std::string_view key, TimePoint now) {
  if (!task.contains(key)) task[key] = epoch_seconds(now);
}

json::array* containers(json::object& task) {
  auto* c = task.if_contains("containers");
  return c && c->is_array() ? &c->as_array() : nullptr;
}

json::object* container(json::object& task, std::string_view name) {
  if (auto* list = containers(task)) {
    for (auto& c : *list) {
      if (c.is_object() && string_member(c.as_object(), "name") == name) return &c.as_object();
    }
  }
  return nullptr;
}

void set_attachment_status(json::object& task, std::string_view status) {
  auto* a = task.if_contains("attachments");
  if (!a || !a->is_array()) return;
  for (auto& att : a->as_array()) {
    if (att.is_object() && string_member(att.as_object(), "type") == "ElasticNetworkInterface") att.as_object()["status"] = status;
  }
}

}  // namespace

int rank(std::string_view status) {
  for (size_t i = 0; i < kOrder.size(); ++i) {
    if (kOrder[i] == status) return static_cast<int>(i);
  }
  return -1;
}

void pull_started(json::object& task, TimePoint now) {
  if (!advance(task, "PENDING")) return;
  stamp_once(task, "pullStartedAt", now);
  bump(task);
}

void pull_stopped(json::object& task, TimePoint now) {
  if (task.contains("pullStoppedAt")) return;
  task["pullStoppedAt"] = epoch_seconds(now);
  bump(task);
}

void set_image_digest(json::object& task, std::string_view name, std::string_view digest) {
  if (auto* c = container(task, name)) (*c)["imageDigest"] = digest;
}

void container_running(json::object& task, std::string_view name, std::string_view runtime_id) {
  auto* c = container(task, name);
  if (!c || rank(string_member(*c, "lastStatus")) >= rank("RUNNING")) return;
  (*c)["lastStatus"] = "RUNNING";
  (*c)["runtimeId"] = runtime_id;
  bump(task);
}

void set_health(json::object& task, std::string_view name, std::string_view status, std::string_view task_status) {
  auto* c = container(task, name);
  if (!c) return;
  if (string_member(*c, "healthStatus") == status && string_member(task, "healthStatus") == task_status) return;
  (*c)["healthStatus"] = status;
  task["healthStatus"] = task_status;
  bump(task);
}

void running(json::object& task, TimePoint now) {
  if (!advance(task, "RUNNING")) return;
  stamp_once(task, "startedAt", now);
  task["connectivity"] = "CONNECTED";
  stamp_once(task, "connectivityAt", now);
  set_attachment_status(task, "ATTACHED");
  bump(task);
}

bool stop_requested(json::object& task, std::string_view stop_code, std::string_view reason, TimePoint now) {
  if (string_member(task, "desiredStatus") == "STOPPED") return false;
  task["desiredStatus"] = "STOPPED";
  if (!stop_code.empty()) task["stopCode"] = stop_code;
  if (!reason.empty()) task["stoppedReason"] = reason;
  stamp_once(task, "stoppingAt", now);
  bump(task);
  return true;
}

void stopping(json::object& task, TimePoint now) {
  if (!advance(task, "DEACTIVATING")) return;
  stamp_once(task, "stoppingAt", now);
  set_attachment_status(task, "DETACHING");
  bump(task);
}

void container_stopped(json::object& task, std::string_view name, std::optional<int> exit_code,
                       std::string_view reason) {
  auto* c = container(task, name);
  if (!c || string_member(*c, "lastStatus") == "STOPPED") return;
  (*c)["lastStatus"] = "STOPPED";
  if (exit_code) (*c)["exitCode"] = *exit_code;
  if (!reason.empty()) (*c)["reason"] = reason;
  bump(task);
}

void execution_stopped(json::object& task, TimePoint now) {
  stamp_once(task, "executionStoppedAt", now);
  if (advance(task, "DEPROVISIONING")) stamp_once(task, "stoppingAt", now);
  bump(task);
}

void stopped(json::object& task, TimePoint now) {
  if (!advance(task, "STOPPED")) return;
  task["desiredStatus"] = "STOPPED";
  stamp_once(task, "stoppingAt", now);
  stamp_once(task, "executionStoppedAt", now);
  task["stoppedAt"] = epoch_seconds(now);
  if (string_member(task, "connectivity") == "CONNECTED") task["connectivity"] = "DISCONNECTED";
  if (auto* list = containers(task)) {
    for (auto& c : *list) {
      if (c.is_object()) c.as_object()["lastStatus"] = "STOPPED";
    }
  }
  set_attachment_status(task, "DELETED");
  bump(task);
}

boost::json::object change_event_detail(const boost::json::object& task, TimePoint now) {
  boost::json::object detail = task;
  for (const char* key : {"createdAt", "startedAt", "stoppingAt", "stoppedAt", "pullStartedAt", "pullStoppedAt",
                          "executionStoppedAt", "connectivityAt"}) {
    auto* v = detail.if_contains(key);
    if (v == nullptr) continue;
    if (v->is_double()) *v = iso8601(from_epoch_seconds(v->as_double()));
    else if (v->is_int64()) *v = iso8601(from_epoch_seconds(static_cast<double>(v->as_int64())));
  }
  detail["updatedAt"] = iso8601(now);
  return detail;
}

}  // namespace gantry::ecs::task_state
