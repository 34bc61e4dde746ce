// libFuzzer target: the IAM policy parser and evaluator (iam/policy.h).
//
// The input is a policy document. It is parsed as each PolicyKind; a document that parses is evaluated
// against fixed requests. Besides sanitizer findings, the run aborts when
//  - a refused document's error is not a kValidation error with a message (AWS's MalformedPolicyDocument
//    reason), or a parsed policy reports a Version other than the two it accepts;
//  - evaluate() disagrees with statement_applies() for an identity policy: its decision must be an
//    explicit deny exactly when some Deny statement applies, else allow exactly when some Allow applies,
//    and the statement it names must be one that applies and has that effect.
// See fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "iam/policy.h"

namespace {

using gantry::iam::Decision;
using gantry::iam::Effect;
using gantry::iam::EvaluationResult;
using gantry::iam::Policy;
using gantry::iam::PolicyKind;
using gantry::iam::RequestContext;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "policy_fuzz: %s\n", what);
  std::abort();
}

RequestContext make_request(std::string action, std::string resource) {
  RequestContext r;
  r.action = std::move(action);
  r.resource = std::move(resource);
  r.principal_arn = "arn:aws:sts::123456789012:assumed-role/deployer/session-1";
  r.principal_account = "123456789012";
  r.keys = {{"aws:username", {"alice"}},
            {"aws:principalarn", {r.principal_arn}},
            {"aws:principalaccount", {"123456789012"}},
            {"aws:principaltype", {"AssumedRole"}},
            {"aws:principalservicename", {"ecs-tasks.amazonaws.com"}},
            {"aws:requestedregion", {"us-east-1"}},
            {"aws:securetransport", {"false"}},
            {"aws:currenttime", {"2026-11-28T12:00:00Z"}},
            {"aws:epochtime", {"1795867200"}},
            {"aws:sourceip", {"10.20.30.40"}},
            {"aws:sourcearn", {"arn:aws:events:us-east-1:123456789012:rule/nightly"}},
            {"aws:tagkeys", {"team", "cost-center", "Env"}},
            {"ec2:instancetype", {"t3.micro"}},
            {"s3:max-keys", {"100"}},
            {"aws:multifactorauthpresent", {"true"}}};
  return r;
}

const std::vector<RequestContext>& requests() {
  static const std::vector<RequestContext> all = {
      make_request("ecs:RunTask", "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"),
      make_request("iam:PassRole", "arn:aws:iam::123456789012:role/team-a/deployer"),
      make_request("s3:GetObject", "arn:aws:s3:::bucket/home/alice/notes.txt"),
      make_request("sts:AssumeRole", "*"),
      // A resource in another account: the cross-account rule of the two-list evaluate().
      make_request("sqs:SendMessage", "arn:aws:sqs:eu-west-1:210987654321:queue"),
  };
  return all;
}

// The single-list decision an identity policy must get, from statement_applies() alone.
void check_identity(const Policy& policy, const RequestContext& r) {
  bool deny = false;
  bool allow = false;
  std::vector<bool> applies(policy.statements.size());
  for (std::size_t i = 0; i < policy.statements.size(); ++i) {
    applies[i] = gantry::iam::statement_applies(policy.statements[i], policy.kind, r);
    if (applies[i]) (policy.statements[i].effect == Effect::kDeny ? deny : allow) = true;
  }
  EvaluationResult got = gantry::iam::evaluate({&policy}, r);
  Decision want = deny ? Decision::kExplicitDeny : allow ? Decision::kAllow : Decision::kImplicitDeny;
  if (got.decision != want) fail("evaluate() disagrees with statement_applies()");
  if (want == Decision::kImplicitDeny) {
    if (got.statement) fail("an implicit deny names a statement");
    return;
  }
  if (!got.statement || got.statement->policy_index != 0 || got.statement->resource_policy ||
      got.statement->statement_index >= policy.statements.size()) {
    fail("the deciding statement is missing or out of range");
  }
  const std::size_t i = got.statement->statement_index;
  const Effect effect = want == Decision::kExplicitDeny ? Effect::kDeny : Effect::kAllow;
  if (!applies[i] || policy.statements[i].effect != effect) fail("the deciding statement does not apply");
  if (got.statement->sid != policy.statements[i].sid) fail("the deciding statement's Sid is not its own");
}

void check_decision(const EvaluationResult& got, const Policy& policy, bool resource_policy) {
  if (got.decision == Decision::kImplicitDeny) return;
  if (!got.statement) fail("an allow or explicit deny names no statement");
  if (got.statement->resource_policy != resource_policy) return;  // decided by the other list
  if (got.statement->statement_index >= policy.statements.size()) fail("the deciding statement is out of range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view document(reinterpret_cast<const char*>(data), size);
  for (PolicyKind kind : {PolicyKind::kIdentity, PolicyKind::kResource, PolicyKind::kTrust}) {
    auto parsed = gantry::iam::parse_policy(document, kind);
    if (!parsed.ok()) {
      if (parsed.error().kind != gantry::ErrorKind::kValidation || parsed.error().message.empty()) {
        fail("a refused document is not a validation error with a reason");
      }
      continue;
    }
    const Policy& policy = *parsed;
    if (policy.version != "2012-10-17" && policy.version != "2008-10-17") fail("a parsed policy has another Version");
    for (const RequestContext& r : requests()) {
      if (kind == PolicyKind::kIdentity) {
        check_identity(policy, r);
        continue;
      }
      // A resource or trust policy with no identity policy, then beside a permissive identity policy.
      static const Policy allow_all = *gantry::iam::parse_policy(
          R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})");
      check_decision(gantry::iam::evaluate({}, {&policy}, r), policy, true);
      check_decision(gantry::iam::evaluate({&allow_all}, {&policy}, r), policy, true);
    }
  }
  return 0;
}
