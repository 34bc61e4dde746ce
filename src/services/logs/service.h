// The CloudWatch Logs service as the router sees it: an operation table over a LogsStore.
#pragma once

#include "api/router.h"
#include "services/logs/model.h"

namespace gantry::logs {

// `store` must outlive the returned service.
api::JsonService make_service(LogsStore& store);

}  // namespace gantry::logs
