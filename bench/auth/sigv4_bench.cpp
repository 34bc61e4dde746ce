// SigV4 verification cost per request (Google Benchmark): the request botocore sends for ECS
// DescribeTaskDefinition (its headers, as the server sees them), signed with a long-term key, checked
// the way the server checks every request: read the credential scope from the Authorization header,
// then auth::verify (date window, key lookup, canonical request, string to sign, HMAC). The signing key
// is cached per thread, as on the server, so this is the steady-state cost of one request.
// Setup verifies the request once and aborts if it is not accepted, so a change that breaks
// verification cannot show up as a speed-up. See bench/auth/README.md.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "auth/keys.h"
#include "auth/sigv4_verify.h"
#include "protocol/sigv4.h"

namespace {

using namespace gantry;

constexpr char kKeyId[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

struct Fixture {
  http::Request request;
  auth::StaticKeyStore keys{{auth::AccessKey{kKeyId, kSecret, "000000000000", "arn:aws:iam::000000000000:root",
                                             "000000000000", "", std::nullopt}}};
  TimePoint now = std::chrono::time_point_cast<TimePoint::duration>(std::chrono::system_clock::now());

  Fixture() {
    request.method = "POST";
    request.target = "/";
    request.body = R"({"taskDefinition": "my-batch-job:1"})";
    std::string date = auth::format_amz_date(now);
    request.headers = {{"host", "127.0.0.1:4566"},
                       {"accept-encoding", "identity"},
                       {"x-amz-target", "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition"},
                       {"content-type", "application/x-amz-json-1.1"},
                       {"user-agent",
                        "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64 "
                        "lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0"},
                       {"x-amz-date", date},
                       {"content-length", std::to_string(request.body.size())}};
    protocol::CredentialScope scope;
    scope.access_key_id = kKeyId;
    scope.date = date.substr(0, 8);
    scope.region = "us-east-1";
    scope.service = "ecs";
    scope.signed_headers = "content-type;host;x-amz-date;x-amz-target";
    auto canonical = auth::canonical_request(request, scope, auth::sha256_hex(request.body));
    auto signature = auth::signature(kSecret, scope, auth::string_to_sign(date, scope, canonical));
    request.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) + "/" +
                                                      scope.date + "/us-east-1/ecs/aws4_request, SignedHeaders=" +
                                                      scope.signed_headers + ", Signature=" + signature);
    if (!verify_once()) {
      std::fprintf(stderr, "setup: the benchmark request does not verify\n");
      std::abort();
    }
  }

  bool verify_once() const {
    auto scope = protocol::read_credential_scope(request);
    if (!scope.ok() || !scope->has_value()) return false;
    return auth::verify(request, **scope, keys, now).ok.has_value();
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void BM_ReadCredentialScope(benchmark::State& state) {
  const auto& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(protocol::read_credential_scope(f.request));
}
BENCHMARK(BM_ReadCredentialScope);

void BM_Verify(benchmark::State& state) {
  const auto& f = fixture();
  auto scope = **protocol::read_credential_scope(f.request);
  for (auto _ : state) benchmark::DoNotOptimize(auth::verify(f.request, scope, f.keys, f.now));
}
BENCHMARK(BM_Verify);

void BM_ReadScopeAndVerify(benchmark::State& state) {
  const auto& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.verify_once());
}
BENCHMARK(BM_ReadScopeAndVerify);

}  // namespace

BENCHMARK_MAIN();
