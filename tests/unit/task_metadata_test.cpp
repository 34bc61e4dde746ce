// Task metadata endpoint v4 documents (supervisor/task_metadata.h) from a stored task.
#include "supervisor/task_metadata.h"

#include <gtest/gtest.h>

namespace gantry::supervisor {
namespace {

namespace json = boost::json;

const json::object kTask = json::parse(R"({
  "taskArn": "arn:aws:ecs:us-east-1:000000000000:task/c/abc",
  "clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/c",
  "desiredStatus": "RUNNING", "lastStatus": "RUNNING", "cpu": "256", "memory": "512",
  "availabilityZone": "us-east-1a", "createdAt": 1700000000.5, "startedAt": 1700000001.25,
  "pullStartedAt": 1700000000.75,
  "attachments": [{"details": [{"name": "privateIPv4Address", "value": "172.31.0.7"},
                               {"name": "macAddress", "value": "0e:aa:bb:cc:dd:ee"},
                               {"name": "privateDnsName", "value": "ip-172-31-0-7.ec2.internal"}]}],
  "containers": [{"name": "app", "image": "127.0.0.1:4566/busybox:latest", "imageDigest": "sha256:11",
                  "lastStatus": "RUNNING", "cpu": "0", "memory": "128", "containerArn": "arn:c"},
                 {"name": "side", "image": "127.0.0.1:4566/busybox:latest", "lastStatus": "PENDING", "cpu": "10"}]
})").as_object();

const json::array kDefinitions = json::parse(R"([
  {"name": "app", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/g"}}},
  {"name": "side"}])").as_array();

TEST(TaskMetadataTest, ContainerDocument) {
  MetadataSource source{kTask, kDefinitions, "fam", 3};
  auto c = container_metadata(source, "app", "abc-app");
  EXPECT_EQ(c.at("DockerId").as_string(), "abc-app");
  EXPECT_EQ(c.at("ImageID").as_string(), "sha256:11");
  EXPECT_EQ(c.at("KnownStatus").as_string(), "RUNNING");
  EXPECT_EQ(c.at("Labels").at("com.amazonaws.ecs.task-definition-version").as_string(), "3");
  EXPECT_EQ(c.at("Limits").at("Memory").as_int64(), 128);
  EXPECT_EQ(c.at("CreatedAt").as_string(), "2023-11-14T22:13:20.500000000Z");
  EXPECT_EQ(c.at("LogDriver").as_string(), "awslogs");
  EXPECT_EQ(c.at("LogOptions").at("awslogs-group").as_string(), "/g");
  const auto& net = c.at("Networks").as_array()[0].as_object();
  EXPECT_EQ(net.at("IPv4Addresses").as_array()[0].as_string(), "172.31.0.7");
  EXPECT_EQ(net.at("MACAddress").as_string(), "0e:aa:bb:cc:dd:ee");
  // No memory limit, no digest, no log configuration: absent, not invented.
  auto side = container_metadata(source, "side", "abc-side");
  EXPECT_FALSE(side.contains("ImageID"));
  EXPECT_FALSE(side.at("Limits").as_object().contains("Memory"));
  EXPECT_FALSE(side.contains("LogDriver"));
  EXPECT_TRUE(container_metadata(source, "nope", "x").empty());
}

TEST(TaskMetadataTest, TaskDocument) {
  MetadataSource source{kTask, kDefinitions, "fam", 3};
  auto t = task_metadata(source, [](std::string_view name) { return "abc-" + std::string(name); });
  EXPECT_EQ(t.at("TaskARN").as_string(), "arn:aws:ecs:us-east-1:000000000000:task/c/abc");
  EXPECT_EQ(t.at("Revision").as_string(), "3");
  EXPECT_DOUBLE_EQ(t.at("Limits").at("CPU").as_double(), 0.25);
  EXPECT_EQ(t.at("Limits").at("Memory").as_int64(), 512);
  EXPECT_EQ(t.at("PullStartedAt").as_string(), "2023-11-14T22:13:20.750000000Z");
  EXPECT_FALSE(t.contains("PullStoppedAt"));
  const auto& cs = t.at("Containers").as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[1].at("DockerId").as_string(), "abc-side");
}

}  // namespace
}  // namespace gantry::supervisor
