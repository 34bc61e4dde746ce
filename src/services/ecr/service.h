// The ECR service as the router sees it: an operation table over an EcrStore.
#pragma once

#include <cstdint>
#include <functional>

#include "api/router.h"
#include "services/ecr/model.h"

namespace gantry::ecr {

// `store` must outlive the returned service. `port` tells the port the server listens on (for
// repositoryUri and proxyEndpoint); it is called per request, after the server started.
api::JsonService make_service(EcrStore& store, std::function<uint16_t()> port);

}  // namespace gantry::ecr
