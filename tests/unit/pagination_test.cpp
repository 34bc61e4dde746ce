#include "core/pagination.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(Pagination, RoundTripsLastKey) {
  auto token = encode_page_token("ecs.ListClusters", "arn:aws:ecs:us-east-1:000000000000:cluster/a");
  auto key = decode_page_token("ecs.ListClusters", token);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, "arn:aws:ecs:us-east-1:000000000000:cluster/a");
}

TEST(Pagination, RejectsTokenOfAnotherListing) {
  auto token = encode_page_token("ecs.ListClusters", "x");
  EXPECT_FALSE(decode_page_token("ecs.ListTaskDefinitions", token));
}

TEST(Pagination, RejectsGarbage) {
  EXPECT_FALSE(decode_page_token("ecs.ListClusters", ""));
  EXPECT_FALSE(decode_page_token("ecs.ListClusters", "!!!notbase64"));
  EXPECT_FALSE(decode_page_token("ecs.ListClusters", "aGVsbG8"));
  EXPECT_FALSE(decode_page_token("ecs.ListClusters", std::string(5000, 'A')));
}

TEST(Base64, StandardAndUrlAlphabets) {
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_encode("hello", true), "aGVsbG8");
  EXPECT_EQ(*base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(*base64_decode("aGVsbG8"), "hello");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff", 2), true), "-_8");
  EXPECT_EQ(*base64_decode("-_8"), std::string("\xfb\xff", 2));
}

}  // namespace
}  // namespace gantry
