// The Lambda service as the router sees it: a rest-json operation table over a LambdaStore, running
// functions through an Invoker.
#pragma once

#include <cstdint>
#include <string>
#include <filesystem>
#include <functional>

#include "api/router.h"
#include "services/lambda/invoker.h"
#include "services/lambda/model.h"

namespace gantry::lambda {

// `store` and `invoker` must outlive the returned service. Deployment packages are kept under
// `code_root` (<data dir>/lambda/code); `endpoint` gives the server's base URL ("http://127.0.0.1:4566") for
// GetFunction's Code.Location.
// An AWS service invoking a function asynchronously on behalf of one of its resources (EventBridge for a
// rule): allowed only when the function's resource policy lets `service_principal` call
// lambda:InvokeFunction with aws:SourceArn `source_arn`; then queued as an Event invocation.
struct ServiceInvocation {
  Scope scope;
  std::string function;           // name or ARN, qualified or not
  std::string payload;            // the event, JSON text
  std::string service_principal;  // "events.amazonaws.com"
  std::string source_arn;         // the rule's ARN
  std::string request_id;
};
// Errors: the function's (kLambdaResourceNotFound...), kAccessDenied when the policy does not allow,
// kLambdaResourceConflict when the function is not Active, kLambdaService when functions cannot run here.
Status invoke_for_service(LambdaStore& store, Invoker& invoker, const std::filesystem::path& code_root,
                          const ServiceInvocation& call);

api::RestService make_service(LambdaStore& store, Invoker& invoker, std::filesystem::path code_root,
                              std::function<std::string()> endpoint);

}  // namespace gantry::lambda
