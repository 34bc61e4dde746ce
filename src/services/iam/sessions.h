// Temporary credentials: made for STS's AssumeRole and GetSessionToken, and by Gantry itself for the
// services that assume roles on a workload's behalf (ECS task roles: ecs-tasks.amazonaws.com).
#pragma once

#include <chrono>
#include <string>

#include "core/random.h"
#include "services/iam/model.h"

namespace gantry::iam {

// Whether an access key id is one of STS's temporary ones (ASIA...).
inline bool is_session_key(std::string_view access_key_id) { return access_key_id.starts_with("ASIA"); }

// Gives `session` (its identity fields set by the caller) a new ASIA key id, secret and token valid for
// `duration` from `now`, and stores it (dropping sessions expired for more than a day).
Status store_new_session(CountingStore& store, Session& session, std::string_view account, TimePoint now,
                         std::chrono::seconds duration, Random& random);

// The role `role_arn` of `account`, when the service principal `service` may assume it (the role exists
// and its trust policy allows the service sts:AssumeRole). Otherwise kAccessDenied saying why.
Result<Role> role_trusting_service(IamStore& store, std::string_view account, const std::string& role_arn,
                                   std::string_view service);

// A session of `role_arn` for the service principal `service` (e.g. "ecs-tasks.amazonaws.com"), named
// `session_name`, when the role exists in `account` and its trust policy lets that service assume it.
// Otherwise an error saying which (kAccessDenied).
Result<Session> service_session(CountingStore& store, std::string_view account, const std::string& role_arn,
                                std::string_view service, const std::string& session_name,
                                std::chrono::seconds duration, TimePoint now, Random& random);

}  // namespace gantry::iam
