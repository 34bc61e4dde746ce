// The ECS service as the router sees it: an operation table over an EcsStore.
#pragma once

#include "api/router.h"
#include "services/ecs/model.h"

namespace gantry::ecs {

// `store` must outlive the returned service.
api::JsonService make_service(EcsStore& store);

}  // namespace gantry::ecs
