// IAM policy evaluation cost per request (Google Benchmark): 10 identity policies of 20 statements each,
// shaped like per-team policies a user collects from its groups (wildcard Action lists, wildcard Resource
// ARNs, NotAction, policy variables, and StringEquals / ArnLike / IpAddress / DateLessThan / Bool
// conditions), and three requests chosen so that evaluation has to look at (almost) every statement:
//   Allowed        allowed only by the last statement of the last policy;
//   ImplicitDeny   allowed by nothing, so every statement is scanned (the worst case);
//   ExplicitDeny   denied by statement 15 of the last policy.
// Setup checks that each request gets exactly that decision from exactly that statement, so the numbers
// cannot silently measure a different path after a change to the evaluator.
// Also: parse_policy of one 20-statement document, and parse of all 10 + evaluate: the cost per request
// of an authorizer that does not keep the parsed policies (services/iam/access.cpp parsed the stored
// documents on every call when this benchmark was written).
// See bench/auth/README.md; bench/auth/run runs it and writes bench/results/auth-<date>.md.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "iam/policy.h"

namespace {

using gantry::iam::Decision;
using gantry::iam::EvaluationResult;
using gantry::iam::Policy;
using gantry::iam::PolicyKind;
using gantry::iam::RequestContext;

constexpr int kPolicies = 10;
constexpr int kStatementsPerPolicy = 20;
constexpr std::size_t kDenyStatement = 15;  // "ProtectAdminRoles" below

// One team's policy; every "@" becomes the team number (0..9), so each policy grants on its own
// team's resources and the guardrail statements (6, 7, 15, 16) repeat in every policy.
constexpr std::string_view kTeamPolicy = R"json({
  "Version": "2012-10-17",
  "Id": "team@-policy",
  "Statement": [
    {"Sid": "ReadOnlyEcs", "Effect": "Allow", "Action": ["ecs:Describe*", "ecs:List*"], "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}},
    {"Sid": "RunTeamTasks", "Effect": "Allow", "Action": ["ecs:RunTask", "ecs:StartTask", "ecs:StopTask"],
     "Resource": ["arn:aws:ecs:*:123456789012:task-definition/team@-*:*", "arn:aws:ecs:*:123456789012:task/team@-*/*"],
     "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:*:123456789012:cluster/team@-*"}}},
    {"Sid": "PassTaskRoles", "Effect": "Allow", "Action": "iam:PassRole",
     "Resource": "arn:aws:iam::123456789012:role/team@-task-*",
     "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
    {"Sid": "EcrPull", "Effect": "Allow",
     "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
     "Resource": "arn:aws:ecr:*:123456789012:repository/team@/*"},
    {"Sid": "EcrAuth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
    {"Sid": "Logs", "Effect": "Allow",
     "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:Get*", "logs:FilterLogEvents"],
     "Resource": "arn:aws:logs:*:123456789012:log-group:/ecs/team@-*:*"},
    {"Sid": "DenyOutsideRegions", "Effect": "Deny",
     "NotAction": ["iam:*", "sts:*", "organizations:*", "support:*", "cloudfront:*"], "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2", "eu-west-1"]}}},
    {"Sid": "OfficeNetworkOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]},
                   "BoolIfExists": {"aws:ViaAWSService": "false"}}},
    {"Sid": "Ec2Describe", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*",
     "Condition": {"DateLessThan": {"aws:CurrentTime": "2031-01-01T00:00:00Z"}}},
    {"Sid": "Ec2TeamInstances", "Effect": "Allow",
     "Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances"],
     "Resource": "arn:aws:ec2:*:123456789012:instance/*",
     "Condition": {"StringEquals": {"aws:ResourceTag/team": "team@"}}},
    {"Sid": "SandboxEverything", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"],
     "Resource": "arn:aws:*:*:123456789012:*team@-sandbox*"},
    {"Sid": "S3TeamObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
     "Resource": ["arn:aws:s3:::team@-data/*", "arn:aws:s3:::team@-artifacts/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    {"Sid": "S3TeamList", "Effect": "Allow", "Action": "s3:ListBucket",
     "Resource": ["arn:aws:s3:::team@-data", "arn:aws:s3:::team@-artifacts"],
     "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "shared/*"]}}},
    {"Sid": "LambdaInvoke", "Effect": "Allow", "Action": "lambda:InvokeFunction",
     "Resource": "arn:aws:lambda:*:123456789012:function:team@-*",
     "Condition": {"ArnLike": {"aws:SourceArn": ["arn:aws:events:*:123456789012:rule/team@-*",
                                                 "arn:aws:sns:*:123456789012:team@-*"]}}},
    {"Sid": "SecretsRead", "Effect": "Allow",
     "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
     "Resource": "arn:aws:secretsmanager:*:123456789012:secret:team@/*",
     "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                   "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    {"Sid": "ProtectAdminRoles", "Effect": "Deny",
     "Action": ["iam:Delete*", "iam:Put*Policy", "iam:Attach*Policy", "iam:Detach*Policy",
                "iam:UpdateAssumeRolePolicy"],
     "Resource": "arn:aws:iam::123456789012:role/team@-admin*"},
    {"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*",
     "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": ["aws:kms", "AES256"]}}},
    {"Sid": "DynamoTeamTables", "Effect": "Allow",
     "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
     "Resource": ["arn:aws:dynamodb:*:123456789012:table/team@-*",
                  "arn:aws:dynamodb:*:123456789012:table/team@-*/index/*"],
     "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
    {"Sid": "SqsTeamQueues", "Effect": "Allow",
     "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueue*"],
     "Resource": "arn:aws:sqs:*:123456789012:team@-*",
     "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:*:*:123456789012:*team@*"}}},
    {"Sid": "SsmTeamParameters", "Effect": "Allow", "Action": ["ssm:GetParameter*", "ssm:DescribeParameters"],
     "Resource": "arn:aws:ssm:*:123456789012:parameter/team@/*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]},
                   "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                   "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}}
  ]
})json";

std::string team_document(int team) {
  std::string out;
  out.reserve(kTeamPolicy.size() + 64);
  for (char c : kTeamPolicy) {
    if (c == '@') {
      out += std::to_string(team);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "policy_bench: %s\n", what.c_str());
  std::abort();
}

Policy parse_or_die(const std::string& document) {
  auto parsed = gantry::iam::parse_policy(document, PolicyKind::kIdentity);
  if (!parsed.ok()) die("the benchmark's policy does not parse: " + parsed.error().message);
  return std::move(parsed).value();
}

// The 10 parsed policies, built once.
struct Fixture {
  std::vector<std::string> documents;
  std::vector<Policy> policies;
  std::vector<const Policy*> identity;

  Fixture() {
    for (int team = 0; team < kPolicies; ++team) {
      documents.push_back(team_document(team));
      policies.push_back(parse_or_die(documents.back()));
      policies.back().name = "team" + std::to_string(team);
      if (policies.back().statements.size() != kStatementsPerPolicy) die("a policy does not have 20 statements");
    }
    for (const auto& p : policies) identity.push_back(&p);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

// The context keys the authorizer fills in (services/iam/access.cpp), plus the source IP and ARN that
// the conditions above test.
RequestContext request(std::string action, std::string resource) {
  RequestContext r;
  r.action = std::move(action);
  r.resource = std::move(resource);
  r.principal_arn = "arn:aws:iam::123456789012:user/alice";
  r.principal_account = "123456789012";
  r.keys = {{"aws:username", {"alice"}},
            {"aws:principalarn", {r.principal_arn}},
            {"aws:principalaccount", {"123456789012"}},
            {"aws:principaltype", {"User"}},
            {"aws:requestedregion", {"us-east-1"}},
            {"aws:securetransport", {"false"}},
            {"aws:currenttime", {"2026-11-28T12:00:00Z"}},
            {"aws:epochtime", {"1795867200"}},
            {"aws:sourceip", {"10.20.30.40"}},
            {"aws:sourcearn", {"arn:aws:lambda:us-east-1:123456789012:function:team9-api"}}};
  return r;
}

RequestContext allowed_request() {
  return request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/team9/db/password");
}
RequestContext implicit_deny_request() {
  return request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/team42/db/password");
}
RequestContext explicit_deny_request() {
  return request("iam:DeleteRole", "arn:aws:iam::123456789012:role/team9-admin-breakglass");
}

// Aborts unless `r` gets `want`, decided (for allow and deny) by statement `statement` of the last policy.
void expect(const RequestContext& r, Decision want, std::size_t statement, const char* name) {
  EvaluationResult got = gantry::iam::evaluate(fixture().identity, r);
  bool ok = got.decision == want;
  if (ok && want != Decision::kImplicitDeny) {
    ok = got.statement && got.statement->policy_index == kPolicies - 1 && got.statement->statement_index == statement;
  }
  if (!ok) die(std::string(name) + ": the request is not decided the way the benchmark means it to be");
}

void run_evaluate(benchmark::State& state, const RequestContext& r) {
  const auto& identity = fixture().identity;
  for (auto _ : state) {
    EvaluationResult result = gantry::iam::evaluate(identity, r);
    benchmark::DoNotOptimize(result);
  }
  state.counters["statements"] = kPolicies * kStatementsPerPolicy;
}

void BM_Evaluate_Allowed(benchmark::State& state) {
  const RequestContext r = allowed_request();
  expect(r, Decision::kAllow, kStatementsPerPolicy - 1, "Allowed");
  run_evaluate(state, r);
}
BENCHMARK(BM_Evaluate_Allowed);

void BM_Evaluate_ImplicitDeny(benchmark::State& state) {
  const RequestContext r = implicit_deny_request();
  expect(r, Decision::kImplicitDeny, 0, "ImplicitDeny");
  run_evaluate(state, r);
}
BENCHMARK(BM_Evaluate_ImplicitDeny);

void BM_Evaluate_ExplicitDeny(benchmark::State& state) {
  const RequestContext r = explicit_deny_request();
  expect(r, Decision::kExplicitDeny, kDenyStatement, "ExplicitDeny");
  run_evaluate(state, r);
}
BENCHMARK(BM_Evaluate_ExplicitDeny);

void BM_ParsePolicy_20Statements(benchmark::State& state) {
  const std::string& document = fixture().documents.back();
  for (auto _ : state) {
    auto parsed = gantry::iam::parse_policy(document, PolicyKind::kIdentity);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * document.size()));
}
BENCHMARK(BM_ParsePolicy_20Statements);

// The cost per request when the parsed policies are not kept: every stored document parsed, then evaluated.
void BM_ParseAllThenEvaluate_Uncached(benchmark::State& state) {
  const auto& documents = fixture().documents;
  const RequestContext r = implicit_deny_request();
  for (auto _ : state) {
    std::vector<Policy> policies;
    policies.reserve(documents.size());
    for (const auto& d : documents) {
      auto parsed = gantry::iam::parse_policy(d, PolicyKind::kIdentity);
      if (parsed.ok()) policies.push_back(std::move(parsed).value());
    }
    std::vector<const Policy*> identity;
    identity.reserve(policies.size());
    for (const auto& p : policies) identity.push_back(&p);
    EvaluationResult result = gantry::iam::evaluate(identity, r);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_ParseAllThenEvaluate_Uncached);

}  // namespace

BENCHMARK_MAIN();
