// The edge: identifies service and operation of a request, reads its SigV4 scope, decodes and
// validates the input against the service model, calls the operation and encodes the answer in
// the service's protocol. Services register typed operation tables; anything AWS has that Gantry
// does not implement answers UnsupportedOperation (never a fake success).
#pragma once

#include "auth/sigv4_verify.h"
#include <boost/json.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "api/context.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "http/message.h"
#include "protocol/shape_model.h"
#include "protocol/xml.h"

namespace gantry::api {

using JsonOperation = std::function<Result<boost::json::object>(RequestContext&, boost::json::object& input)>;

// What IAM is asked about one call of an operation: `<service>:<Operation>` on each of `resources` (all
// must be allowed; DescribeTasks names several tasks), with the service's condition keys. `self_checked`:
// the operation decides itself (sts:AssumeRole weighs the trust policy; GetCallerIdentity needs no
// permission).
struct AuthTarget {
  std::vector<std::string> resources{"*"};
  ConditionKeys keys;
  bool self_checked = false;
  std::vector<std::string> resource_policies;  // the resource's own policy (an ECR repository policy)
  std::string action;  // the IAM action when it is not `<service>:<Operation>` (Invoke: lambda:InvokeFunction)
};
// Maps an operation and its decoded input to its AuthTarget (the resource ARNs of AWS's Service
// Authorization Reference). May read the service's store: it runs outside any transaction.
using AuthTargetFn =
    std::function<AuthTarget(std::string_view operation, const boost::json::object& input, const RequestContext&)>;

struct JsonService {
  std::string name;                   // botocore service name: "ecs"
  std::string validation_error_type;  // the service's generic validation error: "InvalidParameterException"
  std::map<std::string, JsonOperation, std::less<>> operations;
  AuthTargetFn auth_target;           // null: every operation is asked about resource "*"
};

// A query or ec2 protocol operation. The input arrives decoded from the request's parameters and
// validated against the model; the result is an element whose children are the output members,
// named as the wire names them (the router wraps them in the protocol's <ActionResponse> envelope).
using QueryOperation =
    std::function<Result<protocol::xml::Element>(RequestContext&, boost::json::object& input)>;

struct QueryService {
  std::string name;                   // botocore service name: "ec2", "iam", "sts"
  std::string validation_error_type;  // "InvalidParameterValue" (EC2), "ValidationError" (IAM, STS)
  std::map<std::string, QueryOperation, std::less<>> operations;
  AuthTargetFn auth_target;           // null: every operation is asked about resource "*"
};

// rest-json (Lambda, Scheduler): an operation's answer.
struct RestResponse {
  int status = 0;  // 0: the operation's responseCode in the model (200 when it has none)
  std::vector<std::pair<std::string, std::string>> headers;
  // The body: `json` serialized (Content-Type application/json), unless `raw` is set: then `raw`'s bytes
  // as they are, with Content-Type `content_type`.
  boost::json::object json;
  std::optional<std::string> raw;
  std::string content_type = "application/json";
  // Set when the answer comes later (Invoke waits for the function): the router calls it once, on the
  // I/O thread, and returns at once; it must arrange for `done` to be called exactly once, from any
  // thread, with the real answer or an error (encoded as the service's errors are). The other members
  // are then ignored.
  std::function<void(std::function<void(Result<RestResponse>)> done)> later;
};

// A rest-json operation. The input holds every member the model defines, wherever the request carried
// it: URI labels (percent-decoded), query string and headers (converted to the member's type) and the
// JSON body. When the input shape names a payload member of type blob or string (Invoke's Payload), that
// member holds the raw request body (absent when the body is empty).
using RestOperation = std::function<Result<RestResponse>(RequestContext&, boost::json::object& input)>;

struct RestService {
  std::string name;                   // botocore service name: "lambda"
  std::string validation_error_type;  // "InvalidParameterValueException" (Lambda), "ValidationException"
  std::map<std::string, RestOperation, std::less<>> operations;
  AuthTargetFn auth_target;           // null: every operation is asked about resource "*"
};

// Decides whether an authenticated caller may call an operation (IAM policy evaluation).
struct RouterOptions {
  std::string account_id = "000000000000";
  std::string default_region = "us-east-1";
  // Verifies every request's SigV4 signature against these keys; null: signatures are read, not
  // verified (`--auth off`).
  const auth::KeyStore* keys = nullptr;
  // Checks every authenticated call (with `keys`); null: whoever signs may do everything.
  Authorizer* authorizer = nullptr;
  // The wall clock request dates are checked against (SigV4's 15 minutes); null: the router's clock. Set
  // when the router's clock is a manual one that tests move far from the real time.
  const Clock* wall_clock = nullptr;
};

class Router {
 public:
  Router(RouterOptions options, const Clock& clock, Random& random);
  ~Router();

  // Registers a json-1.0/1.1 service; its model must be embedded (models/<name>.json).
  Status add_json_service(JsonService service);
  // Registers a query or ec2 protocol service; its model must be embedded (models/<name>.json).
  Status add_query_service(QueryService service);
  // Registers a rest-json service; its model must be embedded (models/<name>.json). Requests are routed
  // by method and path against the model's requestUri templates.
  Status add_rest_service(RestService service);

  http::Response handle(http::Request& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::api
