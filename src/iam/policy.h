// The IAM policy language: JSON policy documents parsed once into typed statements, and the decision
// (explicit deny, allow, implicit deny) for one request against identity and resource policies.
//
// Pure: no I/O, no clock (aws:CurrentTime is a context key like any other), no shared state. A parsed
// Policy is immutable and may be evaluated from any number of threads at once.
//
// What follows AWS and where Gantry chose:
// - Versions "2012-10-17" and "2008-10-17" are accepted; a missing Version means 2008-10-17. Policy
//   variables (`${...}`) need 2012-10-17: an older document that contains them is refused with AWS's
//   "Policy document must be version 2012-10-17 or greater.". Any other Version string is a syntax error.
// - Element names are case-sensitive ("Effect", not "effect"), as are the values Allow and Deny.
// - Service principals ({"Service": "lambda.amazonaws.com"}) match the context key
//   "aws:principalservicename" (case-insensitively) or a principal_arn equal to the service name.
//   Federated and CanonicalUser principals match principal_arn exactly.
// - An AWS principal written as an account id or as "arn:aws:iam::<account>:root" matches every
//   principal of that account; a role ARN also matches the role's sessions
//   (arn:aws:sts::<account>:assumed-role/<name>/<session>); any other ARN matches principal_arn exactly.
// - A resource or trust policy statement without Resource applies to the resource it is attached to,
//   so it matches whatever RequestContext::resource is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gantry::iam {

// Condition context keys: lower-cased key name -> values (one for single-valued keys).
using ContextKeys = std::map<std::string, std::vector<std::string>>;

// What a policy is attached to decides which elements it must and may have:
// kIdentity: Resource required, no Principal. kResource: Principal required, Resource optional.
// kTrust (a role's assume-role policy): Principal required, no Resource.
enum class PolicyKind { kIdentity, kResource, kTrust };

enum class Effect { kAllow, kDeny };

// A Resource, Action or condition value compiled once: literal text, the `*` and `?` wildcards (where
// the element allows them) and policy variables `${key}` / `${key, 'default'}` with the escapes `${*}`,
// `${?}` and `${$}` for a literal `*`, `?` and `$`.
class Pattern {
 public:
  Pattern() = default;
  // `wildcards`: `*` and `?` are wildcards (otherwise literal). `variables`: `${...}` is substituted
  // (otherwise literal). `lower`: the literal text is lower-cased (for case-insensitive comparisons, the
  // caller lower-cases the text it matches and asks for lower-cased variable values).
  static Pattern compile(std::string_view text, bool wildcards, bool variables, bool lower);

  // Whether `text` matches. Variables are resolved from `keys` (lower-cased when `lower_values`); a
  // variable without a single value in `keys` and without a default makes the pattern match nothing.
  bool matches(std::string_view text, const ContextKeys& keys, bool lower_values = false) const;

  const std::string& source() const { return source_; }
  bool has_variables() const { return has_variables_; }

  enum class PieceKind : std::uint8_t { kLiteral, kAnyString, kAnyChar, kVariable };
  struct Piece {
    PieceKind kind;
    std::string text;  // the literal, or the variable's lower-cased key
    std::optional<std::string> fallback;  // a variable's default value
  };

 private:
  std::string source_;
  std::vector<Piece> pieces_;
  bool has_variables_ = false;
  bool plain_ = true;  // only literal text: matching is a string comparison with `literal_`
  std::string literal_;
};

// Glob match: `*` matches any run of characters (including ':' and '/'), `?` exactly one; everything
// else is literal and compared byte for byte (case-sensitive).
bool glob_match(std::string_view pattern, std::string_view text);

enum class ConditionOperator {
  kStringEquals, kStringNotEquals, kStringEqualsIgnoreCase, kStringNotEqualsIgnoreCase,
  kStringLike, kStringNotLike,
  kArnEquals, kArnLike, kArnNotEquals, kArnNotLike,
  kNumericEquals, kNumericNotEquals, kNumericLessThan, kNumericLessThanEquals,
  kNumericGreaterThan, kNumericGreaterThanEquals,
  kDateEquals, kDateNotEquals, kDateLessThan, kDateLessThanEquals, kDateGreaterThan, kDateGreaterThanEquals,
  kBool,
  kIpAddress, kNotIpAddress,
  kNull,
};

enum class SetQualifier { kNone, kForAnyValue, kForAllValues };

// An address range from IpAddress/NotIpAddress: IPv4 and IPv6, never matching across families.
struct IpRange {
  bool v6 = false;
  std::uint8_t bytes[16] = {};
  int prefix = 0;
};

// One policy value of a condition, pre-parsed for its operator's family.
struct ConditionValue {
  Pattern pattern;               // string operators; ARN operators on a value that is not a full ARN
  std::vector<Pattern> arn_parts;  // ARN operators: the six colon-separated fields, each matched alone
  double number = 0;        // numeric operators
  std::int64_t millis = 0;  // date operators: milliseconds since the epoch
  bool flag = false;        // Bool and Null
  IpRange range;            // IpAddress, NotIpAddress
};

// One key of one operator: {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b*"]}}.
// Its values are ORed (NORed for the negated operators: ...NotEquals, ...NotLike, NotIpAddress). A key
// absent from the context (or with no values) makes it false, except: ...IfExists and ForAllValues hold,
// a negated operator without qualifier holds (as AWS documents), and Null tests exactly that. Without a
// qualifier, a multi-valued context key holds when one of its values matches (negated: when none does).
struct Condition {
  std::string operator_name;  // as written, for messages
  ConditionOperator op = ConditionOperator::kStringEquals;
  SetQualifier qualifier = SetQualifier::kNone;
  bool if_exists = false;
  std::string key;  // lower-cased
  std::vector<ConditionValue> values;
};

struct Principals {
  bool any = false;  // "*" or {"AWS": "*"}
  std::vector<std::string> accounts;  // 12-digit ids (from an id or an ":root" ARN)
  std::vector<std::string> arns;      // other AWS principal ARNs
  std::vector<std::string> services;  // lower-cased
  std::vector<std::string> federated;
  std::vector<std::string> canonical_users;
};

struct Statement {
  std::string sid;
  Effect effect = Effect::kAllow;
  bool not_action = false;
  std::vector<Pattern> actions;  // lower-cased; matched against the lower-cased request action
  bool has_resource = false;     // false only in resource and trust policies without Resource
  bool not_resource = false;
  std::vector<Pattern> resources;
  bool has_principal = false;
  bool not_principal = false;
  Principals principals;
  std::vector<Condition> conditions;  // all must hold
};

struct Policy {
  std::string name;  // set by the caller (e.g. the managed policy's name); used in decisions only
  PolicyKind kind = PolicyKind::kIdentity;
  std::string version;  // "2012-10-17" or "2008-10-17"
  std::string id;
  std::vector<Statement> statements;
};

// Parses and validates a policy document. A malformed document is a kValidation error whose message is
// AWS's MalformedPolicyDocument reason (e.g. "Missing required field Effect"). Size limits are the
// caller's.
Result<Policy> parse_policy(std::string_view document, PolicyKind kind = PolicyKind::kIdentity);

struct RequestContext {
  std::string action;             // "ecs:RunTask"; compared case-insensitively
  std::string resource;           // an ARN or "*"; compared case-sensitively
  std::string principal_arn;      // the caller: a user, role session, root or service name
  std::string principal_account;  // the caller's account
  ContextKeys keys;               // condition context keys, lower-cased names, e.g. "aws:sourcearn"
  // The account that owns `resource`, for the cross-account rule; empty: the account field of the
  // resource ARN, and the caller's account when that is empty too (e.g. "*").
  std::string resource_account;
};

enum class Decision { kAllow, kExplicitDeny, kImplicitDeny };

// The statement that decided, for messages ("... with an explicit deny in an identity-based policy").
struct DecidingStatement {
  bool resource_policy = false;  // which list the policy came from
  std::size_t policy_index = 0;  // in that list
  std::string policy_name;
  std::size_t statement_index = 0;
  std::string sid;
};

struct EvaluationResult {
  Decision decision = Decision::kImplicitDeny;
  std::optional<DecidingStatement> statement;  // empty for an implicit deny
};

// Whether one statement applies to the request (action, resource, principal for resource and trust
// policies, and every condition), whatever its effect.
bool statement_applies(const Statement& statement, PolicyKind kind, const RequestContext& request);

// Identity policies alone: any applying Deny is an explicit deny, else any applying Allow allows.
EvaluationResult evaluate(const std::vector<const Policy*>& identity, const RequestContext& request);

// Identity and resource (or trust) policies of one request. A Deny in either denies. Otherwise:
// - Same account (the resource's account is the caller's): an Allow in either kind allows — except that
//   a resource-policy Allow that names the principal only by its account (id or ":root" ARN) delegates
//   to the account's identity policies, as in AWS, so it allows only with an identity Allow too.
// - Cross account: both an identity Allow and a resource-policy Allow are needed. A caller without an
//   account (a service principal: principal_account empty) is never cross-account.
EvaluationResult evaluate(const std::vector<const Policy*>& identity, const std::vector<const Policy*>& resource,
                          const RequestContext& request);

// sts:AssumeRole (and sts:TagSession) on a role: its trust policy must allow. A Deny in either denies;
// a trust statement naming the principal itself allows; one naming it only by its account allows when an
// identity policy allows too. An identity Allow alone never suffices, whatever it says.
EvaluationResult evaluate_trust(const std::vector<const Policy*>& identity, const std::vector<const Policy*>& trust,
                                const RequestContext& request);

}  // namespace gantry::iam
