// Where EventBridge's deliveries go (events::Deliverer). A rule's Lambda targets are queued as Event
// invocations when the function's resource policy lets events.amazonaws.com invoke it for the rule; its ECS
// targets call RunTask as the target's role. A Scheduler schedule calls every target as its role (Lambda
// Invoke with InvocationType Event, ECS RunTask). Calls as a role go through the router like any client's (a
// SigV4-signed request made in process), so the role's policies, iam:PassRole and the service's own
// validation all apply.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "http/message.h"
#include "services/events/engine.h"
#include "services/lambda/invoker.h"
#include "services/lambda/model.h"

namespace gantry::server {

struct SigningKey {
  std::string access_key_id;
  std::string secret;
  std::string token;       // empty for long-term keys
  TimePoint expires_at{};  // TimePoint::max() for long-term keys
};

struct DeliveryDeps {
  lambda::LambdaStore& lambda_store;
  lambda::Invoker& invoker;
  std::filesystem::path code_root;
  // The router's entry point.
  std::function<http::Response(http::Request&)> call;
  // Credentials of a session of `role_arn` for the service principal `service` ("events.amazonaws.com",
  // "scheduler.amazonaws.com"); the role's trust policy must allow it.
  std::function<Result<SigningKey>(const Scope& scope, const std::string& role_arn, const std::string& service)> role_key;
  const Clock& clock;       // the server's clock (session expiry)
  const Clock& wall_clock;  // request dates
};

class TargetDeliverer final : public events::Deliverer {
 public:
  explicit TargetDeliverer(DeliveryDeps deps) : d_(std::move(deps)) {}
  events::DeliveryOutcome deliver(const events::Delivery& d) override;
  // Forgets the role sessions it keeps (after a reset wiped them).
  void clear();

  // The RunTask request an ECS target makes of an event's input (exposed for tests).
  static boost::json::object run_task_request(const events::Delivery& d);

 private:
  events::DeliveryOutcome deliver_lambda(const events::Delivery& d);
  events::DeliveryOutcome deliver_ecs(const events::Delivery& d);
  events::DeliveryOutcome invoke_as_role(const events::Delivery& d);
  Result<SigningKey> key_for(const Scope& scope, const std::string& role_arn, const std::string& service);
  // Signs `req` as `role` for `service` and calls the router; the outcome from its answer.
  events::DeliveryOutcome call_as_role(const events::Delivery& d, http::Request& req, std::string_view signing_name,
                                       std::string_view what);

  DeliveryDeps d_;
  struct CachedKey {
    SigningKey key;
    TimePoint minted_at;
  };
  std::mutex mu_;
  std::map<std::string, CachedKey> keys_;  // by account|role|service
};

// Signs `request` (its method, target, headers and body set; host added) with SigV4 for `service` in `region`.
void sign_request(http::Request& request, const SigningKey& key, std::string_view region, std::string_view service,
                  TimePoint now);

}  // namespace gantry::server
