// The ECS service as the router sees it: an operation table over an EcsStore.
#pragma once

#include "api/router.h"
#include "services/ecs/model.h"
#include "services/ecs/task_runner.h"

namespace gantry::ec2 {
class Network;
}

namespace gantry::ecs {

// Everything passed must outlive the returned service.
api::JsonService make_service(EcsStore& store, ec2::Network& network, TaskRunner& runner);

}  // namespace gantry::ecs
