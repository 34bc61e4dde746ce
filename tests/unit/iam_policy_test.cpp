// The IAM policy language (iam/policy.h): parsing with AWS's MalformedPolicyDocument reasons, matching of
// actions, resources and principals, every condition operator, and the allow/deny decision.
#include "iam/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace gantry::iam {
namespace {

constexpr const char* kAlice = "arn:aws:iam::000000000000:user/alice";

Policy parse(std::string_view document, PolicyKind kind = PolicyKind::kIdentity, std::string name = "test") {
  auto r = parse_policy(document, kind);
  if (!r.ok()) {
    ADD_FAILURE() << "rejected: " << r.error().message << "\n" << document;
    return Policy{};
  }
  r->name = std::move(name);
  return std::move(r).value();
}

RequestContext request(std::string action, std::string resource, ContextKeys keys = {}) {
  RequestContext r;
  r.action = std::move(action);
  r.resource = std::move(resource);
  r.principal_arn = kAlice;
  r.principal_account = "000000000000";
  r.keys = std::move(keys);
  return r;
}

Decision decide(const Policy& policy, const RequestContext& r) { return evaluate({&policy}, r).decision; }

// One Allow statement on s3:GetObject / "*" with the given Condition block, evaluated with `keys`.
bool condition_allows(std::string_view condition, ContextKeys keys) {
  std::string doc = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
                        "Resource":"*","Condition":)" +
                    std::string(condition) + "}}";
  Policy p = parse(doc);
  return decide(p, request("s3:GetObject", "arn:aws:s3:::bucket/key", std::move(keys))) == Decision::kAllow;
}

// --- Parsing ----------------------------------------------------------------------------------------

TEST(IamPolicyParseTest, StatementObjectOrArrayAndStringOrArrayElements) {
  Policy one = parse(R"({"Version":"2012-10-17","Id":"p1",
    "Statement":{"Sid":"One","Effect":"Allow","Action":"ecs:RunTask","Resource":"*"}})");
  ASSERT_EQ(one.statements.size(), 1u);
  EXPECT_EQ(one.version, "2012-10-17");
  EXPECT_EQ(one.id, "p1");
  EXPECT_EQ(one.statements[0].sid, "One");
  EXPECT_EQ(one.statements[0].effect, Effect::kAllow);
  ASSERT_EQ(one.statements[0].actions.size(), 1u);
  EXPECT_EQ(one.statements[0].actions[0].source(), "ecs:RunTask");

  Policy two = parse(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["ecs:RunTask","ecs:StopTask"],"Resource":["arn:aws:ecs:*:*:task/*","*"]},
    {"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:role/x"}]})");
  ASSERT_EQ(two.statements.size(), 2u);
  EXPECT_EQ(two.statements[0].actions.size(), 2u);
  EXPECT_EQ(two.statements[0].resources.size(), 2u);
  EXPECT_TRUE(two.statements[1].not_action);
  EXPECT_TRUE(two.statements[1].not_resource);
  EXPECT_EQ(two.statements[1].effect, Effect::kDeny);
}

TEST(IamPolicyParseTest, MissingVersionMeans2008AndBothVersionsAreAccepted) {
  EXPECT_EQ(parse(R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})").version, "2008-10-17");
  EXPECT_EQ(parse(R"({"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})").version,
            "2008-10-17");
}

TEST(IamPolicyParseTest, MalformedDocumentsAreRejectedWithAwsReasons) {
  const std::string_view ok_tail = R"("Action":"ecs:RunTask","Resource":"*")";
  auto stmt = [&](std::string_view fields) {
    return std::string(R"({"Version":"2012-10-17","Statement":{)") + std::string(fields) + "}}";
  };
  struct Case {
    std::string document;
    std::string reason;
    PolicyKind kind = PolicyKind::kIdentity;
  };
  const Case cases[] = {
      {"not json", "Syntax errors in policy."},
      {"[]", "Syntax errors in policy."},
      {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",)" + std::string(ok_tail) + "},}",
       "Syntax errors in policy."},
      {R"({"Version":"2012-10-17","Extra":1,"Statement":[]})", "Syntax errors in policy."},
      {R"({"Version":"2012-10-17"})", "Missing required field Statement"},
      {R"({"Version":"2010-01-01","Statement":{"Effect":"Allow",)" + std::string(ok_tail) + "}}",
       "Syntax errors in policy."},
      {R"({"Version":20121017,"Statement":[]})", "Syntax errors in policy."},
      {R"({"Version":"2012-10-17","Statement":["x"]})", "Syntax errors in policy."},
      {stmt(R"("Effect":"Allow","Actions":"ecs:RunTask","Resource":"*")"), "Syntax errors in policy."},
      {stmt(ok_tail), "Missing required field Effect"},
      {stmt(R"("Effect":"Alow",)" + std::string(ok_tail)), "Invalid effect: Alow"},
      {stmt(R"("Effect":"allow",)" + std::string(ok_tail)), "Invalid effect: allow"},
      {stmt(R"("Effect":"Allow","Resource":"*")"), "Policy statement must contain actions."},
      {stmt(R"("Effect":"Allow","Action":[],"Resource":"*")"), "Policy statement must contain actions."},
      {stmt(R"("Effect":"Allow","Action":"ecs:RunTask","NotAction":"ecs:StopTask","Resource":"*")"),
       "Syntax errors in policy."},
      {stmt(R"("Effect":"Allow","Action":"ecs:RunTask")"), "Policy statement must contain resources."},
      {stmt(R"("Effect":"Allow","Action":"ecs:RunTask","Resource":[])"), "Policy statement must contain resources."},
      {stmt(R"("Effect":"Allow","Action":"ecs:RunTask","Resource":"*","NotResource":"*")"),
       "Syntax errors in policy."},
      {stmt(R"("Effect":"Allow","Action":"RunTask","Resource":"*")"),
       "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
      {stmt(R"("Effect":"Allow","Action":":RunTask","Resource":"*")"),
       "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
      {stmt(R"("Effect":"Allow","Action":5,"Resource":"*")"), "Syntax errors in policy."},
      {stmt(R"("Effect":"Allow","Action":"ecs:RunTask","Resource":"task/x")"),
       "Resource task/x must be in ARN format or \"*\"."},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"StringEquals":{"SourceArn":"x"}})"),
       "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"StringEqualz":{"aws:SourceArn":"x"}})"),
       "Invalid Condition type : StringEqualz"},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"NullIfExists":{"aws:SourceArn":"true"}})"),
       "Invalid Condition type : NullIfExists"},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}})"),
       "Invalid value for condition NumericLessThan on key s3:max-keys: ten"},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}})"),
       "Invalid value for condition IpAddress on key aws:sourceip: 10.0.0.0/33"},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}})"),
       "Invalid value for condition DateLessThan on key aws:currenttime: tomorrow"},
      // Epoch seconds past year 9999 (found by fuzz/policy_fuzz.cpp: 1e300 overflowed the milliseconds).
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"DateLessThan":{"aws:CurrentTime":1e300}})"),
       "Invalid value for condition DateLessThan on key aws:currenttime: 1e+300"},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"DateLessThan":{"aws:EpochTime":"inf"}})"),
       "Invalid value for condition DateLessThan on key aws:epochtime: inf"},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"Bool":{"aws:SecureTransport":"yes"}})"),
       "Invalid value for condition Bool on key aws:securetransport: yes"},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"StringEquals":{"aws:SourceArn":{"nested":1}}})"),
       "Syntax errors in policy."},
      {stmt(std::string(R"("Effect":"Allow",)") + std::string(ok_tail) +
            R"(,"Condition":{"StringEquals":{"aws:x":[]}})"),
       "Syntax errors in policy."},
      {stmt(std::string(R"("Effect":"Allow","Principal":"*",)") + std::string(ok_tail)),
       "Policy document should not specify a principal."},
      {stmt(std::string(R"("Sid":"has space","Effect":"Allow",)") + std::string(ok_tail)),
       "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression "
       "[0-9A-Za-z]*"},
      {R"({"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},
                                                {"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]})",
       "Statement IDs (SID) in a single policy must be unique."},
      // Policy variables need Version 2012-10-17, in Resource and in condition values alike.
      {R"({"Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}})",
       "Policy document must be version 2012-10-17 or greater."},
      {R"({"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
          "Condition":{"StringEquals":{"aws:userid":"${aws:username}"}}}})",
       "Policy document must be version 2012-10-17 or greater."},
      // Resource policies need a Principal; trust policies need one and may not name a Resource.
      {stmt(R"("Effect":"Allow","Action":"ecr:BatchGetImage")"),
       "Missing required field Principal", PolicyKind::kResource},
      {stmt(R"("Effect":"Allow","Action":"sts:AssumeRole")"), "Missing required field Principal", PolicyKind::kTrust},
      {stmt(R"("Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole",
               "Resource":"*")"),
       "Has prohibited field Resource", PolicyKind::kTrust},
      {stmt(R"("Effect":"Allow","Principal":"alice","Action":"sts:AssumeRole")"),
       "Invalid principal in policy: \"alice\"", PolicyKind::kTrust},
      {stmt(R"("Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole")"),
       "Invalid principal in policy: \"AWS\":\"alice\"", PolicyKind::kTrust},
      {stmt(R"("Effect":"Allow","Principal":{"Robot":"r2d2"},"Action":"sts:AssumeRole")"),
       "Invalid principal in policy: \"Robot\":\"r2d2\"", PolicyKind::kTrust},
      {stmt(R"("Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"sts:AssumeRole")"),
       "Syntax errors in policy.", PolicyKind::kTrust},
  };
  for (const auto& c : cases) {
    auto r = parse_policy(c.document, c.kind);
    ASSERT_FALSE(r.ok()) << "accepted: " << c.document;
    EXPECT_EQ(r.error().kind, ErrorKind::kValidation) << c.document;
    EXPECT_EQ(r.error().message, c.reason) << c.document;
  }
}

TEST(IamPolicyParseTest, ResourcePoliciesMayOmitResourceAndAllowAnySid) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":{"Sid":"allow pull","Effect":"Allow",
    "Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:root","arn:aws:iam::000000000000:role/ci"]},
    "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}})",
                   PolicyKind::kResource);
  ASSERT_EQ(p.statements.size(), 1u);
  const Statement& s = p.statements[0];
  EXPECT_FALSE(s.has_resource);
  EXPECT_TRUE(s.has_principal);
  EXPECT_EQ(s.principals.accounts, (std::vector<std::string>{"111122223333", "444455556666"}));
  EXPECT_EQ(s.principals.arns, (std::vector<std::string>{"arn:aws:iam::000000000000:role/ci"}));
}

// --- Matching ---------------------------------------------------------------------------------------

TEST(IamPolicyGlobTest, StarAndQuestionMarkMatchAnyCharacterIncludingSeparators) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "arn:aws:ecs:us-east-1:0:task/a/b"));
  EXPECT_TRUE(glob_match("arn:aws:ecs:*:task/*", "arn:aws:ecs:us-east-1:000000000000:task/c/abc"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(glob_match("*?", "x"));
  EXPECT_FALSE(glob_match("*?", ""));
  EXPECT_TRUE(glob_match("**a", "ba"));
  EXPECT_FALSE(glob_match("abc", "ABC"));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
}

TEST(IamPolicyPatternTest, WildcardsVariablesAndEscapes) {
  ContextKeys keys{{"aws:username", {"alice"}}, {"aws:many", {"a", "b"}}};
  auto p = Pattern::compile("arn:aws:iam::*:user/${aws:username}", true, true, false);
  EXPECT_TRUE(p.has_variables());
  EXPECT_TRUE(p.matches("arn:aws:iam::000000000000:user/alice", keys));
  EXPECT_FALSE(p.matches("arn:aws:iam::000000000000:user/bob", keys));
  EXPECT_FALSE(p.matches("arn:aws:iam::000000000000:user/alice", {}));  // no value: matches nothing

  auto with_default = Pattern::compile("team/${aws:PrincipalTag/team, 'none'}/*", true, true, false);
  EXPECT_TRUE(with_default.matches("team/none/x", {}));
  EXPECT_TRUE(with_default.matches("team/red/x", {{"aws:principaltag/team", {"red"}}}));

  // A multi-valued key is no variable value.
  EXPECT_FALSE(Pattern::compile("${aws:many}", true, true, false).matches("a", keys));

  auto escaped = Pattern::compile("a${*}b${?}c${$}d", true, true, false);
  EXPECT_TRUE(escaped.matches("a*b?c$d", {}));
  EXPECT_FALSE(escaped.matches("aXb?c$d", {}));

  // Substituted values are literal text, never wildcards.
  auto literal_value = Pattern::compile("x/${k:v}", true, true, false);
  EXPECT_TRUE(literal_value.matches("x/*", {{"k:v", {"*"}}}));
  EXPECT_FALSE(literal_value.matches("x/anything", {{"k:v", {"*"}}}));

  // Without wildcards `*` is an ordinary character.
  EXPECT_TRUE(Pattern::compile("a*", false, false, false).matches("a*", {}));
  EXPECT_FALSE(Pattern::compile("a*", false, false, false).matches("ab", {}));
}

TEST(IamPolicyEvalTest, ExplicitDenyBeatsAllowAndNamesTheStatement) {
  Policy admin = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})",
                       PolicyKind::kIdentity, "AdministratorAccess");
  Policy guard = parse(R"({"Version":"2012-10-17","Statement":[
    {"Sid":"ReadOnly","Effect":"Allow","Action":"ecs:Describe*","Resource":"*"},
    {"Sid":"NoStop","Effect":"Deny","Action":"ecs:StopTask","Resource":"*"}]})",
                       PolicyKind::kIdentity, "guard");
  auto r = evaluate({&admin, &guard}, request("ecs:StopTask", "arn:aws:ecs:us-east-1:000000000000:task/c/1"));
  EXPECT_EQ(r.decision, Decision::kExplicitDeny);
  ASSERT_TRUE(r.statement.has_value());
  EXPECT_EQ(r.statement->policy_name, "guard");
  EXPECT_EQ(r.statement->policy_index, 1u);
  EXPECT_EQ(r.statement->statement_index, 1u);
  EXPECT_EQ(r.statement->sid, "NoStop");
  EXPECT_FALSE(r.statement->resource_policy);

  auto allowed = evaluate({&admin, &guard}, request("ecs:RunTask", "*"));
  EXPECT_EQ(allowed.decision, Decision::kAllow);
  ASSERT_TRUE(allowed.statement.has_value());
  EXPECT_EQ(allowed.statement->policy_name, "AdministratorAccess");
}

TEST(IamPolicyEvalTest, NothingMatchingIsAnImplicitDeny) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"logs:*","Resource":"*"}})");
  auto r = evaluate({&p}, request("ecs:RunTask", "*"));
  EXPECT_EQ(r.decision, Decision::kImplicitDeny);
  EXPECT_FALSE(r.statement.has_value());
  EXPECT_EQ(evaluate(std::vector<const Policy*>{}, request("ecs:RunTask", "*")).decision, Decision::kImplicitDeny);
}

TEST(IamPolicyEvalTest, WildcardActionsAreCaseInsensitive) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
    "Action":["ecs:Describe*","ecr:Get?ownloadUrlForLayer"],"Resource":"*"}})");
  EXPECT_EQ(decide(p, request("ecs:DescribeTasks", "*")), Decision::kAllow);
  EXPECT_EQ(decide(p, request("ECS:describeclusters", "*")), Decision::kAllow);
  EXPECT_EQ(decide(p, request("ecr:GetDownloadUrlForLayer", "*")), Decision::kAllow);
  EXPECT_EQ(decide(p, request("ecs:ListTasks", "*")), Decision::kImplicitDeny);
  EXPECT_EQ(decide(p, request("ecs2:DescribeTasks", "*")), Decision::kImplicitDeny);
  EXPECT_EQ(decide(p, request("ecs:Describe", "*")), Decision::kAllow);  // `*` matches nothing too
}

TEST(IamPolicyEvalTest, NotActionWithAllowAllowsEverythingElse) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}})");
  EXPECT_EQ(decide(p, request("ecs:RunTask", "*")), Decision::kAllow);
  EXPECT_EQ(decide(p, request("iam:CreateUser", "*")), Decision::kImplicitDeny);
  EXPECT_EQ(decide(p, request("IAM:PassRole", "*")), Decision::kImplicitDeny);
}

TEST(IamPolicyEvalTest, NotResourceWithDenyProtectsAllButTheNamedResource) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"ecs:*","Resource":"*"},
    {"Effect":"Deny","Action":"ecs:*","NotResource":"arn:aws:ecs:us-east-1:000000000000:cluster/sandbox"}]})");
  EXPECT_EQ(decide(p, request("ecs:DeleteCluster", "arn:aws:ecs:us-east-1:000000000000:cluster/sandbox")),
            Decision::kAllow);
  EXPECT_EQ(decide(p, request("ecs:DeleteCluster", "arn:aws:ecs:us-east-1:000000000000:cluster/prod")),
            Decision::kExplicitDeny);
}

TEST(IamPolicyEvalTest, ResourcesAreCaseSensitiveAndStarCrossesColonsAndSlashes) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:StopTask",
    "Resource":"arn:aws:ecs:*:000000000000:task/batch/*"}})");
  EXPECT_EQ(decide(p, request("ecs:StopTask", "arn:aws:ecs:us-east-1:000000000000:task/batch/0123abcd")),
            Decision::kAllow);
  EXPECT_EQ(decide(p, request("ecs:StopTask", "arn:aws:ecs:us-east-1:000000000000:task/Batch/0123abcd")),
            Decision::kImplicitDeny);
  EXPECT_EQ(decide(p, request("ecs:StopTask", "arn:aws:ecs:us-east-1:111111111111:task/batch/1")),
            Decision::kImplicitDeny);
  // A request on "*" (an action without resource-level permissions) needs Resource "*".
  EXPECT_EQ(decide(p, request("ecs:StopTask", "*")), Decision::kImplicitDeny);
}

// RunTask's resource in AWS is the task definition ARN with its revision ("family:1"), so a policy that
// names the family alone does not cover it: the family needs ":*" (or the exact revision).
TEST(IamPolicyEvalTest, SeedRunTaskPolicyNamingTheFamilyDoesNotCoverARevision) {
  Policy seed = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["ecs:RunTask"],
    "Resource":["arn:aws:ecs:us-east-1:000000000000:task-definition/my-batch-job"]}})");
  const std::string revision = "arn:aws:ecs:us-east-1:000000000000:task-definition/my-batch-job:1";
  EXPECT_EQ(decide(seed, request("ecs:RunTask", revision)), Decision::kImplicitDeny);

  Policy any_revision = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:RunTask",
    "Resource":"arn:aws:ecs:us-east-1:000000000000:task-definition/my-batch-job:*"}})");
  EXPECT_EQ(decide(any_revision, request("ecs:RunTask", revision)), Decision::kAllow);
  EXPECT_EQ(decide(any_revision,
                   request("ecs:RunTask", "arn:aws:ecs:us-east-1:000000000000:task-definition/my-batch-job-2:1")),
            Decision::kImplicitDeny);

  Policy exact = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecs:RunTask",
    "Resource":"arn:aws:ecs:us-east-1:000000000000:task-definition/my-batch-job:1"}})");
  EXPECT_EQ(decide(exact, request("ecs:RunTask", revision)), Decision::kAllow);
  EXPECT_EQ(decide(exact, request("ecs:RunTask", revision + "0")), Decision::kImplicitDeny);
}

TEST(IamPolicyEvalTest, PassRoleOnTheExecutionRole) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:PassRole"],
    "Resource":["arn:aws:iam::000000000000:role/ecsTaskExecutionRole"]}})");
  EXPECT_EQ(decide(p, request("iam:PassRole", "arn:aws:iam::000000000000:role/ecsTaskExecutionRole")),
            Decision::kAllow);
  EXPECT_EQ(decide(p, request("iam:PassRole", "arn:aws:iam::000000000000:role/ecsTaskExecutionRole2")),
            Decision::kImplicitDeny);
  EXPECT_EQ(decide(p, request("iam:PassRole", "arn:aws:iam::000000000000:role/admin")), Decision::kImplicitDeny);
  EXPECT_EQ(decide(p, request("iam:GetRole", "arn:aws:iam::000000000000:role/ecsTaskExecutionRole")),
            Decision::kImplicitDeny);
}

TEST(IamPolicyEvalTest, PolicyVariablesInResource) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*",
    "Resource":"arn:aws:iam::000000000000:user/${aws:username}"}})");
  ContextKeys alice{{"aws:username", {"alice"}}};
  EXPECT_EQ(decide(p, request("iam:CreateAccessKey", kAlice, alice)), Decision::kAllow);
  EXPECT_EQ(decide(p, request("iam:CreateAccessKey", "arn:aws:iam::000000000000:user/bob", alice)),
            Decision::kImplicitDeny);
  EXPECT_EQ(decide(p, request("iam:CreateAccessKey", kAlice)), Decision::kImplicitDeny);
}

// --- Conditions -------------------------------------------------------------------------------------

TEST(IamPolicyConditionTest, StringOperators) {
  ContextKeys red{{"aws:principaltag/team", {"Red"}}};
  EXPECT_TRUE(condition_allows(R"({"StringEquals":{"aws:PrincipalTag/team":"Red"}})", red));
  EXPECT_FALSE(condition_allows(R"({"StringEquals":{"aws:PrincipalTag/team":"red"}})", red));
  EXPECT_TRUE(condition_allows(R"({"StringEquals":{"aws:PrincipalTag/team":["Blue","Red"]}})", red));  // ORed
  EXPECT_FALSE(condition_allows(R"({"StringNotEquals":{"aws:PrincipalTag/team":"Red"}})", red));
  EXPECT_TRUE(condition_allows(R"({"StringNotEquals":{"aws:PrincipalTag/team":"red"}})", red));
  EXPECT_FALSE(condition_allows(R"({"StringNotEquals":{"aws:PrincipalTag/team":["Blue","Red"]}})", red));  // NOR
  EXPECT_TRUE(condition_allows(R"({"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"rED"}})", red));
  EXPECT_FALSE(condition_allows(R"({"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"rED"}})", red));
  EXPECT_TRUE(condition_allows(R"({"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"blue"}})", red));
  EXPECT_TRUE(condition_allows(R"({"StringLike":{"aws:PrincipalTag/team":"R*"}})", red));
  EXPECT_TRUE(condition_allows(R"({"StringLike":{"aws:PrincipalTag/team":"R?d"}})", red));
  EXPECT_FALSE(condition_allows(R"({"StringLike":{"aws:PrincipalTag/team":"r*"}})", red));
  EXPECT_FALSE(condition_allows(R"({"StringNotLike":{"aws:PrincipalTag/team":["B*","R*"]}})", red));
  EXPECT_TRUE(condition_allows(R"({"StringNotLike":{"aws:PrincipalTag/team":"B*"}})", red));
  // StringEquals takes `*` literally.
  EXPECT_FALSE(condition_allows(R"({"StringEquals":{"aws:PrincipalTag/team":"R*"}})", red));
  EXPECT_TRUE(condition_allows(R"({"StringEquals":{"aws:PrincipalTag/team":"R*"}})",
                               {{"aws:principaltag/team", {"R*"}}}));
}

TEST(IamPolicyConditionTest, KeyNamesAreCaseInsensitiveValuesAreNot) {
  EXPECT_TRUE(condition_allows(R"({"StringEquals":{"AWS:SOURCEACCOUNT":"000000000000"}})",
                               {{"aws:sourceaccount", {"000000000000"}}}));
  EXPECT_TRUE(condition_allows(R"({"StringEquals":{"aws:sourceAccount":"000000000000"}})",
                               {{"aws:sourceaccount", {"000000000000"}}}));
}

TEST(IamPolicyConditionTest, ArnOperatorsMatchEachOfTheSixFieldsSeparately) {
  ContextKeys src{{"aws:sourcearn", {"arn:aws:events:us-east-1:000000000000:rule/every-5-minutes"}}};
  EXPECT_TRUE(condition_allows(
      R"({"ArnEquals":{"aws:SourceArn":"arn:aws:events:us-east-1:000000000000:rule/every-5-minutes"}})", src));
  EXPECT_TRUE(condition_allows(R"({"ArnLike":{"aws:SourceArn":"arn:aws:events:*:000000000000:rule/*"}})", src));
  EXPECT_TRUE(condition_allows(R"({"ArnEquals":{"aws:SourceArn":"arn:aws:events:*:000000000000:rule/*"}})", src));
  EXPECT_FALSE(condition_allows(R"({"ArnLike":{"aws:SourceArn":"arn:aws:events:*:111111111111:rule/*"}})", src));
  EXPECT_TRUE(condition_allows(R"({"ArnNotLike":{"aws:SourceArn":"arn:aws:events:*:111111111111:rule/*"}})", src));
  EXPECT_FALSE(condition_allows(R"({"ArnNotEquals":{"aws:SourceArn":"arn:aws:events:*:*:rule/*"}})", src));
  EXPECT_TRUE(condition_allows(R"({"ArnNotEquals":{"aws:SourceArn":"arn:aws:events:*:*:rule/other"}})", src));
  // A `*` in the service field does not swallow the next fields, unlike a whole-string glob.
  ContextKeys odd{{"aws:sourcearn", {"arn:aws:ecs:extra:us-east-1:000000000000:cluster/a"}}};
  EXPECT_FALSE(condition_allows(R"({"ArnLike":{"aws:SourceArn":"arn:aws:*:us-east-1:000000000000:cluster/a"}})",
                                odd));
  // A context value that is no ARN matches no ARN pattern.
  EXPECT_FALSE(condition_allows(R"({"ArnLike":{"aws:SourceArn":"arn:*:*:*:*:*"}})", {{"aws:sourcearn", {"nope"}}}));
  // A short pattern is matched as a whole, `*` across colons.
  EXPECT_TRUE(condition_allows(R"({"ArnLike":{"aws:SourceArn":"arn:aws:events:*"}})", src));
}

TEST(IamPolicyConditionTest, NumericOperators) {
  ContextKeys ten{{"s3:max-keys", {"10"}}};
  EXPECT_TRUE(condition_allows(R"({"NumericEquals":{"s3:max-keys":"10"}})", ten));
  EXPECT_TRUE(condition_allows(R"({"NumericEquals":{"s3:max-keys":10}})", ten));  // JSON number
  EXPECT_TRUE(condition_allows(R"({"NumericEquals":{"s3:max-keys":"10.0"}})", ten));
  EXPECT_FALSE(condition_allows(R"({"NumericNotEquals":{"s3:max-keys":"10"}})", ten));
  EXPECT_TRUE(condition_allows(R"({"NumericNotEquals":{"s3:max-keys":["1","2"]}})", ten));
  EXPECT_TRUE(condition_allows(R"({"NumericLessThan":{"s3:max-keys":"11"}})", ten));
  EXPECT_FALSE(condition_allows(R"({"NumericLessThan":{"s3:max-keys":"10"}})", ten));
  EXPECT_TRUE(condition_allows(R"({"NumericLessThanEquals":{"s3:max-keys":"10"}})", ten));
  EXPECT_TRUE(condition_allows(R"({"NumericGreaterThan":{"s3:max-keys":"9.5"}})", ten));
  EXPECT_FALSE(condition_allows(R"({"NumericGreaterThan":{"s3:max-keys":"10"}})", ten));
  EXPECT_TRUE(condition_allows(R"({"NumericGreaterThanEquals":{"s3:max-keys":"10"}})", ten));
  EXPECT_FALSE(condition_allows(R"({"NumericGreaterThanEquals":{"s3:max-keys":"11"}})", ten));
  // A context value that is not a number satisfies no numeric comparison.
  EXPECT_FALSE(condition_allows(R"({"NumericLessThan":{"s3:max-keys":"11"}})", {{"s3:max-keys", {"ten"}}}));
}

TEST(IamPolicyConditionTest, DateOperatorsTakeIso8601AndEpochSeconds) {
  ContextKeys now{{"aws:currenttime", {"2024-06-01T12:00:00Z"}}, {"aws:epochtime", {"1717243200"}}};
  EXPECT_TRUE(condition_allows(R"({"DateEquals":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}})", now));
  EXPECT_TRUE(condition_allows(R"({"DateEquals":{"aws:CurrentTime":"2024-06-01T14:00:00+02:00"}})", now));
  EXPECT_TRUE(condition_allows(R"({"DateEquals":{"aws:CurrentTime":"1717243200"}})", now));
  EXPECT_TRUE(condition_allows(R"({"DateEquals":{"aws:EpochTime":"2024-06-01T12:00:00.000Z"}})", now));
  EXPECT_FALSE(condition_allows(R"({"DateNotEquals":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}})", now));
  EXPECT_TRUE(condition_allows(R"({"DateNotEquals":{"aws:CurrentTime":"2024-06-01"}})", now));
  EXPECT_TRUE(condition_allows(R"({"DateLessThan":{"aws:CurrentTime":"2024-06-02"}})", now));
  EXPECT_FALSE(condition_allows(R"({"DateLessThan":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}})", now));
  EXPECT_TRUE(condition_allows(R"({"DateLessThanEquals":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}})", now));
  EXPECT_TRUE(condition_allows(R"({"DateGreaterThan":{"aws:CurrentTime":"2024-06-01T11:59:59.999Z"}})", now));
  EXPECT_FALSE(condition_allows(R"({"DateGreaterThan":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}})", now));
  EXPECT_TRUE(condition_allows(R"({"DateGreaterThanEquals":{"aws:CurrentTime":"2024-06-01T12:00Z"}})", now));
  EXPECT_TRUE(condition_allows(
      R"({"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"},
          "DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}})",
      now));
  EXPECT_TRUE(condition_allows(R"({"DateLessThan":{"aws:CurrentTime":"2000-03-01T00:00:00-05:00"}})",
                               {{"aws:currenttime", {"2000-02-29T23:59:59Z"}}}));
  // Epoch seconds up to the end of year 9999; a larger or non-finite context value is no date at all.
  EXPECT_TRUE(condition_allows(R"({"DateLessThan":{"aws:EpochTime":"253402300799"}})", now));
  for (const char* huge : {"253402300800", "1e300", "inf", "nan"}) {
    EXPECT_FALSE(condition_allows(R"({"DateGreaterThan":{"aws:EpochTime":"0"}})", {{"aws:epochtime", {huge}}}))
        << huge;
  }
}

TEST(IamPolicyConditionTest, BoolOperator) {
  ContextKeys secure{{"aws:securetransport", {"true"}}};
  EXPECT_TRUE(condition_allows(R"({"Bool":{"aws:SecureTransport":"true"}})", secure));
  EXPECT_TRUE(condition_allows(R"({"Bool":{"aws:SecureTransport":true}})", secure));  // JSON boolean
  EXPECT_FALSE(condition_allows(R"({"Bool":{"aws:SecureTransport":"false"}})", secure));
  EXPECT_TRUE(condition_allows(R"({"Bool":{"aws:SecureTransport":"false"}})", {{"aws:securetransport", {"FALSE"}}}));
  EXPECT_FALSE(condition_allows(R"({"Bool":{"aws:SecureTransport":"false"}})", {}));  // missing: false
}

TEST(IamPolicyConditionTest, IpAddressOperators) {
  ContextKeys v4{{"aws:sourceip", {"203.0.113.77"}}};
  EXPECT_TRUE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", v4));
  EXPECT_TRUE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"203.0.113.77"}})", v4));
  EXPECT_TRUE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"203.0.113.64/27"}})", v4));
  EXPECT_FALSE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"203.0.113.96/27"}})", v4));
  EXPECT_TRUE(condition_allows(R"({"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.0.0/16"]}})", v4));
  EXPECT_TRUE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})", v4));
  EXPECT_FALSE(condition_allows(R"({"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}})", v4));
  EXPECT_TRUE(condition_allows(R"({"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}})", v4));
  ContextKeys v6{{"aws:sourceip", {"2001:db8:1234:5678::9"}}};
  EXPECT_TRUE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}})", v6));
  EXPECT_FALSE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"2001:db8:1234:5679::/64"}})", v6));
  EXPECT_FALSE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})", v6));  // never across families
  EXPECT_FALSE(condition_allows(R"({"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}})", {{"aws:sourceip", {"bogus"}}}));
}

TEST(IamPolicyConditionTest, NullChecksPresence) {
  ContextKeys tagged{{"aws:requesttag/team", {"red"}}};
  EXPECT_TRUE(condition_allows(R"({"Null":{"aws:RequestTag/team":"false"}})", tagged));
  EXPECT_FALSE(condition_allows(R"({"Null":{"aws:RequestTag/team":"true"}})", tagged));
  EXPECT_TRUE(condition_allows(R"({"Null":{"aws:RequestTag/team":"true"}})", {}));
  EXPECT_FALSE(condition_allows(R"({"Null":{"aws:RequestTag/team":false}})", {}));
  EXPECT_TRUE(condition_allows(R"({"Null":{"aws:RequestTag/team":"true"}})", {{"aws:requesttag/team", {}}}));
}

TEST(IamPolicyConditionTest, MissingKeyIsFalseExceptForNegatedIfExistsAndNull) {
  EXPECT_FALSE(condition_allows(R"({"StringEquals":{"aws:PrincipalTag/team":"red"}})", {}));
  EXPECT_FALSE(condition_allows(R"({"StringLike":{"aws:PrincipalTag/team":"*"}})", {}));
  EXPECT_FALSE(condition_allows(R"({"NumericLessThan":{"s3:max-keys":"5"}})", {}));
  // AWS: a negated operator on an absent key holds (there is nothing to match any value).
  EXPECT_TRUE(condition_allows(R"({"StringNotEquals":{"aws:PrincipalTag/team":"red"}})", {}));
  EXPECT_TRUE(condition_allows(R"({"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}})", {}));
  EXPECT_TRUE(condition_allows(R"({"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}})", {}));
}

TEST(IamPolicyConditionTest, IfExistsHoldsWhenAbsentAndChecksWhenPresent) {
  const char* cond = R"({"StringEqualsIfExists":{"ec2:InstanceType":["t3.micro","t3.small"]}})";
  EXPECT_TRUE(condition_allows(cond, {}));
  EXPECT_TRUE(condition_allows(cond, {{"ec2:instancetype", {"t3.small"}}}));
  EXPECT_FALSE(condition_allows(cond, {{"ec2:instancetype", {"m5.large"}}}));
  EXPECT_TRUE(condition_allows(R"({"NumericLessThanIfExists":{"s3:max-keys":"5"}})", {}));
  EXPECT_FALSE(condition_allows(R"({"NumericLessThanIfExists":{"s3:max-keys":"5"}})", {{"s3:max-keys", {"9"}}}));
  EXPECT_TRUE(condition_allows(R"({"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}})", {}));
  EXPECT_TRUE(condition_allows(R"({"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:*"}})", {}));
  EXPECT_TRUE(condition_allows(R"({"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}})", {}));
  EXPECT_TRUE(condition_allows(R"({"DateLessThanIfExists":{"aws:CurrentTime":"2000-01-01"}})", {}));
  EXPECT_FALSE(condition_allows(R"({"StringNotEqualsIfExists":{"aws:PrincipalTag/team":"red"}})",
                                {{"aws:principaltag/team", {"red"}}}));
}

TEST(IamPolicyConditionTest, KeysAndOperatorsAreAnded) {
  const char* cond = R"({"StringEquals":{"aws:PrincipalTag/team":"red","aws:RequestedRegion":"us-east-1"},
                         "Bool":{"aws:SecureTransport":"true"}})";
  ContextKeys all{{"aws:principaltag/team", {"red"}}, {"aws:requestedregion", {"us-east-1"}},
                  {"aws:securetransport", {"true"}}};
  EXPECT_TRUE(condition_allows(cond, all));
  for (const char* drop : {"aws:principaltag/team", "aws:requestedregion", "aws:securetransport"}) {
    ContextKeys some = all;
    some.erase(drop);
    EXPECT_FALSE(condition_allows(cond, some)) << drop;
  }
}

TEST(IamPolicyConditionTest, ForAnyValueNeedsOneMatchingContextValue) {
  const char* cond = R"({"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}})";
  EXPECT_TRUE(condition_allows(cond, {{"aws:tagkeys", {"owner", "team"}}}));
  EXPECT_FALSE(condition_allows(cond, {{"aws:tagkeys", {"owner", "cost"}}}));
  EXPECT_FALSE(condition_allows(cond, {}));                      // missing: false
  EXPECT_FALSE(condition_allows(cond, {{"aws:tagkeys", {}}}));   // empty: false
  EXPECT_TRUE(condition_allows(R"({"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"env"}})", {}));
  EXPECT_TRUE(
      condition_allows(R"({"ForAnyValue:StringLike":{"aws:TagKeys":"te*"}})", {{"aws:tagkeys", {"a", "team"}}}));
  // Negated: some context value matches none of the policy values.
  EXPECT_TRUE(condition_allows(R"({"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}})",
                               {{"aws:tagkeys", {"env", "owner"}}}));
  EXPECT_FALSE(condition_allows(R"({"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}})",
                                {{"aws:tagkeys", {"env", "team"}}}));
}

TEST(IamPolicyConditionTest, ForAllValuesNeedsEveryContextValueToMatch) {
  const char* cond = R"({"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}})";
  EXPECT_TRUE(condition_allows(cond, {{"aws:tagkeys", {"env"}}}));
  EXPECT_TRUE(condition_allows(cond, {{"aws:tagkeys", {"team", "env"}}}));
  EXPECT_FALSE(condition_allows(cond, {{"aws:tagkeys", {"team", "owner"}}}));
  EXPECT_TRUE(condition_allows(cond, {}));                      // missing: true
  EXPECT_TRUE(condition_allows(cond, {{"aws:tagkeys", {}}}));   // empty: true
  // The usual guard against that: pair it with a Null check.
  EXPECT_FALSE(condition_allows(
      R"({"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]},"Null":{"aws:TagKeys":"false"}})", {}));
  EXPECT_TRUE(condition_allows(R"({"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret","admin"]}})",
                               {{"aws:tagkeys", {"env", "team"}}}));
  EXPECT_FALSE(condition_allows(R"({"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret","admin"]}})",
                                {{"aws:tagkeys", {"env", "admin"}}}));
  EXPECT_TRUE(condition_allows(R"({"ForAllValues:StringLike":{"aws:TagKeys":"project-*"}})",
                               {{"aws:tagkeys", {"project-a", "project-b"}}}));
}

TEST(IamPolicyConditionTest, MultiValuedKeyWithoutQualifier) {
  ContextKeys tags{{"aws:tagkeys", {"env", "team"}}};
  EXPECT_TRUE(condition_allows(R"({"StringEquals":{"aws:TagKeys":"team"}})", tags));
  EXPECT_FALSE(condition_allows(R"({"StringNotEquals":{"aws:TagKeys":"team"}})", tags));
  EXPECT_TRUE(condition_allows(R"({"StringNotEquals":{"aws:TagKeys":"owner"}})", tags));
}

TEST(IamPolicyConditionTest, PolicyVariablesInConditionValues) {
  const char* cond = R"({"StringEquals":{"aws:PrincipalTag/owner":"${aws:username}"}})";
  EXPECT_TRUE(condition_allows(cond, {{"aws:principaltag/owner", {"alice"}}, {"aws:username", {"alice"}}}));
  EXPECT_FALSE(condition_allows(cond, {{"aws:principaltag/owner", {"alice"}}, {"aws:username", {"bob"}}}));
  EXPECT_FALSE(condition_allows(cond, {{"aws:principaltag/owner", {"alice"}}}));
  EXPECT_TRUE(condition_allows(R"({"StringEqualsIgnoreCase":{"aws:PrincipalTag/owner":"${aws:username}"}})",
                               {{"aws:principaltag/owner", {"ALICE"}}, {"aws:username", {"Alice"}}}));
  EXPECT_TRUE(condition_allows(R"({"StringLike":{"s3:prefix":"home/${aws:username}/*"}})",
                               {{"s3:prefix", {"home/alice/docs"}}, {"aws:username", {"alice"}}}));
  EXPECT_FALSE(condition_allows(R"({"StringLike":{"s3:prefix":"home/${aws:username}/*"}})",
                                {{"s3:prefix", {"home/bob/docs"}}, {"aws:username", {"alice"}}}));
  EXPECT_TRUE(condition_allows(R"({"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:user/${aws:username}"}})",
                               {{"aws:sourcearn", {kAlice}}, {"aws:username", {"alice"}}}));
  EXPECT_TRUE(condition_allows(R"({"StringEquals":{"s3:prefix":"${*}"}})", {{"s3:prefix", {"*"}}}));
}

TEST(IamPolicyConditionTest, ConditionInADenyStatement) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"ecs:*","Resource":"*"},
    {"Sid":"OnlyUsEast1","Effect":"Deny","Action":"*","Resource":"*",
     "Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}}]})");
  EXPECT_EQ(decide(p, request("ecs:RunTask", "*", {{"aws:requestedregion", {"us-east-1"}}})), Decision::kAllow);
  EXPECT_EQ(decide(p, request("ecs:RunTask", "*", {{"aws:requestedregion", {"eu-west-1"}}})),
            Decision::kExplicitDeny);
}

// --- Resource and trust policies --------------------------------------------------------------------

RequestContext assume(std::string principal_arn, std::string account, ContextKeys keys = {}) {
  RequestContext r;
  r.action = "sts:AssumeRole";
  r.resource = "arn:aws:iam::000000000000:role/ecsTaskExecutionRole";
  r.principal_arn = std::move(principal_arn);
  r.principal_account = std::move(account);
  r.keys = std::move(keys);
  return r;
}

TEST(IamPolicyTrustTest, ServicePrincipalByContextKeyOrPrincipalName) {
  Policy trust = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
    "Principal":{"Service":["ecs-tasks.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}})",
                       PolicyKind::kTrust, "trust");
  auto by_key = evaluate({}, {&trust}, assume("", "", {{"aws:principalservicename", {"ecs-tasks.amazonaws.com"}}}));
  EXPECT_EQ(by_key.decision, Decision::kAllow);
  ASSERT_TRUE(by_key.statement.has_value());
  EXPECT_TRUE(by_key.statement->resource_policy);
  EXPECT_EQ(by_key.statement->policy_name, "trust");
  EXPECT_EQ(evaluate({}, {&trust}, assume("lambda.amazonaws.com", "")).decision, Decision::kAllow);
  EXPECT_EQ(evaluate({}, {&trust}, assume("events.amazonaws.com", "")).decision, Decision::kImplicitDeny);
  EXPECT_EQ(evaluate({}, {&trust}, assume(kAlice, "000000000000")).decision, Decision::kImplicitDeny);
  RequestContext other = assume("", "", {{"aws:principalservicename", {"ecs-tasks.amazonaws.com"}}});
  other.action = "sts:TagSession";
  EXPECT_EQ(evaluate({}, {&trust}, other).decision, Decision::kImplicitDeny);
}

TEST(IamPolicyTrustTest, AwsPrincipalByArnRoleSessionOrAccount) {
  Policy by_arn = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
    "Principal":{"AWS":["arn:aws:iam::000000000000:user/alice","arn:aws:iam::000000000000:role/ci/deployer"]},
    "Action":"sts:AssumeRole"}})",
                        PolicyKind::kTrust);
  EXPECT_EQ(evaluate({}, {&by_arn}, assume(kAlice, "000000000000")).decision, Decision::kAllow);
  EXPECT_EQ(evaluate({}, {&by_arn}, assume("arn:aws:iam::000000000000:user/bob", "000000000000")).decision,
            Decision::kImplicitDeny);
  EXPECT_EQ(evaluate({}, {&by_arn}, assume("arn:aws:sts::000000000000:assumed-role/deployer/run-1", "000000000000"))
                .decision,
            Decision::kAllow);
  EXPECT_EQ(evaluate({}, {&by_arn}, assume("arn:aws:sts::000000000000:assumed-role/deployer2/run-1", "000000000000"))
                .decision,
            Decision::kImplicitDeny);

  // Naming the account (by id or ":root") matches any of its principals but only delegates to the
  // account's identity policies: those must allow too.
  for (const char* account : {R"("000000000000")", R"("arn:aws:iam::000000000000:root")"}) {
    Policy by_account =
        parse(std::string(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":)") + account +
                  R"(},"Action":"sts:AssumeRole"}})",
              PolicyKind::kTrust);
    Policy may_assume = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole",
      "Resource":"arn:aws:iam::000000000000:role/*"}})");
    EXPECT_EQ(evaluate({}, {&by_account}, assume(kAlice, "000000000000")).decision, Decision::kImplicitDeny) << account;
    EXPECT_EQ(evaluate({&may_assume}, {&by_account}, assume(kAlice, "000000000000")).decision, Decision::kAllow)
        << account;
    EXPECT_EQ(evaluate({&may_assume}, {&by_account}, assume("arn:aws:iam::111111111111:user/eve", "111111111111"))
                  .decision,
              Decision::kImplicitDeny)
        << account;
  }
}

TEST(IamPolicyTrustTest, AnyPrincipalAndNotPrincipal) {
  Policy anyone = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*",
    "Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}}})",
                        PolicyKind::kTrust);
  EXPECT_EQ(evaluate({}, {&anyone}, assume(kAlice, "000000000000", {{"aws:principalorgid", {"o-123"}}})).decision,
            Decision::kAllow);
  EXPECT_EQ(evaluate({}, {&anyone}, assume(kAlice, "000000000000")).decision, Decision::kImplicitDeny);

  Policy all_but_bob = parse(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"},
    {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole"}]})",
                             PolicyKind::kTrust);
  EXPECT_EQ(evaluate({}, {&all_but_bob}, assume(kAlice, "000000000000")).decision, Decision::kAllow);
  EXPECT_EQ(evaluate({}, {&all_but_bob}, assume("arn:aws:iam::000000000000:user/bob", "000000000000")).decision,
            Decision::kExplicitDeny);
}

TEST(IamPolicyResourceTest, SameAccountEitherAllowsCrossAccountNeedsBoth) {
  const std::string repo = "arn:aws:ecr:us-east-1:000000000000:repository/python-batch-job";
  Policy repo_policy = parse(R"({"Version":"2012-10-17","Statement":{"Sid":"Pull","Effect":"Allow",
    "Principal":{"AWS":["arn:aws:iam::000000000000:user/alice","arn:aws:iam::111111111111:user/eve"]},
    "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}})",
                             PolicyKind::kResource, "repository policy");
  Policy pull = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:BatchGetImage",
    "Resource":"arn:aws:ecr:*:*:repository/*"}})");

  RequestContext alice = request("ecr:BatchGetImage", repo);
  auto by_resource = evaluate({}, {&repo_policy}, alice);
  EXPECT_EQ(by_resource.decision, Decision::kAllow);  // same account: the resource policy alone
  ASSERT_TRUE(by_resource.statement.has_value());
  EXPECT_EQ(by_resource.statement->sid, "Pull");
  EXPECT_TRUE(by_resource.statement->resource_policy);
  EXPECT_EQ(evaluate({&pull}, {}, alice).decision, Decision::kAllow);  // same account: the identity policy alone

  RequestContext eve = request("ecr:BatchGetImage", repo);
  eve.principal_arn = "arn:aws:iam::111111111111:user/eve";
  eve.principal_account = "111111111111";
  EXPECT_EQ(evaluate({}, {&repo_policy}, eve).decision, Decision::kImplicitDeny);
  EXPECT_EQ(evaluate({&pull}, {}, eve).decision, Decision::kImplicitDeny);
  EXPECT_EQ(evaluate({&pull}, {&repo_policy}, eve).decision, Decision::kAllow);

  // resource_account overrides the ARN's account field.
  RequestContext local = eve;
  local.resource_account = "111111111111";
  EXPECT_EQ(evaluate({&pull}, {}, local).decision, Decision::kAllow);
}

TEST(IamPolicyResourceTest, DenyInTheResourcePolicyBeatsAnIdentityAllow) {
  Policy admin = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})");
  Policy locked = parse(R"({"Version":"2012-10-17","Statement":{"Sid":"NoDelete","Effect":"Deny","Principal":"*",
    "Action":"ecr:DeleteRepository"}})",
                        PolicyKind::kResource, "repository policy");
  auto r = evaluate({&admin}, {&locked},
                    request("ecr:DeleteRepository", "arn:aws:ecr:us-east-1:000000000000:repository/x"));
  EXPECT_EQ(r.decision, Decision::kExplicitDeny);
  ASSERT_TRUE(r.statement.has_value());
  EXPECT_TRUE(r.statement->resource_policy);
  EXPECT_EQ(r.statement->sid, "NoDelete");
}

TEST(IamPolicyResourceTest, StatementAppliesChecksEveryElement) {
  Policy p = parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"000000000000"},
    "Action":"logs:PutLogEvents","Resource":"arn:aws:logs:*:*:log-group:/ecs/*",
    "Condition":{"Bool":{"aws:SecureTransport":"false"}}}})",
                   PolicyKind::kResource);
  const Statement& s = p.statements.at(0);
  RequestContext r = request("logs:PutLogEvents", "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/job:*",
                             {{"aws:securetransport", {"false"}}});
  EXPECT_TRUE(statement_applies(s, PolicyKind::kResource, r));
  RequestContext wrong_account = r;
  wrong_account.principal_account = "111111111111";
  EXPECT_FALSE(statement_applies(s, PolicyKind::kResource, wrong_account));
  RequestContext secure = r;
  secure.keys["aws:securetransport"] = {"true"};
  EXPECT_FALSE(statement_applies(s, PolicyKind::kResource, secure));
  RequestContext other_group = r;
  other_group.resource = "arn:aws:logs:us-east-1:000000000000:log-group:/lambda/x:*";
  EXPECT_FALSE(statement_applies(s, PolicyKind::kResource, other_group));
}

}  // namespace
}  // namespace gantry::iam
