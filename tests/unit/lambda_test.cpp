// Lambda's pure pieces: how requests name functions, LastModified, and the local CA's certificates.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>

#include "lambda/local_ca.h"
#include "services/lambda/handlers.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using lambda::detail::parse_function_ref;

api::RequestContext context() {
  api::RequestContext ctx;
  ctx.scope = Scope{"123456789012", "us-east-1"};
  return ctx;
}

TEST(LambdaFunctionRef, NamesArnsAndQualifiers) {
  auto ctx = context();
  auto plain = parse_function_ref(ctx, "my-function", std::nullopt, true);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->name, "my-function");
  EXPECT_FALSE(plain->qualifier);

  auto qualified = parse_function_ref(ctx, "my-function:live", std::nullopt, true);
  ASSERT_TRUE(qualified.ok());
  EXPECT_EQ(qualified->qualifier, "live");

  auto arn = parse_function_ref(ctx, "arn:aws:lambda:us-east-1:123456789012:function:my-function:7", std::nullopt, true);
  ASSERT_TRUE(arn.ok());
  EXPECT_EQ(arn->name, "my-function");
  EXPECT_EQ(arn->qualifier, "7");

  auto partial = parse_function_ref(ctx, "123456789012:function:my-function", std::string("$LATEST"), true);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->qualifier, "$LATEST");
}

TEST(LambdaFunctionRef, RefusesWhatLambdaRefuses) {
  auto ctx = context();
  for (const char* bad : {"", "has space", "a:b:c", "arn:aws:lambda:us-east-1:123456789012:function:f:1:2",
                          "bad/name", "f:has.dot"}) {
    auto r = parse_function_ref(ctx, bad, std::nullopt, true);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kLambdaInvalidParameterValue) << bad;
  }
  // A qualifier where none may be, and one that disagrees with the Qualifier member.
  EXPECT_FALSE(parse_function_ref(ctx, "f:1", std::nullopt, false).ok());
  EXPECT_FALSE(parse_function_ref(ctx, "f:1", std::string("2"), true).ok());
  // Another account's or region's function is not found here.
  auto other = parse_function_ref(ctx, "arn:aws:lambda:eu-west-1:123456789012:function:f", std::nullopt, true);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::kLambdaResourceNotFound);
  EXPECT_FALSE(parse_function_ref(ctx, "999999999999:function:f", std::nullopt, true).ok());
}

TEST(LambdaFunctionRef, ArnsAndLastModified) {
  Scope scope{"123456789012", "us-east-1"};
  EXPECT_EQ(lambda::detail::function_arn(scope, "f"), "arn:aws:lambda:us-east-1:123456789012:function:f");
  EXPECT_EQ(lambda::detail::qualified_arn(scope, "f", "live"),
            "arn:aws:lambda:us-east-1:123456789012:function:f:live");
  TimePoint t{std::chrono::milliseconds(1764307800123)};
  EXPECT_EQ(lambda::detail::last_modified(t), "2025-11-28T05:30:00.123+0000");
}

struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};

std::unique_ptr<X509, X509Free> read_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return std::unique_ptr<X509, X509Free>(cert);
}

// Whether `leaf_pem`'s first certificate verifies against the CA for `host` (as a TLS client checks it).
bool verifies(const std::string& ca_pem, const std::string& leaf_pem, const std::string& host) {
  auto ca = read_cert(ca_pem);
  auto leaf = read_cert(leaf_pem);
  if (!ca || !leaf) return false;
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf.get(), nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

class LocalCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gantry-ca-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(LocalCaTest, IssuesCertificatesClientsTrustForTheRegionsHostsOnly) {
  auto ca = sandbox::LocalCa::load_or_create(dir_ / "tls");
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "tls" / "ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto cert = (*ca)->issue("us-east-1");
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  for (const auto& host : sandbox::aws_host_names("us-east-1"))
    EXPECT_TRUE(verifies((*ca)->ca_pem(), cert->cert_pem, host)) << host;
  EXPECT_FALSE(verifies((*ca)->ca_pem(), cert->cert_pem, "ecs.eu-west-1.amazonaws.com"));
  EXPECT_FALSE(verifies((*ca)->ca_pem(), cert->cert_pem, "example.com"));
  // Another CA (another data dir) is not trusted.
  auto other = sandbox::LocalCa::load_or_create(dir_ / "other");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(verifies((*other)->ca_pem(), cert->cert_pem, "ecs.us-east-1.amazonaws.com"));
}

TEST_F(LocalCaTest, TheSameCaAfterARestart) {
  auto first = sandbox::LocalCa::load_or_create(dir_);
  ASSERT_TRUE(first.ok());
  auto again = sandbox::LocalCa::load_or_create(dir_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*first)->ca_pem(), (*again)->ca_pem());
  auto cert = (*again)->issue("eu-west-1");
  ASSERT_TRUE(cert.ok());
  EXPECT_TRUE(verifies((*first)->ca_pem(), cert->cert_pem, "logs.eu-west-1.amazonaws.com"));
  EXPECT_TRUE(verifies((*first)->ca_pem(), cert->cert_pem, "api.ecr.eu-west-1.amazonaws.com"));
}

}  // namespace
}  // namespace gantry
