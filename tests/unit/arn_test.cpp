#include "core/arn.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Arn, ParsesResourceWithColonsAndSlashes) {
  auto a = Arn::parse("arn:aws:ecs:us-east-1:000000000000:task-definition/my-batch-job:1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->partition, "aws");
  EXPECT_EQ(a->service, "ecs");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->account, "000000000000");
  EXPECT_EQ(a->resource, "task-definition/my-batch-job:1");
  EXPECT_EQ(a->str(), "arn:aws:ecs:us-east-1:000000000000:task-definition/my-batch-job:1");
}

TEST(Arn, GlobalServicesHaveEmptyRegion) {
  auto a = Arn::parse("arn:aws:iam::000000000000:role/ecsTaskExecutionRole");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->region, "");
  EXPECT_EQ(a->resource, "role/ecsTaskExecutionRole");
}

TEST(Arn, RejectsMalformed) {
  EXPECT_FALSE(Arn::parse(""));
  EXPECT_FALSE(Arn::parse("arn:aws:ecs"));
  EXPECT_FALSE(Arn::parse("arn:aws:ecs:us-east-1:000000000000:"));
  EXPECT_FALSE(Arn::parse("nra:aws:ecs:us-east-1:000000000000:cluster/x"));
  EXPECT_FALSE(Arn::parse("arn::ecs:us-east-1:000000000000:cluster/x"));
  EXPECT_FALSE(Arn::parse("arn:aws::us-east-1:000000000000:cluster/x"));
}

TEST(Scope, BuildsArns) {
  Scope s{"123456789012", "eu-west-1"};
  EXPECT_EQ(s.arn("ecs", "cluster/a"), "arn:aws:ecs:eu-west-1:123456789012:cluster/a");
}

}  // namespace
}  // namespace gantry
