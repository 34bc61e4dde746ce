// The EventBridge Scheduler service as the router sees it: a rest-json operation table over a SchedulerStore,
// telling the Runner (whatever fires schedules) of every change it commits.
#pragma once

#include "api/router.h"
#include "services/scheduler/model.h"
#include "services/scheduler/runner.h"

namespace gantry::scheduler {

// `store` and `runner` must outlive the returned service.
api::RestService make_service(SchedulerStore& store, Runner& runner);

}  // namespace gantry::scheduler
