// The EventBridge (CloudWatch Events) service as the router sees it: a json-1.1 operation table over an
// EventsStore, telling the Engine of every change it commits.
#pragma once

#include "api/router.h"
#include "services/events/engine.h"
#include "services/events/model.h"

namespace gantry::events {

// `store` and `engine` must outlive the returned service.
api::JsonService make_service(EventsStore& store, Engine& engine);

}  // namespace gantry::events
