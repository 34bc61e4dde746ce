#include <gtest/gtest.h>

#include "core/pagination.h"
#include "registry/internal.h"
#include "registry/parse.h"

namespace gantry::registry {
namespace {

TEST(RegistryHost, EcrStyleHostGivesAccountAndRegion) {
  auto h = parse_registry_host("123456789012.dkr.ecr.eu-west-1.localhost:4566");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->account, "123456789012");
  EXPECT_EQ(h->region, "eu-west-1");
  auto no_port = parse_registry_host("000000000000.DKR.ECR.US-EAST-1.LOCALHOST");
  ASSERT_TRUE(no_port);
  EXPECT_EQ(no_port->region, "us-east-1");
}

TEST(RegistryHost, OtherHostsAreNotEcrHosts) {
  for (const char* host : {"127.0.0.1:4566", "localhost", "localhost:4566", "", "12345678901.dkr.ecr.us-east-1.localhost",
                           "1234567890123.dkr.ecr.us-east-1.localhost", "12345678901a.dkr.ecr.us-east-1.localhost",
                           "123456789012.dkr.ecr..localhost", "123456789012.dkr.ecr.us_east.localhost",
                           "123456789012.dkr.ecr.us-east-1.localhost:abc", "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                           "x123456789012.dkr.ecr.us-east-1.localhost", "123456789012.dkr.ecr.-x.localhost"}) {
    EXPECT_FALSE(parse_registry_host(host)) << host;
  }
}

TEST(BasicAuth, ParsesUserAndPassword) {
  auto c = parse_basic_auth("Basic " + base64_encode("AWS:secret:with:colons"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "AWS");
  EXPECT_EQ(c->password, "secret:with:colons");
  auto lower = parse_basic_auth("basic " + base64_encode("u:"));
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->password, "");
}

TEST(BasicAuth, RejectsOtherSchemesAndGarbage) {
  for (std::string v : {std::string(""), std::string("Basic"), std::string("Basic "), "Bearer " + base64_encode("AWS:x"),
                        std::string("Basic !!!!"), "Basic " + base64_encode("no-colon"),
                        std::string("AWS4-HMAC-SHA256 Credential=x")}) {
    EXPECT_FALSE(parse_basic_auth(v)) << v;
  }
}

TEST(ContentRange, AcceptsTheFormsClientsSend) {
  auto a = parse_content_range("0-99");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, 0u);
  EXPECT_EQ(a->last, 99u);
  auto b = parse_content_range("bytes 100-199/*");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, 100u);
  EXPECT_EQ(b->last, 199u);
  auto c = parse_content_range("bytes 5-5/1000");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->last, 5u);
}

TEST(ContentRange, RejectsMalformed) {
  for (const char* v : {"", "-", "5-", "-5", "10-5", "a-b", "1-2/x", "0-99999999999999999999", "1 - 2", "bytes=1-"}) {
    EXPECT_FALSE(parse_content_range(v)) << v;
  }
}

TEST(Range, ResolvesAgainstBlobSize) {
  auto full = parse_range("bytes=0-", 10);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->last, 9u);
  auto clipped = parse_range("bytes=2-100", 10);
  ASSERT_TRUE(clipped);
  EXPECT_EQ(clipped->first, 2u);
  EXPECT_EQ(clipped->last, 9u);
  auto suffix = parse_range("bytes=-3", 10);
  ASSERT_TRUE(suffix);
  EXPECT_EQ(suffix->first, 7u);
  EXPECT_EQ(suffix->last, 9u);
  auto big_suffix = parse_range("bytes=-30", 10);
  ASSERT_TRUE(big_suffix);
  EXPECT_EQ(big_suffix->first, 0u);
}

TEST(Range, RejectsUnsatisfiableAndMalformed) {
  for (const char* v : {"bytes=10-", "bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=-0", "bytes=x-", "0-1"}) {
    EXPECT_FALSE(parse_range(v, 10)) << v;
  }
  EXPECT_FALSE(parse_range("bytes=0-", 0));
}

TEST(Query, FindsAndDecodesParameters) {
  EXPECT_EQ(query_param("digest=sha256%3Aab&x=1", "digest"), "sha256:ab");
  EXPECT_EQ(query_param("a=1&mount=m&from=team%2Fapp", "from"), "team/app");
  EXPECT_EQ(query_param("n=", "n"), "");
  EXPECT_FALSE(query_param("nn=1", "n"));
  EXPECT_FALSE(query_param("", "n"));
  EXPECT_EQ(query_param("x=%zz", "x"), "%zz");
}

TEST(Route, SplitsNamesWithSlashes) {
  auto r = parse_route("/v2/team/app/manifests/latest");
  EXPECT_EQ(r.kind, RouteKind::kManifest);
  EXPECT_EQ(r.name, "team/app");
  EXPECT_EQ(r.ref, "latest");
  r = parse_route("/v2/a/blobs/b/blobs/sha256:00");
  EXPECT_EQ(r.kind, RouteKind::kBlob);
  EXPECT_EQ(r.name, "a/blobs/b");
  r = parse_route("/v2/x/blobs/uploads/");
  EXPECT_EQ(r.kind, RouteKind::kUploadStart);
  EXPECT_EQ(r.name, "x");
  r = parse_route("/v2/x/y/blobs/uploads/1234");
  EXPECT_EQ(r.kind, RouteKind::kUpload);
  EXPECT_EQ(r.name, "x/y");
  EXPECT_EQ(r.ref, "1234");
  r = parse_route("/v2/x/tags/list");
  EXPECT_EQ(r.kind, RouteKind::kTags);
  EXPECT_EQ(r.name, "x");
  EXPECT_EQ(parse_route("/v2/").kind, RouteKind::kBase);
  EXPECT_EQ(parse_route("/v2").kind, RouteKind::kBase);
  EXPECT_EQ(parse_route("/v2/_catalog").kind, RouteKind::kCatalog);
  EXPECT_EQ(parse_route("/v2/x/manifests/").kind, RouteKind::kUnknown);
  EXPECT_EQ(parse_route("/v2/manifests/latest").kind, RouteKind::kUnknown);
  EXPECT_EQ(parse_route("/v2/x/other").kind, RouteKind::kUnknown);
}

}  // namespace
}  // namespace gantry::registry
