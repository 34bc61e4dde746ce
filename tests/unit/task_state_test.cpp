// The task lifecycle edits (services/ecs/task_state.h): order, timestamps, version, first stop wins.
#include "services/ecs/task_state.h"

#include <gtest/gtest.h>

namespace gantry::ecs {
namespace {

namespace json = boost::json;
namespace ts = task_state;

TimePoint at(double seconds) { return from_epoch_seconds(seconds); }

json::object new_task() {
  return json::parse(R"({
    "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING", "version": 1, "createdAt": 100.0,
    "attachments": [{"id": "a", "type": "ElasticNetworkInterface", "status": "PRECREATED", "details": []}],
    "containers": [{"name": "app", "lastStatus": "PENDING"}, {"name": "side", "lastStatus": "PENDING"}]
  })").as_object();
}

const json::object& container(const json::object& task, size_t i) {
  return task.at("containers").as_array().at(i).as_object();
}

TEST(TaskStateTest, RankOrdersEveryStatus) {
  EXPECT_LT(ts::rank("PROVISIONING"), ts::rank("PENDING"));
  EXPECT_LT(ts::rank("PENDING"), ts::rank("RUNNING"));
  EXPECT_LT(ts::rank("RUNNING"), ts::rank("DEACTIVATING"));
  EXPECT_LT(ts::rank("DEPROVISIONING"), ts::rank("STOPPED"));
  EXPECT_EQ(ts::rank("BOGUS"), -1);
}

TEST(TaskStateTest, HappyPathStampsEveryTimestampOnceAndCountsVersions) {
  auto t = new_task();
  ts::pull_started(t, at(101));
  EXPECT_EQ(t.at("lastStatus"), "PENDING");
  EXPECT_DOUBLE_EQ(t.at("pullStartedAt").as_double(), 101);
  ts::set_image_digest(t, "app", "sha256:abc");
  ts::pull_stopped(t, at(102));
  ts::pull_stopped(t, at(109));  // a second call changes nothing
  EXPECT_DOUBLE_EQ(t.at("pullStoppedAt").as_double(), 102);
  ts::container_running(t, "app", "rt-app");
  ts::running(t, at(103));
  EXPECT_EQ(t.at("lastStatus"), "RUNNING");
  EXPECT_EQ(t.at("connectivity"), "CONNECTED");
  EXPECT_DOUBLE_EQ(t.at("startedAt").as_double(), 103);
  EXPECT_EQ(t.at("attachments").as_array()[0].as_object().at("status"), "ATTACHED");
  EXPECT_EQ(container(t, 0).at("runtimeId"), "rt-app");
  EXPECT_EQ(container(t, 0).at("imageDigest"), "sha256:abc");
  EXPECT_EQ(container(t, 0).at("lastStatus"), "RUNNING");

  ts::container_stopped(t, "app", 0, "");
  EXPECT_TRUE(ts::stop_requested(t, "EssentialContainerExited", "Essential container in task exited", at(104)));
  ts::stopping(t, at(104));
  EXPECT_EQ(t.at("lastStatus"), "DEACTIVATING");
  ts::execution_stopped(t, at(105));
  EXPECT_EQ(t.at("lastStatus"), "DEPROVISIONING");
  ts::stopped(t, at(106));
  EXPECT_EQ(t.at("lastStatus"), "STOPPED");
  EXPECT_EQ(t.at("desiredStatus"), "STOPPED");
  EXPECT_DOUBLE_EQ(t.at("stoppingAt").as_double(), 104);
  EXPECT_DOUBLE_EQ(t.at("executionStoppedAt").as_double(), 105);
  EXPECT_DOUBLE_EQ(t.at("stoppedAt").as_double(), 106);
  EXPECT_EQ(t.at("stopCode"), "EssentialContainerExited");
  EXPECT_EQ(container(t, 0).at("exitCode"), 0);
  EXPECT_EQ(container(t, 1).at("lastStatus"), "STOPPED");  // never ran: stopped with the task
  EXPECT_FALSE(container(t, 1).contains("exitCode"));
  EXPECT_EQ(t.at("attachments").as_array()[0].as_object().at("status"), "DELETED");
  EXPECT_EQ(t.at("connectivity"), "DISCONNECTED");
  EXPECT_GT(t.at("version").as_int64(), 8);
}

TEST(TaskStateTest, StatusNeverMovesBackwards) {
  auto t = new_task();
  ts::stopped(t, at(110));
  auto version = t.at("version").as_int64();
  ts::pull_started(t, at(111));
  ts::running(t, at(112));
  ts::stopping(t, at(113));
  EXPECT_EQ(t.at("lastStatus"), "STOPPED");
  EXPECT_FALSE(t.contains("startedAt"));
  EXPECT_EQ(t.at("version").as_int64(), version);
}

TEST(TaskStateTest, FirstStopRequestDecidesCodeAndReason) {
  auto t = new_task();
  EXPECT_TRUE(ts::stop_requested(t, "UserInitiated", "done here", at(120)));
  EXPECT_FALSE(ts::stop_requested(t, "EssentialContainerExited", "Essential container in task exited", at(121)));
  EXPECT_EQ(t.at("stopCode"), "UserInitiated");
  EXPECT_EQ(t.at("stoppedReason"), "done here");
  EXPECT_DOUBLE_EQ(t.at("stoppingAt").as_double(), 120);
}

TEST(TaskStateTest, ContainerExitKeepsFirstResultAndOmitsEmptyReason) {
  auto t = new_task();
  ts::container_stopped(t, "app", 137, "OutOfMemoryError: Container killed due to memory usage");
  ts::container_stopped(t, "app", 0, "");
  EXPECT_EQ(container(t, 0).at("exitCode"), 137);
  EXPECT_EQ(container(t, 0).at("reason"), "OutOfMemoryError: Container killed due to memory usage");
  ts::container_stopped(t, "side", std::nullopt, "");
  EXPECT_FALSE(container(t, 1).contains("reason"));
  EXPECT_FALSE(container(t, 1).contains("exitCode"));
  ts::container_stopped(t, "nope", 1, "x");  // unknown names are ignored
}

TEST(TaskStateTest, MalformedTaskObjectsAreToleratedNotCrashedOn) {
  json::object t = json::parse(R"({"containers": 5, "attachments": "x", "version": "seven"})").as_object();
  ts::pull_started(t, at(1));
  ts::container_running(t, "app", "x");
  ts::running(t, at(2));
  ts::stopped(t, at(3));
  EXPECT_EQ(t.at("lastStatus"), "STOPPED");
}

}  // namespace
}  // namespace gantry::ecs
