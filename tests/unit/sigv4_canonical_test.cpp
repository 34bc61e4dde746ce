// SigV4 canonical query (auth/sigv4_verify.h): two spellings of a query share a signature exactly when
// the query protocol reads them alike. Cases found by fuzz/sigv4_fuzz.cpp.
#include <gtest/gtest.h>

#include "auth/sigv4_verify.h"
#include "protocol/sigv4.h"

namespace gantry::auth {
namespace {

TEST(Sigv4CanonicalQueryTest, PlusIsASpaceAsTheQueryProtocolReadsIt) {
  EXPECT_EQ(canonical_query("Tag=a+b", false), "Tag=a%20b");
  EXPECT_EQ(canonical_query("Tag=a%20b", false), "Tag=a%20b");
  EXPECT_EQ(canonical_query("Tag=a%2Bb", false), "Tag=a%2Bb");
  EXPECT_EQ(canonical_query("a+b=c", false), "a%20b=c");
  // "a+b" (a space) and "a%2Bb" (a plus) mean different things, so they must not share a signature.
  EXPECT_NE(protocol::parse_form("Tag=a+b"), protocol::parse_form("Tag=a%2Bb"));
  EXPECT_NE(canonical_query("Tag=a+b", false), canonical_query("Tag=a%2Bb", false));
}

TEST(Sigv4CanonicalQueryTest, ARequestSignedWithAnEncodedPlusDoesNotVerifyWithARawOne) {
  AccessKey key;
  key.access_key_id = "AKIDEXAMPLE";
  key.secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  key.account = "000000000000";
  key.principal_arn = "arn:aws:iam::000000000000:root";
  class OneKey final : public KeyStore {
   public:
    explicit OneKey(AccessKey k) : key_(std::move(k)) {}
    std::optional<AccessKey> find(std::string_view id) const override {
      return id == key_.access_key_id ? std::optional(key_) : std::nullopt;
    }

   private:
    AccessKey key_;
  } keys(key);

  http::Request r;
  r.method = "GET";
  r.target = "/?Action=TagUser&Tag=a%2Bb";
  r.headers = {{"host", "127.0.0.1"}, {"x-amz-date", "20261128T120000Z"}};
  protocol::CredentialScope scope{"AKIDEXAMPLE", "20261128", "us-east-1", "iam", "host;x-amz-date", "", false};
  scope.signature = signature(key.secret, scope,
                              string_to_sign("20261128T120000Z", scope, canonical_request(r, scope, sha256_hex(""))));
  const TimePoint now = *parse_amz_date("20261128T120000Z");
  EXPECT_TRUE(verify(r, scope, keys, now).ok);
  r.target = "/?Action=TagUser&Tag=a+b";
  auto tampered = verify(r, scope, keys, now);
  EXPECT_FALSE(tampered.ok);
  ASSERT_TRUE(tampered.auth_error);
  EXPECT_EQ(tampered.auth_error->failure, Failure::kBadSignature);
}

}  // namespace
}  // namespace gantry::auth
