// SigV4 verification (auth/sigv4_verify.h): AWS's documented example, and requests signed by botocore
// (scripts: tests/unit/sigv4_verify_test.cpp's vectors were made with botocore.auth.SigV4Auth and
// SigV4QueryAuth over the secret below), then every way a signature must fail.
#include "auth/sigv4_verify.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/keys.h"

namespace gantry::auth {
namespace {

namespace json = boost::json;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kKeyId = "AKIDEXAMPLE0000000001";

// Made with botocore 1.43 (SigV4Auth / SigV4QueryAuth, expires 300).
constexpr const char* kVectors = R"json([{"name": "json_post", "method": "POST", "target": "/", "headers": [["x-amz-target", "AmazonEC2ContainerServiceV20141113.ListClusters"], ["content-type", "application/x-amz-json-1.1"], ["x-amz-date", "20261128T002036Z"], ["authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0000000001/20261128/us-east-1/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=a02922ce1c42598bfe429939fe9ba6fcfe939c710344997a4f6066816df73f0d"], ["content-length", "17"], ["host", "127.0.0.1:4566"]], "body": "{\"maxResults\": 5}"}, {"name": "query_get_odd_chars", "method": "GET", "target": "/?Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=a%20b%2Fc~d%2A", "headers": [["x-amz-date", "20261128T002036Z"], ["authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0000000001/20261128/eu-west-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=024d914fb2a44fea9fa3cdbb0e0ee0bb48b997108899d9e04dff8737caf24e89"], ["host", "127.0.0.1:4566"]], "body": ""}, {"name": "rest_path_encoded", "method": "GET", "target": "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Arun_task/configuration", "headers": [["x-amz-date", "20261128T002036Z"], ["authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0000000001/20261128/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=c3d77aaa618514849b03d60f3bce8d1641e50c6abd0b5307a815972631cb2fd5"], ["host", "127.0.0.1:4566"]], "body": ""}, {"name": "form_post_spaces", "method": "POST", "target": "/", "headers": [["content-type", "application/x-www-form-urlencoded; charset=utf-8"], ["x-custom", "  a   b  "], ["x-amz-date", "20261128T002036Z"], ["authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0000000001/20261128/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-custom, Signature=b8b25739ac47dddba547f8bef467cd5932090a9fcf74eb96b8bd8e0696e8c9a9"], ["content-length", "47"], ["host", "127.0.0.1:4566"]], "body": "Action=CreateRole&RoleName=x&Version=2010-05-08"}, {"name": "presigned_sts", "method": "GET", "target": "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE0000000001%2F20261128%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20261128T002036Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=3dd7523e2bb66b8c36b2637105f993d61b9dde5e9b78871e511975227f18937e", "headers": [["host", "127.0.0.1:4566"]], "body": ""}])json";

http::Request request_of(const json::object& c) {
  http::Request r;
  r.method = std::string(c.at("method").as_string());
  r.target = std::string(c.at("target").as_string());
  for (const auto& h : c.at("headers").as_array())
    r.headers.emplace_back(std::string(h.as_array()[0].as_string()), std::string(h.as_array()[1].as_string()));
  r.body = std::string(c.at("body").as_string());
  return r;
}

StaticKeyStore keys() {
  return StaticKeyStore({AccessKey{kKeyId, kSecret, "000000000000", "arn:aws:iam::000000000000:root", "000000000000", "", std::nullopt}});
}

TimePoint signed_at(const http::Request& r, const protocol::CredentialScope& s) {
  std::string date;
  if (s.presigned) {
    for (const auto& [k, v] : protocol::parse_form(r.query()))
      if (k == "X-Amz-Date") date = v;
  } else {
    date = std::string(r.header("x-amz-date"));
  }
  return *parse_amz_date(date);
}

TEST(Sigv4VerifyTest, AwsDocumentedIamExample) {
  // The GET ListUsers example of the AWS General Reference ("Signature Version 4 signing process").
  http::Request r;
  r.method = "GET";
  r.target = "/?Action=ListUsers&Version=2010-05-08";
  r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
               {"host", "iam.amazonaws.com"},
               {"x-amz-date", "20150830T123600Z"}};
  protocol::CredentialScope s{"AKIDEXAMPLE", "20150830", "us-east-1", "iam", "content-type;host;x-amz-date", "", false};
  std::string canonical = canonical_request(r, s, sha256_hex(""));
  EXPECT_EQ(sha256_hex(canonical), "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(signature(kSecret, s, string_to_sign("20150830T123600Z", s, canonical)),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(Sigv4VerifyTest, BotocoreSignedRequestsVerify) {
  auto store = keys();
  const json::value vectors = json::parse(kVectors);
  for (const auto& v : vectors.as_array()) {
    const auto& c = v.as_object();
    SCOPED_TRACE(std::string(c.at("name").as_string()));
    auto r = request_of(c);
    auto scope = protocol::read_credential_scope(r);
    ASSERT_TRUE(scope.ok() && scope->has_value());
    auto result = verify(r, **scope, store, signed_at(r, **scope) + std::chrono::minutes(1));
    ASSERT_FALSE(result.malformed) << result.malformed->message;
    ASSERT_FALSE(result.auth_error) << result.auth_error->message;
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.ok->key.principal_arn, "arn:aws:iam::000000000000:root");
  }
}

TEST(Sigv4VerifyTest, TemporaryCredentialsNeedTheirTokenUntilTheyExpire) {
  const json::value vectors = json::parse(kVectors);
  const auto& c = vectors.as_array()[0].as_object();  // json_post, signed without a token
  auto r = request_of(c);
  auto scope = protocol::read_credential_scope(r);
  ASSERT_TRUE(scope.ok() && scope->has_value());
  TimePoint now = signed_at(r, **scope) + std::chrono::minutes(1);
  auto session = [&](std::optional<TimePoint> expires) {
    return StaticKeyStore({AccessKey{kKeyId, kSecret, "000000000000",
                                     "arn:aws:sts::000000000000:assumed-role/r/s", "AROAX:s", "the-token", expires}});
  };
  // No token, a wrong one, or a token with a long-term key: the token is invalid.
  auto no_token = verify(r, **scope, session(now + std::chrono::hours(1)), now);
  ASSERT_TRUE(no_token.auth_error);
  EXPECT_EQ(no_token.auth_error->failure, Failure::kUnknownKey);
  r.headers.emplace_back("x-amz-security-token", "the-tokeN");
  EXPECT_TRUE(verify(r, **scope, session(now + std::chrono::hours(1)), now).auth_error);
  r.headers.back().second = "the-token";
  auto long_term = verify(r, **scope, keys(), now);
  ASSERT_TRUE(long_term.auth_error);
  EXPECT_EQ(long_term.auth_error->failure, Failure::kUnknownKey);
  // The right token until expiry, then kTokenExpired.
  auto ok = verify(r, **scope, session(now + std::chrono::seconds(1)), now);
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.ok->key.principal_arn, "arn:aws:sts::000000000000:assumed-role/r/s");
  auto expired = verify(r, **scope, session(now), now);
  ASSERT_TRUE(expired.auth_error);
  EXPECT_EQ(expired.auth_error->failure, Failure::kTokenExpired);
  EXPECT_EQ(expired.auth_error->message, "The security token included in the request is expired");
}

TEST(Sigv4VerifyTest, EveryTamperingIsRefused) {
  auto store = keys();
  const json::value vectors = json::parse(kVectors);
  for (const auto& v : vectors.as_array()) {
    const auto& c = v.as_object();
    SCOPED_TRACE(std::string(c.at("name").as_string()));
    auto base = request_of(c);
    auto scope = **protocol::read_credential_scope(base);
    TimePoint now = signed_at(base, scope) + std::chrono::minutes(1);
    auto expect_failure = [&](http::Request r, Failure want, const char* what) {
      auto s = protocol::read_credential_scope(r);
      ASSERT_TRUE(s.ok() && s->has_value()) << what;
      auto result = verify(r, **s, store, now);
      ASSERT_TRUE(result.auth_error.has_value()) << what;
      EXPECT_EQ(result.auth_error->failure, want) << what;
      EXPECT_EQ(result.auth_error->message.find(kSecret), std::string::npos);
    };
    auto r = base;
    r.body += " ";
    if (!scope.presigned) expect_failure(r, Failure::kBadSignature, "body changed");
    r = base;
    r.method = r.method == "GET" ? "POST" : "GET";
    expect_failure(r, Failure::kBadSignature, "method changed");
    r = base;
    r.target.insert(1, "x");
    expect_failure(r, Failure::kBadSignature, "path changed");
    r = base;
    for (auto& [k, val] : r.headers)
      if (k == "host") val = "127.0.0.1:9999";
    expect_failure(r, Failure::kBadSignature, "signed host changed");
    StaticKeyStore other({AccessKey{kKeyId, "another-secret-key", "000000000000", "x", "x", "", std::nullopt}});
    auto s = **protocol::read_credential_scope(base);
    auto result = verify(base, s, other, now);
    ASSERT_TRUE(result.auth_error);
    EXPECT_EQ(result.auth_error->failure, Failure::kBadSignature);
    StaticKeyStore nobody({});
    result = verify(base, s, nobody, now);
    ASSERT_TRUE(result.auth_error);
    EXPECT_EQ(result.auth_error->failure, Failure::kUnknownKey);
    result = verify(base, s, store, now + std::chrono::hours(2));
    ASSERT_TRUE(result.auth_error) << "two hours later";
    EXPECT_EQ(result.auth_error->failure, Failure::kExpired);
    result = verify(base, s, store, now - std::chrono::hours(1));
    ASSERT_TRUE(result.auth_error) << "an hour early";
    EXPECT_EQ(result.auth_error->failure, Failure::kExpired);
  }
}

TEST(Sigv4VerifyTest, SkewMessagesAreAwsWords) {
  auto store = keys();
  auto base = request_of(json::parse(kVectors).as_array()[0].as_object());
  auto s = **protocol::read_credential_scope(base);
  auto late = verify(base, s, store, signed_at(base, s) + std::chrono::minutes(16));
  ASSERT_TRUE(late.auth_error);
  std::string prefix = "Signature expired: " + std::string(base.header("x-amz-date")) + " is now earlier than ";
  EXPECT_EQ(late.auth_error->message.rfind(prefix, 0), 0u) << late.auth_error->message;
  auto ok = verify(base, s, store, signed_at(base, s) + std::chrono::minutes(14));
  EXPECT_TRUE(ok.ok);
}

TEST(Sigv4VerifyTest, PayloadHashHeaderMustMatchTheBody) {
  auto store = keys();
  auto r = request_of(json::parse(kVectors).as_array()[0].as_object());
  r.headers.emplace_back("x-amz-content-sha256", std::string(64, '0'));
  auto s = **protocol::read_credential_scope(r);
  auto result = verify(r, s, store, signed_at(r, s));
  ASSERT_TRUE(result.auth_error);
  EXPECT_NE(result.auth_error->message.find("x-amz-content-sha256"), std::string::npos);
}

TEST(Sigv4VerifyTest, MissingDateOrSignedHeaderIsMalformed) {
  auto store = keys();
  auto r = request_of(json::parse(kVectors).as_array()[0].as_object());
  auto s = **protocol::read_credential_scope(r);
  std::erase_if(r.headers, [](const auto& h) { return h.first == "x-amz-target"; });
  auto result = verify(r, s, store, TimePoint{});
  ASSERT_TRUE(result.malformed);
  EXPECT_EQ(result.malformed->kind, ErrorKind::kIncompleteSignature);
}

TEST(Sigv4VerifyTest, CanonicalPiecesFollowAwsRules) {
  EXPECT_EQ(canonical_uri(""), "/");
  EXPECT_EQ(canonical_uri("/a//b/./c/../d"), "/a/b/d");
  EXPECT_EQ(canonical_uri("/functions/a%3Ab"), "/functions/a%253Ab");
  EXPECT_EQ(canonical_query("b=2&a=1&a=0&c", false), "a=0&a=1&b=2&c=");
  EXPECT_EQ(canonical_query("k=a%20b+c%2a~", false), "k=a%20b%20c%2A~");  // '+' is a space (see sigv4_canonical_test)
  EXPECT_EQ(canonical_query("X-Amz-Signature=abc&A=1", true), "A=1");
  EXPECT_FALSE(parse_amz_date("20261128T003000").has_value());
  EXPECT_FALSE(parse_amz_date("2026-11-28T00:30:00Z").has_value());
  EXPECT_TRUE(parse_amz_date("20261128T003000Z").has_value());
}

TEST(RootCredentialsTest, ParsedFromTheFlag) {
  auto c = parse_root_credentials("AKIAABCDEFGHIJKLMNOP:s3cr3t-value");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAABCDEFGHIJKLMNOP");
  EXPECT_EQ(c->secret, "s3cr3t-value");
  EXPECT_FALSE(parse_root_credentials("nocolon").ok());
  EXPECT_FALSE(parse_root_credentials("short:secret-value").ok());
  EXPECT_FALSE(parse_root_credentials("AKIAABCDEFGHIJKLMNOP:short").ok());
}

}  // namespace
}  // namespace gantry::auth
