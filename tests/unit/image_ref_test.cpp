// Image references a task definition may hold, and which of them name Gantry's own registry.
#include "supervisor/image_ref.h"

#include <gtest/gtest.h>

namespace gantry::supervisor {
namespace {

TEST(ImageRefTest, EcrStyleHostCarriesAccountAndRegion) {
  auto r = parse_image_ref("123456789012.dkr.ecr.eu-west-1.localhost:4566/team/app:v1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->host, "123456789012.dkr.ecr.eu-west-1.localhost:4566");
  EXPECT_EQ(r->repository, "team/app");
  EXPECT_EQ(r->tag, "v1");
  ASSERT_TRUE(r->scope.has_value());
  EXPECT_EQ(r->scope->account, "123456789012");
  EXPECT_EQ(r->scope->region, "eu-west-1");
  EXPECT_TRUE(is_local_registry(*r));
}

TEST(ImageRefTest, RealAwsEcrHostIsAlsoAnEcrName) {
  auto r = parse_image_ref("000000000000.dkr.ecr.us-east-1.amazonaws.com/python-batch-job");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tag, "latest");
  EXPECT_TRUE(is_local_registry(*r));
}

TEST(ImageRefTest, LoopbackHostsAreLocal) {
  for (const char* text : {"127.0.0.1:4566/busybox:latest", "localhost:5000/busybox", "[::1]:4566/busybox",
                           "localhost/busybox"}) {
    auto r = parse_image_ref(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().message;
    EXPECT_TRUE(is_local_registry(*r)) << text;
    EXPECT_FALSE(r->scope.has_value()) << text;
    EXPECT_EQ(r->repository, "busybox") << text;
  }
}

TEST(ImageRefTest, DockerHubAndOtherRegistriesAreNotLocal) {
  for (const char* text : {"busybox", "library/python:3.12", "ghcr.io/org/app:1", "10.0.0.5:5000/app",
                           "127.0.0.2:4566/app"}) {
    auto r = parse_image_ref(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().message;
    EXPECT_FALSE(is_local_registry(*r)) << text;
  }
  auto hub = parse_image_ref("library/python:3.12");
  EXPECT_EQ(hub->host, "");
  EXPECT_EQ(hub->repository, "library/python");
  EXPECT_EQ(hub->tag, "3.12");
}

TEST(ImageRefTest, DigestPinsTheImage) {
  std::string digest = "sha256:" + std::string(64, 'a');
  auto r = parse_image_ref("127.0.0.1:4566/app@" + digest);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->digest, digest);
  EXPECT_EQ(r->tag, "");
  auto both = parse_image_ref("127.0.0.1:4566/app:v2@" + digest);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->tag, "v2");
  EXPECT_EQ(both->digest, digest);
}

TEST(ImageRefTest, MalformedReferencesAreRejectedWithTheReason) {
  for (const char* text : {"", "127.0.0.1:4566/App", "127.0.0.1:4566/app:", "127.0.0.1:4566/app@sha256:xyz",
                           "127.0.0.1:4566/", "app:bad tag", "a//b", "../etc:1"}) {
    auto r = parse_image_ref(text);
    EXPECT_FALSE(r.ok()) << "accepted: '" << text << "'";
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, ErrorKind::kRuntimeImageInvalid);
      EXPECT_NE(r.error().message.find("invalid reference format"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace gantry::supervisor
