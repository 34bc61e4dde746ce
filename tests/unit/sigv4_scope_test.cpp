#include "protocol/sigv4.h"

#include <gtest/gtest.h>

namespace gantry::protocol {
namespace {

http::Request with_auth(std::string auth, bool with_date = true) {
  http::Request r;
  r.method = "POST";
  r.target = "/";
  r.headers.emplace_back("authorization", std::move(auth));
  if (with_date) r.headers.emplace_back("x-amz-date", "20261127T120000Z");
  return r;
}

TEST(CredentialScope, ReadsHeader) {
  auto r = with_auth(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/eu-west-1/ecs/aws4_request, "
      "SignedHeaders=host;x-amz-date;x-amz-target, Signature=abcdef0123");
  auto s = read_credential_scope(r);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->has_value());
  const auto& c = **s;
  EXPECT_EQ(c.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(c.date, "20261127");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.service, "ecs");
  EXPECT_EQ(c.signed_headers, "host;x-amz-date;x-amz-target");
  EXPECT_EQ(c.signature, "abcdef0123");
  EXPECT_FALSE(c.presigned);
}

TEST(CredentialScope, NoSignatureIsNotAnError) {
  http::Request r;
  r.target = "/";
  auto s = read_credential_scope(r);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_value());
}

TEST(CredentialScope, ReadsPresignedQuery) {
  http::Request r;
  r.target =
      "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261127%2Fus-east-1%2Fsts%2Faws4_request"
      "&X-Amz-Date=20261127T120000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ff00";
  auto s = read_credential_scope(r);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->service, "sts");
  EXPECT_TRUE((*s)->presigned);
}

TEST(CredentialScope, IncompleteSignatures) {
  for (const char* bad : {"Basic dXNlcjpwYXNz", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=aa",
                          "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/ecs/aws4_request, Signature=aa",
                          "AWS4-HMAC-SHA256 Credential=AKID/2026/us-east-1/ecs/aws4_request, SignedHeaders=host, "
                          "Signature=aa",
                          "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/ecs/other, SignedHeaders=host, "
                          "Signature=aa",
                          "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1, SignedHeaders=host, Signature=aa"}) {
    auto s = read_credential_scope(with_auth(bad));
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().kind, ErrorKind::kIncompleteSignature) << bad;
  }
}

TEST(CredentialScope, NeedsADateHeader) {
  auto s = read_credential_scope(
      with_auth("AWS4-HMAC-SHA256 Credential=A/20261127/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=a",
                false));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("X-Amz-Date"), std::string::npos);
}

TEST(UrlDecode, DecodesEscapesAndPlus) {
  EXPECT_EQ(url_decode("a%2Fb+c", true), "a/b c");
  EXPECT_EQ(url_decode("a%2Fb+c", false), "a/b+c");
  EXPECT_EQ(url_decode("100%", true), "100%");
  EXPECT_EQ(url_decode("%zz%4", true), "%zz%4");
}

TEST(ParseForm, SplitsPairs) {
  auto f = parse_form("Action=ListUsers&Version=2010-05-08&Empty=&Flag&&x=a%26b");
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"Action", "ListUsers"}));
  EXPECT_EQ(f[2].second, "");
  EXPECT_EQ(f[3].first, "Flag");
  EXPECT_EQ(f[4].second, "a&b");
}

}  // namespace
}  // namespace gantry::protocol
